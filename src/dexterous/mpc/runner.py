"""`dexterous plan`: several planned episodes, in parallel on Ray, resumable, with progress.

Episode k uses reset seed `seed + k` and is written to `episode_{k:04d}.npz` after every
real step, and the folder's index.json is rewritten whenever an episode finishes. Rerunning
the same command skips finished episodes and resumes unfinished ones from their last step.
Episodes run as Ray tasks, the cores shared out between them: an embedded local Ray by
default, or an existing cluster at `address`, whose nodes write the episode files
themselves, so `out` must then be a folder every node shares (NFS or the like). Workers
report each step through a Ray queue, so one coordinator draws every progress bar.
"""

from __future__ import annotations

import dataclasses
import json
import re
import time
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Callable
from typing import Any

import numpy as np
from tqdm import tqdm

import dexterous
from dexterous.cluster import connect_ray, run_all
from dexterous.contracts.files import check_settings, write_atomically
from dexterous.demos.folder import episode_path, read_index, write_index
from dexterous.demos.format import DemoError, Demonstration
from dexterous.mpc.driver import StepReport, check_plannable, check_same_run, plan_episode
from dexterous.planning.configs import recorded_config
from dexterous.planning.runs import PlanRun
from dexterous.progress import progress_bar

RUN_FILE = "plan.json"


@dataclass(frozen=True)
class PlanSummary:
    """What a finished `dexterous plan` reports."""

    episodes: int
    success_rate: float | None
    """Fraction of episodes whose final step is a success; None for tasks without a success (PenSpin)."""
    mean_return: float
    """Mean sum of rewards per episode."""
    env_steps: int
    """Simulated environment steps spent planning, all episodes."""
    wall_seconds: float
    """Wall time of this invocation."""

    def __str__(self) -> str:
        success = "" if self.success_rate is None else f"final-step success {self.success_rate:.0%}, "
        return (f"{self.episodes} episodes: {success}mean return "
                f"{self.mean_return:.3f}, {self.env_steps:,} env steps, {self.wall_seconds:.1f} s")


def _episode_task(run: PlanRun, episode: int, out: str, threads: int | None, sink: Callable[[tuple], Any]) -> int:
    """One episode, in a Ray worker or in process; sink receives a progress tuple per step."""
    def report(r: StepReport) -> None:
        sink((episode, r.step, r.total, r.postfix()))

    plan_episode(run.env_id, run.config(), run.seed + episode, episode_path(Path(out), episode),
                 planner_name=run.planner, nthread=threads, progress=report)
    return episode


def _run_record(run: PlanRun, env_id: str) -> dict[str, Any]:
    """What plan.json keeps of a run (env_id: the full id): the settings that decide its episodes."""
    record = {**dataclasses.asdict(run), "env_id": env_id, "config": dataclasses.asdict(run.config())}
    for name in ("episodes", "threads", "steps"):  # steps: the config's episode_length says it
        record.pop(name)
    return record


def run_plan(run: PlanRun, out: str | Path, address: str | None = None, use_ray: bool | None = None,
             progress: bool = True) -> PlanSummary:
    """Plan every unfinished episode of `run` into `out`; returns the summary of all of them."""
    start = time.perf_counter()
    out = Path(out)
    env = dexterous.make(run.env_id)
    check_plannable(env)
    record = _run_record(run, env.spec.id)  # settings are checked before out is made: a refusal leaves nothing
    out.mkdir(parents=True, exist_ok=True)
    check_settings(out, RUN_FILE, record, "a plan run", "use another --out folder", error=DemoError,
                   as_today=lambda found: {**found, "config": recorded_config(found.get("config"))},
                   damaged=f"delete it to plan into {out} with these settings, or use another --out folder")
    finished_before = _finished_episodes(out, run)  # before plan.json is written: a stranger claims nothing
    if not (out / RUN_FILE).exists():
        write_atomically(out / RUN_FILE, json.dumps(record, indent=1) + "\n")
    pending = [k for k in range(run.episodes) if k not in finished_before]
    if use_ray is None:
        use_ray = address is not None or len(pending) > 1
    bars: dict[int, tqdm] = {}

    def update(item: tuple) -> None:
        episode, step, total, postfix = item
        bar = bars.get(episode)
        if bar is None:  # made at the first report, which comes after a step: its rate is unknown
            bar = bars[episode] = progress_bar(total=total, initial=step, desc=f"episode {episode}", unit="step",
                                               postfix=postfix, position=len(bars), disable=not progress,
                                               leave=True)
        bar.set_postfix(postfix, refresh=False)
        bar.update(step - bar.n)

    def finished(episode: int) -> None:
        if not episode_path(out, episode).exists():
            raise DemoError(f"episode {episode} finished on a Ray worker, but {episode_path(out, episode)} is not "
                            f"here: the cluster's nodes must share the --out folder {out} (NFS or the like)")
        write_index(out, changed={episode_path(out, episode).name})

    if pending and use_ray:
        _run_on_ray(run, out, pending, address, update, finished)
    else:
        for k in pending:
            finished(_episode_task(run, k, str(out), run.threads or None, update))
    for bar in bars.values():
        bar.close()
    write_index(out, changed=())
    names = {episode_path(out, k).name for k in range(run.episodes)}
    entries = [e for e in read_index(out) if e["file"] in names]
    return PlanSummary(
        episodes=len(entries),
        success_rate=(float(np.mean([e["final_success"] for e in entries]))
                      if env.unwrapped.has_success else None),
        mean_return=float(np.mean([e["return"] for e in entries])),
        env_steps=sum(e["env_steps"] for e in entries),
        wall_seconds=time.perf_counter() - start,
    )


def _finished_episodes(out: Path, run: PlanRun) -> set[int]:
    """The numbers of the folder's finished episodes, after checking every episode file against run.

    A finished file is taken as this run's result and an unfinished one is resumed, so a
    stranger (another planner or config, or seed 1's episode renamed episode 0) is
    refused by name rather than reported as this run's.
    """
    config, finished = run.config(), set()
    for path in sorted(out.glob("episode_*.npz")):
        number = re.fullmatch(r"episode_(\d+)\.npz", path.name)
        if number is None:
            raise DemoError(f"{path} is not named as an episode of a plan run (episode_NNNN.npz); "
                            f"move it out of {out}")
        demo = Demonstration.load(path)
        check_same_run(demo, path, run.env_id, run.seed + int(number[1]), config, run.planner)
        if demo.complete:
            finished.add(int(number[1]))
    return finished


def threads_per_episode(requested: int, episodes: int, cluster_cpus: int, node_cpus: int) -> int:
    """Physics threads (and Ray CPUs) per episode: as asked, else the cluster's cores shared out
    between the episodes; never more than one node has, where a task could never be placed."""
    if requested > node_cpus:
        raise ValueError(f"--threads {requested} is more than the largest Ray node's {node_cpus} CPUs; "
                         f"use --threads {node_cpus} or fewer")
    return requested or max(1, min(node_cpus, cluster_cpus // episodes))


def _run_on_ray(run: PlanRun, out: Path, pending: list[int], address: str | None, update,
                finished: Callable[[int], None]) -> None:
    import ray
    from ray.util.queue import Empty, Queue

    connect_ray(address)
    node_cpus = int(max(node["Resources"].get("CPU", 0) for node in ray.nodes() if node["Alive"]))
    threads = threads_per_episode(run.threads, len(pending), int(ray.cluster_resources().get("CPU", 1)), node_cpus)
    queue = Queue()

    def drain() -> None:
        while True:
            try:
                update(queue.get_nowait())
            except Empty:
                return

    run_all(_episode_task, [(run, k, str(out.resolve()), threads, queue.put) for k in pending], threads, finished,
            poll=drain)
