"""Telling a diverged simulation from a live one, in `env.step` and in the batch evaluator.

When a state turns non-finite or huge, MuJoCo warns (mjWARN_BADQPOS, _BADQVEL, _BADQACC)
and, unless auto-reset is disabled, resets that simulation to the model's defaults. The
reset zeroes the warning counters before the warning is counted, so a counter that was 1
before a step is 1 again after a second divergence: "the count went up" misses every
divergence after the first in a reused MjData or batch slot. Both callers therefore clear
these counters right before stepping and read any count after it as a divergence.
"""

from __future__ import annotations

import mujoco
import numpy as np

DIVERGENCE_WARNINGS = (
    int(mujoco.mjtWarning.mjWARN_BADQPOS),
    int(mujoco.mjtWarning.mjWARN_BADQVEL),
    int(mujoco.mjtWarning.mjWARN_BADQACC),
)
_NUMBER = 1
"""Column of the warning count in mujoco.batch.Batch.warning (nsim, mjNWARNING, 2)."""


class SimulationDivergedError(RuntimeError):
    """The physics diverged in env.step and MuJoCo reset the simulation to its default pose."""


def clear_batch_divergence(warning: np.ndarray) -> None:
    """Zero the divergence counters of a Batch's warning array (nsim, mjNWARNING, 2)."""
    warning[:, DIVERGENCE_WARNINGS, _NUMBER] = 0


def batch_diverged(warning: np.ndarray) -> np.ndarray:
    """(nsim,) bool: which simulations diverged since `clear_batch_divergence`."""
    return warning[:, DIVERGENCE_WARNINGS, _NUMBER].any(axis=1)


def clear_divergence(data: mujoco.MjData) -> None:
    """Zero the divergence counters of one MjData."""
    for warning in DIVERGENCE_WARNINGS:
        data.warning[warning].number = 0


def divergence(data: mujoco.MjData) -> str | None:
    """What diverged since `clear_divergence` (e.g. 'QVEL at index 27'), or None."""
    for warning in DIVERGENCE_WARNINGS:
        if data.warning[warning].number:
            name = mujoco.mjtWarning(warning).name.removeprefix("mjWARN_BAD")
            return f"{name} at index {data.warning[warning].lastinfo}"
    return None
