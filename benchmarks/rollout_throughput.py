"""Env steps per second: gymnasium loop vs the physics limit vs the BatchEvaluator.

For each environment, from one mid-episode snapshot, with uniformly random actions:
  (a) a plain `env.step` loop through gymnasium's wrappers, one core;
  (b) the physics limit: a raw `mj_step(nstep=20)` loop on one MjData, one core, with
      ctrl written each step, times the core count;
  (c) BatchEvaluator.evaluate with N sequences of τ steps on all cores.
The three are measured in interleaved rounds (benchmarks.common), each for --seconds per
round; prints the median over rounds of (c)/(b) (target ≥ 0.85) and (c)/(a) (target ≥ 2.5)
with their range, and writes benchmarks/results/rollout_throughput.json (per quantity: the
median, min, max and quartiles over rounds).

    python -m benchmarks.rollout_throughput [--envs ID ...] [--n 1000] [--horizon 20] [--rounds 5] [--seconds 3]
    python -m benchmarks.rollout_throughput --rounds 1 --seconds 0.2 --n 8 --horizon 2   # a quick check
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable

import mujoco
import numpy as np

import dexterous
from benchmarks.common import interleaved, load_average, ratio_spread, spread, write_results
from dexterous.envs.base import SUBSTEPS
from dexterous.sim.batch import BatchEvaluator

DEFAULT_ENVS = ["dexterous/PenSpin-v1", "dexterous/HandManipulateBlockFull-v1", "dexterous/EggCatchUnderarm-v1"]
"""One hand (pen, block) and two hands on movable bases with the object held."""


def _timed(fn: Callable[[], int], min_seconds: float) -> Callable[[], float]:
    """A measurement: env steps per second of calling fn (which returns the env steps it
    did) until min_seconds pass."""

    def rate() -> float:
        steps, start = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - start) < min_seconds:
            steps += fn()
        return steps / elapsed

    return rate


def measure(env_id: str, n: int, horizon: int, min_seconds: float, rounds: int) -> dict:
    env = dexterous.make(env_id)
    env.reset(seed=0)
    for _ in range(5):
        env.step(env.action_space.sample())
    unwrapped = env.unwrapped
    snap = unwrapped.snapshot()
    rng = np.random.default_rng(0)
    actions = rng.uniform(-1, 1, (n, horizon, env.action_space.shape[0]))
    cores = os.cpu_count() or 1

    def gym_loop() -> int:
        unwrapped.restore(snap)
        for a in actions[rng.integers(n)]:
            env.step(a)
        return horizon

    model, data = unwrapped.model, mujoco.MjData(unwrapped.model)

    def raw_loop() -> int:
        mujoco.mj_setState(model, data, snap.state, mujoco.mjtState.mjSTATE_INTEGRATION)
        for a in actions[rng.integers(n)]:
            unwrapped.action_to_ctrl(a, data.ctrl)
            mujoco.mj_step(model, data, nstep=SUBSTEPS)
        return horizon

    evaluator = BatchEvaluator(env)
    evaluator.evaluate(snap, actions[:, :1])  # build the batch and its threads once

    def batch() -> int:
        evaluator.evaluate(snap, actions)
        return n * horizon

    rates = interleaved({"gym": _timed(gym_loop, min_seconds), "raw": _timed(raw_loop, min_seconds),
                         "batch": _timed(batch, min_seconds)}, rounds)
    physics = [r * cores for r in rates["raw"]]
    return {
        "env": env_id, "n": n, "horizon": horizon, "cores": cores, "rounds": rounds,
        "gym_env_steps_per_s": spread(rates["gym"], 1),
        "physics_limit_env_steps_per_s": spread(physics, 1),
        "physics_one_core_env_steps_per_s": spread(rates["raw"], 1),
        "batch_env_steps_per_s": spread(rates["batch"], 1),
        "batch_over_physics": ratio_spread(rates["batch"], physics),
        "batch_over_gym": ratio_spread(rates["batch"], rates["gym"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--envs", nargs="+", default=DEFAULT_ENVS, help="environment ids")
    parser.add_argument("--n", type=int, default=1000, help="sequences per evaluation (N)")
    parser.add_argument("--horizon", type=int, default=20, help="steps per sequence (τ)")
    parser.add_argument("--seconds", type=float, default=3.0, help="minimum time of each measurement in a round")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds of (a), (b), (c)")
    args = parser.parse_args()
    load_before = load_average()
    rows = []
    for env_id in args.envs:
        row = measure(env_id, args.n, args.horizon, args.seconds, args.rounds)
        rows.append(row)
        over_physics, over_gym = row["batch_over_physics"], row["batch_over_gym"]
        print(f"{env_id} (medians of {args.rounds} rounds): (a) gym {row['gym_env_steps_per_s']['median']:.0f}/s  "
              f"(b) physics limit {row['physics_limit_env_steps_per_s']['median']:.0f}/s  (c) batch "
              f"{row['batch_env_steps_per_s']['median']:.0f}/s  (c)/(b) {over_physics['median']:.3f} "
              f"[{over_physics['min']:.3f}, {over_physics['max']:.3f}]  (c)/(a) {over_gym['median']:.2f} "
              f"[{over_gym['min']:.2f}, {over_gym['max']:.2f}]")
    figures = {"rows": rows, "load_average_1min": {"before": load_before, "after": load_average()}}
    print(f"wrote {write_results('rollout_throughput', figures)}")


if __name__ == "__main__":
    main()
