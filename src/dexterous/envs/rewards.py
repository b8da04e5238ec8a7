"""Pure, batched reward and success functions: the one definition both callers share.

`env.step` calls these with a batch of one; the BatchEvaluator calls them with N rows.
Everything is written as explicit elementwise arithmetic on the last axis (no
`np.linalg.norm`, matmul or einsum): numpy's reductions may round differently for a batch
of 1 and a batch of N, and a plan's predicted return must equal, bit for bit, what the
environment then pays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

POSE = 7
"""Pose layout of achieved/desired goals per object: position (3), quaternion (4, w first)."""


def position_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Euclidean distance of (..., 3) positions."""
    dx = a[..., 0] - b[..., 0]
    dy = a[..., 1] - b[..., 1]
    dz = a[..., 2] - b[..., 2]
    return np.sqrt(dx * dx + dy * dy + dz * dz)


def rotation_distance(qa: np.ndarray, qb: np.ndarray) -> np.ndarray:
    """Angle (rad, in [0, π]) of the rotation between (..., 4) unit quaternions, w first.

    2·arccos(|w|) of qa ⊗ conj(qb); w of that product is the quaternions' dot product.
    Taking |w| folds q and −q (the same rotation) together: the original did not.
    """
    w = qa[..., 0] * qb[..., 0] + qa[..., 1] * qb[..., 1] + qa[..., 2] * qb[..., 2] + qa[..., 3] * qb[..., 3]
    return 2.0 * np.arccos(np.minimum(np.abs(w), 1.0))


@dataclass(frozen=True)
class GoalReward:
    """Reward and success of a pose goal for one or more objects (SPEC §2, §3)."""

    pos_weight: float = 20.0
    """Weight of the position distance in the dense exponent (m⁻¹)."""
    rot_weight: float = 1.0
    """Weight of the rotation distance in the dense exponent (rad⁻¹)."""
    sparse: bool = False
    """Pay success − 1 instead of the dense reward."""
    pos_tolerance: float = 0.01
    """Success needs every object within this distance of its goal position (m)."""
    rot_tolerance: float = 0.1
    """Success needs every object within this angle of its goal orientation (rad)."""
    drop_height: float | None = None
    """Dense reward is 0 while any object is below this height (m); None: never."""

    def distances(self, achieved: np.ndarray, desired: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per-object position and rotation distances, (..., K) each, for 7K-wide goals."""
        a = achieved.reshape(*achieved.shape[:-1], -1, POSE)
        d = desired.reshape(*desired.shape[:-1], -1, POSE)
        return position_distance(a[..., :3], d[..., :3]), rotation_distance(a[..., 3:], d[..., 3:])

    def success(self, achieved: np.ndarray, desired: np.ndarray) -> np.ndarray:
        """(...,) bool: every object within both tolerances."""
        d_pos, d_rot = self.distances(achieved, desired)
        return np.all((d_pos < self.pos_tolerance) & (d_rot < self.rot_tolerance), axis=-1)

    def reward(self, achieved: np.ndarray, desired: np.ndarray) -> np.ndarray:
        """(...,) float64 reward; the dense one sums each object's term."""
        if self.sparse:
            return self.success(achieved, desired).astype(np.float64) - 1.0
        d_pos, d_rot = self.distances(achieved, desired)
        terms = np.exp(-(self.pos_weight * d_pos + self.rot_weight * d_rot))
        if self.drop_height is not None:
            heights = achieved.reshape(*achieved.shape[:-1], -1, POSE)[..., 2]
            terms = np.where(np.any(heights < self.drop_height, axis=-1, keepdims=True), 0.0, terms)
        total = terms[..., 0]
        for k in range(1, terms.shape[-1]):
            total = total + terms[..., k]
        return total


PEN_HALF_LENGTH = 0.1
"""Distance of the pen's end sites from its centre along its body z axis (m)."""


def pen_spin_reward(pen_qpos: np.ndarray, pen_qvel: np.ndarray, tilt_weight: float = 15.0) -> np.ndarray:
    """PenSpin reward ω_x − 15·|z_bottom − z_top| (SPEC §3), batched over (..., 7)/(..., 6).

    ω_x is the free joint's angular velocity about the pen's body x axis (MuJoCo gives it in
    the body frame). The end sites sit at ±0.1 m along body z, so their height difference
    is 0.2·R_zz with R_zz = 1 − 2(x² + y²)/|q|² of the pen's quaternion: computed from the
    state itself, it needs no forward kinematics and is current after every step.
    """
    w, x, y, z = pen_qpos[..., 3], pen_qpos[..., 4], pen_qpos[..., 5], pen_qpos[..., 6]
    r_zz = 1.0 - 2.0 * (x * x + y * y) / (w * w + x * x + y * y + z * z)
    return pen_qvel[..., 3] - tilt_weight * np.abs(2.0 * PEN_HALF_LENGTH * r_zz)
