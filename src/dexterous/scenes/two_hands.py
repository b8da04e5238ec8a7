"""Scene data of the two-hand tasks (SPEC §2), every number in one place.

Each family (HandOver, CatchUnderarm, CatchUnderarmHard, CatchOverarm, TwoObject) is one
`TwoHandLayout` value: the two hand mounts, the floor, the two goal boxes, where the
objects start, the dense reward weights and a camera that frames both hands and the goal
ghosts. The environment (dexterous.envs.two_hands) reads only this data, so a new scene is
a few lines here (and a line of names in dexterous.catalog).

Mount angles are the original's literals 1.5708 / 3.14159 / 3.14, not π/2 and π: with
them, trajectories match the original's; with π they drift apart after ~50 steps.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping

import numpy as np

from dexterous.scenes.spec import CameraView, HandMount, ObjectPlacement, ObjectShape, Scene, Vec3

Quat = tuple[float, float, float, float]

PEN_START_EULER: Vec3 = (-1.0, 1.0, 0.0)
"""Pens start at this orientation in every scene; eggs and blocks at identity."""

UNDERARM_1: Vec3 = (1.5708, 0.0, 3.14159)
"""Hand 1 palm up, fingers toward −y (mount-local y points down, z toward hand 2)."""
UNDERARM_2: Vec3 = (1.5708, 3.14159, 3.14159)
"""Hand 2 palm up, fingers toward +y (facing hand 1)."""
UPRIGHT_1: Vec3 = (0.0, 0.0, 0.0)
"""Overarm hand 1: fingers up (mount-local z is world up)."""
UPRIGHT_2: Vec3 = (0.0, 0.0, 3.14)
"""Overarm hand 2: fingers up, turned to face hand 1 (the original's 3.14)."""


@dataclass(frozen=True)
class Box:
    """An axis-aligned box of goal positions (m)."""

    low: Vec3
    """Lower corner (x, y, z)."""
    high: Vec3
    """Upper corner (x, y, z)."""

    @property
    def centre(self) -> np.ndarray:
        return (np.array(self.low) + np.array(self.high)) / 2.0

    def contains(self, point: np.ndarray) -> bool:
        """Whether `point` (3,) lies in the box, faces included."""
        return bool(np.all(np.array(self.low) <= point) and np.all(point <= np.array(self.high)))


@dataclass(frozen=True)
class HeldStart:
    """A fixed start state in which hand 2 already grips the object (the overarm reset).

    Everything not named here stays at the model's default (zero velocities).
    """

    joints: Mapping[str, float]
    """qpos of single-DoF joints, by full model name (`hand2/robot0:WRJ1`, `hand1/base:Tz`)."""
    object_quat: Mapping[ObjectShape, Quat]
    """The object's start orientation (w first), by shape; its position is the placement's."""

    def __reduce__(self):
        """Pickle the read-only mappings as dicts (a mappingproxy does not pickle), read-only again when loaded."""
        return _held_start, (dict(self.joints), dict(self.object_quat))


def _held_start(joints: dict[str, float], object_quat: dict[ObjectShape, Quat]) -> HeldStart:
    return HeldStart(MappingProxyType(joints), MappingProxyType(object_quat))


@dataclass(frozen=True)
class TwoHandLayout:
    """One two-hand family: the scene and the task data that goes with it."""

    mounts: tuple[HandMount, HandMount]
    """Hand 1 and hand 2."""
    floor_z: float
    """Height of the floor plane (m)."""
    boxes: tuple[Box, Box]
    """Goal boxes; a goal is drawn in the one farther from its object."""
    starts: tuple[Vec3, ...]
    """Object start positions, one per object (object 1 first)."""
    start_hands: tuple[int, ...]
    """Which hand (0-based) each object starts in."""
    pos_weight: float
    """Dense reward exp(−(pos_weight·d_pos + rot_weight·d_rot)) per object."""
    rot_weight: float
    """See pos_weight."""
    camera: CameraView
    """Default render view, framing both hands and the goal boxes."""
    held_start: HeldStart | None = None
    """Start from this fixed state (no warm-up, no random rotation) instead of settling."""
    def scene(self, shape: ObjectShape) -> Scene:
        """The scene with `shape` objects at their start poses."""
        euler = PEN_START_EULER if shape == "pen" else (0.0, 0.0, 0.0)
        objects = tuple(ObjectPlacement(shape, pos, euler) for pos in self.starts)
        return Scene(hands=self.mounts, objects=objects, floor_z=self.floor_z, camera=self.camera)


def _movable(pos: Vec3, euler: Vec3) -> HandMount:
    return HandMount(pos=pos, euler=euler, movable=True)


# Hand 2 grips the object overhead, about to throw it (the original's fixed start pose).
_OVERARM_HAND2_FINGERS = {
    "WRJ1": -0.1111, "WRJ0": -0.6889,
    "FFJ3": -0.0015, "FFJ2": 0.0116, "FFJ1": 0.7467, "FFJ0": 0.9945,
    "MFJ3": -0.0971, "MFJ2": 0.2013, "MFJ1": 0.778, "MFJ0": 0.8851,
    "RFJ3": -0.0269, "RFJ2": 0.0686, "RFJ1": 0.9039, "RFJ0": 1.1135,
    "LFJ4": 0.0092, "LFJ3": -0.0012, "LFJ2": 0.0095, "LFJ1": 1.3219, "LFJ0": 1.5611,
    "THJ4": -0.322, "THJ3": 0.1994, "THJ2": 0.0401, "THJ1": -0.5144, "THJ0": -1.4156,
}
OVERARM_START = HeldStart(
    joints=MappingProxyType({
        "hand1/base:Tz": -0.0983,  # both hands already sagged under gravity
        "hand2/base:Tz": -0.0983,
        "hand2/base:Rx": -0.438,
        **{f"hand2/robot0:{joint}": value for joint, value in _OVERARM_HAND2_FINGERS.items()},
    }),
    object_quat=MappingProxyType({"egg": (1.0, 0.0, 0.0, 0.0), "block": (1.0, 0.0, 0.0, 0.0),
                                  "pen": (0.5, 0.5, 0.5, 0.5)}),
)

_HANDOVER_CAMERA = CameraView(lookat=(1.0, 0.75, 0.2), distance=0.95, azimuth=170.0, elevation=-30.0)
_UNDERARM_CAMERA = CameraView(lookat=(1.0, 0.67, 0.35), distance=1.5, azimuth=170.0, elevation=-22.0)
_HARD_CAMERA = CameraView(lookat=(1.0, 0.67, 0.35), distance=2.2, azimuth=170.0, elevation=-22.0)
_OVERARM_CAMERA = CameraView(lookat=(1.0, 0.57, 0.42), distance=2.0, azimuth=170.0, elevation=-12.0)

_UNDERARM_MOUNTS = (_movable((1.0, 1.35, 0.35), UNDERARM_1), _movable((1.0, 0.0, 0.35), UNDERARM_2))

LAYOUTS: Mapping[str, TwoHandLayout] = MappingProxyType({
    "HandOver": TwoHandLayout(
        mounts=(HandMount((1.0, 1.25, 0.15), UNDERARM_1), HandMount((1.0, 0.25, 0.15), UNDERARM_2)),
        floor_z=0.0,
        boxes=(Box((0.96, 0.81, 0.20), (1.04, 0.89, 0.26)), Box((0.96, 0.60, 0.20), (1.04, 0.68, 0.26))),
        starts=((1.0, 0.87, 0.2),), start_hands=(0,),
        pos_weight=20.0, rot_weight=1.0, camera=_HANDOVER_CAMERA,
    ),
    "CatchUnderarm": TwoHandLayout(
        mounts=_UNDERARM_MOUNTS,
        floor_z=-1.0,
        boxes=(Box((0.9, 0.33, 0.1), (1.1, 0.50, 0.4)), Box((0.9, 0.85, 0.1), (1.1, 1.02, 0.4))),
        starts=((1.0, 0.35, 0.4),), start_hands=(1,),
        pos_weight=10.0, rot_weight=0.2, camera=_UNDERARM_CAMERA,
    ),
    "CatchUnderarmHard": TwoHandLayout(
        mounts=(_movable((1.0, 1.65, 0.35), UNDERARM_1), _movable((1.0, -0.30, 0.35), UNDERARM_2)),
        floor_z=-1.0,
        boxes=(Box((0.97, 0.08, 0.15), (1.03, 0.15, 0.35)), Box((0.97, 1.20, 0.15), (1.03, 1.27, 0.35))),
        starts=((1.0, 0.05, 0.4),), start_hands=(1,),
        pos_weight=10.0, rot_weight=0.2, camera=_HARD_CAMERA,
    ),
    "CatchOverarm": TwoHandLayout(
        mounts=(_movable((1.0, 1.35, 0.15), UPRIGHT_1), _movable((1.0, 0.0, 0.15), UPRIGHT_2)),
        floor_z=-1.0,
        boxes=(Box((0.9, -0.05, 0.4), (1.1, 0.05, 0.5)), Box((0.9, 1.25, 0.4), (1.1, 1.35, 0.5))),
        starts=((1.0, -0.2, 0.4027),), start_hands=(1,),
        pos_weight=10.0, rot_weight=0.2, camera=_OVERARM_CAMERA, held_start=OVERARM_START,
    ),
    "TwoObject": TwoHandLayout(
        mounts=_UNDERARM_MOUNTS,
        floor_z=-1.0,
        boxes=(Box((0.97, 0.38, 0.15), (1.03, 0.45, 0.35)), Box((0.97, 0.90, 0.15), (1.03, 0.97, 0.35))),
        starts=((1.0, 0.35, 0.4), (1.0, 1.0, 0.4)), start_hands=(1, 0),
        pos_weight=10.0, rot_weight=0.2, camera=_UNDERARM_CAMERA,
    ),
})
"""The five two-hand families of SPEC §2, by family name."""
