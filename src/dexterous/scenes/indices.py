"""Index arrays into a built model, computed once from names (never magic numbers).

Observations, actions and rewards all address the model through these: hand i's joints
(movable base first, then the 24 hand joints), its finger/wrist and base actuators, and
each object's free-joint slices of qpos and qvel.
"""

from __future__ import annotations

from dataclasses import dataclass

import mujoco
import numpy as np

from dexterous.scenes.builder import base_joint_name, hand_prefix, object_name
from dexterous.scenes.spec import BASE_AXES, Scene

HAND_JOINTS = 24
HAND_ACTUATORS = 20


@dataclass(frozen=True)
class HandIndices:
    """Where one hand lives in qpos, qvel and ctrl."""

    qpos: np.ndarray
    """Base joints (if movable) then the 24 hand joints, as qpos indices."""
    qvel: np.ndarray
    """The same joints as dof (qvel) indices."""
    fingers: np.ndarray
    """The 20 finger and wrist actuators, in the model's order."""
    base: np.ndarray
    """The 6 base actuators Tx, Ty, Tz, Rx, Ry, Rz (empty for a fixed mount)."""


@dataclass(frozen=True)
class ObjectIndices:
    """Where one free object lives in qpos and qvel."""

    qpos: np.ndarray
    """(7,) position then quaternion (w first)."""
    qvel: np.ndarray
    """(6,) linear velocity (world frame) then angular velocity (body frame)."""
    mocap: int
    """Mocap index of the object's goal ghost, −1 if the scene has none."""


@dataclass(frozen=True)
class SceneIndices:
    """Index arrays of every hand and object of a scene."""

    hands: tuple[HandIndices, ...]
    objects: tuple[ObjectIndices, ...]


def _name_id(model: mujoco.MjModel, kind: mujoco.mjtObj, name: str) -> int:
    i = mujoco.mj_name2id(model, kind, name)
    if i < 0:
        raise KeyError(f"model has no {kind.name.removeprefix('mjOBJ_').lower()} named {name!r}")
    return i


def scene_indices(model: mujoco.MjModel, scene: Scene) -> SceneIndices:
    """Resolve every index the tasks need from the model's names."""
    hands = []
    for i, mount in enumerate(scene.hands):
        prefix = hand_prefix(i)
        joints = [_name_id(model, mujoco.mjtObj.mjOBJ_JOINT, base_joint_name(i, a)) for a in BASE_AXES] if mount.movable else []
        joints += [j for j in range(model.njnt) if model.joint(j).name.startswith(prefix + "robot0:")]
        fingers = [a for a in range(model.nu) if model.actuator(a).name.startswith(prefix + "robot0:")]
        base = [_name_id(model, mujoco.mjtObj.mjOBJ_ACTUATOR, base_joint_name(i, a)) for a in BASE_AXES] if mount.movable else []
        if len(joints) != HAND_JOINTS + len(base) or len(fingers) != HAND_ACTUATORS:
            raise ValueError(f"hand {prefix} has {len(joints)} joints and {len(fingers)} actuators; "
                             f"expected {HAND_JOINTS} (+6 base) and {HAND_ACTUATORS}: is the hand asset the right version?")
        hands.append(HandIndices(
            qpos=np.array([model.jnt_qposadr[j] for j in joints]),
            qvel=np.array([model.jnt_dofadr[j] for j in joints]),
            fingers=np.array(fingers), base=np.array(base, dtype=int),
        ))
    objects = []
    for j in range(len(scene.objects)):
        joint = _name_id(model, mujoco.mjtObj.mjOBJ_JOINT, f"{object_name(j)}:joint")
        qadr, vadr = model.jnt_qposadr[joint], model.jnt_dofadr[joint]
        mocap = -1
        if scene.ghosts:
            mocap = int(model.body_mocapid[_name_id(model, mujoco.mjtObj.mjOBJ_BODY, f"target{j + 1}")])
        objects.append(ObjectIndices(qpos=np.arange(qadr, qadr + 7), qvel=np.arange(vadr, vadr + 6), mocap=mocap))
    return SceneIndices(hands=tuple(hands), objects=tuple(objects))
