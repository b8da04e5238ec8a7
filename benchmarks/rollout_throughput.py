"""Env steps per second: gymnasium loop vs the physics limit vs the BatchEvaluator.

For each environment, from one mid-episode snapshot, with uniformly random actions:
  (a) a plain `env.step` loop through gymnasium's wrappers, one core;
  (b) the physics limit: a raw `mj_step(nstep=20)` loop on one MjData, one core, with
      ctrl written each step, times the core count;
  (c) BatchEvaluator.evaluate with N sequences of τ steps on all cores.
Prints (c)/(b) (target ≥ 0.85) and (c)/(a) (target ≥ 2.5) and writes
benchmarks/results/rollout_throughput.json. All rows are measured in the same run.

    python benchmarks/rollout_throughput.py [--envs ID ...] [--n 1000] [--horizon 20]
"""

from __future__ import annotations

import argparse
import os
import time

import mujoco
import numpy as np

import dexterous
from benchmarks.common import write_results
from dexterous.envs.base import SUBSTEPS
from dexterous.sim.batch import BatchEvaluator

DEFAULT_ENVS = ["dexterous/PenSpin-v1", "dexterous/HandManipulateBlockFull-v1", "dexterous/EggCatchUnderarm-v1"]
"""One hand (pen, block) and two hands on movable bases with the object held."""


def _timed(fn, min_seconds: float) -> tuple[int, float]:
    """Call fn (which returns env steps done) until min_seconds pass; (steps, seconds)."""
    steps, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < min_seconds:
        steps += fn()
    return steps, elapsed


def measure(env_id: str, n: int, horizon: int, min_seconds: float) -> dict:
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

    gym_steps, gym_time = _timed(gym_loop, min_seconds)
    raw_steps, raw_time = _timed(raw_loop, min_seconds)
    batch_steps, batch_time = _timed(batch, min_seconds)
    gym_rate = gym_steps / gym_time
    physics_rate = raw_steps / raw_time * cores
    batch_rate = batch_steps / batch_time
    return {
        "env": env_id, "n": n, "horizon": horizon, "cores": cores,
        "gym_env_steps_per_s": round(gym_rate, 1),
        "physics_limit_env_steps_per_s": round(physics_rate, 1),
        "physics_one_core_env_steps_per_s": round(raw_steps / raw_time, 1),
        "batch_env_steps_per_s": round(batch_rate, 1),
        "batch_over_physics": round(batch_rate / physics_rate, 3),
        "batch_over_gym": round(batch_rate / gym_rate, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--envs", nargs="+", default=DEFAULT_ENVS)
    parser.add_argument("--n", type=int, default=1000, help="sequences per evaluation (N)")
    parser.add_argument("--horizon", type=int, default=20, help="steps per sequence (τ)")
    parser.add_argument("--seconds", type=float, default=10.0, help="minimum time per row")
    args = parser.parse_args()
    rows = []
    for env_id in args.envs:
        row = measure(env_id, args.n, args.horizon, args.seconds)
        rows.append(row)
        print(f"{env_id}: (a) gym {row['gym_env_steps_per_s']:.0f}/s  (b) physics limit "
              f"{row['physics_limit_env_steps_per_s']:.0f}/s  (c) batch {row['batch_env_steps_per_s']:.0f}/s  "
              f"(c)/(b) {row['batch_over_physics']:.3f}  (c)/(a) {row['batch_over_gym']:.2f}")
    print(f"wrote {write_results('rollout_throughput', {'rows': rows})}")


if __name__ == "__main__":
    main()
