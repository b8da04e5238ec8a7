"""Training throughput: our `train td3` path vs bare stable-baselines3 TD3 on PenSpin-v1.

Both run the SPEC §5 TD3 settings (256-256 networks, batch 256, Adam 3e-4, one update
per environment step, one torch thread) for `--random` uniformly random steps and then
`--train` training steps. Ours adds demo restarts (from a smoke-planned demonstration),
action coupling, float32 observations, the running observation normaliser and the
chunked learn loop with TensorBoard logging; its evaluations and checkpoints are timed
separately and left out (they are periodic, not per step). The replay buffer holds
100k transitions in both (its capacity does not change the per-step cost, and our
end-of-run checkpoint writes it). One run of each side per round, the rounds interleaved
(benchmarks.common); the overhead bare/ours − 1 of each round is summarised by its median
and spread. Target: overhead ≤ 10%. Writes benchmarks/results/train_throughput.json.

    python -m benchmarks.train_throughput [--random 1000] [--train 3000] [--rounds 3]
    python -m benchmarks.train_throughput --random 50 --train 50 --rounds 1   # a quick check
"""

from __future__ import annotations

import itertools
import tempfile
from pathlib import Path

import torch as th
from stable_baselines3 import TD3

import dexterous
from benchmarks.common import interleaved, load_average, learn_rate, spread, training_args, write_results
from dexterous.mpc.runner import PlanRun, run_plan
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
    return learn_rate(model, config.steps)


def main() -> None:
    args = training_args(__doc__, rounds=3)
    load_before = load_average()  # the 2 cores are shared: say how busy they were
    with tempfile.TemporaryDirectory() as tmp:
        demos = Path(tmp) / "demos"
        run_plan(PlanRun(ENV, preset="smoke", threads=1), demos, use_ray=False, progress=False)
        config = TD3Config(demos=str(demos), steps=args.steps, learning_starts=args.random, buffer_size=100_000,
                           eval_every=args.steps, eval_episodes=1, checkpoint_every=args.steps)
        fresh = itertools.count()  # each of our runs in a new folder: an existing one would resume
        rates = interleaved({"bare": lambda: bare(config),
                             "ours": lambda: ours(config, Path(tmp) / f"run{next(fresh)}")}, args.rounds)
    overhead = spread([b / o - 1.0 for b, o in zip(rates["bare"], rates["ours"])])
    for k, (b, o) in enumerate(zip(rates["bare"], rates["ours"])):
        print(f"round {k}: bare SB3 {b:.1f} env steps/s, ours {o:.1f}")
    print(f"overhead median {overhead['median']:.1%} [{overhead['min']:.1%}, {overhead['max']:.1%}] over "
          f"{args.rounds} rounds (target ≤ 10%)")
    figures = {"env": ENV, "random_steps": args.random, "train_steps": args.train, "rounds": args.rounds,
               "hidden": list(config.hidden), "batch_size": config.batch_size, "torch_threads": config.torch_threads,
               "bare_env_steps_per_s": spread(rates["bare"], 1), "ours_env_steps_per_s": spread(rates["ours"], 1),
               "overhead": overhead, "overhead_target": 0.10,
               "load_average_1min": {"before": load_before, "after": load_average()}}
    print(f"wrote {write_results('train_throughput', figures)}")


if __name__ == "__main__":
    main()
