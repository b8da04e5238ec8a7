"""Replay a demonstration in a fresh environment and check it is reproduced bit for bit."""

from __future__ import annotations

from dataclasses import dataclass

import gymnasium
import numpy as np

import dexterous
from dexterous.demos.format import Demonstration


def flat_observation(obs) -> np.ndarray:
    """A flat copy of an observation (dict observations: observation, achieved, desired)."""
    if isinstance(obs, dict):
        return np.concatenate([obs["observation"], obs["achieved_goal"], obs["desired_goal"]])
    return np.array(obs, dtype=np.float64)


@dataclass(frozen=True)
class ReplayReport:
    """How a replay compared with the recording."""

    steps: int
    """Steps replayed."""
    first_mismatch: int | None
    """First step whose observation or reward differed, None if all matched exactly."""

    @property
    def exact(self) -> bool:
        return self.first_mismatch is None


def replay(demo: Demonstration, env: gymnasium.Env | None = None, start: int = 0) -> ReplayReport:
    """Restore the snapshot before step `start` and execute the recorded actions from there."""
    env = env or dexterous.make(demo.env_id)
    env.reset(seed=demo.seed)  # gymnasium wants a reset before the first step
    env.unwrapped.restore(demo.snapshot(start))
    for k in range(start, demo.num_steps):
        obs, reward, *_ = env.step(demo.actions[k])
        if reward != demo.rewards[k] or not np.array_equal(flat_observation(obs), demo.observations[k + 1]):
            return ReplayReport(k - start + 1, k)
    return ReplayReport(demo.num_steps - start, None)
