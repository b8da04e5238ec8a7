"""Random rotations, as the original suite draws them."""

from __future__ import annotations

import numpy as np


def quat_from_axis_angle(axis: np.ndarray, angle: float) -> np.ndarray:
    """Unit quaternion (w first) of a rotation by `angle` about `axis` (any length > 0)."""
    axis = axis / np.linalg.norm(axis)
    return np.concatenate([[np.cos(angle / 2.0)], np.sin(angle / 2.0) * axis])


def quat_multiply(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamilton product a ⊗ b of two quaternions (w first)."""
    w1, x1, y1, z1 = a
    w2, x2, y2, z2 = b
    return np.array([
        w1 * w2 - x1 * x2 - y1 * y2 - z1 * z2,
        w1 * x2 + x1 * w2 + y1 * z2 - z1 * y2,
        w1 * y2 - x1 * z2 + y1 * w2 + z1 * x2,
        w1 * z2 + x1 * y2 - y1 * x2 + z1 * w2,
    ])


def random_rotation(rng: np.random.Generator) -> np.ndarray:
    """A uniform angle in [−π, π] about an axis uniform in the cube [−1, 1]³ (SPEC §2)."""
    angle = rng.uniform(-np.pi, np.pi)
    axis = rng.uniform(-1.0, 1.0, size=3)
    return quat_from_axis_angle(axis, angle)
