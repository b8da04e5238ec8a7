"""A figure folder's plot, drawn from its run records (PNG for reading, SVG for print).

Uses `matplotlib.figure.Figure` with the Agg canvas and never pyplot: no global state, no
display, safe in worker processes. What is drawn follows the paper's figure:

- goal tasks (metrics include final_success, figs 2–4): grouped bars per task of the
  final-step success rate (error bars: its 95% Wilson interval) and of the mean return
  (error bars: min–max), each bar marked with the paper's number where the paper gives one
  (`MethodSummary.paper_level`): a black line for "about", a triangle for a bound;
- fig 5 (PenSpin): training curves (median line, min–max band, x = env steps) with each
  planning method's mean return as a horizontal line over a light min–max band; below, where
  the records hold them, the steps with the pen in hand likewise;
- appendix B: one training curve per run, coloured by method;
- other return-only figures (appendix C): bars of the mean return with min–max error bars,
  marked with the paper's return likewise;
- efficiency: per task, final-step success (Wilson interval) and below it the reward per
  step (min–max) against the env steps simulated per real step, one line per planner
  (PenSpin: the reward per step, each point marked with the pen's steps in hand and turns,
  and below it the steps in hand).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from matplotlib import rc_context
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.text import Annotation
from matplotlib.ticker import EngFormatter, LogLocator, NullFormatter

from dexterous.experiments.configs import FigureConfig, counted, task_name
from dexterous.experiments.summary import FigureSummary, MethodSummary, PaperLevel, load_summary

_COLOURS = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown", "tab:pink", "tab:olive")
NONE_FINISHED = "none finished"
"""A bar's label where no run of its cell has finished (a bar of height 0 is a measured 0)."""
_METRIC_LABELS = {"final_success": "final-step success rate (%)", "return": "mean return per episode"}


def draw_figure(figure_dir: str | Path) -> list[Path]:
    """Write `<figure>.png` and `<figure>.svg` into the figure folder; return their paths."""
    figure_dir = Path(figure_dir)
    _, summary = load_summary(figure_dir)
    fig = _drawer(summary)(summary)
    paths = [figure_dir / f"{summary.figure.name}.{ext}" for ext in ("png", "svg")]
    # Same records, same bytes: a redrawn figure changes in version control only when its
    # numbers do (SVG otherwise stamps the date and random element ids).
    with rc_context({"svg.hashsalt": summary.figure.name}):
        for path in paths:
            fig.savefig(path, dpi=150, bbox_inches="tight", metadata={"Date": None})
    return paths


def _drawer(summary: FigureSummary) -> Callable[[FigureSummary], Figure]:
    if summary.figure.name == "efficiency":
        return _efficiency
    if "final_success" in summary.figure.metrics:
        return _bars
    return {"fig5": _curves_and_levels, "appB": _per_run}.get(summary.figure.name, _bars)


def _title(summary: FigureSummary) -> str:
    figure = summary.figure
    return (f"{figure.name}: {figure.title}\nbudget {figure.budget.name!r}, {counted(figure.n_seeds, 'seed')} per task "
            f"and method; {summary.finished}/{summary.planned} runs finished")


def _colours(summary: FigureSummary) -> dict[str, str]:
    """One colour per shown method, in legend order, the same in every panel."""
    labels = list(dict.fromkeys(c.method.label for c in summary.cells))
    return {label: _COLOURS[i % len(_COLOURS)] for i, label in enumerate(labels)}


def _bars(summary: FigureSummary) -> Figure:
    """One panel per metric; per task a group of bars, one per method; `NONE_FINISHED` where
    nothing finished."""
    figure = summary.figure
    colours = _colours(summary)
    labels = list(colours)
    metrics = figure.metrics
    fig = Figure(figsize=(max(6.0, 1.2 + 0.45 * len(labels) * len(figure.tasks)), 3.2 * len(metrics) + 1.0),
                 layout="constrained")
    axes = fig.subplots(len(metrics), 1, squeeze=False)[:, 0]
    width = 0.8 / len(labels)
    x = np.arange(len(figure.tasks))
    for ax, metric in zip(axes, metrics):
        for j, label in enumerate(labels):
            cells = [summary.cell(task, label) for task in figure.tasks]
            xs = x - 0.4 + width * (j + 0.5)
            values, low, high = _bar_values(cells, metric)
            ax.bar(xs, values, width, color=colours[label], label=label, yerr=[values - low, high - values],
                   capsize=2, error_kw={"alpha": 0.5} if metric == "final_success" else None)
            for xi, cell in zip(xs, cells):
                if cell.finished == 0:
                    ax.text(xi, 0, NONE_FINISHED, rotation=90, ha="center", va="bottom", fontsize=7)
                elif metric == "final_success" and cell.success is not None:
                    # a 0% bar has no height: the label shows it was measured, and on how many
                    # episodes (successes of trials, as the tables give it: "100% 3/5" would read
                    # as a contradiction where 3 of 5 seeds have finished)
                    ax.text(xi, 100 * cell.success, f"{100 * cell.success:.0f}%\n{cell.success_count(' ep.')}",
                            ha="center", va="bottom", fontsize=6)
            _mark_paper_levels(ax, xs, width, [c.paper_level(metric) for c in cells])
        ax.set_xticks(x, [task_name(t) for t in figure.tasks], rotation=15 if len(figure.tasks) > 2 else 0)
        ax.set_ylabel(_METRIC_LABELS.get(metric, metric))
        ax.axhline(0, color="black", linewidth=0.5)
        if metric == "final_success":
            ax.set_ylim(0, 120)
            _mark_tasks_without_success(ax, summary, x, labels)
    handles = {}
    for ax in axes:  # the paper's marks may be on any panel (appendix C's only on the return)
        for handle, label in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(label, handle)
    order = labels + [label for label in _PAPER_LABELS if label in handles]
    axes[0].legend([handles[label] for label in order], order, loc="upper left", bbox_to_anchor=(1.0, 1.0),
                   title="method")
    fig.suptitle(_title(summary), fontsize=9)
    return fig


_PAPER_MARKERS = {"at most": "v", "above": "^"}
"""The marker of a bound the paper gives; "about" is a line across the bar."""
_PAPER_LABELS = ("paper (about)", "paper (at most)", "paper (above)")
"""The legend entries of the paper's marks, after the methods."""


def _mark_paper_levels(ax: Axes, xs: np.ndarray, width: float, levels: list[PaperLevel | None]) -> None:
    """Mark each bar with the paper's number where it gives one, so that a bar reads against
    the paper at a glance; its legend entry is "paper (about)", "paper (at most)" or "paper
    (above)". Drawn whether or not the cell's runs have finished: the paper's number is there
    either way."""
    for xi, level in zip(xs, levels):
        if level is None:
            continue
        label = f"paper ({level.relation})"
        if level.relation in _PAPER_MARKERS:
            ax.plot([xi], [level.value], linestyle="none", marker=_PAPER_MARKERS[level.relation], color="black",
                    markersize=5, label=label)
        else:
            ax.hlines(level.value, xi - width / 2, xi + width / 2, colors="black", linewidth=1.5, label=label)


def _mark_tasks_without_success(ax, summary: FigureSummary, x: np.ndarray, labels: list[str]) -> None:
    """Say so where a task's runs finished but it has no success measure (PenSpin): an empty slot reads as 0%."""
    for xi, task in zip(x, summary.figure.tasks):
        cells = [summary.cell(task, label) for label in labels]
        if any(c.finished for c in cells) and all(c.success is None for c in cells):
            ax.text(xi, 50, "no success\nmeasure", ha="center", va="center", fontsize=7, color="grey")


def _bar_values(cells: list[MethodSummary], metric: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bar heights and error-bar ends per cell; NaN (no bar) where nothing finished or there is no success."""
    if metric == "final_success":  # error bars: the 95% Wilson interval of the rate
        intervals = [c.success_interval or (None, None) for c in cells]
        columns = ([c.success for c in cells], [i[0] for i in intervals], [i[1] for i in intervals])
        return tuple(100.0 * np.array(column, dtype=float) for column in columns)
    names = ("mean_return", "min_return", "max_return")
    return tuple(np.array([getattr(c, name) for c in cells], dtype=float) for name in names)


_IN_HAND_LABEL = "steps with the object in hand per episode"


def _curves_and_levels(summary: FigureSummary) -> Figure:
    """Training methods as median + min–max band over seeds; planners as levels (mean, and
    for the return its min–max band). Below, where the records hold them, the steps with the
    object in hand likewise: PenSpin's return also pays a pen thrown spinning, so the return
    alone cannot say whether a method keeps the pen."""
    in_hand = any(c.in_hand is not None or "mean_in_play_steps" in c.curves for c in summary.cells)
    rows = ("mean_return", "mean_in_play_steps") if in_hand else ("mean_return",)
    fig, colours = _curve_figure(summary, len(rows))
    tasks = summary.figure.tasks
    for k, (ax, metric) in enumerate(zip(fig.axes, (m for m in rows for _ in tasks))):
        task = tasks[k % len(tasks)]
        for cell in (c for c in summary.cells if c.task == task):
            label = f"{cell.method.label} ({cell.finished}/{cell.planned})"
            colour = colours[cell.method.label]
            band = cell.curves.get(metric)
            level = cell.mean_return if metric == "mean_return" else cell.in_hand
            if cell.method.kind == "plan" and cell.finished and level is not None:
                if metric == "mean_return":
                    ax.axhspan(cell.min_return, cell.max_return, color=colour, alpha=0.12, linewidth=0)
                ax.axhline(level, color=colour, linestyle="--", label=label)
            elif band is not None:
                ax.fill_between(band.steps, band.low, band.high, color=colour, alpha=0.2, linewidth=0)
                ax.plot(band.steps, band.median, color=colour, label=label)
            else:  # nothing finished, or not recorded: in the legend only, with its n/K
                ax.plot([], [], color=colour, label=label)
        _curve_axes(ax, task, _IN_HAND_LABEL if metric == "mean_in_play_steps" else None, legend=k < len(tasks),
                    xlabel=k >= len(tasks) * (len(rows) - 1))
    fig.suptitle(_title(summary), fontsize=9)
    return fig


def _per_run(summary: FigureSummary) -> Figure:
    """One training curve per run, so single runs that learn (or not) stay visible."""
    fig, colours = _curve_figure(summary)
    for ax, task in zip(fig.axes, summary.figure.tasks):
        for cell in (c for c in summary.cells if c.task == task):
            colour = colours[cell.method.label]
            ax.plot([], [], color=colour, label=f"{cell.method.label} ({cell.finished}/{cell.planned} runs)")
            for run in cell.runs:
                if run.curve:
                    ax.plot(run.curve["steps"], run.curve["mean_return"], color=colour, alpha=0.8, linewidth=1)
        _curve_axes(ax, task)
    fig.suptitle(_title(summary), fontsize=9)
    return fig


def _curve_figure(summary: FigureSummary, rows: int = 1) -> tuple[Figure, dict[str, str]]:
    """A figure with rows of one axes per task (in fig.axes, row by row) and the colour of each method."""
    fig = Figure(figsize=(8.0, 4.5 + 3.0 * (rows - 1)), layout="constrained")
    fig.subplots(rows, len(summary.figure.tasks), squeeze=False, sharex="col")
    return fig, _colours(summary)


def _curve_axes(ax: Axes, task: str, ylabel: str | None = None, legend: bool = True, xlabel: bool = True) -> None:
    ax.set_title(task_name(task), fontsize=9)
    ax.set_xlabel("environment steps" if xlabel else "")
    ax.set_ylabel(ylabel or "mean return per episode")
    if legend:
        ax.legend(fontsize=8)


def _efficiency(summary: FigureSummary) -> Figure:
    """Per task, against env steps per real step, one line per planner over its budgets: on
    top final-step success, below the reward per step (PenSpin, without success: the reward
    per step on top, each point marked with the pen's steps in hand and turns, and the steps
    in hand below)."""
    figure = summary.figure
    fig = Figure(figsize=(8.0, 7.0), layout="constrained")
    grid = fig.subplots(2, len(figure.tasks), squeeze=False)
    planners = list(dict.fromkeys(c.method.planner for c in summary.cells))
    colours = {p: _COLOURS[i % len(_COLOURS)] for i, p in enumerate(planners)}
    for column, task in enumerate(figure.tasks):
        cells = [c for c in summary.cells if c.task == task]
        per_step = f"reward per step, mean over {_episode_text(figure, task)}"
        if any(c.success is not None for c in cells):
            rows = ((_success_point, "final-step success rate (%)"), (_reward_point, per_step))
        else:
            rows = ((_reward_point, per_step), (_in_hand_point, f"steps in hand (%), {_episode_text(figure, task)}"))
        for row, (point, ylabel) in enumerate(rows):
            ax = grid[row, column]
            for planner in planners:
                _efficiency_line(ax, [c for c in cells if c.method.planner == planner and c.finished], point,
                                 f"{planner.upper()}", figure.n_seeds, colours[planner], marked=row == 0)
            _log_env_steps_axis(ax)
            _labels_towards_the_middle(ax)
            if point is not _reward_point:
                ax.set_ylim(-5, 105)  # a share: the whole scale, so that 0% and 100% read as such
            ax.set_title(task_name(task), fontsize=9)
            ax.set_ylabel(ylabel, fontsize=8)
            ax.legend(fontsize=6)
    fig.suptitle(_title(summary), fontsize=9)
    return fig


def _success_point(cell: MethodSummary) -> tuple[float, float, float]:
    low, high = cell.success_interval
    return 100 * cell.success, 100 * low, 100 * high


def _reward_point(cell: MethodSummary) -> tuple[float, float, float]:
    return cell.mean_return / cell.steps, cell.min_return / cell.steps, cell.max_return / cell.steps


def _in_hand_point(cell: MethodSummary) -> tuple[float, float, float]:
    share = 100 * cell.in_hand / cell.steps if cell.in_hand is not None else np.nan
    return share, share, share


def _efficiency_line(ax: Axes, cells: list[MethodSummary], point: Callable[[MethodSummary], tuple[float, float, float]],
                     planner: str, n_seeds: int, colour: str, marked: bool) -> None:
    """One planner's cells (one per budget), in order of env steps per real step, with their
    ranges as error bars; marked: each point also names its steps in hand and turns."""
    cells = sorted(cells, key=lambda c: c.env_steps_per_step)
    label = f"{planner} ({', '.join(str(c.finished) for c in cells) or 0} of {n_seeds} seeds)"
    if not cells:
        ax.plot([], [], color=colour, label=label)
        return
    x = np.array([c.env_steps_per_step for c in cells], dtype=float)
    y, low, high = (np.array(column, dtype=float) for column in zip(*map(point, cells)))
    ax.errorbar(x, y, yerr=[y - low, high - y], color=colour, marker="o", capsize=3, label=label)
    for cell, xy in zip(cells, zip(x, y)):
        if marked and cell.in_hand is not None and cell.success is None:
            ax.annotate(f"in hand {100 * cell.in_hand / cell.steps:.0f}%\n{cell.turns:.2f} turns", xy,
                        textcoords="offset points", xytext=(6, 4), fontsize=6, color=colour)


def _labels_towards_the_middle(ax: Axes) -> None:
    """Turn the point labels in the right half of ax to the left of their point, so that a
    label at the rightmost budget is not cut off by the edge of the panel."""
    low, high = np.log(ax.get_xlim())
    for label in ax.texts:
        if isinstance(label, Annotation) and np.log(label.xy[0]) > (low + high) / 2:
            label.set_horizontalalignment("right")
            label.xyann = (-6, label.xyann[1])


def _log_env_steps_axis(ax: Axes) -> None:
    """A log x axis of env steps per real step, labelled 2k, 3k, 5k, 10k, …: matplotlib's own
    minor labels (3×10³, 4×10³, …) run into each other over less than a decade."""
    ax.set_xscale("log")
    ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 3.0, 5.0)))
    ax.xaxis.set_major_formatter(EngFormatter(sep=""))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("env steps simulated per real step", fontsize=8)


def _episode_text(figure: FigureConfig, task: str) -> str:
    """"first 100 steps" where the figure plans part of the episode, else "the episode"."""
    steps = figure.plan_steps.get(task)
    return f"first {steps} steps" if steps else "the episode"
