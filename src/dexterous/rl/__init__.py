"""Reinforcement learning from demonstrations (SPEC §5), on stable-baselines3.

- wrappers: `ActionCoupling` (obs + a_prev in, β·μ + (1−β)·a_prev out), `DemoRestarts`
  (15-step segments restarting from exact demonstration snapshots), `Float32Observation`;
- configs: `TD3Config` (TD3 + demo restarts on PenSpin; the plain TD3 baseline without
  demos) and `HERConfig` (the HER baselines), the paper's defaults;
- `train(config, out)`: a resumable run directory (checkpoints, evaluations.jsonl,
  TensorBoard); `load_policy(run or policy folder)`, `export_policy(run, folder)` to ship
  one; `evaluate_run(run)` past the 250-step episode;
  `plot_runs(runs, png)` learning curves.
"""

from dexterous.rl.configs import CONFIGS, HERConfig, OffPolicyConfig, TD3Config
from dexterous.rl.curves import plot_runs
from dexterous.rl.evaluate import SpinReport, body_x_turns, evaluate_run
from dexterous.rl.policies import TrainedPolicy, export_policy, load_policy
from dexterous.rl.runs import TrainSummary, read_config, read_evaluations, train
from dexterous.rl.wrappers import ActionCoupling, DemoRestarts, Float32Observation, RestartState

__all__ = ["CONFIGS", "ActionCoupling", "DemoRestarts", "Float32Observation", "HERConfig", "OffPolicyConfig",
           "RestartState", "SpinReport", "TD3Config", "TrainSummary", "TrainedPolicy", "body_x_turns",
           "evaluate_run", "export_policy", "load_policy", "plot_runs", "read_config", "read_evaluations", "train"]
