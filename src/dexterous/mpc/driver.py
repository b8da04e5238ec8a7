"""The MPC driver: plan each real step, execute it, record a resumable Demonstration.

The driver owns the episode (reset, real steps, the warm start between them); the planner
owns the optimisation; the BatchEvaluator owns physics (mbrl-lib / mujoco_mpc split).
After every real step the episode file is rewritten atomically with the new step, the
environment's exact state and the planner's random state, so an interrupted episode
resumes where it stopped and finishes exactly as an uninterrupted run would.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import gymnasium
import numpy as np

import dexterous
from dexterous.catalog import canonical_id, entry
from dexterous.contracts.files import machine, processor_kind, versions
from dexterous.demos.format import DemoError, Demonstration
from dexterous.demos.replay import flat_observation
from dexterous.planning.configs import TOPDMConfig, recorded_config
from dexterous.planning.planner import Planner, PlanStep
from dexterous.sim.batch import BatchEvaluator

PACKAGES = ("dexterous", "mujoco", "numpy", "gymnasium")


class StepReport(NamedTuple):
    """What the progress callback hears after each real step."""

    step: int
    """Real steps done so far."""
    total: int
    """Real steps in the episode."""
    plan: PlanStep
    """The plan that was executed."""
    reward: float
    """Reward the environment paid."""
    success: bool
    """Success after the step."""
    successful_steps: int | None
    """Steps so far (this one included) that ended in success; None for a task without a success
    measure (PenSpin), whose count would read as a failure."""
    env_steps_per_s: float
    """Simulated env steps per wall-clock second while planning this step."""

    def postfix(self) -> dict[str, str]:
        """The progress bar's fields: best score, successful steps where success exists, speed."""
        fields = {"best": f"{self.plan.score:.2f}"}
        if self.successful_steps is not None:
            fields["success_steps"] = f"{self.successful_steps}/{self.step}"
        return fields | {"env_steps_s": f"{self.env_steps_per_s:,.0f}"}


def check_plannable(env: gymnasium.Env) -> None:
    """Refuse a Sparse twin: the planners' score is its dense twin's reward plus a success bonus."""
    if not env.unwrapped.dense_reward:
        dense = entry(env.spec.id).dense_id
        raise ValueError(f"{env.spec.id} pays a sparse reward, but TOPDM and MPPI score rollouts by the dense "
                         f"reward plus 1 per successful step (SPEC §4): plan {dense} instead")


def _meta(config: TOPDMConfig, planner_name: str) -> dict[str, Any]:
    here = machine()
    return {"planner": planner_name, "config": dataclasses.asdict(config), "versions": versions(PACKAGES), "machine": here,
            "processor_kinds": [here["processor_kind"]], "complete": False, "step_seconds": [], "env_steps": 0,
            "planner_rng": None}


def _note_processor_kind(meta: dict[str, Any]) -> None:
    """Add this processor's kind to those that planned the episode's steps, where a resumed
    episode goes on on another kind (a file that predates the list keeps not having one:
    who planned its first steps is not known)."""
    kinds, here = meta.get("processor_kinds"), processor_kind()
    if kinds is not None and here not in kinds:
        kinds.append(here)


def plan_episode(env_id: str, config: TOPDMConfig, seed: int, path: str | Path, planner_name: str = "topdm",
                 nthread: int | None = None, max_steps: int | None = None,
                 progress: Callable[[StepReport], None] | None = None) -> Demonstration:
    """Plan one episode into `path`, resuming it if the file holds an unfinished one.

    The episode ends after config.episode_length steps (at most the environment's
    episode_steps; a shorter planning length, such as the original's 50 steps on the
    two-hand tasks, records its final-step success there) or at the step where it
    terminates (Humanoid: a fall), which is then its last recorded step. max_steps
    stops after that many real steps in total (the file then holds an
    unfinished episode that a later call resumes); None runs to the episode's end.
    """
    path = Path(path)
    env = dexterous.make(env_id)
    check_plannable(env)
    unwrapped = env.unwrapped
    evaluator = BatchEvaluator(env, nthread=nthread)
    planner = Planner(config)
    obs, _ = env.reset(seed=seed)
    if path.exists():
        demo = Demonstration.load(path)
        check_same_run(demo, path, env_id, seed, config, planner_name)
        if demo.complete:
            return demo
        _note_processor_kind(demo.meta)
        unwrapped.restore(demo.snapshot(demo.num_steps))
        rng = np.random.default_rng()
        rng.bit_generator.state = demo.meta["planner_rng"]
        planner.resume(rng, demo.means[-1] if demo.means else None)
    else:
        demo = Demonstration(env_id=unwrapped.env_id, seed=seed, goal=unwrapped.goal.copy(),
                             action_size=env.action_space.shape[0],
                             meta=_meta(config, planner_name))
        demo.states.append(unwrapped.snapshot().state)
        demo.observations.append(flat_observation(obs))
        demo.rng_states.append(unwrapped.snapshot().rng_state)
        planner.reset(np.random.default_rng(seed))
    total = min(unwrapped.episode_steps, config.episode_length)
    stop = total if max_steps is None else min(total, max_steps)
    for t in range(demo.num_steps, stop):
        start = time.perf_counter()
        plan = planner.plan(evaluator, unwrapped.snapshot(), t, unwrapped.prev_action)
        obs, reward, terminated, _, info = env.step(plan.action)
        seconds = time.perf_counter() - start
        snap = unwrapped.snapshot()
        demo.states.append(snap.state)
        demo.observations.append(flat_observation(obs))
        demo.rng_states.append(snap.rng_state)
        demo.actions.append(np.array(plan.action))
        demo.means.append(plan.means)
        demo.rewards.append(float(reward))
        demo.successes.append(bool(info["is_success"]))
        demo.predicted_returns.append(float(plan.score))
        demo.meta["step_seconds"].append(seconds)
        demo.meta["env_steps"] += plan.env_steps
        demo.meta["planner_rng"] = planner.rng_state
        demo.meta["complete"] = terminated or t + 1 == total
        demo.save(path)
        if progress is not None:
            successful_steps = int(sum(demo.successes)) if unwrapped.has_success else None
            progress(StepReport(t + 1, total, plan, float(reward), bool(info["is_success"]), successful_steps,
                                plan.env_steps / seconds))
        if terminated:
            break
    return demo


def run_differences(demo: Demonstration, env_id: str, seed: int, config: TOPDMConfig,
                    planner_name: str) -> list[str]:
    """The settings ("name=value as found") in which demo's episode differs from the one asked for.

    Empty means the same episode: planning is deterministic, so a finished one can be reused.
    """
    expected = {"env_id": canonical_id(env_id), "seed": seed, "planner": planner_name,
                "config": dataclasses.asdict(config)}
    found = {"env_id": demo.env_id, "seed": demo.seed, "planner": demo.meta.get("planner"),
             "config": recorded_config(demo.meta.get("config"))}
    return [f"{k}={found[k]!r}" for k in expected if expected[k] != found[k]]


def check_same_run(demo: Demonstration, path: Path, env_id: str, seed: int, config: TOPDMConfig,
                   planner_name: str) -> None:
    """Refuse a file that another environment, seed, planner or config started: resuming it,
    or reusing it once finished, would pass another episode off as this one."""
    diff = run_differences(demo, env_id, seed, config, planner_name)
    if diff:
        raise DemoError(f"{path} was started with other settings ({', '.join(diff)}); "
                        "use another --out folder or delete the file to start over")
