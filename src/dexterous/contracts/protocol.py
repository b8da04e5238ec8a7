"""The contract between planners and physics.

Planners (TOPDM, MPPI) see only this protocol, never MuJoCo: they hand over N action
sequences from a snapshot and get back per-step rewards and successes. That keeps the
optimisers testable on toy objectives and lets another evaluator (a GPU one, a batched
Humanoid) slot in without touching them.
"""

from __future__ import annotations

from typing import Any, NamedTuple, Protocol, runtime_checkable

import numpy as np


class EvalResult(NamedTuple):
    """What one batched evaluation returns.

    rewards: (N, τ) float64, the reward `env.step` would pay at each step; 0 after the
        step at which the episode terminates (Humanoid: a fall); −inf from the step a
        rollout diverges (NaN state or MuJoCo instability) onwards.
    successes: (N, τ) bool, the task's success flag at each step (False once diverged).
    final_snapshots: N snapshots of the states after τ steps, or None unless requested.
    lost: (N, τ) bool, asked with play=True: the task's object is out of play at that step
        or was at an earlier one (once lost, lost); None unless requested.
    offsets: (N, τ) float64, asked with play=True: the object's distance from its rest
        pose in the hand (m; 0 for tasks without one); None unless requested.
    env_steps: environment steps actually simulated; N·τ unless early_out stopped some
        rollouts, whose rewards after the stop are 0 and successes False.
    """

    rewards: np.ndarray
    successes: np.ndarray
    final_snapshots: list[Any] | None = None
    lost: np.ndarray | None = None
    offsets: np.ndarray | None = None
    env_steps: int | None = None


@runtime_checkable
class Evaluator(Protocol):
    """Anything that scores batches of open-loop action sequences from a snapshot."""

    @property
    def action_low(self) -> np.ndarray:
        """(A,) lower action bound."""

    @property
    def action_high(self) -> np.ndarray:
        """(A,) upper action bound."""

    def evaluate(
        self, snapshot: Any, actions: np.ndarray, final_snapshots: bool = False,
        play: bool = False, early_out: bool = False,
    ) -> EvalResult:
        """Roll out actions (N, τ, A) from snapshot; see EvalResult for what comes back.

        play asks for `lost` and `offsets`; early_out stops simulating a rollout after the
        step at which it lost its object or its episode ended. Planners pass neither
        unless a config switch of theirs needs it, so an evaluator without them still
        serves the paper's planners.
        """
