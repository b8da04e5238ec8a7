"""The paper's experiments as frozen configs: one `FigureConfig` per figure, at a budget.

A figure is a set of tasks × methods × seeds. A method either plans episodes (TOPDM,
MPPI, the fig. 4 ablations) or trains a policy (TD3, TD3 + demo restarts, HER). A
`Budget` scales everything together: the planners' preset (samples and iterations), the
seeds, and the training steps; `paper` is the paper's (SPEC §4–§5), `cpu` fits the 2-core
reference machine in hours, `smoke` runs every code path in seconds.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from collections.abc import Collection
from typing import Any, Literal

from dexterous.catalog import entry
from dexterous.contracts.configs import check_number
from dexterous.planning.configs import PRESETS, VARIANTS, planner_definition
from dexterous.rl.configs import IN_PLAY, TD3Config

MethodKind = Literal["plan", "td3", "her"]


def method_slug(label: str) -> str:
    """File-system name of a method: its label in lower case, symbols spelled out."""
    text = label.lower().replace("κ", "kappa").replace("β", "beta").replace("+", "plus")
    return re.sub(r"[^a-z0-9.]+", "_", text).strip("_")


@dataclass(frozen=True)
class Method:
    """One line of a figure's legend."""

    label: str
    """Legend name, as the paper writes it (e.g. "MPPI κ=20")."""
    kind: MethodKind
    """plan (an MPC planner), td3 (TD3, optionally with demo restarts) or her (DDPG + HER)."""
    planner: str = "topdm"
    """plan: the fig. 4 variant (topdm, mod1+2, mod1, mppi)."""
    kappa: float | None = None
    """plan with mppi: the temperature κ."""
    beta: float = 0.7
    """td3: action coupling β."""
    demos_from: str | None = None
    """td3: label of this figure's planning method whose episodes on the same task are the
    demonstrations to restart from; None trains plain TD3."""
    her_variant: str = "new"
    """her: "original" (random action probability 0.3) or "new" (0)."""
    shown: bool = True
    """False for a method run only to feed another (demonstrations), left out of tables."""
    paper_fraction: float | None = None
    """plan: env steps per real step as this fraction of the paper preset's (N·τ·Ni), reached
    by setting Ni at the budget preset's N and τ (the efficiency figure's budgets); None
    keeps the preset's Ni. The smoke budget keeps its own Ni, so tests stay seconds long."""
    switches: tuple[tuple[str, Any], ...] | None = None
    """plan: the planner's switches (`planning.configs.planner_definition`: VARIANTS and
    FAMILY_SWITCHES) as the records were made; None takes today's. A figure keeps those
    that act on its tasks, and manifests keep them, so that a planner redefined later
    (TOPDM+ is ours and may improve) is never mixed with records of its earlier definition,
    while a change on other tasks leaves a figure's records alone."""

    train_switches: tuple[tuple[str, Any], ...] = ()
    """td3: training config fields this method sets over the paper's defaults (ours, e.g. the
    in-play reward `rl.configs.IN_PLAY`), as (field, value) pairs; () is the paper's TD3."""

    @property
    def slug(self) -> str:
        """File-system name of the method (`method_slug`)."""
        return method_slug(self.label)

    def __post_init__(self) -> None:
        if self.kind not in ("plan", "td3", "her"):
            raise ValueError(f"method kind must be plan, td3 or her, got {self.kind!r}")
        if self.kind == "plan" and self.planner not in VARIANTS:
            raise ValueError(f"planner must be one of {sorted(VARIANTS)}, got {self.planner!r}")
        if self.paper_fraction is not None and not 0 < self.paper_fraction <= 1:
            raise ValueError(f"paper_fraction must be in (0, 1], got {self.paper_fraction!r}")
        if self.kind == "plan":
            switches = planner_switches(self.planner) if self.switches is None else self.switches
            object.__setattr__(self, "switches", tuple(tuple(pair) for pair in switches))
        object.__setattr__(self, "train_switches", tuple(tuple(pair) for pair in self.train_switches))
        if self.train_switches:
            fields = {f.name for f in dataclasses.fields(TD3Config)}
            unknown = sorted(name for name, _ in self.train_switches if name not in fields)
            if self.kind != "td3" or unknown:
                raise ValueError(f"{self.label}: train_switches set TD3 config fields of td3 methods only, got "
                                 f"kind {self.kind!r} and unknown fields: {', '.join(unknown) or 'none'}")


def planner_switches(planner: str, families: Collection[str] | None = None) -> tuple[tuple[str, Any], ...]:
    """The switches planner sets on its base config today, in name order: its own, and its
    per-family ones ("family:field") of the task families given (None: of every family)."""
    return tuple(sorted(pair for pair in planner_definition(planner).items() if switch_concerns(pair[0], families)))


def switch_concerns(switch: str, families: Collection[str] | None) -> bool:
    """Whether a switch ("field", or "family:field") acts on tasks of these families."""
    return families is None or ":" not in switch or switch.split(":")[0] in families


def task_families(tasks: Collection[str]) -> set[str]:
    """The planning families of env ids."""
    return {entry(task).family for task in tasks}


@dataclass(frozen=True)
class Budget:
    """How much of everything a figure spends."""

    name: str
    """smoke, cpu or paper."""
    planner_preset: str
    """Preset of `dexterous.planning.preset` for every planning method."""
    seeds: int
    """Planned episodes (reset seeds 0..K−1) and training runs (seeds 0..K−1) per task and method."""
    td3_steps: int
    """Environment steps of each TD3 run."""
    her_steps: int
    """Environment steps of each HER run."""
    train_overrides: tuple[tuple[str, Any], ...] = ()
    """Training config fields replaced at this budget (smoke: tiny networks, few evaluations)."""

    def __post_init__(self) -> None:
        if self.planner_preset not in PRESETS:
            raise ValueError(f"planner_preset must be one of {PRESETS}, got {self.planner_preset!r}")
        if self.seeds < 1:
            raise ValueError(f"seeds must be ≥ 1, got {self.seeds}")


BUDGETS: dict[str, Budget] = {
    "smoke": Budget("smoke", "smoke", seeds=1, td3_steps=160, her_steps=160, train_overrides=(
        ("learning_starts", 80), ("batch_size", 16), ("hidden", (16, 16)), ("buffer_size", 1000),
        ("eval_every", 80), ("eval_episodes", 1), ("checkpoint_every", 80), ("log_every", 40))),
    "cpu": Budget("cpu", "cpu", seeds=5, td3_steps=200_000, her_steps=100_000),
    "paper": Budget("paper", "paper", seeds=10, td3_steps=10_000_000, her_steps=1_000_000),
}
"""smoke: seconds per run (HER needs learning_starts past one 75-step episode). cpu: the
planners' cpu preset (~10 min per episode on 2 cores), 5 seeds, 200k TD3 and 100k HER
steps (2% and 10% of the paper's). paper: SPEC §4–§5, with
10 runs per method as the paper's PenSpin curves (the paper does not state its episode
counts for the planners; 10 is ours)."""


@dataclass(frozen=True)
class FigureConfig:
    """Everything that defines one figure of the paper at one budget."""

    name: str
    """fig2, fig3, fig4, fig5, appB, appC, planners (the planners' comparison of SPEC §4 on
    three tasks, which no single figure of the paper holds) or efficiency (paper TOPDM vs our
    TOPDM+ per budget)."""
    title: str
    """What the figure shows, as a caption."""
    tasks: tuple[str, ...]
    """Environment ids, in the figure's order."""
    methods: tuple[Method, ...]
    """Methods, in the legend's order."""
    budget: Budget
    """Samples, iterations, seeds and training steps."""
    seeds: int = 0
    """Seeds per task and method; 0 takes the budget's."""
    metrics: tuple[str, ...] = ("final_success", "return")
    """What the figure's table and bars report per method."""
    paper: dict[str, str] = field(default_factory=dict)
    """The paper's reported result per "task|method" (SPEC §6), quoted in reports."""
    plan_steps: dict[str, int] = field(default_factory=dict)
    """Real steps planned per episode, by env id, where the figure plans fewer than the
    environment's episode; final-step success is then measured at that step. The original
    planned its two-hand trajectories for 50 steps (its generator's default, never
    overridden for them) and measured their success at step 50, so fig. 3 and fig. 4 plan
    those tasks for 50 of their 75 steps to compare like with like. Tasks not listed plan
    their whole episode."""

    def __post_init__(self) -> None:
        labels = [m.label for m in self.methods]
        if len(set(labels)) != len(labels):
            raise ValueError(f"{self.name}: method labels must be unique, got {labels}")
        for task, steps in self.plan_steps.items():
            if task not in self.tasks:
                raise ValueError(f"{self.name}: plan_steps names {task!r}, which is not a task of the figure")
            if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
                raise ValueError(f"{self.name}: plan_steps of {task} must be an integer ≥ 1, got {steps!r}")
        families = task_families(self.tasks)  # a figure records only the switches that act on its tasks
        object.__setattr__(self, "methods", tuple(
            dataclasses.replace(m, switches=tuple(p for p in m.switches if switch_concerns(p[0], families)))
            if m.kind == "plan" else m for m in self.methods))
        for method in self.methods:
            if method.demos_from is not None and method.demos_from not in labels:
                raise ValueError(f"{self.name}: {method.label} restarts from {method.demos_from!r}, "
                                 "which is not a method of the figure")

    @property
    def n_seeds(self) -> int:
        return self.seeds or self.budget.seeds

    def method(self, label: str) -> Method:
        return next(m for m in self.methods if m.label == label)

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def task_name(env_id: str) -> str:
    """"dexterous/EggHandOver-v1" → "EggHandOver": a task's name in folders and tables."""
    return re.sub(r"-v\d+$", "", env_id.rsplit("/", 1)[-1])


def counted(n: int, noun: str) -> str:
    """"1 seed", "5 seeds", "10 episodes": a count and its noun, for titles and reports."""
    return f"{n} {noun}{'s' if n != 1 else ''}"


TOPDM = Method("TOPDM", "plan", "topdm")
MPPI_1 = Method("MPPI κ=1", "plan", "mppi", kappa=1.0)
MPPI_20 = Method("MPPI κ=20", "plan", "mppi", kappa=20.0)
TOPDM_PLUS = Method("TOPDM+", "plan", "topdm+")
TD3_PLUS = Method("TD3 + TOPDM+ demos, in-play reward", "td3", demos_from="TOPDM+",
                  train_switches=tuple(IN_PLAY.items()))
"""Ours: TD3 restarting from TOPDM+'s episodes, trained on the in-play reward (evaluated on the paper's)."""
HER = Method("HER", "her", her_variant="original")
HER_NEW = Method("HER new", "her", her_variant="new")

_SINGLE_HAND = ("dexterous/HandManipulateBlockFull-v1", "dexterous/HandManipulatePenFull-v1")
_TWO_HANDS = ("dexterous/EggHandOver-v1", "dexterous/BlockHandOver-v1", "dexterous/PenHandOver-v1",
              "dexterous/EggCatchUnderarm-v1", "dexterous/EggCatchOverarm-v1", "dexterous/TwoEggCatchUnderArm-v1")
_PEN_SPIN = ("dexterous/PenSpin-v1",)
ORIGINAL_TWO_HAND_STEPS = 50
"""Steps the original planned (and scored) its two-hand trajectories for: its trajectory
generator's default episode length, which its two-hand runs never overrode."""


def _two_hand_plan_steps(tasks: tuple[str, ...]) -> dict[str, int]:
    """plan_steps that plan the two-hand tasks among tasks for the original's 50 steps."""
    return {task: ORIGINAL_TWO_HAND_STEPS for task in tasks if task in _TWO_HANDS}

_DEMOS = Method("TOPDM", "plan", "topdm")
_EFFICIENCY_TASKS = ("dexterous/EggHandOver-v1", "dexterous/HandManipulatePenFull-v1", "dexterous/PenSpin-v1")
_TOPDM_PAPER = {
    "dexterous/HandManipulateBlockFull-v1|TOPDM": "≈100% success",
    "dexterous/HandManipulatePenFull-v1|TOPDM": "≈83% success",
    **{f"{task}|{m}": "≤15% success" for task in _SINGLE_HAND for m in ("MPPI κ=1", "MPPI κ=20", "HER", "HER new")},
}

_FIGURES: dict[str, dict[str, Any]] = {
    "fig2": dict(
        title="Single-hand HandManipulate*Full: TOPDM vs MPPI (κ 1, 20) vs HER (original, new)",
        tasks=_SINGLE_HAND, methods=(TOPDM, MPPI_1, MPPI_20, HER, HER_NEW), paper=_TOPDM_PAPER),
    "fig3": dict(
        title="Two-hand tasks, planned for 50 steps as the original: TOPDM vs MPPI κ=20 vs HER new, and our TOPDM+",
        tasks=_TWO_HANDS, methods=(TOPDM, MPPI_20, HER_NEW, TOPDM_PLUS), plan_steps=_two_hand_plan_steps(_TWO_HANDS),
        paper={**{f"{t}|TOPDM": "≈100% success at step 50" for t in _TWO_HANDS if "Pen" not in t and "Two" not in t},
               "dexterous/PenHandOver-v1|TOPDM": "≈80% success at step 50",
               "dexterous/TwoEggCatchUnderArm-v1|TOPDM": "≈60% success at step 50",
               **{f"{t}|HER new": "≈0% success" for t in _TWO_HANDS},
               **{f"{t}|MPPI κ=20": "reasonable attempts, lacks precision" for t in _TWO_HANDS}}),
    "fig4": dict(
        title="Ablations from MPPI to TOPDM: mod 1 (top fraction), mod 1+2 (+ carry-over), TOPDM (+ sparse noise); "
              "two-hand tasks planned for 50 steps as the original",
        tasks=("dexterous/HandManipulatePenFull-v1", "dexterous/EggCatchUnderarm-v1", "dexterous/EggHandOver-v1"),
        methods=(MPPI_20, Method("mod 1", "plan", "mod1"), Method("mod 1+2", "plan", "mod1+2"), TOPDM),
        plan_steps=_two_hand_plan_steps(("dexterous/EggCatchUnderarm-v1", "dexterous/EggHandOver-v1")),
        paper={"dexterous/HandManipulatePenFull-v1|TOPDM": "≈83% success"}),
    "fig5": dict(
        title="PenSpin: TOPDM, MPPI, TD3 and TD3 + demo restarts (return per 250 steps), and ours: TOPDM+, "
              "and TD3 restarting from it on the in-play reward",
        tasks=_PEN_SPIN,
        methods=(TOPDM, MPPI_20, Method("TD3", "td3"), Method("TD3 + demos", "td3", demos_from="TOPDM"),
                 TOPDM_PLUS, TD3_PLUS),
        metrics=("return",),
        paper={"dexterous/PenSpin-v1|TD3 + demos": "median of 10 runs far above TOPDM, TD3 and MPPI"}),
    "appB": dict(
        title="PenSpin, TD3 + demo restarts: action coupling β = 0.7 vs β = 1.0 (per run)",
        tasks=_PEN_SPIN,
        methods=(dataclasses.replace(_DEMOS, shown=False),
                 Method("TD3 + demos β=0.7", "td3", beta=0.7, demos_from="TOPDM"),
                 Method("TD3 + demos β=1.0", "td3", beta=1.0, demos_from="TOPDM")),
        metrics=("return",),
        paper={"dexterous/PenSpin-v1|TD3 + demos β=0.7": "8/10 runs learn",
               "dexterous/PenSpin-v1|TD3 + demos β=1.0": "1/10 runs learn"}),
    "appC": dict(
        title="Humanoid (gymnasium MuJoCo): TOPDM with τ 40, return weights 1.02^j, rewards after a fall dropped",
        tasks=("dexterous/Humanoid-v1",), methods=(TOPDM,), metrics=("return",),
        paper={"dexterous/Humanoid-v1|TOPDM": "return > 15,000 over 1000 steps (> 15 per step)"}),
    "planners": dict(
        title="TOPDM vs MPPI κ=20 vs MPPI κ=1 at equal budget (env steps per real step), and our TOPDM+",
        tasks=("dexterous/EggHandOver-v1", "dexterous/HandManipulateBlockFull-v1", "dexterous/PenSpin-v1"),
        methods=(TOPDM, MPPI_20, MPPI_1, TOPDM_PLUS),
        paper={"dexterous/EggHandOver-v1|TOPDM": "≈100% success",
               "dexterous/EggHandOver-v1|MPPI κ=20": "reasonable attempts, lacks precision",
               **{k: v for k, v in _TOPDM_PAPER.items() if k.startswith("dexterous/HandManipulateBlockFull")
                  and "HER" not in k}}),
    "efficiency": dict(
        title="Paper TOPDM vs our TOPDM+ at 1/100 and 1/33 of the paper's env steps per real step "
              "(PenSpin: its first 100 steps)",
        tasks=_EFFICIENCY_TASKS,
        methods=tuple(Method(f"{m.label} 1/{d}", "plan", m.planner, paper_fraction=1 / d)
                      for d in (100, 33) for m in (TOPDM, TOPDM_PLUS)),
        plan_steps={"dexterous/PenSpin-v1": 100},
        paper={"dexterous/EggHandOver-v1|TOPDM 1/33": "≈100% success at the paper's budget (1/1)",
               "dexterous/HandManipulatePenFull-v1|TOPDM 1/33": "≈83% success at the paper's budget (1/1)"}),
}
FIGURES: tuple[str, ...] = tuple(_FIGURES)


def figure_config(name: str, budget: str = "cpu", seeds: int | None = None) -> FigureConfig:
    """The config of figure `name` at budget `budget`, optionally with another seed count."""
    if name not in _FIGURES:
        raise ValueError(f"unknown figure {name!r}; choose one of {', '.join(FIGURES)}")
    if budget not in BUDGETS:
        raise ValueError(f"unknown budget {budget!r}; choose one of {', '.join(BUDGETS)}")
    if seeds is not None:
        check_number("seeds", seeds, 1, integer=True)
    return FigureConfig(name=name, budget=BUDGETS[budget], seeds=seeds or 0, **_FIGURES[name])


FigureName = Literal[FIGURES]  # type: ignore[valid-type]  # the figures above, for flags and checks
BudgetName = Literal[tuple(BUDGETS)]  # type: ignore[valid-type]


@dataclass(frozen=True)
class ReproduceRun:
    """One `dexterous reproduce` invocation: which runs of which figure (its flags are these
    fields; where they run is the command's own options)."""

    figure: FigureName
    """Which figure of the paper."""
    budget: BudgetName = "cpu"
    """smoke (seconds), cpu (hours on 2 cores), paper (the paper's budgets)."""
    seeds: int | None = None
    """Seeds per task and method (default: the budget's); more extends a figure's records."""
    tasks: tuple[str, ...] | None = None
    """Only these tasks, comma-separated, e.g. EggHandOver,PenSpin (default: all)."""
    methods: tuple[str, ...] | None = None
    """Only these methods, comma-separated labels or slugs, e.g. topdm,mppi_kappa_1 (default: all)."""
    max_runs: int | None = None
    """Stop after this many runs finish (rerun to go on)."""
    threads: int = 0
    """With --no-ray: physics threads per run (0: all cores), e.g. 1 per process when several
    processes share the machine."""
    retire_redefined: bool = False
    """Before running: move the runs of methods redefined since they were recorded (e.g.
    TOPDM+ changed on one task family), their files and the runs trained from their
    demonstrations, into FIGURE/retired/TIME/, so they are run again under today's definition."""

    def __post_init__(self) -> None:
        for name in ("seeds", "max_runs"):
            if getattr(self, name) is not None:
                check_number(name, getattr(self, name), 1, integer=True)
        check_number("threads", self.threads, 0, integer=True)

    def figure_config(self) -> FigureConfig:
        return figure_config(self.figure, self.budget, seeds=self.seeds)
