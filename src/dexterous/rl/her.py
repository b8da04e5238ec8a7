"""The HER baselines (SPEC §5): DDPG + HER ("future") on goal tasks, on stable-baselines3.

Trained on a task's Sparse twin with SB3's HerReplayBuffer, evaluated on the dense task
by final-step success and the dense return, as the paper compares them. "original"
takes a uniformly random action with probability 0.3 (the HER baselines' random_eps);
"new" never does. Both learn in the HER baselines' rounds: 40 gradient steps after every
2 episodes, the target networks moved once per round. SB3 has neither the random action
nor rounds whose targets move once, hence the small TD3 subclass.
"""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np
from stable_baselines3 import TD3
from stable_baselines3.common.utils import polyak_update
from stable_baselines3.common.vec_env import VecEnv
from stable_baselines3.her import HerReplayBuffer

import dexterous
from dexterous.catalog import ENTRIES, entry
from dexterous.rl.configs import HERConfig
from dexterous.rl.episodes import Policy, evaluate_play
from dexterous.rl.td3 import td3_kwargs
from dexterous.rl.wrappers import Float32Observation


class HerBaselinesTD3(TD3):
    """SB3's TD3 set up as DDPG, with the HER baselines' exploration and update rounds.

    Exploration replaces the noisy action by a uniform one with probability
    random_action_prob. Updates come in rounds: once round_episodes more episodes have
    ended, round_batches gradient steps on actor and critic, then one Polyak step of the
    targets by tau; SB3 alone would move the targets at every gradient step, 40 times as
    often. The generator and the round counter are attributes, so SB3's save/load carries
    them with the model and a resumed run makes the same updates.
    """

    def __init__(self, *args, random_action_prob: float = 0.0, random_action_seed: int | None = None,
                 round_episodes: int = 1, round_batches: int = 1, **kwargs):
        self.random_action_prob = random_action_prob
        self.random_action_rng = np.random.default_rng(random_action_seed)
        self.round_episodes, self.round_batches = round_episodes, round_batches
        self.next_round = round_episodes  # the count of ended episodes at which the next round is due
        super().__init__(*args, **kwargs)

    def _sample_action(self, learning_starts, action_noise=None, n_envs: int = 1):
        action, buffer_action = super()._sample_action(learning_starts, action_noise, n_envs)
        if self.random_action_prob > 0.0:
            replace = self.random_action_rng.random(n_envs) < self.random_action_prob
            uniform = self.random_action_rng.uniform(-1.0, 1.0, buffer_action.shape).astype(buffer_action.dtype)
            buffer_action = np.where(replace[:, None], uniform, buffer_action)
            action = self.policy.unscale_action(buffer_action)
        return action, buffer_action

    def train(self, gradient_steps: int, batch_size: int = 100) -> None:
        """SB3 calls this after every environment step past learning_starts (train_freq 1):
        a round is run only where one is due, whatever gradient_steps SB3 asks for."""
        if self._episode_num < self.next_round:
            return
        self.next_round = self._episode_num + self.round_episodes
        tau, self.tau = self.tau, 0.0  # the round's own gradient steps leave the targets alone
        try:
            super().train(self.round_batches, batch_size)
        finally:
            self.tau = tau
        polyak_update(self.critic.parameters(), self.critic_target.parameters(), tau)
        polyak_update(self.actor.parameters(), self.actor_target.parameters(), tau)


def goal_twins(env_id: str) -> tuple[str, str]:
    """(sparse id, dense id) of a goal task given either twin; a clear error otherwise."""
    task = entry(env_id)
    if task.sparse_id is None:
        goal_tasks = [e.id for e in ENTRIES if e.sparse_id is not None and not e.sparse]
        raise ValueError(f"{task.id} has no dense/Sparse twin: HER trains on the Sparse twin of a goal task "
                         f"({', '.join(goal_tasks)})")
    return task.sparse_id, task.dense_id


class HERRecipe:
    """How an HERConfig becomes environments, a model and evaluations."""

    model_class = HerBaselinesTD3
    best_metric = "mean_return"
    """The best policy has the highest mean dense return (SB3's EvalCallback keeps the best mean reward)."""

    def __init__(self, config: HERConfig):
        self.config = config
        self.sparse_id, self.env_id = goal_twins(config.env_id)
        self._eval_env: gymnasium.Env | None = None

    def make_train_env(self) -> gymnasium.Env:
        return Float32Observation(dexterous.make(self.sparse_id))

    def make_eval_env(self, render_mode: str | None = None, **kwargs) -> gymnasium.Env:
        return Float32Observation(dexterous.make(self.env_id, render_mode=render_mode, **kwargs))

    def sources(self) -> dict[str, str]:
        """HER learns from its own experience only: no files to check on resume."""
        return {}

    def make_model(self, env: VecEnv) -> HerBaselinesTD3:
        config = self.config
        return HerBaselinesTD3(
            "MultiInputPolicy", env, replay_buffer_class=HerReplayBuffer,
            replay_buffer_kwargs=dict(n_sampled_goal=config.n_sampled_goal, goal_selection_strategy="future"),
            random_action_prob=config.random_action_prob, random_action_seed=config.seed,
            round_episodes=config.round_episodes, round_batches=config.round_batches,
            **td3_kwargs(config, env.action_space.shape[0]))

    def evaluate(self, policy: Policy) -> dict[str, Any]:
        """Over eval_episodes episodes: the final-step success rate, the dense return and the
        object's play (`evaluate_play`), as the planners' episodes are reported."""
        if self._eval_env is None:
            self._eval_env = self.make_eval_env()
        episodes, record = evaluate_play(self._eval_env, policy, self.config.eval_episodes)
        return {"success_rate": float(np.mean([e.final_info["is_success"] for e in episodes])), **record}
