"""Planner overhead: wall time per real step vs the BatchEvaluator's time for the same env steps.

Plans a few real steps with TOPDM, MPPI and TOPDM+ at N, τ from one mid-episode snapshot,
timing the evaluator's calls inside the planner; overhead = (planner wall − evaluator
time) / evaluator time (TOPDM+'s includes its coloured noise and objective; its evaluator
time is what early-out leaves to simulate). Each planner plans --steps real steps per round, the rounds
interleaved (benchmarks.common); we report the median overhead over rounds with its
spread. Target ≤ 10% at N = 1000, τ = 20. Writes benchmarks/results/planner_overhead.json.

    python -m benchmarks.planner_overhead [--env ID …] [--n 1000] [--horizon 20] [--iterations 2] [--steps 1]
                                          [--rounds 3]
    python -m benchmarks.planner_overhead --env dexterous/PenSpin-v1 --n 8 --horizon 2 --rounds 1   # a quick check
"""

from __future__ import annotations

import argparse
import dataclasses
import time

import numpy as np

import dexterous
from benchmarks.common import interleaved, load_average, spread, write_results
from dexterous.planning import Planner, TOPDMConfig, variant
from dexterous.sim.batch import BatchEvaluator


class TimedEvaluator:
    """Wraps an evaluator and accumulates the time spent inside it."""

    def __init__(self, inner: BatchEvaluator):
        self.inner, self.seconds = inner, 0.0
        self.action_low, self.action_high = inner.action_low, inner.action_high

    def evaluate(self, snapshot, actions, final_snapshots=False, **play):
        start = time.perf_counter()
        result = self.inner.evaluate(snapshot, actions, final_snapshots, **play)
        self.seconds += time.perf_counter() - start
        return result


class PlannerRun:
    """One planner on one environment, planning real steps round after round."""

    def __init__(self, env_id: str, planner_name: str, n: int, horizon: int, iterations: int):
        self.env = dexterous.make(env_id)
        self.env.reset(seed=0)
        config = variant(planner_name, dataclasses.replace(TOPDMConfig(), n_samples=n, horizon=horizon,
                                                           iterations=iterations, schedule="constant"))
        self.evaluator = TimedEvaluator(BatchEvaluator(self.env))
        self.planner = Planner(config)
        self.planner.reset(np.random.default_rng(0))
        self.t = 0
        self.env_steps = 0
        self.plan_steps(1)  # warm-up: batch, arrays

    def plan_steps(self, steps: int) -> tuple[float, float]:
        """Plan and take `steps` real steps; (wall seconds, seconds inside the evaluator).

        env_steps then holds the env steps those steps simulated."""
        unwrapped = self.env.unwrapped
        self.evaluator.seconds = 0.0
        self.env_steps = 0
        start = time.perf_counter()
        for _ in range(steps):
            plan = self.planner.plan(self.evaluator, unwrapped.snapshot(), self.t, unwrapped.prev_action)
            self.env.step(plan.action)
            self.env_steps += plan.env_steps
            self.t += 1
        return time.perf_counter() - start, self.evaluator.seconds


def measure(env_id: str, n: int, horizon: int, iterations: int, steps: int, rounds: int) -> list[dict]:
    """Rows for TOPDM, MPPI and TOPDM+ on env_id, their rounds interleaved."""
    runs = {name: PlannerRun(env_id, name, n, horizon, iterations) for name in ("topdm", "mppi", "topdm+")}
    times: dict[str, list[tuple[float, float, int]]] = {name: [] for name in runs}

    def measurement(name: str):
        def overhead() -> float:
            wall, inside = runs[name].plan_steps(steps)
            times[name].append((wall, inside, runs[name].env_steps))
            return (wall - inside) / inside

        return overhead

    overheads = interleaved({name: measurement(name) for name in runs}, rounds)
    return [{"env": env_id, "planner": name, "n": n, "horizon": horizon, "iterations": iterations,
             "real_steps_per_round": steps, "rounds": rounds,
             "wall_s_per_real_step": spread([wall / steps for wall, _, _ in times[name]]),
             "evaluator_s_per_real_step": spread([inside / steps for _, inside, _ in times[name]]),
             "env_steps_per_real_step": spread([simulated / steps for _, _, simulated in times[name]], 1),
             "env_steps_per_s": spread([simulated / wall for wall, _, simulated in times[name]], 1),
             "overhead": spread(overheads[name])}
            for name in runs]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env", nargs="+", default=["dexterous/HandManipulateBlockFull-v1", "dexterous/EggHandOver-v1"],
                        help="one hand and two hands by default")
    parser.add_argument("--n", type=int, default=1000, help="samples per iteration (N)")
    parser.add_argument("--horizon", type=int, default=20, help="steps per sample (τ)")
    parser.add_argument("--iterations", type=int, default=2, help="planner iterations per real step")
    parser.add_argument("--steps", type=int, default=1, help="real steps per planner per round")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds of TOPDM, MPPI and TOPDM+")
    args = parser.parse_args()
    load_before = load_average()
    rows = []
    for env_id in args.env:
        for row in measure(env_id, args.n, args.horizon, args.iterations, args.steps, args.rounds):
            rows.append(row)
            overhead = row["overhead"]
            print(f"{env_id} {row['planner']}: {row['wall_s_per_real_step']['median']:.2f} s per real step, "
                  f"evaluator {row['evaluator_s_per_real_step']['median']:.2f} s, overhead median "
                  f"{overhead['median']:.2%} [{overhead['min']:.2%}, {overhead['max']:.2%}] over {args.rounds} rounds")
    figures = {"rows": rows, "load_average_1min": {"before": load_before, "after": load_average()}}
    print(f"wrote {write_results('planner_overhead', figures)}")


if __name__ == "__main__":
    main()
