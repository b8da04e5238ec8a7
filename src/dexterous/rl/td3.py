"""TD3 on PenSpin with demo restarts and action coupling (SPEC §5), on stable-baselines3.

The paper's agent maps (obs, a_prev) to μ, the environment executes β·μ + (1−β)·a_prev,
and experience is gathered in 15-step segments that restart from TOPDM demonstrations.
Both live in gymnasium wrappers (dexterous.rl.wrappers), so SB3's TD3 is used unchanged:
its replay buffer stores μ, its critics see (obs, a_prev, μ), its exploration noise
N(0, 0.1) is added to μ, and segment ends are truncations that it bootstraps through
(no terminal mask: PenSpin never terminates). Without demonstrations this is the plain
TD3 baseline (250-step episodes, still coupled).
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

import gymnasium
import numpy as np
from stable_baselines3 import TD3
from stable_baselines3.common.noise import NormalActionNoise
from stable_baselines3.common.vec_env import VecEnv

import dexterous
from dexterous.demos import Demonstration, episode_digests, load_folder
from dexterous.rl.configs import OffPolicyConfig, TD3Config
from dexterous.rl.episodes import Policy, evaluate_play, lost_steps
from dexterous.rl.wrappers import ActionCoupling, DemoRestarts, Float32Observation, InPlayReward


def td3_kwargs(config: OffPolicyConfig, action_dim: int) -> dict[str, Any]:
    """SB3 TD3 arguments from a config: one update per environment step (HER regroups them in
    rounds: HerBaselinesTD3), CPU."""
    return dict(
        learning_rate=config.learning_rate, buffer_size=config.buffer_size, learning_starts=config.learning_starts,
        batch_size=config.batch_size, tau=config.tau, gamma=config.gamma, train_freq=1, gradient_steps=1,
        action_noise=NormalActionNoise(np.zeros(action_dim), np.full(action_dim, config.exploration_noise)),
        policy_delay=config.policy_delay, target_policy_noise=config.target_noise,
        target_noise_clip=config.target_noise_clip, seed=config.seed, device="cpu", verbose=0,
        policy_kwargs=dict(net_arch=list(config.hidden), n_critics=config.n_critics),
    )


class TD3Recipe:
    """How a TD3Config becomes environments, a model and evaluations."""

    model_class = TD3

    def __init__(self, config: TD3Config):
        self.config = config
        self.env_id = config.env_id
        self._eval_env: gymnasium.Env | None = None

    @cached_property
    def demos(self) -> list[Demonstration]:
        """The demonstrations the training env restarts from, read when it is first made: a
        trained policy is evaluated, played and filmed without them (a policy folder names
        its run's --demos folder, which another machine or directory does not have)."""
        return load_folder(self.config.demos, env_id=self.env_id) if self.config.demos is not None else []

    def make_env(self, training: bool, render_mode: str | None = None, **kwargs) -> gymnasium.Env:
        """PenSpin → DemoRestarts (training with demos) → InPlayReward (training with
        lost_object) → ActionCoupling → float32; evaluation sees the paper's reward."""
        config = self.config
        env = dexterous.make(self.env_id, render_mode=render_mode, **kwargs)
        if training and self.demos:
            env = DemoRestarts(env, self.demos, config.segment_len, config.p_demo, config.p_reset, config.decay,
                               rng=np.random.default_rng(config.seed))
        if training and config.lost_object:
            env = InPlayReward(env, config.lost_penalty)
        return Float32Observation(ActionCoupling(env, config.beta))

    def make_train_env(self) -> gymnasium.Env:
        return self.make_env(training=True)

    def make_eval_env(self, render_mode: str | None = None, **kwargs) -> gymnasium.Env:
        return self.make_env(training=False, render_mode=render_mode, **kwargs)

    def sources(self) -> dict[str, str]:
        """Digests of the demonstration episode files (none without demos)."""
        return episode_digests(self.config.demos) if self.config.demos is not None else {}

    def make_model(self, env: VecEnv) -> TD3:
        return TD3("MlpPolicy", env, **td3_kwargs(self.config, env.action_space.shape[0]))

    @property
    def best_metric(self) -> str:
        """The evaluation figure the best policy maximises: the paper's return, or with
        lost_object (ours) the in-play return the run trains on. The paper's return pays a
        throw, and picking by it shipped a throw from a run that had learned to hold the pen."""
        return "mean_in_play_return" if self.config.lost_object else "mean_return"

    def evaluate(self, policy: Policy) -> dict[str, Any]:
        """Over eval_episodes full episodes of the deterministic policy (no restarts): the mean
        return (the paper's reward), the steps after which the object was in play, the object's
        turns about its body x axis (PenSpin's spin: a return can be earned by a pen thrown
        spinning), and with lost_object the in-play return (the training reward: −lost_penalty
        at those steps)."""
        if self._eval_env is None:
            self._eval_env = self.make_eval_env()
        episodes, record = evaluate_play(self._eval_env, policy, self.config.eval_episodes)
        if self.config.lost_object:
            in_play = [float(np.where(lost_steps(e), -self.config.lost_penalty, e.rewards).sum()) for e in episodes]
            record.update(mean_in_play_return=float(np.mean(in_play)), in_play_returns=in_play)
        return record
