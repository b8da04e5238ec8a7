"""Planner configurations: TOPDM, its fig. 4 ablations down to MPPI, and named presets.

One frozen dataclass covers the whole family, because the paper's ablation (fig. 4) walks
from MPPI to TOPDM one switch at a time:

    "mppi"    weighted-average selection, no carry-over, dense noise (fn = 1)
    "mod1"    top-fraction selection,     no carry-over, dense noise
    "mod1+2"  top-fraction selection,     carry-over,    dense noise
    "topdm"   top-fraction selection,     carry-over,    sparse noise (fn = 0.3)

and one step past the paper, ours: "topdm+" (TOPDM+), TOPDM whose score stops paying
once the object is out of play, which stops simulating such rollouts, whose noise is
coloured along the horizon, and which scores only the steps inside the episode; on
PenSpin it instead keeps its plan and its elites, plans past the episode's end and spends
the same iterations at every step (see `TOPDMConfig`'s TOPDM+ fields and FAMILY_SWITCHES).

Every variant keeps the base config's budget, iteration schedule included, so MPPI gets
TOPDM's sampling budget at every real step (SPEC §4: "same sampling budget (N, Ni per
step)") and the comparison is at equal cost step by step. `variant` applies those switches
to any base config; `preset` picks the budgets for an
environment: the paper's ("paper"), a CPU-sized one ("cpu"), or a tiny one for tests
("smoke").
"""

from __future__ import annotations

import dataclasses
import math
import typing
from dataclasses import dataclass
from typing import Any, Literal

from dexterous.catalog import entry
from dexterous.contracts.configs import check_choice, check_flag, check_number, field_defaults
from dexterous.planning.schedule import decreasing_iterations

Selection = Literal["top_fraction", "weighted_average"]
Schedule = Literal["decreasing", "constant"]
SELECTIONS: tuple[str, ...] = ("top_fraction", "weighted_average")
SCHEDULES: tuple[str, ...] = ("decreasing", "constant")


@dataclass(frozen=True)
class TOPDMConfig:
    """Everything that defines a TOPDM / MPPI planner; defaults are the paper's (SPEC §4)."""

    horizon: int = 20
    """τ: steps in each planned action sequence."""
    n_samples: int = 1000
    """N: action sequences evaluated per iteration."""
    top_fraction: float = 0.05
    """fb: fraction of the N sequences kept and tiled back to N (top-fraction selection)."""
    iterations: int = 20
    """Ni: iterations per real step; the decreasing schedule spends ≈ Ni·T per episode."""
    sigma_init: float = 0.9
    """σi: std of the fresh means (every slot at t = 0, the new last slot after a shift)."""
    sigma_noise: float = 0.3
    """σn: std of the noise added to means at each iteration."""
    noise_fraction: float = 0.3
    """fn: probability that a mean entry gets noise at an iteration; 1 is dense noise."""
    beta: float = 0.7
    """β: action coupling a_s = β·μ_s + (1−β)·a_{s−1}; 1 executes the means directly."""
    episode_length: int = 75
    """T: real steps planned per episode (the MPC driver stops there, or at the
    environment's own end if that comes first) and the T of the decreasing schedule."""
    return_weight: float = 1.0
    """w: the score weighs the reward of planned step j by w^j (Humanoid: 1.02)."""
    schedule: Schedule = "decreasing"
    """"decreasing" (Ni(t) from ≈2.5·Ni down to Ni//2, SPEC §4) or "constant" (Ni)."""
    selection: Selection = "top_fraction"
    """"top_fraction" (TOPDM) or "weighted_average" (MPPI, with kappa)."""
    kappa: float = 20.0
    """κ: MPPI temperature on normalised scores (paper: 1 and 20); weighted_average only."""
    carry_over: bool = True
    """Start each real step from the previous best plan shifted by one step (TOPDM),
    instead of from scratch (MPPI, "mod1")."""
    lost_object: bool = False
    """TOPDM+: a rollout's rewards and success bonuses count 0 from the step at which its
    task reports the object out of play (`object_lost`: dropped, fallen past the hand), so
    the score never pays for a throw that leaves the hand. The executed reward is untouched."""
    lost_penalty: float = 0.0
    """TOPDM+ with lost_object: subtracted from the score for each planned step with the
    object out of play, so that of two losing rollouts the one that keeps it longer wins."""
    rest_weight: float = 0.0
    """TOPDM+: subtracted from the score per planned step, times the object's distance (m)
    from its rest position in the hand while in play (PenSpin; 0 for tasks without one)."""
    early_out: bool = False
    """TOPDM+ with lost_object: stop simulating a rollout after the step at which it lost its
    object or its episode ended; env_steps then counts only the steps simulated."""
    noise_exponent: float = 0.0
    """TOPDM+: power-law exponent of the noise along the horizon (iCEM's coloured noise,
    Pinneri et al. 2020): 0 is the paper's white noise, 2 smooth, low-frequency noise. When
    positive, fn picks whole action channels of a sample to perturb over the horizon."""
    plan_to_end: bool = False
    """TOPDM+: score and simulate only the planned steps that fall inside the episode (before
    episode_length). The paper's TOPDM scores all τ steps to the end, past the episode's last
    step too, so in its last τ steps it may prefer a plan that reaches the goal after the
    step at which success is measured, and it simulates steps that never happen."""
    keep_plan: bool = False
    """TOPDM+ (with carry_over): the first iteration of a real step scores the carried-over
    plan itself in place of one of its N noisy copies. The paper's TOPDM perturbs every
    sample, so when all the copies are worse the plan it executes is worse than the one it
    had (an object held at the goal, or a pen held in the hand, is then let go). Costs no
    extra env steps."""
    elite_memory: bool = False
    """TOPDM+ (top-fraction selection only): a (μ + λ) search: each iteration picks its
    elites from its own samples and the previous iteration's elites (their scores
    remembered, as rollouts are deterministic), so an elite stays until a sample beats it.
    Costs no extra env steps."""
    rescue_iterations: int = 0
    """TOPDM+ with lost_object: at a real step whose best sequence still loses the object
    within the horizon after the schedule's iterations, up to this many more iterations,
    stopping at the first that keeps it in play. A schedule spreads its iterations by time,
    not by need, and a step at which the object is about to be lost is where more search
    pays. The extra env steps are counted like any others. 0: never (the paper's)."""
    spend_budget: bool = False
    """TOPDM+: after the schedule's iterations, iterate on while one more whole iteration
    (N·τ env steps) still fits in the step's nominal budget Ni(t)·N·τ, so the env steps that
    early_out and plan_to_end save are spent on more search instead of left unused. The
    step then simulates between its nominal budget less one iteration and the nominal
    budget, and is compared with the paper's TOPDM at equal env steps. Off: the paper's."""
    samples_per_iteration: float | None = None
    """How a preset or a figure's budget divides a step's N·Ni between samples and
    iterations. None, the paper's way: N stays the preset's and the budget sets Ni. A number
    r: N : Ni = r at the same N·Ni (see `with_budget`). The planner itself never reads it."""

    def __post_init__(self) -> None:
        for name in ("horizon", "n_samples", "iterations", "episode_length"):
            check_number(name, getattr(self, name), 1, integer=True)
        check_number("top_fraction", self.top_fraction, 0.0, 1.0, low_open=True)
        check_number("sigma_init", self.sigma_init, 0.0, math.inf, high_open=True)
        check_number("sigma_noise", self.sigma_noise, 0.0, math.inf, high_open=True)
        check_number("noise_fraction", self.noise_fraction, 0.0, 1.0, low_open=True)
        check_number("beta", self.beta, 0.0, 1.0, low_open=True)
        check_number("return_weight", self.return_weight, 0.0, math.inf, low_open=True, high_open=True)
        check_number("kappa", self.kappa, 0.0, math.inf, low_open=True, high_open=True)
        check_choice("schedule", self.schedule, SCHEDULES)
        check_choice("selection", self.selection, SELECTIONS)
        for name in ("carry_over", "lost_object", "early_out", "keep_plan", "elite_memory", "plan_to_end",
                     "spend_budget"):
            check_flag(name, getattr(self, name))
        check_number("lost_penalty", self.lost_penalty, 0.0, math.inf, high_open=True)
        check_number("rest_weight", self.rest_weight, 0.0, math.inf, high_open=True)
        check_number("noise_exponent", self.noise_exponent, 0.0, 4.0)
        check_number("rescue_iterations", self.rescue_iterations, 0, integer=True)
        if self.samples_per_iteration is not None:
            check_number("samples_per_iteration", self.samples_per_iteration, 0.0, math.inf,
                         low_open=True, high_open=True)
        if self.elite_memory and self.selection != "top_fraction":
            raise ValueError("elite_memory needs selection='top_fraction': the weighted average keeps no elites")
        if (self.early_out or self.lost_penalty) and not self.lost_object:
            raise ValueError("early_out and lost_penalty need lost_object=True: without it a stopped or lost "
                             "rollout's rewards would still be scored")
        if self.rescue_iterations and not self.lost_object:
            raise ValueError("rescue_iterations needs lost_object=True: it searches on while the best sequence "
                             "loses the object, which only the lost-object objective sees")

    @property
    def needs_play(self) -> bool:
        """Whether the score reads the evaluator's lost and offsets (the TOPDM+ objective)."""
        return self.lost_object or self.rest_weight > 0

    @property
    def n_elites(self) -> int:
        """How many sequences the top-fraction selection keeps: round(fb·N), at least 1."""
        return max(1, round(self.top_fraction * self.n_samples))

    def iterations_at(self, t: int) -> int:
        """Iterations to run at real step t under this config's schedule."""
        if self.schedule == "constant":
            return self.iterations
        return decreasing_iterations(t, self.iterations, self.episode_length)

    def nominal_env_steps(self, first: int = 0) -> int:
        """Env steps the schedule budgets from real step `first` to the episode's end, Ni(t)·N·τ
        summed: what an episode costs before early-out saves any."""
        return sum(self.iterations_at(t) for t in range(first, self.episode_length)) * self.n_samples * self.horizon


def recorded_config(config: dict[str, Any] | None) -> dict[str, Any] | None:
    """A config as a file recorded it, with the fields added since at their defaults.

    Every field added to TOPDMConfig is a switch that is off by default, so the default is
    what the version that wrote the file ran: an episode or plan run of an older version
    still compares equal to the same config today (and resumes, or is reused).
    """
    if config is None:
        return None
    return {**field_defaults(TOPDMConfig), **config}


# --- fig. 4 ablation variants --------------------------------------------------------------

VARIANTS: dict[str, dict[str, Any]] = {
    "topdm": {},
    "mod1+2": {"noise_fraction": 1.0},
    "mod1": {"noise_fraction": 1.0, "carry_over": False},
    "mppi": {"noise_fraction": 1.0, "carry_over": False, "selection": "weighted_average"},
    "topdm+": {"lost_object": True, "lost_penalty": 5.0, "rest_weight": 20.0, "early_out": True,
               "noise_exponent": 2.0, "plan_to_end": True},
}
"""Switches each planner sets on a TOPDM config; budgets and σ, β stay shared. The first
four are the paper's fig. 4; "topdm+" is ours (not the paper's): TOPDM with the
lost-object objective, early-out, coloured noise and a horizon that stops at the episode's
end, its values chosen by measurement (README, docs/RESULTS.md); FAMILY_SWITCHES adds to
them per task family."""

FAMILY_SWITCHES: dict[str, dict[str, dict[str, Any]]] = {
    "topdm+": {"pen_spin": {"keep_plan": True, "elite_memory": True, "plan_to_end": False,
                            "schedule": "constant", "samples_per_iteration": 50.0},
               "one_hand_manipulate": {"noise_exponent": 0.0}},
}
"""What a planner sets on one family's tasks over its VARIANTS switches. TOPDM+ on PenSpin
keeps its plan and its elites: the only screening that held the pen for 250 steps, where
without them the pen was dropped at step 35 (PenSpin seed 0); on EggHandOver seed 0 the
same two kept the egg from being reached, so the two-hand tasks go without. PenSpin has no
final step at which success is measured, so planning past its end (plan_to_end off) only
keeps the last steps from trading the pen for reward. Spinning is the same task at every
step, so TOPDM+ spends its iterations evenly there (the constant schedule, the same ≈ Ni·T
in all): under the paper's decreasing one (at the cpu preset 9 iterations at step 0, 1 from
step 110) the spin faded along the episode, 1.16 reward per step in steps 1–50 and −0.18
in steps 201–250 (seed 0). On the one-hand HandManipulate tasks TOPDM+ keeps the paper's
white noise: a reached goal pose is held by small corrections at single steps, which coloured
noise, moving whole stretches of the plan, does not make. With it HandManipulateBlockFull seed 0
touched the goal at 8 of 75 steps and missed it at the last (return 32.55); with white noise
it held it from step 25 to the end (47 steps, return 47.72; paper TOPDM 47.17). On
PenSpin TOPDM+ divides its budget between samples and iterations as the paper's PenSpin
config does, N : Ni = 4,000 : 80 = 50 (N 400 × Ni 8 at 1/100 of the paper's budget): at
that budget, seed 1's first 60 steps, it earned 1.20 reward per step, against 0.38 with
N 100 × Ni 32 and 1.05 with N 300 × Ni 10, the pen in the hand at all 60 steps each time."""


def with_budget(config: TOPDMConfig, samples_x_iterations: float) -> TOPDMConfig:
    """config planning with N·Ni ≈ samples_x_iterations per real step: Ni for its N or,
    where it sets samples_per_iteration r, N = r·Ni with Ni = √(N·Ni / r) rounded (at least 1
    each), so that a larger budget buys both more samples and more iterations."""
    ratio = config.samples_per_iteration
    if ratio is None:
        return dataclasses.replace(config, iterations=max(1, round(samples_x_iterations / config.n_samples)))
    iterations = max(1, round(math.sqrt(samples_x_iterations / ratio)))
    return dataclasses.replace(config, iterations=iterations,
                               n_samples=max(1, round(samples_x_iterations / iterations)))


def planner_definition(planner: str) -> dict[str, Any]:
    """Everything planner sets, as one flat, JSON-friendly record of its definition: its
    VARIANTS switches by name, and its FAMILY_SWITCHES as "family:field"."""
    switches = dict(VARIANTS[planner])
    for family, extra in FAMILY_SWITCHES.get(planner, {}).items():
        switches.update({f"{family}:{name}": value for name, value in extra.items()})
    return switches


PlannerName = Literal["topdm", "mppi", "topdm+"]
PLANNERS: tuple[str, ...] = typing.get_args(PlannerName)
"""What `dexterous plan` offers: the paper's two planners and ours, TOPDM+."""


def variant(name: str, base: TOPDMConfig | None = None, kappa: float | None = None,
            family: str | None = None) -> TOPDMConfig:
    """The planner `name` with base's budgets (SPEC defaults when base is None), with its
    FAMILY_SWITCHES for the task family `family` where it has them.

    kappa sets MPPI's temperature; the other variants have none, so passing it is an error.
    """
    if name not in VARIANTS:
        raise ValueError(f"planner must be one of {', '.join(map(repr, VARIANTS))}, got {name!r}")
    switches = {**VARIANTS[name], **FAMILY_SWITCHES.get(name, {}).get(family, {})}
    if kappa is not None:
        if name != "mppi":
            raise ValueError(f"kappa only applies to planner 'mppi', got planner {name!r}")
        switches["kappa"] = kappa
    return dataclasses.replace(base or TOPDMConfig(), **switches)


# --- per-environment presets ---------------------------------------------------------------

CPU_EPISODE_SECONDS = 600.0
"""Wall-clock target of the "cpu" preset for planning one episode."""
CPU_SAMPLES = 100
"""N of the "cpu" preset: fb = 0.05 still keeps 5 elites."""
SMOKE_BUDGET: dict[str, int] = {"n_samples": 8, "horizon": 5, "iterations": 2}
"""The "smoke" preset's budget: enough to exercise every code path in a test."""


@dataclass(frozen=True)
class _Family:
    """What a group of environments changes from the defaults, and how fast it simulates."""

    paper: dict[str, Any]
    env_steps_per_s: float
    """Batched env steps per second on the 2-core reference machine."""


# Batched rates on the 2-core reference machine: two hands ~92% of their 1,850 env steps/s
# physics limit (DESIGN.md); one hand from benchmarks/results/rollout_throughput.json
# (BatchEvaluator, N 1000, τ 20). Humanoid: BatchEvaluator, N 1000, τ 40, 2 threads,
# measured once at 4,264 env steps/s (9.4 s, load average ~3 from other jobs; RK4 makes an
# env step 5 × 4 force evaluations, and its post-constraint forces cost ~20 µs per rollout
# and step, ~9% of that).
_TWO_HANDS_RATE = 1700.0

_FAMILIES: dict[str, _Family] = {
    "two_hands": _Family({}, _TWO_HANDS_RATE),
    "two_egg_catch": _Family({"n_samples": 2000, "iterations": 80}, _TWO_HANDS_RATE),
    "pen_spin": _Family({"n_samples": 4000, "iterations": 80, "episode_length": 250}, 2850.0),
    "one_hand_manipulate": _Family({}, 3150.0),
    "humanoid": _Family(
        {
            "horizon": 40,
            "n_samples": 1020,
            "iterations": 40,
            "schedule": "constant",
            "return_weight": 1.02,
            "episode_length": 1000,
        },
        4250.0,
    ),
}

PresetName = Literal["paper", "cpu", "smoke"]
PRESETS: tuple[str, ...] = typing.get_args(PresetName)


def preset(
    name: str, env_id: str, planner: str = "topdm", kappa: float | None = None
) -> TOPDMConfig:
    """The config of planner (see `VARIANTS` and `FAMILY_SWITCHES`) on env_id at budget name.

    - "paper": SPEC §4's values: τ 20, N 1000, Ni 20, T 75 by default; TwoEggCatchUnderArm
      N 2000, Ni 80; PenSpin N 4000, Ni 80, T 250; Humanoid τ 40, N 1020, Ni 40 constant,
      w 1.02, T 1000.
    - "cpu": the paper's config with N = CPU_SAMPLES and the largest Ni whose episode fits
      CPU_EPISODE_SECONDS at the family's batched rate. An episode costs ≈ Ni·T·N·τ env
      steps (the schedule keeps ≈ Ni·T iterations), so Ni = ⌊600 s · rate / (T·τ·N)⌋:
      two hands (1,700 env steps/s) ⌊600·1700 / (75·20·100)⌋ = 6 (≈ 9 min);
      HandManipulate*Full (3,150/s) 12; PenSpin (2,850/s, T 250) 3. Humanoid (4,250/s,
      T 1000, τ 40) gets the floor of 1 iteration: ⌊0.64⌋ → 1, ≈ 16 min an episode.
    - "smoke": the paper's config with N 8, τ 5, Ni 2, for tests.
    """
    if name not in PRESETS:
        raise ValueError(f"preset must be one of {', '.join(map(repr, PRESETS))}, got {name!r}")
    family_name = entry(env_id).family
    family = _FAMILIES[family_name]
    config = TOPDMConfig(**family.paper)
    if name == "cpu":
        episode_steps = CPU_EPISODE_SECONDS * family.env_steps_per_s
        per_iteration_steps = config.episode_length * config.horizon * CPU_SAMPLES
        config = dataclasses.replace(
            config,
            n_samples=CPU_SAMPLES,
            iterations=max(1, int(episode_steps // per_iteration_steps)),
        )
    elif name == "smoke":
        return variant(planner, dataclasses.replace(config, **SMOKE_BUDGET), kappa, family_name)
    config = variant(planner, config, kappa, family_name)
    return with_budget(config, config.n_samples * config.iterations)  # re-split where the variant says how
