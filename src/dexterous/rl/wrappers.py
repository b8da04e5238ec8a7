"""Gymnasium wrappers for learning from demonstrations (SPEC §5), usable with any library.

Stack them in this order, innermost first::

    env = dexterous.make("PenSpin-v1")
    env = DemoRestarts(env, demos, rng=np.random.default_rng(0))   # segments of 15 steps
    env = InPlayReward(env, penalty=1.0)                           # ours, optional: no pay once lost
    env = ActionCoupling(env, beta=0.7)                            # (obs, a_prev) -> μ
    env = Float32Observation(env)                                  # halves replay memory

DemoRestarts restores snapshots underneath ActionCoupling, and ActionCoupling reads the
previous action from the environment itself, so after a demo restart the agent sees the
demonstration's previous action. DemoRestarts refuses to sit outside an observation or
action wrapper, because a restored snapshot yields the *environment's* observation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import gymnasium
import numpy as np

from dexterous.demos.format import DemoError, Demonstration
from dexterous.planning.coupling import couple
from dexterous.rl.configs import check_beta
from dexterous.contracts.snapshot import Snapshot

class ActionCoupling(gymnasium.Wrapper):
    """The paper's action coupling for a learning agent: a = clip(β·μ + (1−β)·a_prev).

    The observation gains a_prev, the action the environment executed last, and the agent's
    output μ is low-pass filtered with it. A critic trained on (wrapped observation, μ)
    is therefore conditioned on (obs, a_prev, μ), as in the paper. a_prev is read from the
    environment's `prev_action` every time, never kept here, so restoring a snapshot
    (demo restarts, resumed runs) restores it too. The clip is the environment's own
    action bounds, so the executed action is exactly what the environment records as its
    next `prev_action`.
    """

    def __init__(self, env: gymnasium.Env, beta: float):
        super().__init__(env)
        self.beta = check_beta(beta)
        if not isinstance(env.observation_space, gymnasium.spaces.Box) or len(env.observation_space.shape) != 1:
            raise ValueError(f"ActionCoupling needs a flat Box observation, got {env.observation_space}; "
                             "goal-based (dict) tasks are trained without coupling (`dexterous train her`)")
        if not isinstance(env.action_space, gymnasium.spaces.Box):
            raise ValueError(f"ActionCoupling needs a Box action space, got {env.action_space}")
        if not hasattr(env.unwrapped, "prev_action"):
            raise ValueError(f"{env.unwrapped} has no prev_action: ActionCoupling needs a dexterous HandEnv")
        obs, act = env.observation_space, env.action_space
        low, high = np.concatenate([obs.low, act.low]), np.concatenate([obs.high, act.high])
        self.observation_space = gymnasium.spaces.Box(low.astype(obs.dtype), high.astype(obs.dtype), dtype=obs.dtype)
        self._low, self._high = act.low.astype(np.float64), act.high.astype(np.float64)

    @property
    def prev_action(self) -> np.ndarray:
        """The action the environment executed last (its demo's previous action after a restart)."""
        return np.asarray(self.env.unwrapped.prev_action, dtype=np.float64)

    def coupled(self, mu: np.ndarray) -> np.ndarray:
        """The action executed for agent output μ: clip(β·μ + (1−β)·a_prev) (planning's coupling)."""
        mu = np.asarray(mu, dtype=np.float64)
        return couple(mu[None], self.prev_action, self.beta, self._low, self._high)[0]

    def _observe(self, obs: np.ndarray) -> np.ndarray:
        return np.concatenate([obs, self.prev_action]).astype(self.observation_space.dtype, copy=False)

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(self.coupled(action))
        return self._observe(obs), reward, terminated, truncated, info

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        obs, info = self.env.reset(seed=seed, options=options)
        return self._observe(obs), info


class Float32Observation(gymnasium.ObservationWrapper):
    """Cast Box (or dict-of-Box) observations to float32.

    Replay buffers store observations in the space's dtype; for the paper's 10⁶
    transitions this halves the memory (obs and next obs) at no cost to learning.
    """

    def __init__(self, env: gymnasium.Env):
        super().__init__(env)
        self.observation_space = _float32_space(env.observation_space)

    def observation(self, observation):
        if isinstance(observation, dict):
            return {k: np.asarray(v, dtype=np.float32) for k, v in observation.items()}
        return np.asarray(observation, dtype=np.float32)


def _float32_space(space: gymnasium.Space) -> gymnasium.Space:
    if isinstance(space, gymnasium.spaces.Dict):
        return gymnasium.spaces.Dict({k: _float32_space(s) for k, s in space.spaces.items()})
    if isinstance(space, gymnasium.spaces.Box):
        return gymnasium.spaces.Box(space.low.astype(np.float32), space.high.astype(np.float32), dtype=np.float32)
    raise ValueError(f"Float32Observation handles Box and Dict observations, got {space}")


class InPlayReward(gymnasium.Wrapper):
    """Training reward that stops paying once the object is out of play (ours, not the paper's).

    At every step after which the task's `object_lost` holds (PenSpin: the pen below the hand
    or away from its rest in it), the reward is −penalty instead of the task's, which
    info["task_reward"] keeps. The paper's reward pays a pen thrown spinning for its spin in
    the air and on the floor, and TD3 with γ 0.98 learns that throw (≈ 100 in 30 steps)
    rather than a slower spin it can keep. The wrapper reads the state after each step and
    keeps nothing, so snapshots, restores and resumed runs need nothing from it.
    """

    def __init__(self, env: gymnasium.Env, penalty: float = 0.0):
        super().__init__(env)
        if not hasattr(env.unwrapped, "object_lost"):
            raise ValueError(f"{env.unwrapped} has no object_lost: InPlayReward needs a dexterous task that says "
                             "when its object is out of play")
        if isinstance(penalty, bool) or not isinstance(penalty, (int, float)) or not 0.0 <= penalty < np.inf:
            raise ValueError(f"penalty must be a number ≥ 0, got {penalty!r}")
        self.penalty = float(penalty)

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        lost = self.env.unwrapped.object_lost_now()
        info = {**info, "task_reward": reward, "in_play": not lost}
        return obs, (-self.penalty if lost else reward), terminated, truncated, info


@dataclass(frozen=True)
class RestartState:
    """Everything DemoRestarts needs to carry on exactly after a checkpoint."""

    p_demo: float
    """Current probability that a segment starts from a demonstration state."""
    p_reset: float
    """Current probability that a segment starts from a fresh reset."""
    segments: int
    """Segments started so far (the probabilities are the initial ones × decay^segments)."""
    segment_steps: int
    """Steps taken in the current segment."""
    rng_state: dict
    """The wrapper's generator state (bit_generator.state)."""
    ongoing: Snapshot | None
    """The main episode (begun at a reset, advanced only by "reset" and "continue" segments)
    at its last segment boundary; None once that episode ended."""
    started: bool
    """Whether the inner environment has been reset at least once."""
    in_main: bool = True
    """Whether the current segment advances the main episode (it started with a reset or a
    continue, not from a demonstration). Checkpoints from before this field continued
    whatever segment ran last, which reads as True."""


class DemoRestarts(gymnasium.Wrapper):
    """Gather experience in segments that restart from demonstrations (SPEC §5).

    Every `segment_len` steps the wrapper reports truncated=True. The learner's next reset
    then starts the new segment, drawn with the current probabilities:

    - p_demo: the exact snapshot before a uniformly random step of a uniformly random
      demonstration, with that demo's previous action as the environment's prev_action;
    - p_reset: a fresh reset (its seed drawn from this wrapper's generator, so resets stay
      diverse after restores that carry a demo's task RNG);
    - otherwise ("continue"): the main episode continues from its exact snapshot at its
      last boundary (the original code resumed from a stale observation). As in the
      original, the main episode is one long episode begun at the last "reset" segment
      and advanced only by "reset" and "continue" segments, up to the environment's 250
      steps; a demo-started segment never becomes it. Once the main episode has ended,
      "continue" falls back to a reset, which begins a new one.

    p_demo and p_reset are multiplied by `decay` at every segment start. A segment also
    ends early when the environment truncates itself. Truncations are truncations, never
    terminations: off-policy learners bootstrap through them (SB3 marks them
    TimeLimit.truncated). `reset(seed=s)` reseeds the wrapper's generator, as gymnasium
    seeding does. info["restart"] names the segment's start ("demo", "reset",
    "continue"); info["demo_step"] = (demo index, step) after a demo restart.
    """

    def __init__(self, env: gymnasium.Env, demos: Sequence[Demonstration], segment_len: int = 15,
                 p_demo: float = 0.7, p_reset: float = 0.2, decay: float = 0.999996,
                 rng: np.random.Generator | None = None):
        super().__init__(env)
        _check_inner_wrappers(env)
        if isinstance(segment_len, bool) or not isinstance(segment_len, int) or segment_len < 1:
            raise ValueError(f"segment_len must be an integer ≥ 1, got {segment_len!r}")
        for name, p in (("p_demo", p_demo), ("p_reset", p_reset), ("decay", decay)):
            if not (isinstance(p, (int, float)) and 0.0 <= p <= 1.0):
                raise ValueError(f"{name} must be in [0, 1], got {p!r}")
        if p_demo + p_reset > 1.0 + 1e-12:
            raise ValueError(f"p_demo + p_reset must be ≤ 1, got {p_demo} + {p_reset}")
        self.segment_len = segment_len
        self.decay = float(decay)
        self.p_demo, self.p_reset = float(p_demo), float(p_reset)
        self.demos = list(demos)
        self._check_demos()
        self.rng = rng if rng is not None else np.random.default_rng()
        self.segments = 0
        self.segment_steps = 0
        self._ongoing: Snapshot | None = None
        self._started = False
        self._in_main = True

    def _check_demos(self) -> None:
        unwrapped = self.env.unwrapped
        if not self.demos and self.p_demo > 0:
            raise DemoError("DemoRestarts was given no demonstrations")
        for i, demo in enumerate(self.demos):
            if demo.env_id != unwrapped.env_id:
                raise DemoError(f"demonstration {i} (seed {demo.seed}) was recorded on {demo.env_id}, "
                                f"not on {unwrapped.env_id}: use demonstrations of this environment")
            if demo.num_steps < 1:
                raise DemoError(f"demonstration {i} (seed {demo.seed}) has no steps to restart from")
            unwrapped.check_snapshot(demo.snapshot(0))

    # ----- gymnasium API ------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict | None = None):
        if seed is not None:
            self.rng = np.random.default_rng(seed)
        mode = self._draw_mode()
        self.segments += 1
        self.p_demo *= self.decay
        self.p_reset *= self.decay
        self.segment_steps = 0
        if not self._started or mode == "reset":
            obs, info = self.env.reset(seed=int(self.rng.integers(2**31)), options=options)
            self._started = True
        self._in_main = mode != "demo"
        info = dict(info) if mode == "reset" else {}
        if mode == "demo":
            index = int(self.rng.integers(len(self.demos)))
            step = int(self.rng.integers(self.demos[index].num_steps))
            obs = self.env.unwrapped.restore(self.demos[index].snapshot(step))
            info["demo_step"] = (index, step)
        elif mode == "continue":
            obs = self.env.unwrapped.restore(self._ongoing)
        info["restart"] = mode
        return obs, info

    def _draw_mode(self) -> str:
        u = self.rng.random()
        if u < self.p_demo:
            return "demo"
        if u < self.p_demo + self.p_reset or self._ongoing is None:
            return "reset"
        return "continue"

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        self.segment_steps += 1
        if terminated or truncated:
            if self._in_main:
                self._ongoing = None  # the main episode itself is over: nothing to continue
        elif self.segment_steps >= self.segment_len:
            if self._in_main:
                self._ongoing = self.env.unwrapped.snapshot()
            truncated = True
        return obs, reward, terminated, truncated, info

    # ----- checkpoints --------------------------------------------------------------------
    def get_state(self) -> RestartState:
        return RestartState(self.p_demo, self.p_reset, self.segments, self.segment_steps,
                            self.rng.bit_generator.state, self._ongoing, self._started, self._in_main)

    def set_state(self, state: RestartState) -> None:
        """Adopt a saved state; the environment's own snapshot is restored separately."""
        self.p_demo, self.p_reset = state.p_demo, state.p_reset
        self.segments, self.segment_steps = state.segments, state.segment_steps
        self.rng.bit_generator.state = state.rng_state
        self._ongoing, self._started, self._in_main = state.ongoing, state.started, state.in_main


def _check_inner_wrappers(env: gymnasium.Env) -> None:
    """A restored snapshot's observation is the raw environment's: nothing inside may change it."""
    while isinstance(env, gymnasium.Wrapper):
        if isinstance(env, (gymnasium.ObservationWrapper, gymnasium.ActionWrapper, gymnasium.RewardWrapper,
                            ActionCoupling, DemoRestarts)):
            raise ValueError(f"DemoRestarts must wrap the environment directly, but it would wrap "
                             f"{type(env).__name__}: put ActionCoupling and observation/action wrappers outside it")
        env = env.env


def find_wrapper(env: gymnasium.Env, kind: type) -> Any | None:
    """The first wrapper of type `kind` in env's chain, or None."""
    while isinstance(env, gymnasium.Wrapper):
        if isinstance(env, kind):
            return env
        env = env.env
    return None
