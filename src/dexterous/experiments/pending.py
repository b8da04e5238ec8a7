"""What a `reproduce` invocation has left to run, and how far each of its runs has got.

`dexterous reproduce FIGURE --dry-run` prints `pending_runs` so that a figure can be sized
before cores are committed to it: the runs not recorded yet, in the order they would run,
each with its progress on disk (real steps planned, or training steps checkpointed) and
the env steps it has left. A planned episode's env steps are its nominal budget,
N·Ni(t)·τ per real step; early-out and lost-object rollouts of TOPDM+ simulate fewer, so
theirs is an upper bound. Figures' runs are sized in env steps, not seconds, as the
planners are compared: a loaded machine changes wall time, not the work.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from dexterous.experiments.configs import FigureConfig, task_name
from dexterous.experiments.claims import is_claimed
from dexterous.experiments.results import MANIFEST, ResultsError, RunRecord, figure_dir, read_manifest, read_runs
from dexterous.experiments.runs import (RunSpec, demonstrations_not_in, episode_key, planner_config, reports_success,
                                        runs_of, select, train_config)

if TYPE_CHECKING:
    from dexterous.demos import Demonstration


@dataclass(frozen=True)
class PendingRun:
    """A run that `reproduce` would run next, as far as it has got."""

    spec: RunSpec
    done: int
    """Real steps planned, or training steps at the last checkpoint."""
    total: int
    """Real steps the episode plans, or training steps the run trains for."""
    env_steps_left: int
    """Env steps still to simulate: nominal for a planned episode (an upper bound under
    TOPDM+'s early-out), exact for training (one per training step)."""
    restore: bool = False
    """A recorded episode whose file is missing, planned again before training restarts from it."""
    copied_from: Path | None = None
    """The same finished episode in another figure folder, copied rather than planned."""
    seconds_left: float | None = None
    """env_steps_left at the env steps per second of the figure's recorded runs of the same
    task and method (their env steps over their wall time, one core each as `reproduce`
    runs them); None where none is recorded. A guide for sizing: the machine and its load
    decide the real figure."""
    recorded_in: str | None = None
    """A sibling figure that recorded the same planned episode (`recorded_elsewhere`), whose
    record is copied rather than the episode planned."""
    passed_over: str | None = None
    """Why this invocation would pass it over, leaving it to another process sharing the
    folder (`claim`): that one runs it now, or still plans its demonstrations; None where
    this invocation would run it."""

    @property
    def unit(self) -> str:
        return "real steps" if self.spec.method.kind == "plan" else "training steps"


def pending_runs(figure: FigureConfig, out: str | Path, tasks: Sequence[str] | None = None,
                 methods: Sequence[str] | None = None, max_runs: int | None = None) -> list[PendingRun]:
    """The runs `reproduce(figure, out, tasks=tasks, methods=methods, max_runs=max_runs)`
    would run, in its order: the runs that need nothing else, then the recorded episodes it
    would plan again (`demonstrations_to_restore`; not counted by max_runs, as they are
    recorded already), then training from demonstrations. Reads the folder (refusing one
    made with other settings, as `reproduce` does) and writes nothing."""
    folder = figure_dir(out, figure)
    records = {r.key: r for r in read_runs(folder)}
    specs = select(figure, [s for s in runs_of(figure) if s.key not in records], tasks, methods)
    copies = [_recorded(figure, RunSpec(r.task, figure.method(r.method), r.seed), sibling)
              for sibling, r in recorded_elsewhere(figure, specs, folder).values()]
    specs = [s for s in specs if s.key not in {c.spec.key for c in copies}]
    budget = len(specs) if max_runs is None else max_runs
    passed = {s.key: RUNNING for s in specs if is_claimed(folder, s.path)}
    first = _in_turn([s for s in specs if s.method.demos_from is None], budget, passed)
    ours = set(records) | {s.key for s in first if s.key not in passed}
    passed |= {s.key: PLANNING for s in specs if demonstrations_not_in(figure, s, ours) and s.key not in passed}
    training = _in_turn([s for s in specs if s.method.demos_from], budget - sum(s.key not in passed for s in first),
                        passed)
    pending = [*copies, *(_progress(figure, s, folder) for s in first),
               *(_progress(figure, s, folder, restore=True) for s in
                 demonstrations_to_restore(figure, [s for s in training if s.key not in passed], records, folder)),
               *(_progress(figure, s, folder) for s in training)]
    pending = [dataclasses.replace(p, passed_over=passed.get(p.spec.key)) for p in pending]
    rates = _recorded_rates(records.values())
    return [dataclasses.replace(p, seconds_left=p.env_steps_left / rates[p.spec.task, p.spec.method.label])
            if (p.spec.task, p.spec.method.label) in rates and p.env_steps_left else p for p in pending]


def _recorded(figure: FigureConfig, spec: RunSpec, sibling: str) -> PendingRun:
    """A plan run whose record is copied from sibling: as far as a finished episode."""
    length = planner_config(figure, spec).episode_length
    return PendingRun(spec, length, length, 0, recorded_in=sibling)


RUNNING = "another process is running it now"
PLANNING = "another process is still planning its demonstrations"


def _in_turn(specs: Sequence[RunSpec], budget: int, passed: Collection[tuple]) -> list[RunSpec]:
    """specs in order up to the budget-th one not passed over: `reproduce` leaves those to
    other processes without counting them."""
    taken: list[RunSpec] = []
    for spec in specs:
        if budget == 0:
            break
        taken.append(spec)
        budget -= spec.key not in passed
    return taken


def _recorded_rates(records: Iterable[RunRecord]) -> dict[tuple[str, str], float]:
    """Env steps per second of wall time of the recorded runs, per task and method."""
    steps: dict[tuple[str, str], float] = defaultdict(float)
    seconds: dict[tuple[str, str], float] = defaultdict(float)
    for record in records:
        steps[record.task, record.method] += record.env_steps
        seconds[record.task, record.method] += record.wall_s
    return {key: steps[key] / seconds[key] for key in steps if seconds[key] > 0 and steps[key] > 0}


def demonstrations_to_restore(figure: FigureConfig, specs: Sequence[RunSpec], records: dict[tuple, RunRecord],
                              folder: Path) -> list[RunSpec]:
    """The recorded planned episodes that specs' training restarts from but whose files are
    not the recorded episodes (missing, as in a fresh clone: plans are not committed; or
    unfinished or damaged), in task, method, seed order."""
    from dexterous.demos import DemoError, Demonstration

    sources = {(spec.task, spec.method.demos_from, seed)
               for spec in specs if spec.method.demos_from for seed in range(figure.n_seeds)}
    missing = []
    for task, label, seed in sorted(sources):
        source = RunSpec(task, figure.method(label), seed)
        record = records.get(source.key)
        if record is None:
            continue  # never recorded, so there is no episode to restore
        try:
            if is_recorded_episode(Demonstration.load(folder / source.path), record):
                continue
        except DemoError:
            pass  # missing or damaged
        missing.append(source)
    return missing


def is_recorded_episode(demo: Demonstration, record: RunRecord) -> bool:
    """Whether demo is the finished episode record describes: its environment, seed, return and env steps."""
    return (demo.complete and demo.env_id == record.task and demo.seed == record.seed
            and float(np.sum(demo.rewards)) == record.ret and int(demo.meta["env_steps"]) == record.env_steps)


def finished_elsewhere(figure: FigureConfig, spec: RunSpec, folder: Path) -> Path | None:
    """The same finished episode as the plan run spec in a sibling figure folder of folder's
    results directory (the same environment, seed, planner and config), where spec's own
    file is not finished yet (missing or a beginning); None if there is none."""
    from dexterous.demos import DemoError, Demonstration
    from dexterous.mpc.driver import run_differences

    target = folder / spec.path
    if target.exists():
        try:
            if Demonstration.load(target).complete:
                return None
        except DemoError:
            return None  # damaged: the driver names it
    config = planner_config(figure, spec)
    pattern = f"*/plans/{task_name(spec.task)}/*/episode_{spec.seed:04d}.npz"
    for candidate in sorted(folder.parent.glob(pattern)):
        if candidate.parents[3].resolve() == folder.resolve():
            continue
        try:
            demo = Demonstration.load(candidate)
        except DemoError:
            continue  # being written by another process, or damaged: plan it here instead
        if demo.complete and not run_differences(demo, spec.task, spec.seed, config, spec.method.planner):
            return candidate
    return None


def recorded_elsewhere(figure: FigureConfig, specs: Iterable[RunSpec],
                       folder: Path) -> dict[tuple, tuple[str, RunRecord]]:
    """Per plan run of specs that has no file here and that no process holds: the name of a
    sibling figure folder of folder's results directory that recorded the same episode
    (`episode_key`), and that record as this figure records it (its method label, path and
    success measure). Where the episode file is at hand it is copied instead
    (`finished_elsewhere`); a fresh clone has only the records.

    Planning is deterministic, so the record is the one this figure would make, but for its
    wall time, which is the sibling machine's. A sibling whose records today's definition of
    its figure no longer describes (a planner redefined since, see `figure_dir`) is passed
    over, for its configs would be today's and its records not.
    """
    from dexterous.experiments.configs import figure_config

    wanted = {episode_key(figure, s): s for s in specs
              if s.method.kind == "plan" and not (folder / s.path).exists() and not is_claimed(folder, s.path)}
    found: dict[tuple, tuple[str, RunRecord]] = {}
    for manifest_path in sorted(folder.parent.glob(f"*/{MANIFEST}")) if wanted else ():
        sibling = manifest_path.parent
        if sibling.resolve() == folder.resolve():
            continue
        try:
            stored = read_manifest(sibling)["config"]
            today = figure_config(sibling.name, stored["budget"]["name"], stored.get("seeds") or None)
            figure_dir(folder.parent, today)  # refuses a folder whose records `today` does not describe
        except (ResultsError, ValueError, KeyError):
            continue
        methods = {m.label: m for m in today.methods}
        for record in read_runs(sibling):
            if record.kind != "plan" or record.method not in methods:
                continue
            spec = wanted.get(episode_key(today, RunSpec(record.task, methods[record.method], record.seed)))
            success = reports_success(figure, record.task)
            if spec is None or spec.key in found or (success and record.final_success is None):
                continue
            found[spec.key] = (sibling.name, dataclasses.replace(
                record, method=spec.method.label, path=spec.path,
                final_success=record.final_success if success else None))
    return found


def _progress(figure: FigureConfig, spec: RunSpec, folder: Path, restore: bool = False) -> PendingRun:
    """How far spec's files in folder have got, and the env steps it has left."""
    from dexterous.demos import DemoError, Demonstration
    from dexterous.rl.checkpoints import latest_checkpoint, read_state

    if spec.method.kind == "plan":
        config = planner_config(figure, spec)
        copied = finished_elsewhere(figure, spec, folder)
        if copied is not None:
            return PendingRun(spec, config.episode_length, config.episode_length, 0, restore, copied)
        try:
            done = len(Demonstration.load(folder / spec.path).actions)
        except DemoError:
            done = 0  # not begun, or damaged: the run names a damaged file when it starts
        return PendingRun(spec, done, config.episode_length, config.nominal_env_steps(done), restore)
    total = train_config(figure, spec, folder).steps
    checkpoint = latest_checkpoint(folder / spec.path)
    done = int(read_state(checkpoint)["steps"]) if checkpoint is not None else 0
    return PendingRun(spec, done, total, total - done)


def describe_pending(figure: FigureConfig, pending: Sequence[PendingRun]) -> str:
    """`--dry-run`'s table: one line per run, then the env steps left in all."""
    if not pending:
        return f"{figure.name}: nothing left to run for this selection"
    names = [f"{task_name(p.spec.task)} {p.spec.method.label} seed {p.spec.seed}" for p in pending]
    done = [f"{p.done:,}/{p.total:,} {p.unit}" for p in pending]
    left = [f"{p.env_steps_left:,}" for p in pending]
    hours = ["" if p.seconds_left is None else f"≈ {p.seconds_left / 3600:.1f} h" for p in pending]
    widths = [max(map(len, column)) for column in (names, done, left, hours)]
    others = sum(p.passed_over is not None for p in pending)
    lines = [f"{figure.name} ({figure.budget.name} budget): {_runs(len(pending))}, in the order they would run"
             + (f" ({others} of them another process's, left to it)" if others else "")]
    for p, *cells in zip(pending, names, done, left, hours):
        note = "  (recorded; its episode file missing or unfinished: planned again to train from)" if p.restore else ""
        note += f"  (finished in {p.copied_from}: copied)" if p.copied_from else ""
        note += f"  (recorded in {p.recorded_in}: its record copied)" if p.recorded_in else ""
        note += f"  ({p.passed_over}: passed over)" if p.passed_over else ""
        lines.append(f"  {cells[0].ljust(widths[0])}  {cells[1].ljust(widths[1])}  {cells[2].rjust(widths[2])} env "
                     f"steps left  {cells[3].rjust(widths[3])}{note}".rstrip())
    ours = [p for p in pending if p.passed_over is None]
    timed = [p.seconds_left for p in ours if p.seconds_left is not None]
    lines.append(f"{sum(p.env_steps_left for p in ours):,} env steps left in all (planned episodes: their "
                 f"nominal N·Ni·τ per real step, which TOPDM+'s early-out undercuts)"
                 + (f"; ≈ {sum(timed) / 3600:.1f} core-hours for the {_runs(len(timed))} whose task and method have "
                    "recorded runs, at their env steps per second" if timed else ""))
    return "\n".join(lines)


def _runs(count: int) -> str:
    return f"{count} run{'' if count == 1 else 's'}"
