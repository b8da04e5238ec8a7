"""A markdown report of a results directory: header, then per figure its plot and table.

Every number comes from `summary.py` over `runs.jsonl` (and the manifests for budgets,
machine and versions), so the report can be regenerated at any time and never edited by
hand; the paper's column quotes `FigureConfig.paper` as the manifest recorded it.
"""

from __future__ import annotations

import os
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

from dexterous.catalog import entry
from dexterous.experiments.configs import FIGURES, FigureConfig, counted, task_name
from dexterous.experiments.plots import draw_figure
from dexterous.experiments.results import MANIFEST, RETIRED, RUNS, ResultsError, figure_dirs, read_retired
from dexterous.experiments.runs import RunSpec, train_config
from dexterous.experiments.summary import (FigureSummary, MethodSummary, PooledPairing, distinct_runs, load_summary,
                                          pairings, pooled_pairing)

TABLE_HEADER = ("task", "method", "seeds finished", "final-step success (95% Wilson interval)",
                "return: mean, median (min to max)", "env steps per real step, mean",
                "play: means (steps run where episodes ended early; object in hand; PenSpin: turns, reward per "
                "step); final pose from the goal: medians", "paper; ours against it (its success beside our 95% interval)")


def write_report(results_dir: str | Path, out: str | Path | None = None) -> Path:
    """Write the report of every figure folder under results_dir to out (default results_dir/REPORT.md).

    Plots are redrawn from the records. When out lies outside results_dir (e.g.
    docs/RESULTS.md), each figure's PNG and SVG are copied into a folder named after out
    (docs/results/), and its side-by-side videos into videos/<figure>/ there, so the
    markdown's links still work where the results directory is absent.
    """
    results_dir = Path(results_dir)
    out = Path(out) if out is not None else results_dir / "REPORT.md"
    _refuse_unknown_figures(results_dir)
    figures = []
    for folder in figure_dirs(results_dir):
        manifest, summary = load_summary(folder)
        png, svg = _place(draw_figure(folder), out)
        figures.append((manifest, summary, png, svg, _place(_current_videos(folder), out, f"videos/{folder.name}"),
                        _retired_line(folder)))
    lines = _header(results_dir, [(m, s) for m, s, *_ in figures]) + _against_paper([s for _, s, *_ in figures])
    for _, summary, png, svg, videos, retired in figures:
        lines += _section(summary, png, svg, videos) + retired
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n")
    return out


DIGEST_HEADER = ("figure", "task", "method", "paper", "ours: final-step success (95% Wilson interval)", "ours at 95%",
                 "our env steps per real step (share of the paper's)")
_VERDICTS = {"below": "below it", "above": "above it", "consistent": "consistent with it"}
"""`MethodSummary.against_paper` as the report says it (the interval is the success column's)."""


def _against_paper(summaries: list[FigureSummary]) -> list[str]:
    """Every cell for which the paper gives a success rate and ours has an interval, in one
    table above the figures: the comparison the figures' tables make cell by cell, at a glance."""
    cells = [(s.figure.name, c) for s in summaries for c in s.cells if c.against_paper is not None]
    if not cells:
        return []
    tally = {verdict: sum(c.against_paper == verdict for _, c in cells) for verdict in _VERDICTS}
    return ["## Against the paper at a glance", "",
            "Each cell for which the paper gives a final-step success rate, at its figure's budget (planners: the "
            "last column, against the env steps per real step the paper's budget schedules): ours "
            + ", ".join(f"{_VERDICTS[v]} in {counted(n, 'cell')}" for v, n in tally.items() if n) + ".", "",
            "| " + " | ".join(DIGEST_HEADER) + " |", "|" + "---|" * len(DIGEST_HEADER),
            *(f"| {name} | {task_name(c.task)} | {c.method.label} | {c.paper} | {_success(c)} | "
              f"{_VERDICTS[c.against_paper]} | {_budget(c)} |" for name, c in cells), ""]


def _budget(cell: MethodSummary) -> str:
    """A planned cell's env steps per real step and their share of the paper's ("11,760 (1/34)")."""
    if cell.paper_budget_share is None:
        return "–"
    return f"{cell.env_steps_per_step:,.0f} (1/{1 / cell.paper_budget_share:.0f})"


def _refuse_unknown_figures(results_dir: Path) -> None:
    """A figure folder this version does not know would otherwise be left out silently."""
    unknown = sorted(p.parent.name for p in results_dir.glob(f"*/{MANIFEST}") if p.parent.name not in FIGURES)
    if unknown:
        raise ResultsError(f"{results_dir} holds figure folders this dexterous does not know: {', '.join(unknown)} "
                           f"(known: {', '.join(FIGURES)}); move them out "
                           "or report them with the version that made them")


def _current_videos(folder: Path) -> list[Path]:
    """The figure's side-by-side videos written after its last record.

    An older video shows episodes of an earlier state of the records (e.g. before the
    median seed changed), so it is left out rather than shown beside tables it may contradict;
    `dexterous reproduce` without --no-videos renders current ones.
    """
    records = folder / RUNS
    if not records.exists():
        return []
    last_record = records.stat().st_mtime
    return sorted(v for v in (folder / "videos").glob("*.mp4") if v.stat().st_mtime >= last_record)


def _place(files: list[Path], out: Path, under: str = "") -> list[str]:
    """Links to files relative to out; a file outside out's folder is first copied to <out stem>/<under>."""
    base = out.parent.resolve()
    links = []
    for file in files:
        if not file.resolve().is_relative_to(base):
            assets = out.parent / out.stem.lower() / under
            assets.mkdir(parents=True, exist_ok=True)
            file = Path(shutil.copy2(file, assets / file.name))
        links.append(Path(os.path.relpath(file.resolve(), base)).as_posix())
    return links


def _header(results_dir: Path, figures: list[tuple[dict[str, Any], FigureSummary]]) -> list[str]:
    budgets = {s.figure.name: s.figure.budget.name for _, s in figures}
    machines = {s.figure.name: _machine(m["machine"]) for m, s in figures}
    packages = list(dict.fromkeys(p for m, _ in figures for p in m["versions"]))
    finished = sum(s.finished for _, s in figures)
    planned = sum(s.planned for _, s in figures)
    distinct = distinct_runs(s for _, s in figures)
    lines = ["# Reproduction results", "",
             f"Made by `dexterous report` from the run records under `{results_dir}`; every number below is "
             "computed from `runs.jsonl`.", "",
             f"- Budget: {_per_figure(budgets)}",
             f"- Machine each figure folder was made on (its manifest): {_per_figure(machines)}",
             f"- Processors the runs were made on: {_processors([s for _, s in figures])}",
             f"- Runs finished (methods shown): {finished} of {planned}",
             f"- Wall time: {_hours(sum(r.wall_s for r in distinct))} in total, summed over the "
             f"{len(distinct)} distinct runs (an episode that several figures share counts once)",
             f"- Environment steps: {sum(r.env_steps for r in distinct):,} in total, likewise", "",
             "| package | version |", "|---|---|"]
    lines += [f"| {p} | {_per_figure({s.figure.name: m['versions'].get(p, '–') for m, s in figures})} |"
              for p in packages]
    return lines + [""]


def _retired_line(folder: Path) -> list[str]:
    """Where the figure's retired runs are, so a redefined method's earlier results stay findable."""
    parts = []
    for name, records in read_retired(folder).items():
        cells = Counter((r.method, task_name(r.task)) for r in records)
        runs = "; ".join(f"{method} on {task} ({count} runs)" for (method, task), count in cells.items())
        parts.append(f"`{folder.name}/{RETIRED}/{name}`: {runs}")
    if not parts:
        return []
    return ["Retired since, their methods redefined (not in the tables above; each folder keeps its runs and the "
            "manifest they were made under): " + ", ".join(parts) + ".", ""]


def _section(summary: FigureSummary, png: str, svg: str, videos: list[str]) -> list[str]:
    figure = summary.figure
    lines = [f"## {figure.name}: {figure.title}", "",
             f"Budget {figure.budget.name!r}, {counted(figure.n_seeds, 'seed')} per task and method: "
             f"{summary.finished}/{summary.planned} runs finished, {_hours(summary.wall_s)}, "
             f"{summary.env_steps:,} environment steps.", "", *_plan_steps_line(figure), *_training_line(figure),
             f"![{figure.name}]({png})", "", f"[SVG]({svg})", "",
             *_video_line(videos),
             "| " + " | ".join(TABLE_HEADER) + " |", "|" + "---|" * len(TABLE_HEADER)]
    lines += ["| " + " | ".join(_row(cell)) + " |" for cell in summary.cells]
    return lines + [""] + _pairing_table(summary)


PAIRING_HEADER = ("task", "methods", "seeds paired", "return, TOPDM+ − TOPDM: mean (min to max)",
                  "seeds TOPDM+ ≥ TOPDM", "final-step successes, TOPDM+ / TOPDM",
                  "steps in hand over the paired seeds, TOPDM+ / TOPDM", "env steps, TOPDM+ ÷ TOPDM")


def _pairing_table(summary: FigureSummary) -> list[str]:
    """TOPDM+ against paper TOPDM seed by seed, where both have finished seeds."""
    rows = []
    for pair in pairings(summary):
        if not pair.seeds:
            continue
        differences = pair.return_differences
        successes = "–" if pair.successes is None else f"{pair.successes[0]} / {pair.successes[1]}"
        in_hand = "–" if pair.in_hand is None else f"{pair.in_hand[0]:g} / {pair.in_hand[1]:g}"
        rows.append((task_name(pair.task), f"{pair.ours.method.label} vs {pair.paper.method.label}",
                     ", ".join(map(str, pair.seeds)),
                     f"{_signed(sum(differences) / len(differences))} ({_signed(min(differences))} to "
                     f"{_signed(max(differences))})",
                     f"{sum(d >= 0 for d in differences)}/{len(differences)}", successes, in_hand,
                     f"{pair.env_steps_ratio:.2f}"))
    if not rows:
        return []
    return ["TOPDM+ against paper TOPDM on the same reset seeds (each seed's two episodes start from the same "
            "state):", "", "| " + " | ".join(PAIRING_HEADER) + " |", "|" + "---|" * len(PAIRING_HEADER),
            *("| " + " | ".join(row) + " |" for row in rows), "", *_pooled_line(pooled_pairing(pairings(summary)))]


def _pooled_line(pooled: PooledPairing | None) -> list[str]:
    """The pairings taken together, with how likely so uneven a split would be by chance."""
    if pooled is None:
        return []
    solved = ""
    if pooled.successes_alone is not None:
        ours, paper = pooled.successes_alone
        solved = (f"TOPDM+ alone solved {ours} and paper TOPDM alone {paper} (exact two-sided sign test, "
                  f"McNemar's: p = {pooled.success_p:.2g}); ")
    higher, lower = pooled.returns_higher
    return [f"The {counted(pooled.seeds, 'paired seed')} above together: {solved}TOPDM+'s return is the higher "
            f"on {higher} and the lower on {lower} (sign test: p = {pooled.return_p:.2g}). p is how often a split "
            "at least this uneven would come by chance if neither planner were the better on a seed.", ""]


def _row(cell: MethodSummary) -> tuple[str, ...]:
    """A table row of one cell, in TABLE_HEADER's order ("–" where there is nothing to show)."""
    returns = ("–" if cell.mean_return is None else
               f"{_signed(cell.mean_return)}, {_signed(cell.median_return)} "
               f"({_signed(cell.min_return)} to {_signed(cell.max_return)})")
    per_step = "–" if cell.env_steps_per_step is None else f"{cell.env_steps_per_step:,.0f}"
    return (task_name(cell.task), cell.method.label, f"{cell.finished}/{cell.planned}", _success(cell), returns,
            per_step, _play(cell), _paper(cell))


def _success(cell: MethodSummary) -> str:
    """Final-step success with its count and 95% Wilson interval; "–" where there is none."""
    if cell.success_interval is None:
        return "–"
    low, high = cell.success_interval
    return f"{100 * cell.success:.0f}% ({cell.success_count()}; {100 * low:.0f}–{100 * high:.0f}%)"


def _paper(cell: MethodSummary) -> str:
    """The paper's result for the cell, and where ours stands against it at 95% (`against_paper`)."""
    if cell.paper is None:
        return "–"
    verdict = cell.against_paper
    return cell.paper if verdict is None else f"{cell.paper}; ours {_VERDICTS[verdict]}"



def _play(cell: MethodSummary) -> str:
    """Where planned episodes ended early (Humanoid's fall), the steps they ran and the return
    per step run, whose comparison with the paper's return the early end would otherwise hide;
    steps with the object in hand, means over the runs that recorded them; on tasks without
    success (PenSpin) its turns and the reward per step, on goal tasks how far the final pose
    is from the goal (medians); "–" where there is none."""
    if cell.steps_run is not None and cell.steps_run < cell.steps:  # steps_run: planning methods only
        return (f"{cell.steps_run:.0f}/{cell.steps} steps run (ended early), "
                f"{_signed(cell.mean_return / cell.steps_run)} per step run")
    if not entry(cell.task).has_object or (cell.steps is None and cell.in_hand is None):
        return "–"
    steps = cell.steps if cell.steps is not None else entry(cell.task).episode_steps  # training: its evaluations
    parts = [] if cell.in_hand is None else [f"{cell.in_hand:.1f}/{steps} in hand"]
    if not entry(cell.task).has_success:
        parts += [] if cell.turns is None else [f"{_signed(cell.turns)} turns"]
        parts += [] if cell.mean_return is None else [f"{_signed(cell.mean_return / steps)} per step"]
    some = f" (in hand, turns: {cell.played} of {cell.finished} runs)" if 0 < cell.played < cell.finished else ""
    if cell.final_pos_error is not None and cell.final_rot_error is not None:
        of = f", {cell.posed} of {cell.finished} runs" if cell.posed < cell.finished else ""
        parts.append(f"final pose {100 * cell.final_pos_error:.1f} cm, {cell.final_rot_error:.2f} rad "
                     f"from the goal (medians{of})")
    return ", ".join(parts) + some if parts else "–"


def _plan_steps_line(figure: FigureConfig) -> list[str]:
    """Which tasks the figure plans for fewer steps than their episode, said above its table,
    and that its trained methods are not: they are evaluated on the environments' whole
    episodes, so their final-step success is not read as the planners' "at step 50"."""
    by_steps: dict[tuple[int, bool], list[str]] = {}
    for task, steps in figure.plan_steps.items():
        by_steps.setdefault((steps, entry(task).has_success), []).append(task_name(task))
    lines = [f"Planned for {steps} steps{f', final-step success measured at step {steps}' if success else ''}: "
             f"{', '.join(names)}." for (steps, success), names in sorted(by_steps.items())]
    trained = [m.label for m in figure.methods if m.kind != "plan" and m.shown]
    if lines and trained:
        lengths = sorted({entry(task).episode_steps for task in figure.plan_steps})
        lines.append(f"{', '.join(trained)}: trained and evaluated on the environments' whole episodes "
                     f"({', '.join(map(str, lengths))} steps), final-step success at their last step.")
    return lines + ([""] if lines else [])


def _training_line(figure: FigureConfig) -> list[str]:
    """How long the figure's trained methods train at its budget and what their numbers are
    read from, so a trained cell is read beside the planners for what it is."""
    budgets: dict[tuple[int, int], list[str]] = {}
    for method in figure.methods:
        if method.kind != "plan" and method.shown:
            config = train_config(figure, RunSpec(figure.tasks[0], method, 0), Path())
            budgets.setdefault((config.steps, config.eval_episodes), []).append(method.label)
    lines = [f"Trained for {steps:,} environment steps per run, the table's numbers from each run's last evaluation "
             f"({counted(episodes, 'episode')}): {'; '.join(labels)}."
             for (steps, episodes), labels in budgets.items()]
    return lines + ([""] if lines else [])


def _signed(value: float) -> str:
    """Two decimals with a typographic minus, so a negative range does not read as "-110.61–-49.50"."""
    return f"{value:.2f}".replace("-", "\u2212")


def _video_line(videos: list[str]) -> list[str]:
    """One line of links to the side-by-side videos (TOPDM left, MPPI right), or nothing."""
    if not videos:
        return []
    links = " · ".join(f"[{Path(v).stem.replace('_', ' ')}]({v})" for v in videos)
    return [f"Videos (TOPDM left, MPPI right, replayed from the saved demonstrations): {links}", ""]


def _per_figure(values: dict[str, str]) -> str:
    """The value when all figures agree, else each distinct value with the figures it holds for."""
    groups: dict[str, list[str]] = {}
    for figure, value in values.items():
        groups.setdefault(value, []).append(figure)
    if len(groups) == 1:
        return next(iter(groups))
    return "; ".join(f"{value} ({', '.join(names)})" for value, names in groups.items())


def _processors(summaries: list[FigureSummary]) -> str:
    """Each processor kind with the finished runs made on it, per figure: planning is
    deterministic on one kind only, so a reader replanning a record must know its kind."""
    counts: dict[str, Counter[str]] = {}
    for summary in summaries:
        for record in summary.runs:
            kind = record.processor or "not recorded (runs made before records kept it)"
            counts.setdefault(kind, Counter())[summary.figure.name] += 1
    order = sorted(counts, key=lambda kind: (kind.startswith("not recorded"), -counts[kind].total(), kind))
    return "; ".join(f"{kind}: {counted(counts[kind].total(), 'run')} "
                     f"({', '.join(f'{figure} {n}' for figure, n in counts[kind].items())})" for kind in order)


def _machine(machine: dict[str, Any]) -> str:
    return f"{machine.get('cpu_count')} CPUs, {machine.get('processor')}, {machine.get('platform')}"


def _hours(seconds: float) -> str:
    return f"{seconds / 3600:.2f} h ({seconds:,.0f} s)"
