"""Reinforcement learning from demonstrations (SPEC §5), on stable-baselines3.

- wrappers: `ActionCoupling` (obs + a_prev in, β·μ + (1−β)·a_prev out), `DemoRestarts`
  (15-step segments restarting from exact demonstration snapshots), `Float32Observation`,
  and ours, `InPlayReward` (a training reward that stops paying once the object is lost);
- configs: `TD3Config` (TD3 + demo restarts on PenSpin; the plain TD3 baseline without
  demos) and `HERConfig` (the HER baselines), the paper's defaults;
- `train(config, out)`: a resumable run directory (checkpoints, evaluations.jsonl,
  TensorBoard); `load_policy(run or policy folder)`, `export_policy(run, folder)` to ship
  one; `evaluate_run(run)` past the 250-step episode;
  `plot_runs(runs, png)` learning curves.
"""

from importlib import import_module
from typing import Any

from dexterous.rl.configs import CONFIGS, HERConfig, OffPolicyConfig, TD3Config

_LAZY = {
    "plot_runs": "curves",
    **dict.fromkeys(["SpinReport", "evaluate_run"], "evaluate"),
    **dict.fromkeys(["EVAL_SEED", "body_x_turns", "evaluate_play"], "episodes"),
    **dict.fromkeys(["TrainedPolicy", "evaluated_again", "export_policy", "load_policy"], "policies"),
    **dict.fromkeys(["TrainSummary", "read_config", "read_evaluations", "train"], "runs"),
    **dict.fromkeys(["ActionCoupling", "DemoRestarts", "Float32Observation", "InPlayReward", "RestartState"], "wrappers"),
}
"""Imported on first use: they pull in torch, stable-baselines3 and matplotlib (seconds),
which the configs (and so the command line's parser) do not need."""


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{_LAZY[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])


__all__ = ["CONFIGS", "HERConfig", "OffPolicyConfig", "TD3Config", *_LAZY]
