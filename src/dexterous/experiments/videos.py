"""Side-by-side videos of TOPDM and MPPI on the same task and reset seed (paper's videos).

For each task of a figure where both TOPDM and an MPPI method planned episodes, the best
and the median seed by TOPDM's return are replayed from their saved demonstrations (the
exact states, so the video is the episode that was scored) and written as one mp4 with
TOPDM on the left and MPPI on the right, each under a label strip naming method, seed and
return.
"""

from __future__ import annotations

import shutil
from itertools import zip_longest
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from tqdm import tqdm

from dexterous.demos import Demonstration
from dexterous.experiments.configs import task_name
from dexterous.experiments.results import RunRecord, read_manifest, read_runs
from dexterous.experiments.summary import figure_from_json
from dexterous.demos.video import demonstration_env
from dexterous.video import frame_writer, rendered, replaying

LEFT = "TOPDM"
PREFERRED_MPPI = "MPPI κ=20"
LABEL_HEIGHT = 24
"""Pixels of the label strip above each half (a multiple of the encoder's 8-pixel blocks)."""


def write_side_by_side(figure_dir: str | Path, width: int = 240, height: int = 240) -> list[Path]:
    """Write `videos/<Task>_best.mp4` and `_median.mp4` per task that has both planners; return them.

    Only seeds both planners finished are candidates. The median seed is the one whose
    TOPDM return is the median (the lower middle for an even count); with a single seed
    it is the best one, and its video is copied rather than rendered twice. A seed whose
    episode files are not at hand (plans are not committed: a clone holds the records only)
    gets no video, and a note says which files are missing, rather than a video of another
    seed named as the best or the median.
    """
    figure_dir = Path(figure_dir)
    figure = figure_from_json(read_manifest(figure_dir)["config"])
    planned = {(r.task, r.method, r.seed): r for r in read_runs(figure_dir) if r.kind == "plan"}
    mppi = _mppi_label([m.label for m in figure.methods if m.kind == "plan"])
    if mppi is None:
        return []
    written = []
    for task in figure.tasks:
        returns = {s: r.ret for (t, m, s), r in planned.items()
                   if (t, m) == (task, LEFT) and (task, mppi, s) in planned}
        if not returns:
            continue
        best_seed, median_seed = best_and_median(returns)
        for suffix, seed in (("best", best_seed), ("median", median_seed)):
            pair = [planned[task, label, seed] for label in (LEFT, mppi)]
            missing = [figure_dir / r.path for r in pair if not (figure_dir / r.path).is_file()]
            if missing:
                tqdm.write(f"{task_name(task)} {suffix} seed {seed}: no side-by-side video, its episode files are not "
                           f"here ({', '.join(map(str, missing))}): a video replays the planned episodes, which are "
                           "not committed with the records; copy them from the machine that planned them")
                continue
            out = figure_dir / "videos" / f"{task_name(task)}_{suffix}.mp4"
            if suffix == "median" and seed == best_seed:
                shutil.copyfile(written[-1], out)
            else:
                _write_pair(figure_dir, pair, out, width, height)
            written.append(out)
    return written


def best_and_median(returns: dict[int, float]) -> tuple[int, int]:
    """The seeds of the highest and of the median return (the lower middle for an even count)."""
    ranked = sorted(returns, key=returns.__getitem__)
    return ranked[-1], ranked[(len(ranked) - 1) // 2]


def _mppi_label(labels: list[str]) -> str | None:
    """"MPPI κ=20" if the figure has it, else its first MPPI method, else None."""
    if PREFERRED_MPPI in labels:
        return PREFERRED_MPPI
    return next((label for label in labels if label.startswith("MPPI")), None)


def _write_pair(figure_dir: Path, pair: list[RunRecord], out: Path, width: int, height: int) -> Path:
    """Replay both episodes and write their frames side by side; the shorter one holds its last frame."""
    halves = []
    for record in pair:
        demo = Demonstration.load(figure_dir / record.path)
        env = demonstration_env(demo, width, height)
        fps = env.metadata["render_fps"]
        label = _label(f"{record.method}  seed {record.seed}  return {record.ret:.1f}", width)
        halves.append((label, rendered(env, replaying(demo.actions), range(demo.num_steps))))
    last: list[np.ndarray | None] = [None, None]
    with frame_writer(out, fps) as writer:
        for frames in zip_longest(*(frames for _, frames in halves)):
            last = [frame if frame is not None else previous for frame, previous in zip(frames, last)]
            writer.append_data(np.concatenate([np.concatenate([label, frame]) for (label, _), frame
                                               in zip(halves, last)], axis=1))
    return out


def _label(text: str, width: int) -> np.ndarray:
    """A (LABEL_HEIGHT, width, 3) white strip with text, drawn once per video by matplotlib's Agg."""
    fig = Figure(figsize=(width / 100, LABEL_HEIGHT / 100), dpi=100)
    fig.text(0.5, 0.5, text, ha="center", va="center", fontsize=8)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[:LABEL_HEIGHT, :width, :3].copy()
