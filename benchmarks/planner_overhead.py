"""Planner overhead: wall time per real step vs the BatchEvaluator's time for the same env steps.

Plans a few real steps with TOPDM (and MPPI) at N, τ from one mid-episode snapshot,
timing the evaluator's calls inside the planner; overhead = (planner wall − evaluator
time) / evaluator time. Target ≤ 10% at N = 1000, τ = 20. Writes
benchmarks/results/planner_overhead.json.

    python -m benchmarks.planner_overhead [--env ID …] [--n 1000] [--horizon 20] [--iterations 2] [--steps 2]
"""

from __future__ import annotations

import argparse
import dataclasses
import time

import numpy as np

import dexterous
from benchmarks.common import write_results
from dexterous.planning import Planner, TOPDMConfig, variant
from dexterous.sim.batch import BatchEvaluator


class TimedEvaluator:
    """Wraps an evaluator and accumulates the time spent inside it."""

    def __init__(self, inner: BatchEvaluator):
        self.inner, self.seconds = inner, 0.0
        self.action_low, self.action_high = inner.action_low, inner.action_high

    def evaluate(self, snapshot, actions, final_snapshots=False):
        start = time.perf_counter()
        result = self.inner.evaluate(snapshot, actions, final_snapshots)
        self.seconds += time.perf_counter() - start
        return result


def measure(env_id: str, planner_name: str, n: int, horizon: int, iterations: int, steps: int) -> dict:
    env = dexterous.make(env_id)
    env.reset(seed=0)
    config = variant(planner_name, dataclasses.replace(TOPDMConfig(), n_samples=n, horizon=horizon,
                                                       iterations=iterations, schedule="constant"))
    evaluator = TimedEvaluator(BatchEvaluator(env))
    planner = Planner(config)
    planner.reset(np.random.default_rng(0))
    planner.plan(evaluator, env.unwrapped.snapshot(), 0, env.unwrapped.prev_action)  # warm-up: batch, arrays
    evaluator.seconds = 0.0
    start = time.perf_counter()
    for t in range(1, steps + 1):
        plan = planner.plan(evaluator, env.unwrapped.snapshot(), t, env.unwrapped.prev_action)
        env.step(plan.action)
    wall = time.perf_counter() - start
    env_steps = steps * iterations * n * horizon
    return {"env": env_id, "planner": planner_name, "n": n, "horizon": horizon, "iterations": iterations,
            "real_steps": steps, "wall_s_per_real_step": round(wall / steps, 4),
            "evaluator_s_per_real_step": round(evaluator.seconds / steps, 4),
            "env_steps_per_s": round(env_steps / wall, 1),
            "overhead": round((wall - evaluator.seconds) / evaluator.seconds, 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env", nargs="+", default=["dexterous/HandManipulateBlockFull-v1", "dexterous/EggHandOver-v1"],
                        help="one hand and two hands by default")
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--horizon", type=int, default=20)
    parser.add_argument("--iterations", type=int, default=2)
    parser.add_argument("--steps", type=int, default=2)
    args = parser.parse_args()
    rows = []
    for env_id, name in ((env_id, name) for env_id in args.env for name in ("topdm", "mppi")):
        row = measure(env_id, name, args.n, args.horizon, args.iterations, args.steps)
        rows.append(row)
        print(f"{env_id} {name}: {row['wall_s_per_real_step']:.2f} s per real step, evaluator "
              f"{row['evaluator_s_per_real_step']:.2f} s, overhead {row['overhead']:.2%}")
    print(f"wrote {write_results('planner_overhead', {'rows': rows})}")


if __name__ == "__main__":
    main()
