"""Action coupling: the low-pass filter between a plan's means and the executed actions.

TOPDM (and the TD3 policy trained from its demonstrations) never sends a mean straight to
the hand: a_s = clip(β·μ_s + (1−β)·a_{s−1}), with a_{−1} the action executed last. The
coupling smooths the jittery sampled means into motions the hand can follow, and because
a_{s−1} is the *clipped* previous action, the chain is exactly what the environment will
see step after step.
"""

from __future__ import annotations

import numpy as np


def couple(
    means: np.ndarray,
    prev_action: np.ndarray,
    beta: float,
    low: float | np.ndarray,
    high: float | np.ndarray,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Coupled actions for means (..., τ, A) following prev_action (A,).

    Every sequence in the batch starts from the same prev_action; low and high are the
    (A,) bounds, or scalars when uniform (numpy clips against a scalar faster). Writes into
    out (same shape as means) when given, so a planner can reuse one buffer. The
    arithmetic is elementwise, so one sequence coupled alone gives bit-for-bit the same
    actions as the same sequence inside a batch.
    """
    out = np.multiply(means, beta, out=out)
    previous = prev_action
    for s in range(means.shape[-2]):
        step = out[..., s, :]
        step += (1.0 - beta) * previous
        np.clip(step, low, high, out=step)
        previous = step
    return out
