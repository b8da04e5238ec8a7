"""How an object fared in an episode: steps in the hand, turns about its body x axis.

PenSpin's reward pays ω_x − 15·|Δz| whether the pen spins in the hand or on the floor, so
its return alone cannot say whether a demonstration or a policy spins the pen: these
measures can. `inspect_demonstration` reads them from a demonstration's exact states
(restored one by one), `spin_windows` from a run of a policy (`dexterous evaluate`). On
goal tasks it also says how far the objects ended from their goal: a failed final step can
be a near miss or a lost object, and the success rate alone does not say which.
"""

from __future__ import annotations

from dataclasses import dataclass

import gymnasium
import numpy as np

import dexterous
from dexterous.contracts.configs import check_number
from dexterous.demos.format import Demonstration
from dexterous.envs.goal import GoalHandEnv
from dexterous.envs.rotations import quat_multiply


def body_x_turns(quats: np.ndarray) -> np.ndarray:
    """Accumulated rotation about the body x axis, in turns, from (T+1, 4) orientations (w first).

    Each step's rotation in the body frame is r = conj(q_t) ⊗ q_{t+1}; its rotation vector's
    x component is the angle turned about body x in that step (exact for a pure x
    rotation; unambiguous while a step turns less than half a turn, i.e. |ω| < 78 rad/s at
    0.04 s per step). Returns (T+1,) with 0 first.
    """
    quats = np.asarray(quats, dtype=np.float64)
    if quats.ndim != 2 or quats.shape[1] != 4 or len(quats) < 1:
        raise ValueError(f"quats must have shape (T+1, 4), got {quats.shape}")
    conj = quats[:-1] * np.array([1.0, -1.0, -1.0, -1.0])
    rel = quat_multiply(conj.T, quats[1:].T).T
    rel *= np.where(rel[:, :1] < 0.0, -1.0, 1.0)  # the shorter way round
    sin_half = np.linalg.norm(rel[:, 1:], axis=1)
    angle = 2.0 * np.arctan2(sin_half, rel[:, 0])
    about_x = np.divide(angle * rel[:, 1], sin_half, out=np.zeros_like(angle), where=sin_half > 0.0)
    return np.concatenate([[0.0], np.cumsum(about_x)]) / (2.0 * np.pi)


@dataclass(frozen=True)
class WindowPlay:
    """The object's play in one window of an episode's steps."""

    first: int
    """Its first step (1-based: the step after the reset is step 1)."""
    steps: int
    """Steps in the window (the last window of an episode may be shorter)."""
    in_hand: int
    """Steps after which the object was in play."""
    turns: float
    """Rotation of the object about its body x axis over the window (turns, signed)."""
    reward: float
    """Return over the window."""
    planned: float | None = None
    """Mean over the window's steps of the planner's score of the plan it executed (its
    objective over its horizon, as `dexterous plan` records it); None for a policy. Where it
    falls, the planner saw nothing good ahead (on PenSpin, in the still stretches between
    bursts of spin)."""

    @property
    def reward_per_step(self) -> float:
        return self.reward / self.steps

    def row(self) -> str:
        planned = "" if self.planned is None else f", planned score {self.planned:.1f}"
        return (f"steps {self.first}-{self.first + self.steps - 1}: in hand {self.in_hand}/{self.steps}, "
                f"{self.turns:.2f} turns, {self.reward_per_step:.3f} reward per step{planned}")


def play_windows(rewards: np.ndarray, lost: np.ndarray, turns: np.ndarray, window: int,
                 planned: np.ndarray | None = None) -> tuple[WindowPlay, ...]:
    """Per window of `window` steps, from rewards (T,) and lost (T,) after each step, the
    accumulated turns (T+1,) from the reset on and, for a planned episode, the planner's
    scores (T,). The last window may be shorter."""
    rewards, lost = np.asarray(rewards, dtype=np.float64), np.asarray(lost, dtype=bool)
    if not (rewards.shape == lost.shape == (len(turns) - 1,)):
        raise ValueError(f"need rewards (T,), lost (T,) and turns (T+1,), got {rewards.shape}, {lost.shape}, "
                         f"{np.shape(turns)}")
    if planned is not None and np.shape(planned) != rewards.shape:
        raise ValueError(f"need one planned score per step, {rewards.shape}, got {np.shape(planned)}")
    return tuple(WindowPlay(first=k + 1, steps=len(rewards[k:k + window]), in_hand=int((~lost[k:k + window]).sum()),
                            turns=float(turns[min(k + window, len(rewards))] - turns[k]),
                            reward=float(rewards[k:k + window].sum()),
                            planned=None if planned is None else float(np.mean(planned[k:k + window])))
                 for k in range(0, len(rewards), window))


def while_in_hand(rewards: np.ndarray, lost: np.ndarray, turns: np.ndarray) -> tuple[float, float]:
    """The turns and the reward per step of the episode earned only in the steps after which
    the object was in play, from rewards (T,), lost (T,) and the accumulated turns (T+1,).

    PenSpin's reward also pays a pen spinning on the floor: an episode that flicks the pen
    out can out-earn one that spins it in the hand, and these say what was earned in it.
    The reward is divided by all T steps, so it compares with the episode's reward per step."""
    rewards, held = np.asarray(rewards, dtype=np.float64), ~np.asarray(lost, dtype=bool)
    if not (rewards.shape == held.shape == (len(turns) - 1,)) or not len(rewards):
        raise ValueError(f"need rewards (T,), lost (T,) and turns (T+1,) with T ≥ 1, got {rewards.shape}, "
                         f"{held.shape}, {np.shape(turns)}")
    return float(np.diff(turns)[held].sum()), float(rewards[held].sum() / len(rewards))


def spin_windows(rewards: np.ndarray, quats: np.ndarray, lost: np.ndarray,
                 window: int = 250) -> tuple[list[float], list[int], list[float]]:
    """Per window of `window` steps: the return, the steps in hand and the turns, from the
    object's orientations quats (T+1, 4) at the reset and after each step."""
    if not (np.shape(rewards) == np.shape(lost) == (len(quats) - 1,)):
        raise ValueError(f"need rewards (T,), lost (T,) and quats (T+1, 4), got {np.shape(rewards)}, "
                         f"{np.shape(lost)}, {np.shape(quats)}")
    windows = play_windows(rewards, lost, body_x_turns(quats), window)
    return [w.reward for w in windows], [w.in_hand for w in windows], [w.turns for w in windows]


@dataclass(frozen=True)
class EpisodePlay:
    """One demonstration's object play."""

    seed: int
    """Reset seed of the episode."""
    steps: int
    """Real steps recorded."""
    in_hand: int
    """Steps after which the object was in play (the task's `object_lost` false)."""
    first_lost: int | None
    """The first step after which the object was out of play; None if it never was."""
    turns: float
    """Rotation of the (first) object about its body x axis over the episode (turns, signed)."""
    reward_per_step: float
    """Mean reward per step (the environment's, i.e. the paper's)."""
    final_success: bool | None
    """Success at the last step; None for tasks without a success measure."""
    complete: bool = True
    """Whether the episode was planned to its end; an unfinished one is the beginning of an
    episode still being planned (or interrupted), which its rerun carries on."""
    windows: tuple[WindowPlay, ...] = ()
    """The same per window of steps, where asked for: a planner's budget per real step falls
    along the episode (the paper's decreasing schedule), and so, often, does its play."""
    final_errors: tuple[float, float] | None = None
    """Goal tasks: how far the objects ended from their goal (`GoalHandEnv.goal_errors`: the
    largest position distance in m and rotation distance in rad), which tells a near miss
    from a lost object; None for tasks without a goal."""
    in_hand_play: tuple[float, float] | None = None
    """Where the object was out of play at some step: the turns and the reward per step earned
    in the steps it was in play (`while_in_hand`); None where it never left the hand."""
    object_final_errors: tuple[tuple[float, float], ...] | None = None
    """Goal tasks: each object's final distances from its goal (`GoalHandEnv.object_goal_errors`),
    of which `final_errors` holds the largest; None for tasks without a goal."""

    def row(self) -> str:
        lost = "never" if self.first_lost is None else f"step {self.first_lost}"
        success = "" if self.final_success is None else f", final success {self.final_success}"
        if self.object_final_errors is not None and len(self.object_final_errors) > 1:
            success += " (" + "; ".join(f"object {k}: {100 * p:.1f} cm and {r:.2f} rad"
                                        for k, (p, r) in enumerate(self.object_final_errors, 1)) + " from the goal)"
        elif self.final_errors is not None:
            success += f" ({100 * self.final_errors[0]:.1f} cm and {self.final_errors[1]:.2f} rad from the goal)"
        so_far = "" if self.complete else " so far (unfinished)"
        if self.in_hand_play is not None:
            success += (f"; while in hand: {self.in_hand_play[0]:.2f} turns, "
                        f"{self.in_hand_play[1]:.3f} reward per step")
        return "\n".join([f"seed {self.seed}: {self.steps} steps{so_far}, in hand {self.in_hand}/{self.steps} (lost: {lost}), "
                          f"{self.turns:.2f} turns, {self.reward_per_step:.3f} reward per step{success}",
                          *(f"  {w.row()}" for w in self.windows)])


def object_quat_index(env: gymnasium.Env) -> np.ndarray | None:
    """Where env's (first) object's orientation is in qpos (w first); None without an object (Humanoid)."""
    indices = getattr(env.unwrapped, "indices", None)
    return indices.objects[0].qpos[3:7] if indices is not None and indices.objects else None


def inspect_demonstration(demo: Demonstration, window: int | None = None) -> EpisodePlay:
    """The object's play in demo, read from its recorded states (nothing is simulated);
    also per window of `window` steps where given."""
    if window is not None:
        check_number("window", window, 1, integer=True)
    env = dexterous.make(demo.env_id).unwrapped
    quat = object_quat_index(env)
    quats, lost = [], []
    for t in range(demo.num_steps + 1):
        env.restore(demo.snapshot(t))
        if quat is not None:
            quats.append(env.data.qpos[quat].copy())
        if t:
            lost.append(env.object_lost_now())
    posed = isinstance(env, GoalHandEnv) and demo.num_steps
    final_errors, object_errors = (env.goal_errors(), env.object_goal_errors()) if posed else (None, None)
    lost_steps = np.flatnonzero(lost)
    turns = body_x_turns(np.array(quats)) if quats else np.zeros(demo.num_steps + 1)
    in_hand_play = while_in_hand(demo.rewards, np.array(lost, dtype=bool), turns) if len(lost_steps) else None
    windows = (play_windows(demo.rewards, np.array(lost, dtype=bool), turns, window,
                            planned=np.array(demo.predicted_returns, dtype=np.float64)) if window else ())
    return EpisodePlay(
        seed=demo.seed, steps=demo.num_steps, in_hand=int(demo.num_steps - len(lost_steps)),
        first_lost=int(lost_steps[0]) + 1 if len(lost_steps) else None,
        turns=float(turns[-1]),
        reward_per_step=float(np.mean(demo.rewards)) if demo.num_steps else 0.0,
        final_success=bool(demo.successes[-1]) if env.has_success and demo.num_steps else None,
        complete=demo.complete, windows=windows, final_errors=final_errors, in_hand_play=in_hand_play,
        object_final_errors=object_errors)
