"""`dexterous reproduce`: run a figure's tasks × methods × seeds, resumably, on Ray.

Each run is a planned episode (`dexterous.mpc.driver.plan_episode`, written after every
real step) or a training run (`dexterous.rl.train`, checkpointed), in the figure folder
(layout in `dexterous.experiments.results`). A finished run appends its `RunRecord` to
runs.jsonl; a rerun skips the runs recorded there and resumes the others from their own
files, so a killed `reproduce` completes to the same records as an uninterrupted one.

Runs go in two waves: first everything that needs nothing else, then training with demo
restarts, which needs the figure's planned episodes of the same task (planned again first
where only their records are at hand, as in a fresh clone). Within a wave runs
spread over Ray (one core each: planners use a one-thread batch, torch one thread), an
embedded local Ray by default or an existing cluster at `address` (whose nodes must then
share the results directory).

Figures share runs: MPPI κ=20 on HandManipulatePenFull is in fig. 2 and fig. 4 alike. A
planned episode that another figure folder of the same results directory already finished
with the same environment, seed, planner and config is copied instead of planned again;
planning is deterministic, so the copy is the episode this figure would have planned.
Where only the other figure's record is at hand (episode files are not committed), the
record is copied, as this figure would have recorded it (`recorded_elsewhere`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import shutil
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from tqdm import tqdm

from dexterous.catalog import entry
from dexterous.contracts.files import processor_kind
from dexterous.experiments.configs import FigureConfig, task_name
from dexterous.experiments.claims import claim
from dexterous.experiments.results import (MANIFEST, ResultsError, RunRecord, figure_dir, open_figure_dir, read_runs,
                                           record_run, retire_redefined)
from dexterous.experiments.pending import (demonstrations_to_restore, finished_elsewhere, is_recorded_episode,
                                           recorded_elsewhere)
from dexterous.experiments.runs import (RunSpec, demonstrations_not_in, plan_folder, planner_config, reports_success,
                                        runs_of, select, train_config)
from dexterous.progress import progress_bar

if TYPE_CHECKING:
    from dexterous.demos import Demonstration


def execute(figure: FigureConfig, spec: RunSpec, folder: str, nthread: int | None,
            progress: bool = False) -> RunRecord:
    """Run (or resume) one run to its end and return its record; progress draws its own bar."""
    folder_path = Path(folder)
    (folder_path / spec.path).parent.mkdir(parents=True, exist_ok=True)
    if spec.method.kind == "plan":
        from dexterous.mpc.driver import plan_episode

        _reuse_finished_episode(figure, spec, folder_path)

        with progress_bar(desc=f"{task_name(spec.task)} {spec.method.label} seed {spec.seed}", unit="step",
                          leave=False, disable=not progress) as bar:
            def report(step) -> None:
                bar.total = step.total
                bar.set_postfix(step.postfix(), refresh=False)
                bar.update(step.step - bar.n)

            demo = plan_episode(spec.task, planner_config(figure, spec), spec.seed, folder_path / spec.path,
                                planner_name=spec.method.planner, nthread=nthread, progress=report)
        return RunRecord(task=spec.task, method=spec.method.label, seed=spec.seed, kind="plan",
                         ret=float(np.sum(demo.rewards)),
                         final_success=float(demo.successes[-1]) if reports_success(figure, spec.task) else None,
                         env_steps=int(demo.meta["env_steps"]), wall_s=float(np.sum(demo.meta["step_seconds"])),
                         path=spec.path, **_episode_fields(demo))
    from dexterous.rl import read_evaluations, train

    start = time.perf_counter()
    summary = train(train_config(figure, spec, folder_path), folder_path / spec.path, progress=progress)
    return RunRecord(task=spec.task, method=spec.method.label, seed=spec.seed, kind=spec.method.kind,
                     env_steps=summary.steps, wall_s=time.perf_counter() - start, path=spec.path,
                     processor=processor_kind(), **_evaluated(spec.task, read_evaluations(folder_path / spec.path)))


@dataclass(frozen=True)
class ReproduceSummary:
    """What a `reproduce` invocation did."""

    figure: str
    folder: Path
    runs: int
    """Runs of the figure finished so far (before and in this invocation)."""
    total: int
    """Runs the figure has (tasks × methods × seeds)."""
    finished_before: int
    """Runs already recorded when this invocation started (skipped)."""
    wall_seconds: float
    retired: int = 0
    """Records moved to retired/ first, their methods redefined since (`retire_redefined`)."""

    def __str__(self) -> str:
        retired = f"; {self.retired} runs of redefined methods retired first" if self.retired else ""
        return (f"{self.figure}: {self.runs} of {self.total} runs finished ({self.finished_before} from before) in "
                f"{self.wall_seconds:.1f} s{retired}; results in {self.folder}")


def reproduce(figure: FigureConfig, out: str | Path, address: str | None = None, parallel: bool | None = None,
              progress: bool = True, max_runs: int | None = None, nthread: int | None = None,
              tasks: Sequence[str] | None = None, methods: Sequence[str] | None = None,
              retire: bool = False) -> ReproduceSummary:
    """Run every unfinished run of `figure` into `out/<figure>`; see the module docstring.

    parallel: None runs on Ray when more than one run is pending (or address is given);
    False runs one after another in this process with `nthread` physics threads per run
    (None: all cores). max_runs stops after that many runs finish in this invocation (a
    budget for partial runs); a run another process is running is passed over, not counted
    (`_run_here`). tasks and methods restrict the runs to those names (see `select`). retire first
    moves aside the runs of methods redefined since they were recorded (`retire_redefined`).
    """
    if max_runs is not None and max_runs < 1:
        raise ValueError(f"max_runs must be ≥ 1 (None: all), got {max_runs}")
    start = time.perf_counter()
    retired = retire_redefined(out, figure) if retire else []
    records = {r.key: r for r in read_runs(figure_dir(out, figure))}  # none where the folder is not made yet
    before = len(records)
    specs = select(figure, [s for s in runs_of(figure) if s.key not in records], tasks, methods)
    _check_demos_are_coming(figure, specs, records)
    folder = open_figure_dir(out, figure)  # after the checks: a refused selection leaves no folder behind
    _fill_from_run_files(folder)
    for sibling, record in recorded_elsewhere(figure, specs, folder).values():
        tqdm.write(f"{task_name(record.task)} {record.method} seed {record.seed}: the same episode is recorded in "
                   f"{sibling} (its file is not at hand); recording it here too")
        records.update((r.key, r) for r in record_run(folder, record))
    specs = [s for s in specs if s.key not in records]
    budget = len(specs) if max_runs is None else max_runs
    bar = progress_bar(total=len(runs_of(figure)), initial=before, unit="run", desc=figure.name,
                       disable=not progress)

    def finished(record: RunRecord) -> None:
        records.update((r.key, r) for r in record_run(folder, record))
        bar.set_postfix_str(f"{task_name(record.task)} {record.method} seed {record.seed}: return {record.ret:.2f}",
                            refresh=False)
        bar.update(len(records) - bar.n)

    waves = [[s for s in specs if s.method.demos_from is None], [s for s in specs if s.method.demos_from]]
    for wave in waves:
        use_ray = parallel if parallel is not None else (address is not None or len(wave[:budget]) > 1)
        if use_ray and wave[:budget]:
            with contextlib.ExitStack() as claims:
                wave = _claim_wave(claims, figure, folder, wave, budget, records)
                budget -= len(wave)
                if _restore_demonstrations(figure, wave, records, folder, nthread, progress):
                    _run_on_ray(figure, wave, folder, address, finished)
                else:
                    tqdm.write("another process is planning again episodes that this wave's training restarts "
                               "from; rerun when it has finished")
        else:
            budget -= _run_here(figure, wave, budget, folder, records, finished, nthread, progress)
        _index_plans(figure, folder)
    bar.close()
    return ReproduceSummary(figure.name, folder, len(records), len(runs_of(figure)), before,
                            time.perf_counter() - start, len(retired))


def _run_here(figure: FigureConfig, wave: list[RunSpec], budget: int, folder: Path, records: dict,
              finished: Callable[[RunRecord], None], nthread: int | None, progress: bool) -> int:
    """Run the wave's runs one after another in this process until `budget` of them finish;
    return how many did.

    Processes sharing the folder split its runs: one that another process is running
    (`claim`) is left to it, one it finished meanwhile is not run again, and training whose
    demonstrations another process is still planning is left for later. The runs passed
    over are tried once more at the end, for a claim may have been held only a moment
    (another process checking a run it then left); one still held then is left to its
    holder, and training still waiting is left to the next invocation (or to the process
    that plans its last demonstration, when it goes on to training).
    """
    done, passed = 0, []
    for attempt, specs in enumerate((wave, passed)):
        for spec in list(specs):
            if done == budget:
                return done
            outcome = _try_run(figure, spec, folder, records, finished, nthread, progress)
            done += outcome == "ran"
            if attempt == 0 and outcome in ("claimed", "waiting"):
                passed.append(spec)
            elif attempt == 1 and outcome in _PASSED_OVER:
                tqdm.write(f"{_name(spec)}: {_PASSED_OVER[outcome]}")
    return done


_PASSED_OVER = {"claimed": "another process is running it; leaving it to that one",
                "waiting": "another process is still planning its demonstrations; leaving it for the next run"}


def _claim_wave(claims: contextlib.ExitStack, figure: FigureConfig, folder: Path, wave: list[RunSpec], budget: int,
                records: dict) -> list[RunSpec]:
    """The first `budget` runs of wave that no other process holds and none has finished,
    each claimed (`claim`) for as long as claims is open: a Ray wave's runs, held by its
    driver while they run, so that `--no-ray` processes sharing the folder pass them over.
    Training whose demonstrations are not all recorded (another process still plans them)
    is left for the next invocation, as `_run_here` leaves it."""
    records.update((r.key, r) for r in read_runs(folder))
    mine: list[RunSpec] = []
    for spec in wave:
        if len(mine) == budget:
            break
        if demonstrations_not_in(figure, spec, records):
            tqdm.write(f"{_name(spec)}: {_PASSED_OVER['waiting']}")
        elif claims.enter_context(claim(folder, spec.path)):
            records.update((r.key, r) for r in read_runs(folder))  # after the claim: finished meanwhile?
            if spec.key not in records:
                mine.append(spec)
    return mine


def _try_run(figure: FigureConfig, spec: RunSpec, folder: Path, records: dict, finished: Callable[[RunRecord], None],
             nthread: int | None, progress: bool) -> str:
    """Run spec here if no other process holds it: "ran", "recorded" (another process
    finished it), "claimed" (another process runs it) or "waiting" (another process still
    plans the episodes it restarts from, or plans them again)."""
    with claim(folder, spec.path) as mine:
        if not mine:
            return "claimed"
        records.update((r.key, r) for r in read_runs(folder))
        if spec.key in records:
            return "recorded"
        if demonstrations_not_in(figure, spec, records):
            return "waiting"
        if not _restore_demonstrations(figure, [spec], records, folder, nthread, progress):
            return "waiting"
        finished(execute(figure, spec, str(folder), nthread=nthread, progress=progress))
        return "ran"


def _name(spec: RunSpec) -> str:
    return f"{task_name(spec.task)} {spec.method.label} seed {spec.seed}"


def _episode_fields(demo: Demonstration) -> dict[str, int | float | str]:
    """The record fields of a planned episode beyond its return: the real steps it ran, its
    object play and the processor kinds that planned it (where its file keeps them)."""
    kinds = demo.meta.get("processor_kinds")
    return {"steps": len(demo.rewards), **_object_play(demo), **({"processor": " then ".join(kinds)} if kinds else {})}


def _object_play(demo: Demonstration) -> dict[str, int | float]:
    """The record fields of a planned episode's object play (none for a task without an
    object): steps in hand, turns and, on goal tasks, how far the final pose is from the goal."""
    from dexterous.demos import inspect_demonstration

    if not entry(demo.env_id).has_object:
        return {}
    play = inspect_demonstration(demo)
    errors = {} if play.final_errors is None else dict(zip(("final_pos_error", "final_rot_error"), play.final_errors))
    return {"in_hand": play.in_hand, "turns": play.turns, **errors}


def _lacks_episode_fields(record: RunRecord) -> bool:
    """Whether a plan record was made before some of `_episode_fields`' fields were kept."""
    return record.steps is None or _lacks_play(record)


def _lacks_play(record: RunRecord) -> bool:
    """Whether a record on a task with an object was made before its object's play (steps in
    hand, turns) or, on goal tasks, its final pose was kept."""
    task = entry(record.task)
    return task.has_object and (record.in_hand is None or (task.has_success and record.final_pos_error is None))


_CURVE_METRICS = ("mean_return", "success_rate", "mean_in_play_steps", "mean_turns")
"""The evaluation metrics a training record keeps as curves (those its evaluations have)."""


def _evaluated(task: str, evaluations: list[dict]) -> dict:
    """A training run's record fields from its evaluations: the curves; the return and the
    success rate of the last evaluation; on a task with an object, that evaluation's mean steps
    in hand and turns (none where it was made before turns were kept). A metric that only
    later evaluations have is None at the earlier steps (its curve is then not drawn)."""
    last = evaluations[-1]
    curve = {"steps": [float(e["steps"]) for e in evaluations],
             **{name: [None if e.get(name) is None else float(e[name]) for e in evaluations]
                for name in _CURVE_METRICS if name in last}}
    play = ({"in_hand": last["mean_in_play_steps"], "turns": last["mean_turns"]}
            if entry(task).has_object and "mean_turns" in last else {})
    pose = ({"final_pos_error": last["median_final_pos_error"], "final_rot_error": last["median_final_rot_error"]}
            if "median_final_pos_error" in last else {})
    return {"ret": curve["mean_return"][-1], "final_success": curve.get("success_rate", [None])[-1],
            "curve": curve, **play, **pose}


def _lacks_evaluation_fields(task: str, evaluation: dict) -> bool:
    """Whether a training run's evaluation was made before `evaluate_play` kept the object's
    play (or, on goal tasks, the final pose)."""
    return entry(task).has_object and ("mean_turns" not in evaluation or (
        entry(task).has_success and "median_final_pos_error" not in evaluation))


def update_records(out: str | Path, figure: FigureConfig) -> int:
    """Give the figure's records under out the fields kept since they were made, from their
    run files at hand (`_fill_from_run_files`), and run nothing: what a results directory
    needs after the code grows a field, without starting a pending run. The number of
    records updated."""
    folder = figure_dir(out, figure)
    if not (folder / MANIFEST).is_file():
        raise ResultsError(f"{folder} holds no {figure.name} results yet: run `dexterous reproduce {figure.name} "
                           f"--out {out}` first")
    return _fill_from_run_files(folder)


def _fill_from_run_files(folder: Path) -> int:
    """Give the records made before some of their fields were kept those fields, from their
    run's files where these are at hand (neither plans nor training runs are committed,
    records are) and are the recorded run. Plans: `_episode_fields`, from the recorded
    episode (the same environment, seed, return and env steps). Training on a task with an
    object: the curves, object play and final pose of `_evaluated`, from evaluations that end
    at the recorded step and return; where the last one predates what `evaluate_play` keeps,
    from that evaluation made again with the run's latest policy (`evaluated_again`: only
    where it is the evaluated policy, bit for bit)."""
    from dexterous.demos import DemoError, Demonstration
    from dexterous.rl import evaluated_again, read_evaluations

    updated = 0
    for record in read_runs(folder):
        path = folder / record.path
        if not path.exists():
            continue
        if record.kind == "plan":
            if _lacks_episode_fields(record):
                try:
                    demo = Demonstration.load(path)
                except DemoError:
                    continue  # damaged: the run that reads it names it
                if is_recorded_episode(demo, record):
                    record_run(folder, dataclasses.replace(record, **_episode_fields(demo)))
                    updated += 1
            continue
        if not entry(record.task).has_object:
            continue
        evaluations = read_evaluations(path)
        if evaluations and (evaluations[-1]["steps"], evaluations[-1]["mean_return"]) == (record.env_steps, record.ret):
            if _lacks_evaluation_fields(record.task, evaluations[-1]):
                if not _lacks_play(record):
                    continue  # filled before from its policy evaluated again, which its evaluations do not hold
                evaluations[-1] = evaluated_again(path, evaluations[-1]) or evaluations[-1]
            filled = dataclasses.replace(record, **_evaluated(record.task, evaluations))
            if filled != record:
                record_run(folder, filled)
                updated += 1
    return updated


def _restore_demonstrations(figure: FigureConfig, wave: list[RunSpec], records: dict, folder: Path,
                            nthread: int | None, progress: bool) -> bool:
    """Plan again the recorded episodes that the wave's training restarts from but whose files
    are not here (`demonstrations_to_restore`), so that no run trains from fewer
    demonstrations than its method names. Planning is deterministic, so the episode planned
    again is the recorded one; one that is not is refused, not trained from. Then index the
    plan folders: training reads its demonstrations through their index, which an episode
    planned again, or by another process since the last wave, is not in yet.

    Each episode is claimed while it is planned again (`claim`), as a run is: where another
    process holds one (it is planning it again for its own training) nothing is planned and
    False is returned, so that the caller trains later rather than from a file being written.
    """
    if not any(spec.method.demos_from for spec in wave):
        return True
    with contextlib.ExitStack() as claims:
        sources = demonstrations_to_restore(figure, wave, records, folder)
        if not all(claims.enter_context(claim(folder, source.path)) for source in sources):
            return False
        for source in sources:
            record = records[source.key]
            tqdm.write(f"{_name(source)}: its recorded episode is not in {folder / source.path}; planning it "
                       "again to train from it")
            replanned = execute(figure, source, str(folder), nthread=nthread, progress=progress)
            if (replanned.ret, replanned.env_steps) != (record.ret, record.env_steps):
                raise ResultsError(
                    f"{_name(source)} planned again gives return {replanned.ret!r} in {replanned.env_steps} env "
                    f"steps where its record has {record.ret!r} in {record.env_steps}: "
                    f"{_why_replanned_differs(record)}")
    _index_plans(figure, folder)
    return True


def _why_replanned_differs(record: RunRecord) -> str:
    """Why an episode planned again is not its record's, and what to do: another kind of
    processor where the record names one, else a changed physics or planner."""
    here = processor_kind()
    if record.processor is not None and record.processor != here:
        return (f"it was planned on {record.processor} and this machine is {here}, and planning is deterministic "
                f"on one kind of processor only (numpy's float64 exp and arccos differ in the last bit between "
                f"instruction sets); restore its episode file from where it was planned, or plan it again on "
                f"that kind of processor")
    return ("the physics or the planner changed since it was recorded; retire its runs with --retire-redefined, "
            "or restore its episode file from where it was planned")


def _check_demos_are_coming(figure: FigureConfig, specs: list[RunSpec], records: dict) -> None:
    """Refuse a selection that trains from demonstrations which neither exist nor are selected."""
    keys = {s.key for s in specs} | set(records)
    for spec in specs:
        missing = demonstrations_not_in(figure, spec, keys)
        if missing:
            source = figure.method(spec.method.demos_from)
            raise ResultsError(f"{spec.method.label} on {task_name(spec.task)} restarts from {source.label} episodes "
                               f"(seeds {missing}) that are neither finished nor selected; "
                               f"select --methods {source.slug} too, or run it first")


def _reuse_finished_episode(figure: FigureConfig, spec: RunSpec, folder: Path) -> None:
    """Copy the same finished episode from a sibling figure folder into spec.path, if one
    exists (`finished_elsewhere`), over an unfinished one there too: planning is
    deterministic, so that one is the beginning of the same episode."""
    source = finished_elsewhere(figure, spec, folder)
    if source is not None:
        target = folder / spec.path
        tqdm.write(f"{task_name(spec.task)} {spec.method.label} seed {spec.seed}: the same finished episode "
                   f"is in {source}; copying it{' over the unfinished one here' if target.exists() else ''}")
        shutil.copy2(source, target)


def _index_plans(figure: FigureConfig, folder: Path) -> None:
    """Write index.json of every planning folder with episodes: they are demonstration folders."""
    from dexterous.demos import write_index

    for task in figure.tasks:
        for method in figure.methods:
            plans = folder / plan_folder(task, method)
            if method.kind == "plan" and any(plans.glob("episode_*.npz")):
                write_index(plans)


def _run_on_ray(figure: FigureConfig, specs: Iterable[RunSpec], folder: Path, address: str | None,
                finished: Callable[[RunRecord], None]) -> None:
    from dexterous.cluster import connect_ray, run_all

    connect_ray(address)
    run_all(execute, [(figure, spec, str(folder.resolve()), 1) for spec in specs], 1, finished)
