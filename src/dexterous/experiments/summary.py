"""Per-figure numbers computed from the run records alone (SPEC §6).

Every table, plot and report is drawn from these summaries, so a number shown anywhere
can be traced to `runs.jsonl`: final-step success rate = mean of the runs' final_success,
returns as mean and min–max over runs, training curves as the median over runs with a
min–max band. Methods with `shown=False` (run only to feed another) are left out; a method
whose runs have not finished yet is kept with 0 of K seeds, so a gap is never silent.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from dexterous.contracts.configs import from_json
from dexterous.experiments.configs import FigureConfig, Method
from dexterous.experiments.results import ResultsError, RunRecord, read_manifest, read_runs, with_added_fields
from dexterous.experiments.runs import (RunSpec, episode_key, paper_env_steps_per_step, planner_config,
                                        train_config)
from dexterous.rl.bands import Band, band


@dataclass(frozen=True)
class MethodSummary:
    """One (task, method) cell of a figure."""

    task: str
    """Environment id."""
    method: Method
    """The figure's method (label, kind, …)."""
    planned: int
    """Seeds the figure asks for (FigureConfig.n_seeds)."""
    runs: tuple[RunRecord, ...]
    """The finished runs, by seed."""
    success: float | None
    """Mean final_success over finished runs; None without finished runs or without a success."""
    successes: int | None
    """Planning methods: how many finished episodes succeeded at their final step. Training
    methods: how many of their last evaluations' episodes did (each run's success rate times
    its evaluation episodes). None where success is."""
    trials: int | None
    """What successes counts out of: finished episodes, or the trained runs' last evaluation
    episodes in all; None where success is."""
    mean_return: float | None
    """Mean return over finished runs; None without finished runs."""
    median_return: float | None
    """Median return over finished runs (the paper's curves are medians over runs); None without
    finished runs."""
    min_return: float | None
    """Lowest return over finished runs (the band's lower end); None without finished runs."""
    max_return: float | None
    """Highest return over finished runs; None without finished runs."""
    curves: dict[str, Band]
    """Training methods: each evaluation metric ("mean_return", "success_rate") over runs."""
    steps: int | None
    """Planning methods: the real steps of an episode the figure plans; None for training."""
    steps_run: float | None
    """Planning methods: mean real steps the finished runs ran (`RunRecord.steps`, `steps`
    where a record lacks it), below `steps` where episodes ended early (Humanoid's fall);
    None for training or without runs."""
    played: int
    """Finished runs that recorded their object's play (RunRecord.in_hand and turns)."""
    in_hand: float | None
    """Mean steps with the object in play over those runs; None where there are none."""
    turns: float | None
    """Mean turns of the object about its body x axis over those runs; None likewise."""
    posed: int
    """Finished planned runs of a goal task that recorded how far their final pose is from the goal."""
    final_pos_error: float | None
    """Median over those runs of the final step's largest object distance from its goal
    position (m; a median, as one lost object would drag a mean); None where there are none."""
    final_rot_error: float | None
    """Likewise for the rotation distance from the goal orientation (rad)."""
    paper: str | None
    """The paper's reported result for this cell (FigureConfig.paper), if it reports one."""
    paper_env_steps_per_step: float | None = None
    """Planning methods: the env steps per real step the paper's budget schedules for the task
    (`paper_env_steps_per_step`); None for training."""

    @property
    def finished(self) -> int:
        return len(self.runs)

    def paper_level(self, metric: str) -> PaperLevel | None:
        """The paper's number for this cell on metric (`paper_level` of its `paper` text)."""
        return paper_level(self.paper, metric)

    @property
    def env_steps_per_step(self) -> float | None:
        """Planning methods: env steps simulated per real step run, mean over the finished runs
        (what a budget costs, early-out included); None for training or without runs."""
        if self.steps is None or not self.runs:
            return None
        return float(np.mean([r.env_steps / _steps_run(r, self.steps) for r in self.runs]))

    def success_count(self, episodes: str = " evaluation episodes") -> str | None:
        """successes of trials: "2/3" finished episodes, or "4/10" and `episodes` for the
        evaluation episodes of trained runs; None where success is."""
        if self.successes is None:
            return None
        return f"{self.successes}/{self.trials}" + ("" if self.method.kind == "plan" else episodes)

    @property
    def success_interval(self) -> tuple[float, float] | None:
        """95% Wilson interval of the success rate over its trials (`trials`); None where success is."""
        if self.successes is None or self.trials is None:
            return None
        return wilson_interval(self.successes, self.trials)

    @property
    def paper_budget_share(self) -> float | None:
        """Planning methods: env steps per real step spent over the paper's budget for them (1/34:
        0.029); None for training or without runs."""
        if self.env_steps_per_step is None or self.paper_env_steps_per_step is None:
            return None
        return self.env_steps_per_step / self.paper_env_steps_per_step

    @property
    def against_paper(self) -> str | None:
        """Where this cell stands against the paper's final-step success, by its 95% interval:
        "below" where the paper's number ("≈80%") lies above the interval (so few successes
        would be unlikely at the paper's rate), "above" where it lies below, "consistent"
        where inside; against a bound ("≤15%"), "above" where the whole interval exceeds it.
        None without an interval or a number from the paper. Said by the interval rather
        than the rate, since at 2–5 seeds "consistent" is often all the numbers can say."""
        level, interval = self.paper_level("final_success"), self.success_interval
        if level is None or interval is None:
            return None
        low, high = (100 * bound for bound in interval)
        if level.value < low:
            return "above"
        if level.relation == "about" and level.value > high:
            return "below"
        return "consistent"


@dataclass(frozen=True)
class FigureSummary:
    """A figure's cells in the figure's order (tasks, then methods) plus its totals."""

    figure: FigureConfig
    cells: tuple[MethodSummary, ...]
    """Shown methods only, every (task, method) pair, finished or not."""
    runs: tuple[RunRecord, ...]
    """Every finished run, hidden methods included (they cost time too)."""

    @property
    def env_steps(self) -> int:
        """Environment steps over all finished runs."""
        return sum(r.env_steps for r in self.runs)

    @property
    def wall_s(self) -> float:
        """Wall time over all finished runs."""
        return float(sum(r.wall_s for r in self.runs))

    @property
    def finished(self) -> int:
        return sum(c.finished for c in self.cells)

    @property
    def planned(self) -> int:
        return sum(c.planned for c in self.cells)

    def cell(self, task: str, label: str) -> MethodSummary:
        """The cell of one task and method label; a KeyError names what is missing."""
        for cell in self.cells:
            if cell.task == task and cell.method.label == label:
                return cell
        raise KeyError(f"{self.figure.name} shows no method {label!r} on {task!r}")



@dataclass(frozen=True)
class Pairing:
    """TOPDM+ against paper TOPDM on one task at one budget, seed by seed.

    Both plan the same reset seeds, so a seed's two episodes start from the same state and
    their difference is free of the spread between seeds, which at 2–5 seeds hides a
    consistent gap; env steps say what each spent, early-out included.
    """

    task: str
    ours: MethodSummary
    """TOPDM+ at this budget."""
    paper: MethodSummary
    """Paper TOPDM at the same budget (the same paper_fraction, or none)."""
    seeds: tuple[int, ...]
    """Seeds that both have finished."""
    return_differences: tuple[float, ...]
    """Per paired seed: TOPDM+'s return minus paper TOPDM's."""
    successes: tuple[int, int] | None
    """Final-step successes over the paired seeds: (TOPDM+, paper TOPDM); None on tasks without."""
    successes_alone: tuple[int, int] | None
    """Paired seeds that only one of the two solved: (TOPDM+ alone, paper TOPDM alone), the
    seeds that tell the two apart (a seed both solve, or neither, says nothing of which is
    better); None on tasks without success."""
    in_hand: tuple[float, float] | None
    """Steps with the object in play summed over the paired seeds: (TOPDM+, paper TOPDM); None
    unless every paired run has them. On PenSpin the paper's reward also pays a pen spinning on
    the floor, so a return gained by flicking the pen out shows here as steps lost."""
    env_steps_ratio: float | None
    """TOPDM+'s env steps over paper TOPDM's, summed over the paired seeds; None without seeds."""


def pairings(summary: FigureSummary) -> list[Pairing]:
    """Every (task, TOPDM+ method) of the figure with its paper-TOPDM twin at the same budget."""
    found = []
    for ours in summary.cells:
        if ours.method.planner != "topdm+":
            continue
        twins = [c for c in summary.cells if c.task == ours.task and c.method.kind == "plan"
                 and c.method.planner == "topdm" and c.method.paper_fraction == ours.method.paper_fraction]
        if len(twins) != 1:
            continue
        paper = twins[0]
        by_seed = {r.seed: r for r in paper.runs}
        pairs = [(r, by_seed[r.seed]) for r in ours.runs if r.seed in by_seed]
        has_success = bool(pairs) and all(a.final_success is not None and b.final_success is not None for a, b in pairs)
        has_play = bool(pairs) and all(a.in_hand is not None and b.in_hand is not None for a, b in pairs)
        found.append(Pairing(
            task=ours.task, ours=ours, paper=paper, seeds=tuple(a.seed for a, _ in pairs),
            return_differences=tuple(a.ret - b.ret for a, b in pairs),
            successes=(int(sum(a.final_success for a, _ in pairs)), int(sum(b.final_success for _, b in pairs)))
            if has_success else None,
            successes_alone=(sum(bool(a.final_success) and not b.final_success for a, b in pairs),
                             sum(bool(b.final_success) and not a.final_success for a, b in pairs))
            if has_success else None,
            in_hand=(sum(a.in_hand for a, _ in pairs), sum(b.in_hand for _, b in pairs)) if has_play else None,
            env_steps_ratio=sum(a.env_steps for a, _ in pairs) / sum(b.env_steps for _, b in pairs) if pairs else None))
    return found


@dataclass(frozen=True)
class PooledPairing:
    """A figure's pairings taken together: with 1–5 seeds per task no single task can tell the
    two planners apart, while the seeds of all tasks can."""

    seeds: int
    """Paired seeds over all tasks (and budgets)."""
    successes_alone: tuple[int, int] | None
    """(TOPDM+ alone, paper TOPDM alone): paired seeds on goal tasks that only one solved;
    None where no goal task is paired."""
    success_p: float | None
    """`sign_test_p` of successes_alone: the exact McNemar test of the paired successes."""
    returns_higher: tuple[int, int]
    """(TOPDM+ higher, paper TOPDM higher): paired seeds by which return is higher (ties left out)."""
    return_p: float
    """`sign_test_p` of returns_higher."""


def pooled_pairing(found: list[Pairing]) -> PooledPairing | None:
    """The figure's pairings taken together; None where no seed is paired."""
    paired = [p for p in found if p.seeds]
    if not paired:
        return None
    solved = [p.successes_alone for p in paired if p.successes_alone is not None]
    alone = (sum(a for a, _ in solved), sum(b for _, b in solved)) if solved else None
    higher = (sum(d > 0 for p in paired for d in p.return_differences),
              sum(d < 0 for p in paired for d in p.return_differences))
    return PooledPairing(seeds=sum(len(p.seeds) for p in paired), successes_alone=alone,
                         success_p=None if alone is None else sign_test_p(*alone),
                         returns_higher=higher, return_p=sign_test_p(*higher))


def sign_test_p(wins: int, losses: int) -> float:
    """The exact two-sided sign test: how likely a split of wins + losses paired trials at
    least as uneven as this one is if each trial were a fair coin between the two methods
    (ties are left out before). 1.0 without trials. On paired successes it is McNemar's
    exact test. Exact rather than a normal approximation, since the counts here are a
    handful."""
    if wins < 0 or losses < 0:
        raise ValueError(f"need wins and losses ≥ 0, got {wins} and {losses}")
    n = wins + losses
    tail = sum(math.comb(n, k) for k in range(min(wins, losses) + 1)) / 2 ** n
    return min(1.0, 2 * tail)


@dataclass(frozen=True)
class PaperLevel:
    """A number the paper gives for a cell, read from the words the report quotes beside it."""

    value: float
    """Final-step success in %, or a return."""
    relation: str
    """How the paper gives it: "about" (≈), "at most" (≤) or "above" (>)."""


_RELATIONS = {"≈": "about", "≤": "at most", ">": "above"}
_PAPER_NUMBERS = {"final_success": re.compile(r"([≈≤>])\s*(\d+)% success"),
                  "return": re.compile(r"return ([≈≤>]) ([\d,]+)")}
"""Per metric, how FigureConfig.paper's texts give a number: "≈83% success", "≤15% success at
step 50", "return > 15,000 over 1000 steps"."""


def paper_level(text: str | None, metric: str) -> PaperLevel | None:
    """The number that text (a FigureConfig.paper entry) gives for metric, read with the one
    pattern per metric of `_PAPER_NUMBERS`, so that a figure's marks and the report's paper
    column cannot disagree; None where the paper gives words only ("lacks precision") or
    nothing on that metric."""
    match = None if text is None or metric not in _PAPER_NUMBERS else _PAPER_NUMBERS[metric].search(text)
    if match is None:
        return None
    return PaperLevel(float(match.group(2).replace(",", "")), _RELATIONS[match.group(1)])


def wilson_interval(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval of a success rate seen as successes of n (z 1.96: 95%).

    Chosen over the normal approximation because it stays inside [0, 1] and is not
    degenerate at 0/n or n/n, which is where a handful of seeds usually lands: 3/3 gives
    0.44–1, so it is read as "probably most", not as "always".
    """
    if n < 1 or not 0 <= successes <= n:
        raise ValueError(f"need 0 ≤ successes ≤ n and n ≥ 1, got {successes} of {n}")
    rate, z2 = successes / n, z * z
    centre = (rate + z2 / (2 * n)) / (1 + z2 / n)
    half = z * np.sqrt(rate * (1 - rate) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return max(0.0, float(centre - half)), min(1.0, float(centre + half))


def figure_from_json(config: dict[str, Any]) -> FigureConfig:
    """The FigureConfig a manifest recorded, so a report describes what ran, not today's defaults."""
    try:
        return from_json(FigureConfig, with_added_fields(config))
    except (KeyError, TypeError, ValueError) as err:
        raise ResultsError(f"manifest config of figure {config.get('name', '?')!r} cannot be read "
                           f"({type(err).__name__}: {err}); rerun `dexterous reproduce` into a new directory") from None


def summarize(figure: FigureConfig, records: list[RunRecord]) -> FigureSummary:
    """The figure's cells from its finished runs; a record of no (task, method) of the figure is refused."""
    known = {(task, m.label) for task in figure.tasks for m in figure.methods}
    stray = sorted({(r.task, r.method) for r in records} - known)
    if stray:
        raise ResultsError(f"{figure.name}: records for tasks/methods the figure does not have: {stray}; "
                           "were they written by another config?")
    cells = tuple(_cell(figure, task, method, [r for r in records if (r.task, r.method) == (task, method.label)])
                  for task in figure.tasks for method in figure.methods if method.shown)
    return FigureSummary(figure=figure, cells=cells, runs=tuple(records))


def distinct_runs(summaries: Iterable[FigureSummary]) -> list[RunRecord]:
    """Every finished run of the figures once, for totals of time and environment steps.

    Figures share planned episodes: one finished in a sibling folder with the same
    environment, seed, planner and config is copied rather than planned again (see
    `dexterous.experiments.runner`), and its record repeats the original's wall time and
    steps. Keyed by exactly what makes the copy, each such episode counts once (planning is
    deterministic, so one planned twice is the same episode: totals say what the results
    need, not what a machine happened to spend). Training runs are never shared, so they
    count per figure.
    """
    distinct: dict[tuple[Any, ...], RunRecord] = {}
    for summary in summaries:
        methods = {m.label: m for m in summary.figure.methods}
        for record in summary.runs:
            if record.kind == "plan":
                key: tuple[Any, ...] = episode_key(summary.figure, RunSpec(record.task, methods[record.method],
                                                                           record.seed))
            else:
                key = (summary.figure.name, record.key)
            distinct.setdefault(key, record)
    return list(distinct.values())


def _success_counts(figure: FigureConfig, task: str, method: Method, rates: list[float]) -> dict[str, int | None]:
    """successes and trials of a cell from its runs' final_success: a planned episode's is 0
    or 1, one trial; a trained run's is its last evaluation's success rate over the budget's
    evaluation episodes, each a trial (an interval over runs would take a rate of 0.4 for a
    failure)."""
    if not rates:
        return {"successes": None, "trials": None}
    episodes = 1 if method.kind == "plan" else train_config(figure, RunSpec(task, method, 0), Path()).eval_episodes
    return {"successes": int(round(sum(rates) * episodes)), "trials": len(rates) * episodes}


def load_summary(figure_dir: str | Path) -> tuple[dict[str, Any], FigureSummary]:
    """A figure folder's manifest and summary (ResultsError names a folder that is not one)."""
    manifest = read_manifest(figure_dir)
    return manifest, summarize(figure_from_json(manifest["config"]), read_runs(figure_dir))


def _cell(figure: FigureConfig, task: str, method: Method, runs: list[RunRecord]) -> MethodSummary:
    runs = sorted(runs, key=lambda r: r.seed)
    returns = [r.ret for r in runs]
    successes = [r.final_success for r in runs if r.final_success is not None]
    played = [r for r in runs if r.in_hand is not None and r.turns is not None]
    posed = [r for r in runs if r.final_pos_error is not None and r.final_rot_error is not None]
    planned = RunSpec(task, method, 0) if method.kind == "plan" else None
    steps = planner_config(figure, planned).episode_length if planned else None
    return MethodSummary(
        task=task, method=method, planned=figure.n_seeds, runs=tuple(runs),
        success=float(np.mean(successes)) if successes else None,
        **_success_counts(figure, task, method, successes),
        mean_return=float(np.mean(returns)) if runs else None,
        median_return=float(np.median(returns)) if runs else None,
        min_return=min(returns) if runs else None, max_return=max(returns) if runs else None,
        curves=_curves(runs),
        steps=steps, steps_run=float(np.mean([_steps_run(r, steps) for r in runs])) if steps and runs else None,
        played=len(played), in_hand=float(np.mean([r.in_hand for r in played])) if played else None,
        turns=float(np.mean([r.turns for r in played])) if played else None,
        posed=len(posed), final_pos_error=float(np.median([r.final_pos_error for r in posed])) if posed else None,
        final_rot_error=float(np.median([r.final_rot_error for r in posed])) if posed else None,
        paper=figure.paper.get(f"{task}|{method.label}"),
        paper_env_steps_per_step=paper_env_steps_per_step(figure, planned) if planned else None)


def _steps_run(record: RunRecord, planned: int) -> int:
    """The real steps a planned run ran: its record's, or the figure's planning length for a
    record that predates the field (made on a task that never ends early)."""
    return planned if record.steps is None else record.steps


def _curves(runs: list[RunRecord]) -> dict[str, Band]:
    """Median and min–max of each metric over the runs (`rl.bands.band`: at the steps they share)."""
    curved = [r for r in runs if r.curve]
    if not curved:
        return {}
    metrics = sorted(set.intersection(*(set(r.curve) for r in curved)) - {"steps"})
    bands = {}
    for metric in metrics:
        curves = [dict(zip(r.curve["steps"], r.curve[metric])) for r in curved]
        if any(v is None for curve in curves for v in curve.values()):
            continue  # a metric the task does not have (success on PenSpin)
        bands[metric] = band(curves)
    return bands


