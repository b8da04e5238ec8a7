"""`dexterous evaluate`: does a trained PenSpin policy keep spinning past the episode?

The paper claims the TD3 policy spins the pen indefinitely, although it only ever trained
on 250-step episodes. This runs the policy for longer (1000 steps by default) in the same
environment, ignoring its truncation (the simulation just goes on), and reports per window
of the task's episode length (250 steps on PenSpin) the return, the steps with the object
still in the hand (the task's `object_lost`), and how far the object turned about its body
x axis, the axis the PenSpin reward pays for. On a goal task (an HER run) it also reports
whether the last step succeeds and how far the final pose is from the goal.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from dexterous.demos.play import spin_windows
from dexterous.envs.goal import GoalHandEnv
from dexterous.progress import progress_bar
from dexterous.rl.episodes import episode_turns, lost_steps, object_probe, run_episode
from dexterous.rl.policies import load_policy
from dexterous.video import frame_writer


@dataclass(frozen=True)
class SpinEpisode:
    """One long run of the policy."""

    seed: int
    """Reset seed."""
    window_returns: list[float]
    """Sum of rewards over each successive window of the report (the last window may be shorter)."""
    turns: float
    """Accumulated rotation of the object about its body x axis (turns; signed)."""
    window_in_hand: list[int]
    """Per window, the steps after which the object was still in the hand (the task's
    `object_lost` false): a pen spinning on the floor earns reward but is not in hand."""
    window_turns: list[float]
    """Per window, the object's rotation about its body x axis (turns; signed)."""
    success: bool | None = None
    """Goal tasks: whether the last step succeeded (the task's is_success); None elsewhere."""
    final_errors: tuple[float, float] | None = None
    """Goal tasks: how far the final pose is from the goal, (m, rad); None elsewhere."""


@dataclass(frozen=True)
class SpinReport:
    """The evaluation of one run."""

    run: str
    steps: int
    episodes: list[SpinEpisode]
    window: int = 250
    """Steps per window: the task's episode length (PenSpin's 250)."""

    def to_json(self) -> dict[str, Any]:
        return {"run": self.run, "steps": self.steps, "window": self.window,
                "episodes": [e.__dict__ for e in self.episodes]}

    def __str__(self) -> str:
        """One row per episode; per window "return / steps in hand / turns", then total turns
        and, on goal tasks, the final step's success and pose (the mean row: successes of
        episodes, median distances)."""
        windows = len(self.episodes[0].window_returns)
        header = ["seed", *[f"{k * self.window}-{min((k + 1) * self.window, self.steps)}: return/in hand/turns"
                            for k in range(windows)], "turns"]
        posed = self.episodes[0].final_errors is not None

        def cells(returns, in_hand, turns) -> list[str]:
            return [f"{r:.2f} / {h:.0f} / {t:.2f}" for r, h, t in zip(returns, in_hand, turns)]

        def final(success: str, pos: float, rot: float) -> list[str]:
            return [f"{success} ({100 * pos:.1f} cm, {rot:.2f} rad)"] if posed else []

        rows = [[str(e.seed), *cells(e.window_returns, e.window_in_hand, e.window_turns), f"{e.turns:.2f}",
                 *(final("yes" if e.success else "no", *e.final_errors) if posed else [])]
                for e in self.episodes]
        means = [np.mean([getattr(e, name) for e in self.episodes], axis=0)
                 for name in ("window_returns", "window_in_hand", "window_turns")]
        rows.append(["mean", *cells(*means), f"{np.mean([e.turns for e in self.episodes]):.2f}",
                     *(final(f"{sum(e.success for e in self.episodes)}/{len(self.episodes)}",
                             *np.median([e.final_errors for e in self.episodes], axis=0)) if posed else [])])
        header += ["last step: success (from the goal)"] if posed else []
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
    watch, window = object_probe(env), env.unwrapped.episode_steps
    posed = isinstance(env.unwrapped, GoalHandEnv)
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
        returns, in_hand, turns = spin_windows(episode.rewards, quats, lost_steps(episode), window)
        results.append(SpinEpisode(seed + i, returns, episode_turns(episode), in_hand, turns,
                                   success=bool(episode.final_info["is_success"]) if posed else None,
                                   final_errors=env.unwrapped.goal_errors() if posed else None))
    env.close()
    return SpinReport(str(run_dir), steps, results, window)
