"""Scene descriptions as plain data: hands, their mounts, objects, floor and camera.

A scene is data, not code: every environment of the suite is one `Scene` value, so a new
scene is a few lines and the builder (builder.py) is the only place that talks to MjSpec.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Vec3 = tuple[float, float, float]
ObjectShape = Literal["egg", "block", "pen"]

BASE_AXES = ("Tx", "Ty", "Tz", "Rx", "Ry", "Rz")
"""Movable-base joints, in the order they are declared on the mount (SPEC §2)."""


@dataclass(frozen=True)
class BaseServo:
    """One axis of a movable hand base: an affine position servo on a damped joint.

    force = gain·ctrl − bias·q with ctrl ∈ [−1, 1], so the servo's reach is gain/bias.
    """

    gain: float
    """Actuator gain g (N or N·m per unit ctrl)."""
    bias: float
    """Position feedback b (N per m or N·m per rad); bias term (0, −b, 0)."""
    damping: float
    """Joint damping."""


BASE_SERVOS: dict[str, BaseServo] = {
    "Tx": BaseServo(gain=100.0, bias=500.0, damping=400.0),
    "Ty": BaseServo(gain=100.0, bias=500.0, damping=400.0),
    "Tz": BaseServo(gain=40.0, bias=500.0, damping=400.0),
    "Rx": BaseServo(gain=500.0, bias=700.0, damping=100.0),
    "Ry": BaseServo(gain=200.0, bias=1000.0, damping=100.0),
    "Rz": BaseServo(gain=200.0, bias=1000.0, damping=100.0),
}
"""The six base servos of the two-hand catch scenes (SPEC §2)."""


@dataclass(frozen=True)
class HandMount:
    """Where one Shadow hand is mounted, replacing the pose `robot.xml` gives its mount."""

    pos: Vec3
    """Mount position in the world frame (m); the palm is 0.29 m in front of it."""
    euler: Vec3
    """Mount orientation, xyz Euler angles (rad); literal 1.5708/3.14159 as the original."""
    movable: bool = False
    """Give the mount six servoed joints (Tx, Ty, Tz, Rx, Ry, Rz) and actuators."""


@dataclass(frozen=True)
class ObjectPlacement:
    """A free object and where it starts before the task's reset randomisation."""

    shape: ObjectShape
    """Which object: egg (ellipsoid), block (cube) or pen (capsule)."""
    pos: Vec3
    """Start position in the world frame (m)."""
    euler: Vec3 = (0.0, 0.0, 0.0)
    """Start orientation, xyz Euler angles (rad)."""


@dataclass(frozen=True)
class CameraView:
    """A free camera that frames the scene for rendering."""

    lookat: Vec3
    """Point the camera looks at (m)."""
    distance: float
    """Distance from the look-at point (m)."""
    azimuth: float
    """Azimuth (degrees)."""
    elevation: float
    """Elevation (degrees, negative looks down)."""


@dataclass(frozen=True)
class Scene:
    """Everything the builder needs to make one MuJoCo model."""

    hands: tuple[HandMount, ...]
    """Hands, in order: hand i gets the name prefix `hand{i+1}/`."""
    objects: tuple[ObjectPlacement, ...]
    """Free objects: object j is named `object{j+1}`."""
    floor_z: float
    """Height of the floor plane (m)."""
    camera: CameraView
    """Default view for `render()`."""
    ghosts: bool = True
    """Show each object's goal as a translucent, non-colliding mocap copy `target{j+1}`."""


OBJECT_DAMPING = 0.01
"""Damping of every object's free joint (SPEC §1): without it pens and eggs roll off."""
