"""Build MuJoCo models from `Scene` data with mujoco.MjSpec.

The hand comes from gymnasium-robotics' installed assets (see dexterous.assets); each
hand is parsed into a fresh child spec, its mount pose overwritten (not composed), given
an optional movable base, and attached under its own prefix so that two hands coexist.
"""

from __future__ import annotations

import functools

import mujoco
import numpy as np

from dexterous.assets import assets_root, hand_xml
from dexterous.scenes.spec import (
    BASE_AXES,
    BASE_SERVOS,
    OBJECT_DAMPING,
    HandMount,
    ObjectPlacement,
    Scene,
)

MOUNT_BODY = "robot0:hand mount"
# size fields of the hand's <size> element that an attached child does not pass on
_CHILD_SIZES = ("nuser_jnt", "nuser_site", "nuser_tendon", "nuser_actuator", "nuser_sensor")


def hand_prefix(i: int) -> str:
    """Name prefix of hand i (0-based): `hand1/`, `hand2/`."""
    return f"hand{i + 1}/"


def object_name(j: int) -> str:
    """Body name of object j (0-based); its free joint is `<name>:joint`."""
    return f"object{j + 1}"


def target_name(j: int) -> str:
    """Mocap body name of object j's goal ghost."""
    return f"target{j + 1}"


def base_joint_name(i: int, axis: str) -> str:
    """Joint (and actuator) name of hand i's base axis, e.g. `hand2/base:Ty`."""
    return f"{hand_prefix(i)}base:{axis}"


def build_model(scene: Scene) -> mujoco.MjModel:
    """Compile `scene` into an MjModel (about 0.05 s per hand)."""
    world = mujoco.MjSpec()
    world.option.timestep = 0.002
    world.option.iterations = 20
    world.compiler.degree = False  # Euler angles in Scene data are radians
    world.visual.quality.shadowsize = 4096
    world.visual.map.fogstart, world.visual.map.fogend = 3.0, 5.0
    _add_world(world, scene)
    for i, mount in enumerate(scene.hands):
        _attach_hand(world, i, mount)
    for j, obj in enumerate(scene.objects):
        _add_object(world, j, obj, ghost=scene.ghosts)
    return world.compile()


def _add_world(world: mujoco.MjSpec, scene: Scene) -> None:
    root = assets_root()
    world.add_texture(
        name="skybox", type=mujoco.mjtTexture.mjTEXTURE_SKYBOX,
        builtin=mujoco.mjtBuiltin.mjBUILTIN_GRADIENT,
        rgb1=[0.44, 0.85, 0.56], rgb2=[0.46, 0.87, 0.58], width=32, height=32,
    )
    world.add_texture(
        name="floor", type=mujoco.mjtTexture.mjTEXTURE_2D,
        builtin=mujoco.mjtBuiltin.mjBUILTIN_CHECKER,
        rgb1=[0.2, 0.3, 0.4], rgb2=[0.1, 0.15, 0.2], width=512, height=512,
    )
    floor_mat = world.add_material(name="floor", texuniform=True, texrepeat=[8, 8])
    floor_mat.textures[mujoco.mjtTextureRole.mjTEXROLE_RGB] = "floor"
    world.add_texture(
        name="object", type=mujoco.mjtTexture.mjTEXTURE_CUBE,
        file=str(root / "textures" / "block.png"), gridsize=[3, 4], gridlayout=".U..LFRB.D..",
    )
    for name, alpha in (("object", 1.0), ("target", 0.4)):
        mat = world.add_material(name=name, specular=1, shininess=0.3, rgba=[1, 1, 1, alpha])
        mat.textures[mujoco.mjtTextureRole.mjTEXROLE_RGB] = "object"
    for name, rgba in (("pen", [0.46, 0.81, 0.88, 1.0]), ("pen_target", [0.46, 0.81, 0.88, 0.4])):
        world.add_material(name=name, specular=0, shininess=0.5, rgba=rgba)
    world.worldbody.add_geom(
        name="floor", type=mujoco.mjtGeom.mjGEOM_PLANE, pos=[1, 1, scene.floor_z],
        size=[3, 3, 1], condim=3, material="floor",  # planes collide everywhere: size is only drawn
    )
    world.worldbody.add_light(
        name="light0", type=mujoco.mjtLightType.mjLIGHT_DIRECTIONAL, pos=[0, 1, 4],
        dir=[0, 0, -1], ambient=[0.2, 0.2, 0.2], diffuse=[0.8, 0.8, 0.8],
        specular=[0.3, 0.3, 0.3], castshadow=False,
    )


@functools.cache
def _hand_source() -> str:
    return hand_xml()


def _set_euler(body: mujoco.MjsBody, euler: tuple[float, float, float]) -> None:
    """Orient `body` by xyz Euler angles (rad), replacing any orientation it had.

    Setting `alt.euler` alone is silently ignored unless `alt.type` says Euler: a body made
    with `add_body` starts with a quaternion orientation.
    """
    body.alt.type = mujoco.mjtOrientation.mjORIENTATION_EULER
    body.alt.euler = euler


def _attach_hand(world: mujoco.MjSpec, i: int, mount: HandMount) -> None:
    child = mujoco.MjSpec.from_string(_hand_source())
    for field in _CHILD_SIZES:
        setattr(world, field, getattr(child, field))
    child.njmax = child.nconmax = -1  # let MuJoCo size the constraint arena for the scene
    body = child.body(MOUNT_BODY)
    body.pos = mount.pos
    _set_euler(body, mount.euler)
    if mount.movable:
        _add_base(child, body)
    frame = world.worldbody.add_frame()
    frame.attach_body(body, hand_prefix(i), "")


def _add_base(child: mujoco.MjSpec, mount: mujoco.MjsBody) -> None:
    """Six servoed joints at the mount point, along the mount's local axes (SPEC §2).

    Named without the hand prefix here: attaching adds it (`hand2/base:Ty`).
    """
    for k, axis in enumerate(BASE_AXES):
        servo = BASE_SERVOS[axis]
        direction = np.zeros(3)
        direction[k % 3] = 1.0
        mount.add_joint(
            name=f"base:{axis}",
            type=mujoco.mjtJoint.mjJNT_SLIDE if k < 3 else mujoco.mjtJoint.mjJNT_HINGE,
            axis=direction, pos=[0, 0, 0], range=[-1, 1],
            limited=mujoco.mjtLimited.mjLIMITED_TRUE, damping=servo.damping,
        )
        child.add_actuator(
            name=f"base:{axis}", target=f"base:{axis}",
            trntype=mujoco.mjtTrn.mjTRN_JOINT, dyntype=mujoco.mjtDyn.mjDYN_NONE,
            gaintype=mujoco.mjtGain.mjGAIN_FIXED, biastype=mujoco.mjtBias.mjBIAS_AFFINE,
            gainprm=[servo.gain] + [0] * 9, biasprm=[0, -servo.bias] + [0] * 8,
            ctrlrange=[-1, 1], ctrllimited=mujoco.mjtLimited.mjLIMITED_TRUE,
            forcelimited=mujoco.mjtLimited.mjLIMITED_FALSE, gear=[1, 0, 0, 0, 0, 0],
        )


def _add_object(world: mujoco.MjSpec, j: int, obj: ObjectPlacement, ghost: bool) -> None:
    body = world.worldbody.add_body(name=object_name(j), pos=obj.pos)
    _set_euler(body, obj.euler)
    _add_shape(body, obj, name=object_name(j), collide=True)
    body.add_joint(
        name=f"{object_name(j)}:joint", type=mujoco.mjtJoint.mjJNT_FREE, damping=OBJECT_DAMPING
    )
    if ghost:
        target = world.worldbody.add_body(name=target_name(j), pos=obj.pos, mocap=True)
        _set_euler(target, obj.euler)
        _add_shape(target, obj, name=target_name(j), collide=False)


def _add_shape(body: mujoco.MjsBody, obj: ObjectPlacement, name: str, collide: bool) -> None:
    """The object's geom (density, not a rounded mass) and, for pens, its end sites."""
    suffix = "" if collide else "_target"
    common = dict(name=name, condim=4)
    if not collide:
        common.update(contype=0, conaffinity=0, group=2)
    if obj.shape == "egg":
        body.add_geom(type=mujoco.mjtGeom.mjGEOM_ELLIPSOID, size=[0.03, 0.03, 0.04],
                      density=1000, material="object" if collide else "target", **common)
    elif obj.shape == "block":
        body.add_geom(type=mujoco.mjtGeom.mjGEOM_BOX, size=[0.025, 0.025, 0.025],
                      density=567, material="object" if collide else "target", **common)
    elif obj.shape == "pen":
        body.add_geom(type=mujoco.mjtGeom.mjGEOM_CAPSULE, size=[0.008, 0.1, 0],
                      density=1000, material="pen" + suffix, **common)
        for end, z in (("top", 0.1), ("bottom", -0.1)):
            body.add_site(name=f"{name}:{end}", pos=[0, 0, z], size=[0.0081, 0, 0],
                          rgba=[1, 0, 0, 1] if end == "top" else [0, 1, 0, 1])
    else:
        raise ValueError(f"unknown object shape {obj.shape!r}: choose egg, block or pen")
