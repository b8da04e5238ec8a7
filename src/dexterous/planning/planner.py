"""TOPDM and MPPI: one sampling-based trajectory optimiser, configured by `TOPDMConfig`.

TOPDM is Algorithm 1 of Charlesworth & Montana, "Solving Challenging Dexterous
Manipulation Tasks With Trajectory Optimisation and Reinforcement Learning", ICML 2021
(arXiv 2009.05104), as its experiments ran it (SPEC §4). Per real step t:

1. Population μ (N, τ, A): every sample is the previous step's plan shifted by one step,
   with a fresh N(0, σi) last slot; at t = 0 (or without carry-over) μ ~ clip(N(0, σi)).
2. For each of Ni(t) iterations: add N(0, σn) noise to each entry of μ with probability fn
   and clip; couple a_s = clip(β·μ_s + (1−β)·a_{s−1}) from the last executed action;
   evaluate all N sequences from the snapshot; score = Σ_j w^j·r_j + 1 per successful
   step; remember the best-ever (score, μ); select the next population (top fraction
   tiled back to N for TOPDM, the exponentially weighted mean for MPPI).
3. The plan is the best-ever μ (TOPDM) or the last weighted mean (MPPI); the action to
   execute is its first coupled action, and the plan is carried to the next step.

TOPDM+ is this loop with further switches, each off in the paper's planners: a score that
stops paying once the task's object is out of play (with a penalty per lost step and one
for the object's distance from its rest pose), rollouts stopped once lost (early-out),
coloured noise along the horizon, the carried plan scored itself beside its noisy copies,
a (μ + λ) selection that keeps earlier elites until beaten, and a horizon that stops at the
episode's end (see `configs.TOPDMConfig` and `noise`).

The MPPI baseline and the fig. 4 ablations in between are this same loop with switches
(see `configs.variant`); the selection rule lives in `selection`, the score in `scoring`,
the coupling in `coupling`, the iteration count in `schedule`.

Deliberate deviations from the paper's code:
- the fresh last slot after a shift is drawn independently for each sample and clipped
  like every other mean;
- NaN (and any non-finite) scores count as −inf, so a diverged rollout never wins or
  gets weight; if every rollout of a step diverges, the plan is an arbitrary evaluated
  one and its score is −inf, which the caller can see;
- the iteration schedule never drops below one iteration (see `schedule`);
- MPPI scores rollouts like TOPDM (success bonus included), so that the selection rule
  is the only difference inside an iteration; its weighted mean is never rolled out, so
  its `PlanStep` predictions describe its best sample (see `PlanStep`).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from dexterous.planning.configs import TOPDMConfig
from dexterous.planning.coupling import couple
from dexterous.planning.noise import coloured_noise, spectrum_scales
from dexterous.planning.scoring import objective_scores, score_rollouts, step_weights
from dexterous.planning.selection import elite_tiling, exponential_weights
from dexterous.contracts.protocol import EvalResult, Evaluator


Bound = float | np.ndarray
"""An action bound: (A,) per dimension, or one float when the same for every dimension."""


def _bound(values: Any) -> Bound:
    """values (A,) as a float when uniform: numpy clips against a scalar several times faster."""
    values = np.asarray(values, dtype=np.float64)
    return float(values[0]) if np.all(values == values[0]) else values


class PlanStep(NamedTuple):
    """The outcome of planning one real step; τ horizon, A action size, I iterations.

    action: (A,) what to execute now: the first coupled action of the plan.
    means: (τ, A) the plan's means μ (TOPDM: best-ever sequence; MPPI: final weighted mean).
    actions: (τ, A) the plan's coupled actions from the given previous action.
    predicted_rewards: (τ,) rewards of the best sequence evaluated in this step (with
        plan_to_end, of its steps inside the episode: fewer near its end). For
        top-fraction selection that sequence is the plan, so these are the rewards the
        environment will pay if it follows `actions`; MPPI's weighted mean is never
        rolled out, so for it they describe its best sample, not its plan.
    predicted_successes: (τ,) success flags of that same sequence.
    score: that sequence's score (−inf if every evaluated rollout diverged).
    best_scores: (I,) best-ever score after each iteration; never decreases.
    iterations: I, the iterations run at this step: the schedule's Ni(t), and any rescue
        iterations (TOPDM+'s rescue_iterations) or iterations that spend the env steps
        early-out saved (spend_budget) after them.
    env_steps: environment steps simulated at this step: I·N·τ, fewer with early_out or
        plan_to_end.
    """

    action: np.ndarray
    means: np.ndarray
    actions: np.ndarray
    predicted_rewards: np.ndarray
    predicted_successes: np.ndarray
    score: float
    best_scores: np.ndarray
    iterations: int
    env_steps: int


class _Best:
    """The best-ever evaluated sequence of one planning step."""

    def __init__(self) -> None:
        self.score = -np.inf
        self.means: np.ndarray | None = None
        self.result: tuple[np.ndarray, np.ndarray] | None = None
        self.loses = False
        """Whether the best sequence loses the object within the horizon (False where the
        evaluator was not asked for the object's play)."""

    def update(
        self,
        scores: np.ndarray,
        means: np.ndarray,
        rewards: np.ndarray,
        successes: np.ndarray,
        lost: np.ndarray | None,
    ) -> None:
        """Adopt this iteration's top sample if it beats (or is the first seen)."""
        top = int(np.argmax(scores))
        if self.means is None or scores[top] > self.score:
            self.score = float(scores[top])
            self.means = means[top].copy()
            self.result = (rewards[top].copy(), successes[top].copy())
            self.loses = lost is not None and bool(np.asarray(lost[top], dtype=bool).any())


class Planner:
    """Model-predictive TOPDM / MPPI over any `Evaluator` (see the module docstring).

    Holds the warm start between real steps and reuses its (N, τ, A) work arrays across
    iterations and steps, so its own cost stays small next to the evaluator's. The
    evaluator must not keep the actions array it is given past the call.
    """

    def __init__(self, config: TOPDMConfig) -> None:
        self.config = config
        self._weights = step_weights(config.horizon, config.return_weight)
        self._spectrum = spectrum_scales(config.horizon, config.noise_exponent)
        self._rng: np.random.Generator | None = None
        self._plan: np.ndarray | None = None
        self._arrays: dict[str, np.ndarray] = {}
        self._memory: tuple[np.ndarray, np.ndarray] | None = None
        """elite_memory: this real step's elite sequences and their scores, best first."""

    def reset(self, rng: np.random.Generator) -> None:
        """Start a new episode: use rng for every draw from now on, forget the warm start.

        At t = 0 the caller passes a zero previous action (SPEC §4: a_{−1} = 0).
        """
        self._rng = rng
        self._plan = None

    def resume(self, rng: np.random.Generator, plan: np.ndarray | None) -> None:
        """Continue an interrupted episode exactly: rng in the state `rng_state` had after
        the last planned step, and that step's plan (its `PlanStep.means`) to carry over."""
        self._rng = rng
        self._plan = None if plan is None else np.array(plan, dtype=np.float64)

    @property
    def rng_state(self) -> dict:
        """The generator's state; saved after each step, it lets `resume` continue exactly."""
        if self._rng is None:
            raise RuntimeError("call reset(rng) before asking for the generator state")
        return self._rng.bit_generator.state

    def plan(
        self, evaluator: Evaluator, snapshot: Any, t: int, prev_action: np.ndarray
    ) -> PlanStep:
        """Plan real step t from snapshot, given the action executed at step t−1.

        With carry-over, the previous call's plan is shifted by one step, so calls are
        expected for consecutive steps of one episode; t = 0 always starts from scratch.
        """
        if self._rng is None:
            raise RuntimeError("call reset(rng) before plan()")
        if isinstance(t, bool) or not isinstance(t, (int, np.integer)) or t < 0:
            raise ValueError(f"t must be an integer >= 0, got {t!r}")
        cfg = self.config
        action_low = np.asarray(evaluator.action_low, dtype=np.float64)
        prev = np.asarray(prev_action, dtype=np.float64)
        if prev.shape != action_low.shape:
            raise ValueError(
                f"prev_action must have shape {action_low.shape} (the evaluator's action "
                f"size), got {prev.shape}"
            )
        low, high = _bound(action_low), _bound(evaluator.action_high)
        self._allocate(action_low.shape[0])
        population = self._initial_population(t, low, high)
        carried = population[0].copy() if cfg.keep_plan and self._carries_over(t) else None
        self._memory = None
        n_iterations = cfg.iterations_at(int(t))
        scored = self._scored_horizon(int(t))
        best = _Best()
        best_scores = []
        env_steps = 0
        i = 0
        budget = n_iterations * cfg.n_samples * scored
        while (i < n_iterations or (best.loses and i < n_iterations + cfg.rescue_iterations)
               or (cfg.spend_budget and env_steps + cfg.n_samples * scored <= budget)):
            self._perturb(population, low, high)
            if i == 0 and carried is not None:
                population[0] = carried  # the plan itself is scored beside its noisy copies
            actions = couple(population, prev, cfg.beta, low, high, out=self._arrays["actions"])
            result = self._evaluate(evaluator, snapshot, actions[:, :scored])
            rewards, successes = self._checked(result, scored)
            env_steps += cfg.n_samples * scored if result.env_steps is None else int(result.env_steps)
            scores = self._score(rewards, successes, result)
            best.update(scores, population, rewards, successes, result.lost)
            best_scores.append(best.score)
            population = self._select(population, scores)
            i += 1
        means = best.means if cfg.selection == "top_fraction" else population[0].copy()
        self._plan = means.copy()
        plan_actions = couple(means, prev, cfg.beta, low, high)
        rewards, successes = best.result
        return PlanStep(
            action=plan_actions[0].copy(),
            means=means,
            actions=plan_actions,
            predicted_rewards=rewards,
            predicted_successes=successes,
            score=best.score,
            best_scores=np.array(best_scores),
            iterations=i,
            env_steps=env_steps,
        )

    def _allocate(self, action_size: int) -> None:
        """(Re)create the work arrays when the action size changes."""
        shape = (self.config.n_samples, self.config.horizon, action_size)
        if self._arrays and self._arrays["population"].shape == shape:
            return
        if self._plan is not None and self._plan.shape != shape[1:]:
            self._plan = None  # a plan for another action size cannot be carried over
        self._arrays = {
            "population": np.empty(shape),
            "spare": np.empty(shape),
            "actions": np.empty(shape),
            "draws": np.empty(shape),
        }

    def _initial_population(self, t: int, low: Bound, high: Bound) -> np.ndarray:
        """Step 1: all samples from the shifted previous plan, or fresh clip(N(0, σi))."""
        cfg, rng = self.config, self._rng
        population = self._arrays["population"]
        if not self._carries_over(t):
            if cfg.noise_exponent > 0:
                population[...] = coloured_noise(rng, population.shape, self._spectrum)
            else:
                rng.standard_normal(out=population)
            population *= cfg.sigma_init
        else:
            population[:, :-1] = self._plan[1:]
            fresh = population[:, -1]
            fresh[...] = rng.standard_normal(fresh.shape)
            fresh *= cfg.sigma_init
        np.clip(population, low, high, out=population)
        return population

    def _scored_horizon(self, t: int) -> int:
        """Planned steps scored at real step t: τ, or with plan_to_end those left in the episode."""
        if not self.config.plan_to_end:
            return self.config.horizon
        return max(1, min(self.config.horizon, self.config.episode_length - t))

    def _carries_over(self, t: int) -> bool:
        """Whether step t starts from the previous step's plan (TOPDM) or from scratch."""
        return t > 0 and self.config.carry_over and self._plan is not None

    def _perturb(self, population: np.ndarray, low: Bound, high: Bound) -> None:
        """Add N(0, σn) noise to each entry with probability fn (all entries if fn = 1).

        Sparse noise draws normals only for the chosen entries: at fn = 0.3 that is about
        half the cost of drawing them all and masking. (The work arrays are contiguous, so
        reshape gives a view and the addition lands in population.) Coloured noise
        (noise_exponent > 0) perturbs whole action channels over the horizon, a channel of a
        sample with probability fn, so the masking keeps its correlation in time.
        """
        cfg, rng = self.config, self._rng
        draws = self._arrays["draws"]
        if cfg.noise_exponent > 0:
            noise = coloured_noise(rng, population.shape, self._spectrum)
            if cfg.noise_fraction < 1.0:
                noise *= rng.random((population.shape[0], 1, population.shape[2])) < cfg.noise_fraction
            population += cfg.sigma_noise * noise
        elif cfg.noise_fraction < 1.0:
            chosen = np.flatnonzero(rng.random(out=draws) < cfg.noise_fraction)
            population.reshape(-1)[chosen] += cfg.sigma_noise * rng.standard_normal(chosen.size)
        else:
            noise = rng.standard_normal(out=draws)
            noise *= cfg.sigma_noise
            population += noise
        np.clip(population, low, high, out=population)

    def _select(self, population: np.ndarray, scores: np.ndarray) -> np.ndarray:
        """The next population: elites tiled to N, or N copies of the weighted mean."""
        cfg = self.config
        if cfg.elite_memory:
            return self._select_with_memory(population, scores)
        if cfg.selection == "top_fraction":
            spare = self._arrays["spare"]
            np.take(population, elite_tiling(scores, cfg.n_elites), axis=0, out=spare)
            self._arrays["spare"], self._arrays["population"] = population, spare
            return spare
        weights = exponential_weights(scores, cfg.kappa)
        # Summed sample after sample, not by BLAS (np.tensordot): OpenBLAS picks its kernel,
        # and with it the order of the sum, by processor (Haswell/Zen vs SkylakeX), and one
        # last-bit difference in the mean makes a different episode. An elementwise sum over
        # the leading axis is the same on every processor.
        population[...] = np.sum(weights[:, None, None] * population, axis=0)
        return population

    def _select_with_memory(self, population: np.ndarray, scores: np.ndarray) -> np.ndarray:
        """(μ + λ) selection: the elites among this iteration's samples and the remembered
        elites of the previous iteration, tiled to N; they become the memory."""
        pool, pool_scores = population, scores
        if self._memory is not None:
            pool = np.concatenate([self._memory[0], population])
            pool_scores = np.concatenate([self._memory[1], scores])
        elites = elite_tiling(pool_scores, self.config.n_elites)[: self.config.n_elites]
        self._memory = pool[elites], pool_scores[elites]
        spare = self._arrays["spare"]
        np.take(self._memory[0], np.arange(spare.shape[0]) % elites.size, axis=0, out=spare)
        self._arrays["spare"], self._arrays["population"] = population, spare
        return spare

    def _evaluate(self, evaluator: Evaluator, snapshot: Any, actions: np.ndarray) -> EvalResult:
        """Evaluate actions, asking for the object's play only where the config scores it."""
        cfg = self.config
        if not cfg.needs_play:
            return evaluator.evaluate(snapshot, actions)
        try:
            return evaluator.evaluate(snapshot, actions, play=True, early_out=cfg.early_out)
        except TypeError as err:
            if "unexpected keyword argument" not in str(err):
                raise
            raise TypeError(f"{type(evaluator).__name__}.evaluate takes no play/early_out arguments, which this "
                            "config's TOPDM+ switches (lost_object, rest_weight, early_out) need: use an "
                            "evaluator that reports lost objects (dexterous.sim.batch.BatchEvaluator)") from err

    def _score(self, rewards: np.ndarray, successes: np.ndarray, result: EvalResult) -> np.ndarray:
        """The paper's score, or TOPDM+'s objective when the config needs the object's play."""
        cfg = self.config
        weights = self._weights[: rewards.shape[1]]
        if not cfg.needs_play:
            return score_rollouts(rewards, successes, weights)
        expected = rewards.shape
        for name in ("lost", "offsets"):
            value = getattr(result, name)
            if value is None or np.shape(value) != expected:
                raise ValueError(f"evaluator returned {name} of shape {np.shape(value) if value is not None else None}"
                                 f", expected {expected}: this config ({'lost_object' if cfg.lost_object else 'rest_weight'})"
                                 " needs an evaluator that answers play=True")
        return objective_scores(rewards, successes, weights, np.asarray(result.lost, dtype=bool),
                                np.asarray(result.offsets, dtype=np.float64), cfg.lost_penalty, cfg.rest_weight)

    def _checked(self, result: EvalResult, horizon: int) -> tuple[np.ndarray, np.ndarray]:
        """The result's rewards and successes, after checking they are (N, horizon)."""
        expected = (self.config.n_samples, horizon)
        rewards = np.asarray(result.rewards, dtype=np.float64)
        successes = np.asarray(result.successes, dtype=bool)
        for name, array in (("rewards", rewards), ("successes", successes)):
            if array.shape != expected:
                raise ValueError(
                    f"evaluator returned {name} of shape {array.shape}, expected {expected} "
                    "(n_samples, horizon)"
                )
        return rewards, successes
