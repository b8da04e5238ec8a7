"""`dexterous evaluate`: does a trained PenSpin policy keep spinning past the episode?

The paper claims the TD3 policy spins the pen indefinitely, although it only ever trained
on 250-step episodes. This runs the policy for longer (1000 steps by default) in the same
environment, ignoring its truncation (the simulation just goes on), and reports per
250-step window the return, the steps with the object still in the hand (the task's
`object_lost`), and how far the object turned about its body x axis, the axis the PenSpin
reward pays for.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from dexterous.demos.play import spin_windows
from dexterous.progress import progress_bar
from dexterous.rl.episodes import episode_turns, lost_steps, object_probe, run_episode
from dexterous.rl.policies import load_policy
from dexterous.video import frame_writer

WINDOW = 250
"""Steps per reported return: PenSpin's episode length."""


@dataclass(frozen=True)
class SpinEpisode:
    """One long run of the policy."""

    seed: int
    """Reset seed."""
    window_returns: list[float]
    """Sum of rewards over each successive WINDOW steps (the last window may be shorter)."""
    turns: float
    """Accumulated rotation of the object about its body x axis (turns; signed)."""
    window_in_hand: list[int]
    """Per window, the steps after which the object was still in the hand (the task's
    `object_lost` false): a pen spinning on the floor earns reward but is not in hand."""
    window_turns: list[float]
    """Per window, the object's rotation about its body x axis (turns; signed)."""


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
        """One row per episode; per window "return / steps in hand / turns", then total turns."""
        windows = len(self.episodes[0].window_returns)
        header = ["seed", *[f"{k * WINDOW}-{min((k + 1) * WINDOW, self.steps)}: return/in hand/turns"
                            for k in range(windows)], "turns"]

        def cells(returns, in_hand, turns) -> list[str]:
            return [f"{r:.1f} / {h:.0f} / {t:.2f}" for r, h, t in zip(returns, in_hand, turns)]

        rows = [[str(e.seed), *cells(e.window_returns, e.window_in_hand, e.window_turns), f"{e.turns:.2f}"]
                for e in self.episodes]
        means = [np.mean([getattr(e, name) for e in self.episodes], axis=0)
                 for name in ("window_returns", "window_in_hand", "window_turns")]
        rows.append(["mean", *cells(*means), f"{np.mean([e.turns for e in self.episodes]):.2f}"])
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
    watch = object_probe(env)
    results = []
    for i in progress_bar(range(episodes), desc=f"evaluate {Path(run_dir).name}", unit="episode", disable=not progress):
        recording = video is not None and i == 0
        with frame_writer(Path(video), env.metadata["render_fps"]) if recording else nullcontext() as writer:
            def probe(e):
                if writer is not None:
                    writer.append_data(e.render())
                return watch(e)

            episode = run_episode(env, policy, seed + i, steps, probe)
        quats = np.array([q for q, _ in episode.probes])
        returns, in_hand, turns = spin_windows(episode.rewards, quats, lost_steps(episode))
        results.append(SpinEpisode(seed + i, returns, episode_turns(episode), in_hand, turns))
    env.close()
    return SpinReport(str(run_dir), steps, results)
