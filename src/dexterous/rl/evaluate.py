"""`dexterous evaluate`: does a trained PenSpin policy keep spinning past the episode?

The paper claims the TD3 policy spins the pen indefinitely, although it only ever trained
on 250-step episodes. This runs the policy for longer (1000 steps by default) in the same
environment, ignoring its truncation (the simulation just goes on), and reports the
return of every 250-step window and how far the object turned about its body x axis,
the axis the PenSpin reward pays for.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from dexterous.envs.rotations import quat_multiply
from dexterous.rl.episodes import run_episode
from dexterous.rl.runs import load_policy
from dexterous.video import frame_writer

WINDOW = 250
"""Steps per reported return: PenSpin's episode length."""


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
class SpinEpisode:
    """One long run of the policy."""

    seed: int
    """Reset seed."""
    window_returns: list[float]
    """Sum of rewards over each successive WINDOW steps (the last window may be shorter)."""
    turns: float
    """Accumulated rotation of the object about its body x axis (turns; signed)."""


@dataclass(frozen=True)
class SpinReport:
    """The evaluation of one run."""

    run: str
    steps: int
    episodes: list[SpinEpisode]

    def to_json(self) -> dict[str, Any]:
        return {"run": self.run, "steps": self.steps, "window": WINDOW,
                "episodes": [e.__dict__ for e in self.episodes]}

    def __str__(self) -> str:
        windows = len(self.episodes[0].window_returns)
        header = ["seed", *[f"return {k * WINDOW}-{min((k + 1) * WINDOW, self.steps)}" for k in range(windows)],
                  "turns"]
        rows = [[str(e.seed), *[f"{r:.1f}" for r in e.window_returns], f"{e.turns:.2f}"] for e in self.episodes]
        means = np.mean([e.window_returns for e in self.episodes], axis=0)
        rows.append(["mean", *[f"{r:.1f}" for r in means], f"{np.mean([e.turns for e in self.episodes]):.2f}"])
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
        lines = ["  ".join(c.rjust(w) for c, w in zip(r, widths)) for r in [header, *rows]]
        return f"{self.run}: {len(self.episodes)} episodes of {self.steps} steps\n" + "\n".join(lines)


def evaluate_run(run_dir: str | Path, episodes: int = 10, steps: int = 1000, seed: int = 0,
                 video: str | Path | None = None, width: int = 480, height: int = 480,
                 progress: bool = True) -> SpinReport:
    """Run the run's latest policy for `steps` steps from `episodes` resets (seed, seed + 1, …).

    With `video`, the first episode is rendered to that mp4 as it runs.
    """
    if episodes < 1 or steps < 1:
        raise ValueError(f"episodes and steps must be ≥ 1, got {episodes} and {steps}")
    policy = load_policy(run_dir)
    render = {"render_mode": "rgb_array", "width": width, "height": height} if video else {}
    env = policy.recipe.make_eval_env(**render)
    quat = env.unwrapped.indices.objects[0].qpos[3:7]
    results = []
    for i in tqdm(range(episodes), desc=f"evaluate {Path(run_dir).name}", unit="episode", disable=not progress):
        recording = video is not None and i == 0
        with frame_writer(Path(video), env.metadata["render_fps"]) if recording else nullcontext() as writer:
            def probe(e):
                if writer is not None:
                    writer.append_data(e.render())
                return e.unwrapped.data.qpos[quat].copy()

            episode = run_episode(env, policy, seed + i, steps, probe)
        windows = [float(episode.rewards[k:k + WINDOW].sum()) for k in range(0, len(episode.rewards), WINDOW)]
        results.append(SpinEpisode(seed + i, windows, float(body_x_turns(np.array(episode.probes))[-1])))
    env.close()
    return SpinReport(str(run_dir), steps, results)
