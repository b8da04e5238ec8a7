"""Training throughput: our `train td3` path vs bare stable-baselines3 TD3 on PenSpin-v1.

Both run the SPEC §5 TD3 settings (256-256 networks, batch 256, Adam 3e-4, one update
per environment step, one torch thread) for `--random` uniformly random steps and then
`--train` training steps. Ours adds demo restarts (from a smoke-planned demonstration),
action coupling, float32 observations, the running observation normaliser and the
chunked learn loop with TensorBoard logging; its evaluations and checkpoints are timed
separately and left out (they are periodic, not per step). The replay buffer holds
100k transitions in both (its capacity does not change the per-step cost, and our
end-of-run checkpoint writes it). Runs alternate, `--repeats` times each; the best rate
of each side is compared. Target: overhead ≤ 10%. Writes
benchmarks/results/train_throughput.json.

    python -m benchmarks.train_throughput [--random 1000] [--train 3000] [--repeats 2]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import torch as th
from stable_baselines3 import TD3

import dexterous
from benchmarks.common import write_results
from dexterous.demos.runner import PlanRun, run_plan
from dexterous.rl import TD3Config, train
from dexterous.rl.td3 import td3_kwargs

ENV = "dexterous/PenSpin-v1"


def ours(config: TD3Config, out: Path) -> float:
    """Env steps per second of learn time of dexterous.rl.train."""
    return train(config, out, progress=False).env_steps_per_s


def bare(config: TD3Config) -> float:
    """Env steps per second of SB3's TD3.learn on the raw environment, same settings."""
    th.set_num_threads(config.torch_threads)
    model = TD3("MlpPolicy", dexterous.make(ENV), **td3_kwargs(config, 20))
    start = time.perf_counter()
    model.learn(config.steps)
    return config.steps / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--random", type=int, default=1000, help="initial random steps")
    parser.add_argument("--train", type=int, default=3000, help="training steps after them")
    parser.add_argument("--repeats", type=int, default=2, help="runs of each side, alternating")
    args = parser.parse_args()
    steps = args.random + args.train
    load_before = os.getloadavg()[0]  # the 2 cores are shared: say how busy they were
    with tempfile.TemporaryDirectory() as tmp:
        demos = Path(tmp) / "demos"
        run_plan(PlanRun(ENV, preset="smoke", threads=1), demos, use_ray=False, progress=False)
        config = TD3Config(demos=str(demos), steps=steps, learning_starts=args.random, buffer_size=100_000,
                           eval_every=steps, eval_episodes=1, checkpoint_every=steps)
        rates: dict[str, list[float]] = {"ours": [], "bare": []}
        for k in range(args.repeats):
            rates["bare"].append(bare(config))
            rates["ours"].append(ours(config, Path(tmp) / f"run{k}"))
            print(f"repeat {k}: bare SB3 {rates['bare'][-1]:.1f} env steps/s, ours {rates['ours'][-1]:.1f}")
    best = {side: max(r) for side, r in rates.items()}
    overhead = best["bare"] / best["ours"] - 1.0
    print(f"best: bare SB3 {best['bare']:.1f} env steps/s, ours {best['ours']:.1f}: overhead {overhead:.1%} "
          f"(target ≤ 10%)")
    figures = {"env": ENV, "random_steps": args.random, "train_steps": args.train, "repeats": args.repeats,
               "hidden": list(config.hidden), "batch_size": config.batch_size, "torch_threads": config.torch_threads,
               "bare_env_steps_per_s": [round(r, 1) for r in rates["bare"]],
               "ours_env_steps_per_s": [round(r, 1) for r in rates["ours"]],
               "overhead": round(overhead, 4), "overhead_target": 0.10,
               "median_overhead": round(float(np.median(rates["bare"]) / np.median(rates["ours"]) - 1.0), 4),
               "load_average_1min": {"before": round(load_before, 2), "after": round(os.getloadavg()[0], 2)}}
    print(f"wrote {write_results('train_throughput', figures)}")


if __name__ == "__main__":
    main()
