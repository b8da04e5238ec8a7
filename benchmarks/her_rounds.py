"""HER training throughput: our `train her` (the HER baselines' rounds) vs SB3's own cadence.

Our HER baselines learn as the original HER code did: 40 gradient steps after every 2
episodes (150 env steps on a 75-step task), the targets moved once per round. The
reference is the same DDPG + HER on bare stable-baselines3 with its default cadence, one
gradient step after every env step, as `train her` ran before the rounds. Both on the
Sparse twin of EggHandOver with the HER config's networks (3×256), batch 256, one torch
thread, `--random` uniformly random steps and then `--train` training steps. Ours adds the
random-action exploration, float32 observations, the running observation normaliser and the
chunked learn loop; its evaluations and checkpoints are timed separately and left out. The
rounds interleaved (benchmarks.common); the speed-up ours/bare of each round is summarised
by its median and spread. Writes benchmarks/results/her_rounds.json.

    python -m benchmarks.her_rounds [--random 1000] [--train 3000] [--rounds 2]
    python -m benchmarks.her_rounds --random 200 --train 200 --rounds 1   # a quick check
"""

from __future__ import annotations

import itertools
import tempfile
from pathlib import Path

import torch as th
from stable_baselines3 import TD3
from stable_baselines3.her import HerReplayBuffer

import dexterous
from benchmarks.common import interleaved, load_average, learn_rate, spread, training_args, write_results
from dexterous.rl import HERConfig, train
from dexterous.rl.her import goal_twins
from dexterous.rl.td3 import td3_kwargs

ENV = "dexterous/EggHandOver-v1"


def bare(config: HERConfig) -> float:
    """Env steps per second of SB3's TD3.learn with HER on the raw Sparse task, one update per step."""
    th.set_num_threads(config.torch_threads)
    env = dexterous.make(goal_twins(config.env_id)[0])
    model = TD3("MultiInputPolicy", env, replay_buffer_class=HerReplayBuffer,
                replay_buffer_kwargs=dict(n_sampled_goal=config.n_sampled_goal, goal_selection_strategy="future"),
                **td3_kwargs(config, env.action_space.shape[0]))
    return learn_rate(model, config.steps)


def main() -> None:
    args = training_args(__doc__, rounds=2)
    load_before = load_average()  # the 2 cores are shared: say how busy they were
    config = HERConfig(env_id=ENV, steps=args.steps, learning_starts=args.random, buffer_size=100_000,
                       eval_every=args.steps, eval_episodes=1, checkpoint_every=args.steps)
    with tempfile.TemporaryDirectory() as tmp:
        fresh = itertools.count()  # each of our runs in a new folder: an existing one would resume
        rates = interleaved({"bare": lambda: bare(config),
                             "ours": lambda: train(config, Path(tmp) / f"run{next(fresh)}", progress=False).env_steps_per_s},
                            args.rounds)
    speedup = spread([o / b for b, o in zip(rates["bare"], rates["ours"])])
    for k, (b, o) in enumerate(zip(rates["bare"], rates["ours"])):
        print(f"round {k}: SB3, one update per step {b:.1f} env steps/s, ours in rounds {o:.1f}")
    print(f"speed-up median {speedup['median']:.2f}x [{speedup['min']:.2f}, {speedup['max']:.2f}] over {args.rounds} rounds")
    figures = {"env": ENV, "random_steps": args.random, "train_steps": args.train, "rounds": args.rounds,
               "hidden": list(config.hidden), "batch_size": config.batch_size, "torch_threads": config.torch_threads,
               "round_episodes": config.round_episodes, "round_batches": config.round_batches,
               "bare_env_steps_per_s": spread(rates["bare"], 1), "ours_env_steps_per_s": spread(rates["ours"], 1),
               "speedup": speedup, "load_average_1min": {"before": load_before, "after": load_average()}}
    print(f"wrote {write_results('her_rounds', figures)}")


if __name__ == "__main__":
    main()
