"""Run a policy for one episode (or past its end) and record what happened."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import gymnasium
import numpy as np

from dexterous.demos.play import body_x_turns, object_quat_index
from dexterous.envs.goal import GoalHandEnv

EVAL_SEED = 1_000_000
"""Evaluation episode i resets with EVAL_SEED + i: every evaluation sees the same starts,
and none of them is a training reset seed drawn from small integers."""

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


ObjectProbe = Callable[[gymnasium.Env], tuple[np.ndarray | None, bool]]
"""env → (the object's orientation quaternion, None without an object; whether it is lost now)."""


def object_probe(env: gymnasium.Env) -> ObjectProbe:
    """The probe that watches env's object: its orientation (for its turns) and whether it
    has left play (`object_lost_now`, never for tasks without an object)."""
    quat = object_quat_index(env)

    def probe(e: gymnasium.Env) -> tuple[np.ndarray | None, bool]:
        return None if quat is None else e.unwrapped.data.qpos[quat].copy(), e.unwrapped.object_lost_now()
    return probe


def lost_steps(episode: Episode) -> np.ndarray:
    """(steps,) bool: after which steps of an episode run with `object_probe` its object was lost."""
    return np.array([lost for _, lost in episode.probes[1:]], dtype=bool)


def episode_turns(episode: Episode) -> float:
    """The turns the object of an episode run with `object_probe` made about its body x axis."""
    return float(body_x_turns(np.array([q for q, _ in episode.probes]))[-1])


def evaluate_play(env: gymnasium.Env, policy: Policy, episodes: int) -> tuple[list[Episode], dict[str, Any]]:
    """`episodes` full episodes of policy from the evaluation starts (EVAL_SEED + i), and what
    every method's evaluation records of them, as the planners' episodes are reported: the
    returns (the paper's reward), the steps after which the object was in play, with an
    object its turns about its body x axis (PenSpin's spin; elsewhere how far the hand
    turned it) and on goal tasks how far the final pose is from the goal (the largest
    position and rotation distances over objects; medians over the episodes). The episodes
    are returned too, probed with `object_probe`, for what a method adds."""
    probe = object_probe(env)
    played, final_errors = [], []
    for i in range(episodes):
        played.append(run_episode(env, policy, EVAL_SEED + i, probe=probe))
        if isinstance(env.unwrapped, GoalHandEnv):
            final_errors.append(env.unwrapped.goal_errors())
    returns = [float(e.rewards.sum()) for e in played]
    in_play_steps = [int(np.sum(~lost_steps(e))) for e in played]
    record = {"mean_return": float(np.mean(returns)), "returns": returns,
              "mean_in_play_steps": float(np.mean(in_play_steps)), "in_play_steps": in_play_steps}
    if object_quat_index(env) is not None:
        turns = [episode_turns(e) for e in played]
        record.update(mean_turns=float(np.mean(turns)), turns=turns)
    if final_errors:
        pos, rot = (list(errors) for errors in zip(*final_errors))
        record.update(median_final_pos_error=float(np.median(pos)), final_pos_errors=pos,
                      median_final_rot_error=float(np.median(rot)), final_rot_errors=rot)
    return played, record
