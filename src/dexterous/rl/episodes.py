"""Run a policy for one episode (or past its end) and record what happened."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import gymnasium
import numpy as np

Policy = Callable[[Any], np.ndarray]
"""Observation → action (for wrapped envs: the agent's output, e.g. μ under coupling)."""


@dataclass
class Episode:
    """Rewards and probes of one run of a policy."""

    rewards: np.ndarray
    """(steps,) reward after each step."""
    final_info: dict[str, Any]
    """The info of the last step (final-step success lives here)."""
    probes: list[Any] = field(default_factory=list)
    """probe(env) after the reset and after every step (steps + 1 entries), if a probe was given."""


def run_episode(env: gymnasium.Env, policy: Policy, seed: int, steps: int | None = None,
                probe: Callable[[gymnasium.Env], Any] | None = None) -> Episode:
    """Reset with `seed` and take `steps` steps (default: the episode length).

    Steps past the environment's own truncation continue the same episode (our envs never
    terminate and keep simulating), which is how `dexterous evaluate` tests that a policy
    keeps spinning; only termination stops early.
    """
    obs, info = env.reset(seed=seed)
    steps = steps if steps is not None else env.unwrapped.episode_steps
    probes = [probe(env)] if probe else []
    rewards = []
    for _ in range(steps):
        obs, reward, terminated, _, info = env.step(policy(obs))
        rewards.append(reward)
        if probe:
            probes.append(probe(env))
        if terminated:
            break
    return Episode(np.asarray(rewards, dtype=np.float64), info, probes)
