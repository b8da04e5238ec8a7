"""Trained policies: load a run's latest one, export it (or the run's best one) as a small
folder to ship, record it.

A policy folder holds what acting needs and nothing else: the run's `config.json`, the
model (actor and critics, without the replay buffer) and the observation normaliser under
`policy/`, and `policy.json` saying where it came from (run, steps, whether the latest or the
best evaluated policy, and its evaluation). `load_policy` reads a training
run and a policy folder alike, so `dexterous evaluate` and `dexterous video --run` take
either; e.g. data/policies/pen_spin ships with the package's repository.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from stable_baselines3 import TD3
from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize

from dexterous.rl.configs import OffPolicyConfig
from dexterous.rl.checkpoints import BEST, best_policy, latest_checkpoint, read_state
from dexterous.rl.runs import CONFIG, Recipe, make_policy, read_config, read_evaluations, recipe_for
from dexterous.video import write_video

POLICY = "policy"
"""A policy folder's subfolder with model.zip and normalizer.pkl."""
PROVENANCE = "policy.json"
"""A policy folder's record of the run, step and evaluation it was exported from."""
FILES = ("model.zip", "normalizer.pkl")


@dataclass
class TrainedPolicy:
    """A run's latest policy with its normaliser, ready to act on the recipe's eval env."""

    config: OffPolicyConfig
    recipe: Recipe
    model: TD3
    normalizer: VecNormalize

    def __post_init__(self) -> None:
        self._act = make_policy(self.model, self.normalizer)

    def __call__(self, obs) -> np.ndarray:
        return self._act(obs)


def load_policy(path: str | Path) -> TrainedPolicy:
    """Load the policy of a training run (its latest checkpoint) or of a policy folder."""
    config = read_config(path)
    folder = latest_checkpoint(path)
    if folder is None and (Path(path) / POLICY / FILES[0]).is_file():
        folder = Path(path) / POLICY
    if folder is None:
        raise ValueError(f"{path} has no checkpoint yet: train longer than checkpoint_every or to the end")
    recipe = recipe_for(config)
    normalizer = VecNormalize.load(str(folder / "normalizer.pkl"), DummyVecEnv([recipe.make_eval_env]))
    normalizer.training = False
    model = recipe.model_class.load(folder / "model.zip", env=normalizer, device="cpu", buffer_size=1)
    return TrainedPolicy(config, recipe, model, normalizer)


def evaluated_again(run_dir: str | Path, evaluation: dict[str, Any]) -> dict[str, Any] | None:
    """A run's evaluation made again with today's evaluation, which records more (the object's
    play, the final pose): only where the run's latest checkpoint holds the policy that
    `evaluation` evaluated (the same step) and evaluating it again gives the same returns bit
    for bit (evaluations are deterministic on one kind of processor). None otherwise: then
    nothing of it can be told apart from another policy's, so nothing is taken."""
    checkpoint = latest_checkpoint(run_dir)
    if checkpoint is None or read_state(checkpoint)["steps"] != evaluation["steps"]:
        return None
    policy = load_policy(run_dir)
    again = policy.recipe.evaluate(policy)
    return {**evaluation, **again} if again["returns"] == evaluation.get("returns") else None


def export_policy(run_dir: str | Path, out: str | Path, best: bool = False) -> Path:
    """Write run_dir's latest policy (best: its best evaluated one) into the policy folder
    out (see the module docstring).

    out must not exist yet, or already be a policy folder (which is replaced), so that a
    typo never overwrites a training run.
    """
    run_dir, out = Path(run_dir), Path(out)
    read_config(run_dir)
    source = best_policy(run_dir) if best else latest_checkpoint(run_dir)
    if best and source is None:
        raise ValueError(f"{run_dir} has no best policy ({BEST}/) yet: a run keeps one at each evaluation that "
                         "beats all its earlier ones; export the latest policy (without --best)")
    if source is None:
        raise ValueError(f"{run_dir} has no checkpoint to export yet: train longer than checkpoint_every")
    if out.exists() and not (out / PROVENANCE).is_file():
        raise ValueError(f"{out} exists and is not a policy folder: choose a new --out")
    shutil.rmtree(out, ignore_errors=True)
    (out / POLICY).mkdir(parents=True)
    shutil.copy2(run_dir / CONFIG, out / CONFIG)
    for name in FILES:
        shutil.copy2(source / name, out / POLICY / name)
    if best:
        evaluation = json.loads((source / "evaluation.json").read_text())
        provenance = {"run": str(run_dir), "steps": evaluation["steps"], "chosen": "best", "evaluation": evaluation}
    else:
        evaluations = read_evaluations(run_dir)
        provenance = {"run": str(run_dir), "steps": read_state(source)["steps"], "chosen": "latest",
                      "evaluation": evaluations[-1] if evaluations else None}
    (out / PROVENANCE).write_text(json.dumps(provenance, indent=1) + "\n")
    return out


def record_policy(run_dir: Path, out: Path, steps: int | None = None, seed: int = 0, width: int = 480,
                  height: int = 480, progress: bool = True, frames: int = 8) -> Path:
    """Run a trained policy (a run directory or a policy folder) from reset `seed` into `out`
    (an mp4, or a strip of `frames` frames in a PNG).

    It acts on the run's evaluation environment (normaliser and action coupling included),
    for `steps` steps (default: one episode; more continues past the episode's end).
    """
    if steps is not None and steps < 1:
        raise ValueError(f"steps must be ≥ 1, got {steps}")
    policy = load_policy(run_dir)
    env = policy.recipe.make_eval_env(render_mode="rgb_array", width=width, height=height)
    obs, _ = env.reset(seed=seed)
    return write_video(env, policy, steps or env.unwrapped.episode_steps, Path(out), progress, obs,
                       frames=frames)
