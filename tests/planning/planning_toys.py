"""Toy evaluators for the planner tests: closed-form rewards, no physics.

The snapshot each of them receives is just the real time step t.
"""

from __future__ import annotations

import numpy as np

from dexterous.contracts.protocol import EvalResult


class TrackingEvaluator:
    """Follow targets: r_s = −‖a_s − target_{t+s}‖², success when within tolerance.

    Every evaluated batch of actions is recorded (copied) in `batches`.
    """

    def __init__(
        self,
        targets: np.ndarray,
        tolerance: float = 0.1,
        low: np.ndarray | None = None,
        high: np.ndarray | None = None,
    ) -> None:
        self.targets = np.asarray(targets, dtype=np.float64)
        self.tolerance = tolerance
        size = self.targets.shape[1]
        self._low = -np.ones(size) if low is None else np.asarray(low, dtype=np.float64)
        self._high = np.ones(size) if high is None else np.asarray(high, dtype=np.float64)
        self.batches: list[np.ndarray] = []

    @property
    def action_low(self) -> np.ndarray:
        return self._low

    @property
    def action_high(self) -> np.ndarray:
        return self._high

    def evaluate(
        self, snapshot: int, actions: np.ndarray, final_snapshots: bool = False
    ) -> EvalResult:
        self.batches.append(actions.copy())
        steps = np.arange(snapshot, snapshot + actions.shape[1])
        target = np.take(self.targets, steps, axis=0, mode="clip")
        squared = ((actions - target) ** 2).sum(axis=-1)
        return EvalResult(-squared, squared < self.tolerance**2)


class DivergingEvaluator(TrackingEvaluator):
    """Rewards pushing action 0 up, but a rollout diverges once a_s[0] > threshold.

    From the diverging step on, rewards are `failure` (−inf or NaN) and successes False, so
    the best-looking sequences are exactly the ones that must never be chosen.
    """

    def __init__(self, action_size: int, failure: float, threshold: float = 0.5) -> None:
        super().__init__(np.zeros((1, action_size)))
        self.failure = failure
        self.threshold = threshold

    def evaluate(
        self, snapshot: int, actions: np.ndarray, final_snapshots: bool = False
    ) -> EvalResult:
        self.batches.append(actions.copy())
        diverged = np.logical_or.accumulate(actions[..., 0] > self.threshold, axis=1)
        rewards = np.where(diverged, self.failure, actions[..., 0])
        return EvalResult(rewards, np.zeros(rewards.shape, dtype=bool))


def sine_targets(steps: int, action_size: int) -> np.ndarray:
    """(steps, action_size) smooth targets inside [−0.8, 0.8], one phase per dimension."""
    phases = np.linspace(0.0, np.pi, action_size)
    return 0.8 * np.sin(0.3 * np.arange(steps)[:, None] + phases)


class LosingEvaluator(TrackingEvaluator):
    """Rewards pushing action 0 up, but the "object" is lost once a_s[0] > threshold.

    Rewards keep flowing after the loss (as PenSpin pays for a pen spinning on the floor),
    so only an objective that reads `lost` stays below the threshold. Answers play=True
    with lost and offsets (offset: |a_s[1]|), and early_out by zeroing what it skips.
    """

    def __init__(self, action_size: int, threshold: float = 0.5) -> None:
        super().__init__(np.zeros((1, action_size)))
        self.threshold = threshold
        self.calls: list[dict] = []

    def evaluate(self, snapshot: int, actions: np.ndarray, final_snapshots: bool = False,
                 play: bool = False, early_out: bool = False) -> EvalResult:
        self.batches.append(actions.copy())
        self.calls.append({"play": play, "early_out": early_out})
        lost = np.logical_or.accumulate(actions[..., 0] > self.threshold, axis=1)
        rewards = actions[..., 0].copy()
        env_steps = None
        if early_out:
            simulated = np.concatenate([np.ones((len(lost), 1), bool), ~lost[:, :-1]], axis=1)
            rewards[~simulated] = 0.0
            env_steps = int(simulated.sum())
        successes = np.zeros(rewards.shape, dtype=bool)
        if not play:
            return EvalResult(rewards, successes, env_steps=env_steps)
        return EvalResult(rewards, successes, lost=lost, offsets=np.abs(actions[..., 1]), env_steps=env_steps)
