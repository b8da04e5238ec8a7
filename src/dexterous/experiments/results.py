"""A results directory: self-describing, resumable, in open formats.

Layout (one folder per figure under the results directory)::

    <results>/<figure>/
      manifest.json       format, version, the figure's config (budget included), package
                          versions, machine, created; a rerun must match it
      runs.jsonl          one JSON object per finished run (`RunRecord`), rewritten atomically
                          under a lock, so several `reproduce` processes can share a folder
      .claims/            one lock per run being run now (`dexterous.experiments.claims`), so
                          that processes sharing a folder split its runs rather than run one twice
      plans/<task>/<method>/episode_0000.npz …   planned episodes (dexterous.demos format)
      train/<task>/<method>/seed_0/ …            training runs (dexterous.rl run directories)
      <figure>.png, <figure>.svg, videos/        made from the records by `dexterous report`
      retired/<time>/     runs of methods redefined since (`retire_redefined`), with the
                          manifest they were made under

`<task>` is the environment name without namespace and version, `<method>` the method's
slug. The records are the raw per-run results: every table and figure is recomputed from
them, never edited by hand.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import shutil
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from dexterous.contracts.configs import field_defaults
from dexterous.contracts.files import machine, versions, write_atomically
from dexterous.experiments.configs import (FigureConfig, Method, method_slug, planner_switches, switch_concerns,
                                           task_families, task_name)

FORMAT = "dexterous.experiments"
VERSION = 1
MANIFEST = "manifest.json"
RUNS = "runs.jsonl"
RETIRED = "retired"
PACKAGES = ("dexterous", "mujoco", "numpy", "gymnasium", "stable-baselines3", "torch")


class ResultsError(ValueError):
    """A results directory that cannot be used as asked; the message names it."""


@dataclass(frozen=True)
class RunRecord:
    """The outcome of one run: a planned episode or a trained policy's last evaluation."""

    task: str
    """Environment id."""
    method: str
    """Method label (the figure's legend)."""
    seed: int
    """Reset seed of the planned episode, or seed of the training run."""
    kind: str
    """plan, td3 or her."""
    ret: float
    """Planned episode: its sum of dense rewards. Training: the last evaluation's mean return."""
    final_success: float | None
    """Planned episode: 1.0 or 0.0 for its final step. HER: the last evaluation's final-step
    success rate. TD3 on PenSpin: None (no success)."""
    env_steps: int
    """Simulated environment steps the run spent (planning rollouts, or training steps)."""
    wall_s: float
    """Wall time of the run: planned episodes, the sum of their step times over resumed pieces;
    training runs, the invocation that finished them."""
    path: str
    """The run's episode file or run directory, relative to the figure folder."""
    curve: dict[str, list[float | None]] = field(default_factory=dict)
    """Training runs: "steps" and each evaluation metric their evaluations have ("mean_return",
    "success_rate", "mean_in_play_steps", "mean_turns"; None at evaluations made before one was kept)."""
    in_hand: float | None = None
    """Task with an object: the steps after which the object was in play (`object_lost`
    false), of a planned episode, or of a training run's last evaluation (its mean over
    episodes). None for other runs, for plan records made before it was kept whose episode
    file is not at hand (`reproduce` fills in those whose file is) and for training runs
    whose last evaluation predates turns."""
    turns: float | None = None
    """Task with an object: the object's turns about its body x axis (PenSpin's spin), as
    in_hand; None likewise."""
    final_pos_error: float | None = None
    """Planned episode of a goal task: the largest distance of an object from its goal
    position at the final step (m); success needs < 0.01. None for other runs and for
    records made before it was kept whose episode file is not at hand."""
    final_rot_error: float | None = None
    """Likewise the largest rotation distance from the goal orientation (rad); success needs < 0.1."""
    steps: int | None = None
    """Planned episode: the real steps it ran, fewer than the figure plans where it ended early
    (Humanoid's fall ends the episode). None for training runs and for plan records made
    before it was kept whose episode file is not at hand: those of tasks that never end
    early ran the figure's whole planning length."""
    processor: str | None = None
    """The kind of processor the run was made on (`processor_kind`: its model and numpy's
    instruction set), "A then B" where a resumed episode went on on another kind:
    planning is deterministic on one kind only. None for records made before it was kept."""

    @property
    def key(self) -> tuple[str, str, int]:
        return self.task, self.method, self.seed

    def to_json(self) -> dict[str, Any]:
        """The record as runs.jsonl holds it; the optional fields that are None are left out,
        so a version that predates one of them still reads the records that do not use it."""
        data = {k: v for k, v in asdict(self).items() if not (v is None and k in _OPTIONAL)}
        data["return"] = data.pop("ret")
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunRecord:
        data = dict(data)
        data["ret"] = data.pop("return")
        unknown = sorted(set(data) - {f.name for f in fields(cls)})
        if unknown:  # rewriting the file without them would lose them
            raise TypeError(f"fields {', '.join(unknown)} that this version of dexterous does not know: a newer "
                            f"version wrote it; upgrade dexterous to read it")
        return cls(**data)


_OPTIONAL = frozenset(f.name for f in fields(RunRecord) if f.default is None)
"""RunRecord's fields that default to None (those added since the first records)."""


def figure_dir(root: str | Path, figure: FigureConfig) -> Path:
    """The figure's folder under root, checked against its manifest where it has one; creates nothing.

    A figure may grow over its records' life: more seeds, tasks or methods (e.g. TOPDM+
    beside the paper's planners), and new wording of its title or of the paper's numbers.
    Anything that changes what a recorded run did (the budget, the metrics, a recorded
    method's definition, a recorded task's planning length) is refused by name. A planner
    redefined only on task families where the figure holds no record of it (TOPDM+'s
    per-family switches) changes no recorded run, so it is accepted.
    """
    return _checked_figure_dir(root, figure)[0]


def open_figure_dir(root: str | Path, figure: FigureConfig) -> Path:
    """The figure's folder under root (see `figure_dir`), created with its manifest, or its
    manifest rewritten to the figure's config when the figure has grown."""
    folder, config, manifest = _checked_figure_dir(root, figure)
    if manifest is None:
        folder.mkdir(parents=True, exist_ok=True)
        manifest = {"format": FORMAT, "version": VERSION, "figure": figure.name, "config": config,
                    "versions": versions(PACKAGES), "machine": machine(), "created": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    elif with_added_fields(manifest["config"]) == config:
        return folder
    write_atomically(folder / MANIFEST, json.dumps({**manifest, "config": config}, indent=1, ensure_ascii=False) + "\n")
    return folder


def _checked_figure_dir(root: str | Path, figure: FigureConfig) -> tuple[Path, dict[str, Any], dict[str, Any] | None]:
    """(folder, the figure's config as JSON holds it, the folder's manifest or None), after
    refusing a folder whose records the figure would no longer describe (see `figure_dir`)."""
    folder = Path(root) / figure.name
    config = _as_stored(figure)
    if not (folder / MANIFEST).exists():
        return folder, config, None
    manifest = read_manifest(folder)
    stored = with_added_fields(manifest["config"])
    differ = _changes_to_records(stored, config, read_runs(folder))
    if differ:
        hint = ("--retire-redefined to move the redefined methods' runs aside and run them again, or "
                if differ[0].startswith("methods") and len(differ) == 1 else "")
        raise ResultsError(f"{folder} holds {figure.name} results made with other settings "
                           f"({', '.join(differ)} differ, e.g. budget {stored['budget']['name']!r}); "
                           f"use {hint}another --out directory")
    return folder, config, manifest


def _as_stored(figure: FigureConfig) -> dict[str, Any]:
    """The figure's config as a manifest holds it (tuples become lists, as on disk)."""
    return json.loads(json.dumps(figure.to_json()))


def _changes_to_records(stored: dict[str, Any], config: dict[str, Any], records: list[RunRecord]) -> list[str]:
    """The settings in which config would no longer describe the runs recorded under stored."""
    differ = [k for k in ("budget", "metrics") if stored[k] != config[k]]
    methods = {m["label"]: m for m in config["methods"]}
    redefined = [m["label"] for m in stored["methods"]
                 if _redefined(m, methods.get(m["label"]), {r.task for r in records if r.method == m["label"]})]
    if redefined:
        differ.append(f"methods {', '.join(redefined)}")
    if not set(stored["tasks"]) <= set(config["tasks"]):
        differ.append("tasks")
    if any(stored["plan_steps"].get(t) != config["plan_steps"].get(t) for t in stored["tasks"]):
        differ.append("plan_steps")
    if (config["seeds"] or config["budget"]["seeds"]) < (stored["seeds"] or stored["budget"]["seeds"]):
        differ.append("seeds")
    return sorted(differ)


def retire_redefined(root: str | Path, figure: FigureConfig) -> list[RunRecord]:
    """Move out of figure's folder under root what its methods no longer describe, and
    return the records moved.

    A (task, method) is redefined where `_redefined` says so for that task, or where its
    runs were trained from a redefined method's demonstrations on it. Its records, its
    plans and training runs (partial ones included: they were made under the old
    definition) go to <figure>/retired/<time>/ with the manifest they were made under;
    nothing is deleted. Other changes (budget, metrics, plan_steps, seeds) are not retired:
    `figure_dir` still refuses them.
    """
    folder = Path(root) / figure.name
    if not (folder / MANIFEST).exists():
        return []
    manifest = read_manifest(folder)
    stored = with_added_fields(manifest["config"])
    methods = {m["label"]: m for m in _as_stored(figure)["methods"]}
    stale = {(task, m["label"]) for m in stored["methods"] for task in stored["tasks"]
             if _redefined(m, methods.get(m["label"]), {task})}
    stale |= {(task, m.label) for m in figure.methods if m.demos_from for task in stored["tasks"]
              if (task, m.demos_from) in stale}
    files = {(task, label): [Path(kind) / task_name(task) / method_slug(label) for kind in ("plans", "train")
                             if (folder / kind / task_name(task) / method_slug(label)).exists()]
             for task, label in stale}
    if not any(files.values()) and not any((r.task, r.method) in stale for r in read_runs(folder)):
        return []  # redefined only where nothing was run yet: nothing to move
    retired_dir = folder / RETIRED / time.strftime("%Y%m%dT%H%M%S")
    retired_dir.mkdir(parents=True)
    with _runs_locked(folder):
        records = read_runs(folder)
        retired = [r for r in records if (r.task, r.method) in stale]
        write_runs(retired_dir, retired)
        write_runs(folder, [r for r in records if (r.task, r.method) not in stale])
    write_atomically(retired_dir / MANIFEST, json.dumps(manifest, indent=1, ensure_ascii=False) + "\n")
    for path in (path for paths in files.values() for path in paths):
        (retired_dir / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.move(folder / path, retired_dir / path)
    return retired


def read_retired(folder: str | Path) -> dict[str, list[RunRecord]]:
    """The records of each retired/<time>/ of a figure folder (`retire_redefined`), oldest first."""
    retired = Path(folder) / RETIRED
    return {p.name: read_runs(p) for p in sorted(retired.iterdir()) if (p / RUNS).exists()} if retired.is_dir() else {}


def _redefined(stored: dict[str, Any], method: dict[str, Any] | None, recorded: set[str]) -> bool:
    """Whether method (None: gone from the figure) no longer describes stored's runs on the
    recorded tasks: any change but of per-family switches ("family:field") of families
    none of those tasks belongs to."""
    if method is None or {k: v for k, v in stored.items() if k != "switches"} != {
            k: v for k, v in method.items() if k != "switches"}:
        return True
    changed = {key for key, _ in {tuple(p) for p in stored["switches"] or ()} ^ {tuple(p) for p in method["switches"] or ()}}
    families = task_families(recorded)
    return any(switch_concerns(key, families) for key in changed)


def with_added_fields(config: dict[str, Any]) -> dict[str, Any]:
    """A manifest's figure config with the FigureConfig and Method fields added since it was
    written (e.g. plan_steps, paper_fraction) at their defaults: the defaults are what that
    older version ran."""
    grown = {**field_defaults(FigureConfig), **config}
    families = task_families(grown["tasks"])
    grown["methods"] = [_with_switches({**field_defaults(Method), **method}, families) for method in grown["methods"]]
    return grown


def _with_switches(method: dict[str, Any], families: set[str]) -> dict[str, Any]:
    """A manifest's method with its planner switches, which manifests before them did not keep:
    today's switches (on the figure's task families), as no planner had been redefined when
    they were added."""
    if method["kind"] == "plan" and method["switches"] is None:
        method["switches"] = json.loads(json.dumps(planner_switches(method["planner"], families)))
    return method


def read_manifest(folder: str | Path) -> dict[str, Any]:
    """A figure folder's manifest; one from another format version is refused by name."""
    path = Path(folder) / MANIFEST
    try:
        manifest = json.loads(path.read_text())
    except FileNotFoundError:
        raise ResultsError(f"{folder} is not a figure folder of `dexterous reproduce` (no {MANIFEST})") from None
    except json.JSONDecodeError as err:
        raise ResultsError(f"{path} is corrupted ({err})") from None
    if manifest.get("format") != FORMAT:
        raise ResultsError(f"{path} is not a dexterous results manifest")
    if manifest.get("version") != VERSION:
        raise ResultsError(f"{path} has results format version {manifest.get('version')!r}, this dexterous "
                           f"reads version {VERSION}: rerun `dexterous reproduce` into a new directory")
    return manifest


def read_runs(folder: str | Path) -> list[RunRecord]:
    """The finished runs of a figure folder (none yet: an empty list)."""
    path = Path(folder) / RUNS
    if not path.exists():
        return []
    records = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():  # a blank line, e.g. one left at the end by an editor, holds no run
            continue
        try:
            records.append(RunRecord.from_json(json.loads(line)))
        except (json.JSONDecodeError, TypeError, KeyError) as err:
            raise ResultsError(f"{path} line {number} is not a run record ({err})") from None
    return records


def write_runs(folder: str | Path, records: list[RunRecord]) -> None:
    """Replace runs.jsonl with records (sorted by task, method, seed), atomically."""
    lines = [json.dumps(r.to_json(), ensure_ascii=False) for r in sorted(records, key=lambda r: r.key)]
    write_atomically(Path(folder) / RUNS, "".join(line + "\n" for line in lines))


def record_run(folder: str | Path, record: RunRecord) -> list[RunRecord]:
    """Add record to runs.jsonl (replacing a record of the same run) and return every record.

    The file is re-read under an exclusive lock first: two `reproduce` processes sharing a
    figure folder (e.g. one per task with --tasks) would otherwise each write back only the
    records they knew of and drop the other's.
    """
    with _runs_locked(folder):
        records = {r.key: r for r in read_runs(folder)}
        records[record.key] = record
        write_runs(folder, list(records.values()))
    return list(records.values())


@contextlib.contextmanager
def _runs_locked(folder: str | Path) -> Iterator[None]:
    """Hold the figure folder's exclusive lock on runs.jsonl (see `record_run`)."""
    with open(Path(folder) / ".runs.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def figure_dirs(root: str | Path) -> list[Path]:
    """Every figure folder under a results directory, in the order of FIGURES."""
    from dexterous.experiments.configs import FIGURES

    root = Path(root)
    if not root.is_dir():
        raise ResultsError(f"results directory {root} does not exist")
    found = [root / name for name in FIGURES if (root / name / MANIFEST).exists()]
    if not found:
        raise ResultsError(f"{root} holds no figure folders (run `dexterous reproduce FIGURE --out {root}` first)")
    return found


