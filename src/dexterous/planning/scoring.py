"""Turning evaluated rollouts into one score per sequence.

SPEC §4: score = Σ_j w^j·reward_j + 1 for every successful step, over the τ planned steps
(w = 1 for the hand tasks, 1.02 for Humanoid). The success bonus makes a plan that holds
the goal beat one that merely comes close, which the smooth dense reward alone barely
separates.

TOPDM+ (`objective_scores`) scores the same rollouts with the object's play in view: from
the step its object is out of play a rollout earns nothing and pays `lost_penalty` per
step, and while in play it pays `rest_weight` per metre from the object's rest position.

A rollout that diverged reports −inf rewards; NaN can slip through from a broken
evaluator. Either way the sequence must never be chosen, so every non-finite score
(NaN, −inf and, defensively, +inf) becomes −inf here, before any argmax or weighting.
"""

from __future__ import annotations

import numpy as np

SUCCESS_BONUS = 1.0
"""Added to the score for each planned step whose success flag is set (SPEC §4)."""


def step_weights(horizon: int, return_weight: float) -> np.ndarray:
    """(τ,) weights w^j, j = 0..τ−1, applied to the per-step rewards."""
    return return_weight ** np.arange(horizon, dtype=np.float64)


def score_rollouts(
    rewards: np.ndarray, successes: np.ndarray, weights: np.ndarray
) -> np.ndarray:
    """(N,) scores from rewards (N, τ), successes (N, τ) and step weights (τ,).

    Non-finite scores are returned as −inf (see the module docstring).
    """
    with np.errstate(invalid="ignore"):  # −inf + inf → NaN is handled just below
        scores = (rewards * weights).sum(axis=1) + SUCCESS_BONUS * successes.sum(axis=1)
    scores[~np.isfinite(scores)] = -np.inf
    return scores


def objective_scores(rewards: np.ndarray, successes: np.ndarray, weights: np.ndarray, lost: np.ndarray,
                     offsets: np.ndarray, lost_penalty: float, rest_weight: float) -> np.ndarray:
    """(N,) TOPDM+ scores (module docstring) from rewards, successes, lost, offsets (N, τ).

    Non-finite rewards are kept even where the object is lost, so a diverged rollout still
    scores −inf.
    """
    in_play = ~lost
    paid = np.where(in_play | ~np.isfinite(rewards), rewards, 0.0)
    scores = score_rollouts(paid, successes & in_play, weights)
    return scores - lost_penalty * lost.sum(axis=1) - rest_weight * np.where(in_play, offsets, 0.0).sum(axis=1)
