"""A figure's runs, and the planner or training config each one uses at the figure's budget.

A run is a task, a method and a seed (`RunSpec`); `runs_of` lists a figure's runs seed by
seed, `select` narrows them to named tasks and methods, and `planner_config` and
`train_config` give what a run plans or trains with. `runner` executes them; `summary` and
`plots` read the same configs to describe what ran.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dexterous.experiments.configs import FigureConfig, Method, task_name

if TYPE_CHECKING:
    from dexterous.planning import TOPDMConfig
    from dexterous.rl import OffPolicyConfig


@dataclass(frozen=True)
class RunSpec:
    """One run of a figure: a task, a method and a seed."""

    task: str
    method: Method
    seed: int

    @property
    def key(self) -> tuple[str, str, int]:
        return self.task, self.method.label, self.seed

    @property
    def path(self) -> str:
        """Where the run's files live, relative to the figure folder."""
        if self.method.kind == "plan":
            return f"{plan_folder(self.task, self.method)}/episode_{self.seed:04d}.npz"
        return f"train/{task_name(self.task)}/{self.method.slug}/seed_{self.seed}"


def plan_folder(task: str, method: Method) -> str:
    """The demonstration folder of a planning method on a task, relative to the figure folder."""
    return f"plans/{task_name(task)}/{method.slug}"


def demonstrations_not_in(figure: FigureConfig, spec: RunSpec, keys: Iterable[tuple]) -> list[int]:
    """The seeds of the planned episodes that spec's training restarts from whose run keys
    are not among keys (none for a run without demo restarts)."""
    if spec.method.demos_from is None:
        return []
    keys = set(keys)
    return [seed for seed in range(figure.n_seeds) if (spec.task, spec.method.demos_from, seed) not in keys]


def runs_of(figure: FigureConfig) -> list[RunSpec]:
    """Every run of the figure, seed by seed: a partial run then covers every task and method."""
    return [RunSpec(task, method, seed) for seed in range(figure.n_seeds) for task in figure.tasks
            for method in figure.methods]


def select(figure: FigureConfig, specs: list[RunSpec], tasks: Sequence[str] | None = None,
           methods: Sequence[str] | None = None) -> list[RunSpec]:
    """The specs of the named tasks (names or ids) and methods (labels or slugs); None keeps all.

    A name the figure does not have is refused with the names it has, so a typo never
    silently selects nothing.
    """
    def resolve(asked: Sequence[str] | None, known: dict[str, str], what: str) -> set[str] | None:
        if asked is None:
            return None
        unknown = [a for a in asked if a not in known]
        if unknown:
            names = sorted(set(known) - set(known.values()) or known)
            raise ValueError(f"{figure.name} has no {what} {', '.join(map(repr, unknown))}; "
                             f"choose from {', '.join(names)}")
        return {known[a] for a in asked}

    task_ids = resolve(tasks, {**{t: t for t in figure.tasks}, **{task_name(t): t for t in figure.tasks}}, "task")
    labels = resolve(methods, {**{m.label: m.label for m in figure.methods},
                               **{m.slug: m.label for m in figure.methods}}, "method")
    return [s for s in specs
            if (task_ids is None or s.task in task_ids) and (labels is None or s.method.label in labels)]


def planner_config(figure: FigureConfig, spec: RunSpec) -> TOPDMConfig:
    """The planner of a plan run: the method's variant at the budget's preset, with the N·Ni of
    its `paper_fraction` where it has one (`with_budget`), planning the figure's `plan_steps` for the task
    where it sets them (the same Ni per step, so a shorter episode costs proportionally
    fewer env steps)."""
    from dexterous.planning import preset, with_budget

    config = preset(figure.budget.planner_preset, spec.task, spec.method.planner, kappa=spec.method.kappa)
    if spec.method.paper_fraction is not None and figure.budget.planner_preset != "smoke":
        paper = preset("paper", spec.task)
        config = with_budget(config, spec.method.paper_fraction * paper.n_samples * paper.iterations)
    if spec.task in figure.plan_steps:
        config = dataclasses.replace(config, episode_length=figure.plan_steps[spec.task])
    return config


def paper_env_steps_per_step(figure: FigureConfig, spec: RunSpec) -> float:
    """The env steps per real step that the paper's own budget (SPEC §4) schedules for a plan
    run's task over the steps the figure plans, nominal: what a figure's budget is a share of."""
    from dexterous.planning import preset

    steps = planner_config(figure, spec).episode_length
    return dataclasses.replace(preset("paper", spec.task), episode_length=steps).nominal_env_steps() / steps


def episode_key(figure: FigureConfig, spec: RunSpec) -> tuple:
    """What makes two plan runs the same episode, in any figure: the environment, the reset
    seed, the planner and its config. Planning is deterministic, so runs with equal keys plan
    the same episode bit for bit."""
    return spec.task, spec.seed, spec.method.planner, planner_config(figure, spec)


def reports_success(figure: FigureConfig, task: str) -> bool:
    """Whether a run of task records its final-step success: the figure reports it and the task has one."""
    from dexterous.catalog import entry

    return "final_success" in figure.metrics and entry(task).has_success


def train_config(figure: FigureConfig, spec: RunSpec, folder: Path) -> OffPolicyConfig:
    """The training config of a td3 or her run at the figure's budget."""
    from dexterous.rl import HERConfig, TD3Config

    method, overrides = spec.method, dict(figure.budget.train_overrides)
    if method.kind == "td3":
        demos = None
        if method.demos_from is not None:
            demos = str((folder / plan_folder(spec.task, figure.method(method.demos_from))).resolve())
        return TD3Config(env_id=spec.task, steps=figure.budget.td3_steps, seed=spec.seed, beta=method.beta,
                         demos=demos, **overrides, **dict(method.train_switches))
    return HERConfig(env_id=spec.task, steps=figure.budget.her_steps, seed=spec.seed,
                     variant=method.her_variant, **overrides)
