"""Training configurations: TD3 (+ demo restarts, action coupling) and the HER baselines.

Frozen dataclasses whose defaults are the paper's (SPEC §5); every run directory keeps the
config that made it (config.json), and `dexterous train` builds its flags from the fields
and their docstrings (`contracts.configs.field_docs`). Small budgets for tests are the same configs with
fields replaced (learning_starts 50, batch 32, tiny networks, …).
"""

from __future__ import annotations

import dataclasses
import math
import typing
from dataclasses import dataclass
from typing import Any, Literal

from dexterous.catalog import NAMESPACE
from dexterous.contracts.configs import check_flag, check_number, field_defaults, from_json

HerVariant = Literal["original", "new"]
HER_RANDOM_ACTION_PROB: dict[str, float] = {"original": 0.3, "new": 0.0}
"""The paper's two HER baselines differ only in the probability of a uniformly random action."""


@dataclass(frozen=True)
class OffPolicyConfig:
    """What every off-policy run here shares: SB3 TD3 settings, evaluation, checkpoints."""

    env_id: str = "dexterous/PenSpin-v1"
    """Environment to train on (namespace optional)."""
    steps: int = 10_000_000
    """Environment steps to train for (the paper: 10M); rerun with more to extend a run."""
    seed: int = 0
    """Seeds networks, exploration, replay sampling, resets and restarts."""
    hidden: tuple[int, ...] = (256, 256)
    """Hidden layer sizes of the actor and of each critic (ReLU)."""
    learning_rate: float = 3e-4
    """Adam step size of actor and critics."""
    batch_size: int = 256
    """Transitions per gradient step."""
    buffer_size: int = 1_000_000
    """Replay buffer capacity (transitions)."""
    gamma: float = 0.98
    """Discount factor."""
    tau: float = 0.005
    """Polyak coefficient of the target networks."""
    target_noise: float = 0.2
    """Std of the target-policy smoothing noise."""
    target_noise_clip: float = 0.5
    """Clip of the target-policy smoothing noise."""
    policy_delay: int = 2
    """Critic updates per actor (and target) update."""
    n_critics: int = 2
    """Critics; TD3 takes the minimum of two."""
    exploration_noise: float = 0.1
    """Std of the Gaussian noise added to the policy's output μ while collecting data."""
    learning_starts: int = 25_000
    """Initial steps of uniformly random actions before the first update."""
    eval_every: int = 5000
    """Environment steps between evaluations (also at step 0)."""
    eval_episodes: int = 10
    """Episodes per evaluation, deterministic policy, full episode length."""
    obs_clip: float = 5.0
    """The running observation normaliser clips normalised values to ±obs_clip."""
    checkpoint_every: int = 100_000
    """Environment steps between checkpoints (and one at the end); a run resumes from the last."""
    log_every: int = 1000
    """Environment steps between TensorBoard dumps and progress-bar updates."""
    torch_threads: int = 1
    """Torch CPU threads (1 is fastest for these small networks and keeps runs reproducible)."""

    algo: typing.ClassVar[str] = ""

    def __post_init__(self) -> None:
        if not isinstance(self.env_id, str) or not self.env_id:
            raise ValueError(f"env_id must be an environment id, got {self.env_id!r}")
        if "/" not in self.env_id:  # the same run whether or not the namespace was typed
            object.__setattr__(self, "env_id", f"{NAMESPACE}/{self.env_id}")
        for name in ("steps", "batch_size", "buffer_size", "policy_delay", "n_critics", "eval_every",
                     "eval_episodes", "checkpoint_every", "log_every", "torch_threads"):
            _check(name, getattr(self, name), int, 1)
        _check("seed", self.seed, int, 0)
        _check("learning_starts", self.learning_starts, int, 0)
        if not self.hidden or any(isinstance(h, bool) or not isinstance(h, int) or h < 1 for h in self.hidden):
            raise ValueError(f"hidden must be a non-empty tuple of layer sizes ≥ 1, got {self.hidden!r}")
        for name in ("learning_rate", "obs_clip"):
            _check(name, getattr(self, name), float, 0.0, low_open=True)
        for name in ("gamma", "tau"):
            _check(name, getattr(self, name), float, 0.0, 1.0)
        for name in ("target_noise", "target_noise_clip", "exploration_noise"):
            _check(name, getattr(self, name), float, 0.0)

    def to_json(self) -> dict[str, Any]:
        """The config as JSON-able data, tagged with its algorithm."""
        return {"algo": self.algo, **dataclasses.asdict(self)}


@dataclass(frozen=True)
class TD3Config(OffPolicyConfig):
    """TD3 with demo restarts and action coupling on PenSpin (SPEC §5); no demos: plain TD3."""

    demos: str | None = None
    """Demonstration folder (`dexterous plan`); None trains the plain TD3 baseline."""
    beta: float = 0.7
    """Action coupling β: the env executes β·μ + (1−β)·a_prev (1: no coupling)."""
    segment_len: int = 15
    """Steps per data-gathering segment (demo restarts only)."""
    p_demo: float = 0.7
    """Initial probability that a segment starts from a random demonstration state."""
    p_reset: float = 0.2
    """Initial probability that a segment starts from a fresh reset (else: continue)."""
    decay: float = 0.999996
    """Both probabilities are multiplied by this at every segment start."""
    lost_object: bool = False
    """Ours, not the paper's (TOPDM+'s lost-object objective carried to training): the training
    reward counts 0 at every step that leaves the object out of play as its task says
    (PenSpin: pen centre below 0.10 m or farther than 0.05 m from its rest in the hand), so a
    pen thrown spinning earns nothing once out of the hand. Evaluations keep the paper's reward."""
    lost_penalty: float = 0.0
    """With lost_object: subtracted from the training reward at each such step, so that losing
    the object costs more than holding it still (a pen on the floor: penalty/(1 − γ), 50× at
    γ 0.98)."""

    algo: typing.ClassVar[str] = "td3"

    def __post_init__(self) -> None:
        super().__post_init__()
        check_beta(self.beta)
        _check("segment_len", self.segment_len, int, 1)
        for name in ("p_demo", "p_reset", "decay"):
            _check(name, getattr(self, name), float, 0.0, 1.0)
        if self.p_demo + self.p_reset > 1.0:
            raise ValueError(f"p_demo + p_reset must be ≤ 1, got {self.p_demo} + {self.p_reset}")
        check_flag("lost_object", self.lost_object)
        _check("lost_penalty", self.lost_penalty, float, 0.0)
        if self.lost_penalty and not self.lost_object:
            raise ValueError("lost_penalty needs lost_object=True (--lost-object): the penalty is paid at the "
                             "steps the in-play reward finds the object out of play")


IN_PLAY: dict[str, Any] = {"lost_object": True, "lost_penalty": 1.0}
"""Ours: TD3's in-play training reward as the figures run it. A penalty of 1 per step out of
play values a pen on the floor at −50 (γ 0.98), below holding it still (0), so a throw stops
paying; in the manual run it replaced the paper reward's flick by a pen held for 239–244 of
250 steps by 140k steps (README). Other penalties were not measured."""


@dataclass(frozen=True)
class HERConfig(OffPolicyConfig):
    """DDPG + HER ("future") on a goal task's Sparse twin, evaluated on the dense task (SPEC §5).

    Defaults follow the original HER baselines: 3×256 networks, Adam 1e-3, Polyak 0.05,
    action noise 0.2, 4 relabelled goals per transition, DDPG as SB3 defines it (TD3 with
    one critic, no target smoothing, no policy delay), learning in the original's cycles
    (40 gradient steps after every 2 episodes, the targets moved once per cycle). Not
    reproduced: the original's action L2 penalty and return clipping, which SB3's DDPG loss
    does not have.
    """

    env_id: str = "dexterous/HandManipulateBlockFull-v1"
    """Goal task, dense or Sparse twin: training uses the Sparse one, evaluation the dense one."""
    steps: int = 1_000_000
    """Environment steps to train for."""
    variant: HerVariant = "original"
    """"original" (random action probability 0.3) or "new" (0), as the paper's two HER curves."""
    n_sampled_goal: int = 4
    """Relabelled ("future") goals per real transition."""
    hidden: tuple[int, ...] = (256, 256, 256)
    """Hidden layer sizes of the actor and the critic (ReLU)."""
    learning_rate: float = 1e-3
    """Adam step size of actor and critic."""
    tau: float = 0.05
    """Polyak coefficient of the target networks."""
    exploration_noise: float = 0.2
    """Std of the Gaussian noise added to the policy's action while collecting data."""
    policy_delay: int = 1
    """Critic updates per actor update (1: DDPG)."""
    n_critics: int = 1
    """Critics (1: DDPG)."""
    target_noise: float = 0.0
    """Target-policy smoothing noise (0: DDPG)."""
    target_noise_clip: float = 0.0
    """Clip of the target smoothing noise (0: DDPG)."""
    learning_starts: int = 1000
    """Initial steps of uniformly random actions before the first update."""
    round_episodes: int = 2
    """Episodes collected between rounds of updates (the HER baselines' rollout_batch_size)."""
    round_batches: int = 40
    """Gradient steps per round (the HER baselines' n_batches); the target networks move once
    per round, by tau."""

    algo: typing.ClassVar[str] = "her"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.variant not in HER_RANDOM_ACTION_PROB:
            raise ValueError(f"variant must be one of {sorted(HER_RANDOM_ACTION_PROB)}, got {self.variant!r}")
        for name in ("n_sampled_goal", "round_episodes", "round_batches"):
            _check(name, getattr(self, name), int, 1)

    @property
    def random_action_prob(self) -> float:
        """Probability of replacing the noisy action by a uniformly random one."""
        return HER_RANDOM_ACTION_PROB[self.variant]


def check_beta(beta: Any) -> float:
    """β ∈ (0, 1]; β = 0 would execute a_prev forever and ignore the agent, so it is refused."""
    ok = isinstance(beta, (int, float)) and not isinstance(beta, bool) and 0.0 < beta <= 1.0
    if not ok:
        raise ValueError(f"beta must be in (0, 1] (1: no coupling; 0 would ignore the agent's action "
                         f"entirely), got {beta!r}")
    return float(beta)


CONFIGS: dict[str, type[OffPolicyConfig]] = {"td3": TD3Config, "her": HERConfig}


def recorded_train_config(found: dict[str, Any]) -> dict[str, Any]:
    """A config.json as written, with the fields added since at their defaults (new fields
    default to what older versions ran), so an older run still resumes."""
    cls = CONFIGS.get(found.get("algo"))
    return found if cls is None else {**field_defaults(cls), **found}


def config_from_json(data: dict[str, Any]) -> OffPolicyConfig:
    """Rebuild a config written by `to_json` (its "algo" picks the class)."""
    data = dict(data)
    algo = data.pop("algo", None)
    if algo not in CONFIGS:
        raise ValueError(f"unknown algorithm {algo!r} in config; known: {sorted(CONFIGS)}")
    return from_json(CONFIGS[algo], data)


def _check(name: str, value: Any, kind: type, low: float, high: float = math.inf, low_open: bool = False) -> None:
    """check_number for an int or float field."""
    check_number(name, value, low, high, integer=kind is int, low_open=low_open)
