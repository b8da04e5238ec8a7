"""The selection step: how one iteration's scores shape the next iteration's samples.

Swapping one rule for the other is the paper's first modification of MPPI (fig. 4, "mod 1"):

- top fraction (TOPDM): keep the best fb·N sequences and tile them back to N, so each
  elite is re-noised independently next iteration;
- weighted average (MPPI): collapse the population to one mean Σ e^{κR̃_n}μ_n / Σ e^{κR̃_k}.

Both take scores already cleaned by `scoring.score_rollouts` (non-finite → −inf), so a
diverged rollout gets zero weight, and no copy while fb·N finite scores remain (fewer, and
−inf rows fill the elite slots; best-ever tracking still never picks them).
"""

from __future__ import annotations

import numpy as np


def elite_tiling(scores: np.ndarray, n_elites: int) -> np.ndarray:
    """(N,) population indices: the n_elites best, best first, repeated to fill N.

    When N is not a multiple of n_elites the better elites get the extra copies.
    """
    n = scores.shape[0]
    elites = np.argpartition(scores, n - n_elites)[n - n_elites :]
    elites = elites[np.argsort(-scores[elites], kind="stable")]
    return elites[np.arange(n) % n_elites]


def exponential_weights(scores: np.ndarray, kappa: float) -> np.ndarray:
    """(N,) MPPI weights e^{κR̃_n}, normalised to sum to 1.

    R̃ = (R − max R) / (max R − min R) over the finite scores: the exponent is ≤ 0, so
    nothing overflows, and κ acts on the population's score range rather than on the
    task's reward scale (κ = 20: the worst finite sample weighs e^−20 of the best). When
    all finite scores are equal they weigh the same. −inf scores get weight 0; if every
    score is −inf there is nothing to prefer and the weights are uniform.
    """
    finite = np.isfinite(scores)
    if not finite.any():
        return np.full(scores.shape, 1.0 / scores.shape[0])
    best = scores[finite].max()
    spread = best - scores[finite].min()
    exponents = kappa * (scores - best) / (spread if spread > 0 else 1.0)
    weights = np.exp(exponents)
    return weights / weights.sum()
