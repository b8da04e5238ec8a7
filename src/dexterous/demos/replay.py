"""Replay a demonstration in a fresh environment and check it is reproduced bit for bit."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, SupportsFloat

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


def replay_steps(demo: Demonstration, env: gymnasium.Env | None = None,
                 start: int = 0) -> Iterator[tuple[int, tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]]]:
    """Restore the snapshot before step `start`, execute the recorded actions from there and
    yield each step's index with what `env.step` returned."""
    env = env or dexterous.make(demo.env_id)
    env.reset(seed=demo.seed)  # gymnasium wants a reset before the first step
    env.unwrapped.restore(demo.snapshot(start))
    for k in range(start, demo.num_steps):
        yield k, env.step(demo.actions[k])


def reproduces(demo: Demonstration, k: int, obs: Any, reward: SupportsFloat) -> bool:
    """Whether step k's observation and reward are exactly the recorded ones."""
    return reward == demo.rewards[k] and np.array_equal(flat_observation(obs), demo.observations[k + 1])


def replay(demo: Demonstration, env: gymnasium.Env | None = None, start: int = 0) -> ReplayReport:
    """Replay from the snapshot before step `start` and compare every step with the recording."""
    for k, (obs, reward, *_) in replay_steps(demo, env, start):
        if not reproduces(demo, k, obs, reward):
            return ReplayReport(k - start + 1, k)
    return ReplayReport(demo.num_steps - start, None)
