"""Scene data of the single-hand tasks: the stock gymnasium-robotics manipulate scenes."""

from __future__ import annotations

from dexterous.scenes.spec import CameraView, HandMount, ObjectPlacement, ObjectShape, Scene

MOUNT = HandMount(pos=(1.0, 1.25, 0.15), euler=(1.5708, 0.0, 3.14159))
"""The pose `robot.xml` gives the hand: palm up, fingers along −y."""

CAMERA = CameraView(lookat=(1.0, 0.96, 0.14), distance=0.5, azimuth=55.0, elevation=-25.0)
"""Gymnasium-robotics' default hand camera."""

START = {
    "block": ObjectPlacement("block", (1.0, 0.87, 0.2)),
    "egg": ObjectPlacement("egg", (1.0, 0.87, 0.2)),
    "pen": ObjectPlacement("pen", (1.0, 0.87, 0.2), (-1.0, 1.0, 0.0)),
}
"""Object start poses above the palm, before reset noise."""

FLOOR_Z = {"block": 0.0, "egg": 0.0, "pen": -0.2}
"""Floor heights of the stock scenes (the pen's floor is lower)."""


def single_hand_scene(shape: ObjectShape, ghosts: bool = True) -> Scene:
    """One hand at its stock mount holding one object."""
    return Scene(hands=(MOUNT,), objects=(START[shape],), floor_z=FLOOR_Z[shape], camera=CAMERA, ghosts=ghosts)
