"""Training runs: a directory per run, periodic evaluations and checkpoints, exact resumption.

Layout of a run directory::

    config.json        the config (algo + fields); rerun with it to resume, or with more steps to extend
    evaluations.jsonl  one JSON line per evaluation, appended as they come: steps, time, metrics
    tb/                TensorBoard: SB3's standard tags (train/* losses, rollout/ep_rew_mean,
                       rollout/ep_len_mean, rollout/success_rate for tasks with success,
                       time/fps, eval/mean_reward) and ours: eval/*, restarts/*, time/*
    checkpoint/        the latest checkpoint, replaced atomically:
      model.zip        SB3 model: networks, Adam states, counters, last observation, action noise
      replay.pkl       SB3 replay buffer
      normalizer.pkl   SB3 VecNormalize: the running observation statistics (saved with the model)
      env.npz          the environment's exact Snapshot (mid-segment state included)
      ongoing.npz      DemoRestarts' main episode, when there is one
      state.json       RNG states (numpy global, torch, python, action space) and DemoRestarts' state
    best/              the best evaluated policy so far (highest recipe.best_metric; SB3's best_model):
                       model.zip (no replay buffer), normalizer.pkl, evaluation.json

Training runs SB3's `learn` in chunks that end at every log, evaluation and checkpoint
boundary (multiples of log_every, eval_every, checkpoint_every). Between chunks the
learner is at rest: its last transition is stored and its update done. A checkpoint taken
there holds every piece of state that decides the future, so a resumed run makes the
same updates as an uninterrupted one, bit for bit; the tests check it. A run asked to stop
(`train(..., stop=event)`; the command line sets it on Ctrl-C or SIGTERM) ends its chunk,
at most log_every steps later, and writes a checkpoint there, so nothing is lost.

Library use: SB3 for the algorithm, its replay buffers (save/load) and VecNormalize. Ours:
the chunked loop, the checkpoint's environment/wrapper/RNG state (SB3 saves none of it),
and evaluation (dexterous.rl.episodes rather than SB3's EvalCallback, which would need a
second VecEnv and resets mid-chunk; ours runs full episodes on a plain env with the run's
normaliser and appends each result to evaluations.jsonl). SB3's VecMonitor counts the
training episodes for the rollout/* tags; with demo restarts those are the segments, as
SB3 sees them, and the first one after a resume counts from the checkpoint on.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import gymnasium
import torch as th
from stable_baselines3 import TD3
from stable_baselines3.common.logger import configure
from stable_baselines3.common.utils import safe_mean
from stable_baselines3.common.vec_env import DummyVecEnv, VecEnv, VecMonitor, VecNormalize

from dexterous.contracts.files import check_settings, read_json, write_atomically
from dexterous.progress import progress_bar
from dexterous.rl.configs import OffPolicyConfig, config_from_json, recorded_train_config
from dexterous.rl.episodes import Policy
from dexterous.rl.her import HERRecipe
from dexterous.rl.td3 import TD3Recipe
from dexterous.rl.checkpoints import latest_checkpoint, read_state, resume, save_best, save_checkpoint, train_env
from dexterous.rl.wrappers import DemoRestarts, find_wrapper

CONFIG = "config.json"
EVALUATIONS = "evaluations.jsonl"
TENSORBOARD = "tb"


class Recipe(Protocol):
    """What an algorithm provides to the run machinery."""

    config: OffPolicyConfig
    env_id: str
    """The registered id the policy is evaluated on."""
    model_class: type[TD3]
    best_metric: str
    """The evaluation field (higher is better) that picks the run's best policy."""

    def make_train_env(self) -> gymnasium.Env: ...

    def make_eval_env(self, render_mode: str | None = None, **kwargs) -> gymnasium.Env: ...

    def sources(self) -> dict[str, str]:
        """Content digests of the files the run learns from, by name (TD3: its demonstration
        episodes); a checkpoint records them and resuming from other files is refused."""
        ...

    def make_model(self, env: VecEnv) -> TD3: ...

    def evaluate(self, policy: Policy) -> dict[str, Any]: ...


RECIPES: dict[str, type] = {"td3": TD3Recipe, "her": HERRecipe}


def recipe_for(config: OffPolicyConfig) -> Recipe:
    return RECIPES[config.algo](config)


@dataclass(frozen=True)
class TrainSummary:
    """What `train` did in this invocation."""

    steps: int
    """Environment steps of the run now."""
    resumed_from: int
    """Steps of the checkpoint this invocation started from (0: a fresh run)."""
    learn_seconds: float
    """Wall time inside SB3's learn (data collection and updates)."""
    eval_seconds: float
    """Wall time of evaluations."""
    checkpoint_seconds: float
    """Wall time writing checkpoints."""
    evaluation: dict[str, Any] | None
    """The last evaluation record, if any was made."""
    stopped: bool = False
    """Stopped on request before its steps (resume by training again)."""

    @property
    def env_steps_per_s(self) -> float:
        """Training throughput: environment steps per second of learn time."""
        return (self.steps - self.resumed_from) / self.learn_seconds if self.learn_seconds else 0.0

    def __str__(self) -> str:
        last = "" if self.evaluation is None else ", last evaluation " + ", ".join(
            f"{k} {v:.3f}" for k, v in self.evaluation.items() if isinstance(v, float))
        return (f"{self.steps:,} steps ({self.steps - self.resumed_from:,} now, {self.env_steps_per_s:,.0f} env "
                f"steps/s while learning; eval {self.eval_seconds:.1f} s, checkpoints "
                f"{self.checkpoint_seconds:.1f} s){last}"
                + ("; stopped on request after a checkpoint: rerun the same command to resume" if self.stopped else ""))


def train(config: OffPolicyConfig, out: str | Path, progress: bool = True,
          stop: threading.Event | None = None) -> TrainSummary:
    """Train (or resume, or extend) the run of `config` in directory `out`; once `stop` is set,
    end at the next chunk boundary with a checkpoint."""
    out = Path(out)
    recipe = recipe_for(config)
    env = recipe.make_train_env()  # bad ids and demonstrations fail here, before the run is claimed
    out.mkdir(parents=True, exist_ok=True)
    _claim(out, config)
    th.set_num_threads(config.torch_threads)
    checkpoint = latest_checkpoint(out)
    sources = recipe.sources()
    if checkpoint is None:
        venv = _normalized(env, config)
        model = recipe.make_model(venv)
    else:
        model, venv = resume(recipe.model_class, checkpoint, env, sources)
    resumed_from = model.num_timesteps
    history = _keep_evaluations(out, resumed_from)
    evaluated = {r["steps"] for r in history}
    model.set_logger(configure(str(out / TENSORBOARD), ["tensorboard"]))
    policy = make_policy(model, venv)
    restarts = find_wrapper(train_env(venv), DemoRestarts)
    has_success = env.unwrapped.has_success
    seconds = {"learn": 0.0, "eval": 0.0, "checkpoint": 0.0}
    last: dict[str, Any] | None = None
    stopped = False
    bar = progress_bar(total=config.steps, initial=resumed_from, unit="step", disable=not progress,
                       desc=f"{config.algo} {recipe.env_id}")
    while True:
        steps = model.num_timesteps
        if steps % config.eval_every == 0 and steps not in evaluated:
            start = time.perf_counter()
            last = {"steps": steps, "time": time.strftime("%Y-%m-%dT%H:%M:%S"), **recipe.evaluate(policy)}
            save_best(out, model, venv, last, history, recipe.best_metric)  # before the record: see save_best
            _record_evaluation(model, out, last)
            history.append(last)
            seconds["eval"] += time.perf_counter() - start
            evaluated.add(steps)
            bar.set_postfix(mean_return=f"{last['mean_return']:.2f}")
        if steps >= config.steps:
            break
        target = min([config.steps] + [(steps // k + 1) * k for k in
                                       (config.eval_every, config.checkpoint_every, config.log_every)])
        start = time.perf_counter()
        model.learn(target - steps, reset_num_timesteps=False, log_interval=None)
        chunk_seconds = time.perf_counter() - start
        seconds["learn"] += chunk_seconds
        scalars = {"time/env_steps_per_s": (target - steps) / chunk_seconds,
                   **_sb3_rollout_scalars(model, target - steps, chunk_seconds, has_success)}
        if restarts is not None:
            scalars.update({"restarts/p_demo": restarts.p_demo, "restarts/p_reset": restarts.p_reset})
        _log(model, scalars)
        stopped = stop is not None and stop.is_set() and target < config.steps
        if target % config.checkpoint_every == 0 or target == config.steps or stopped:
            start = time.perf_counter()
            save_checkpoint(out, model, venv, sources)
            seconds["checkpoint"] += time.perf_counter() - start
        bar.update(target - steps)
        if stopped:
            break
    bar.close()
    venv.close()
    return TrainSummary(model.num_timesteps, resumed_from, seconds["learn"], seconds["eval"],
                        seconds["checkpoint"], last, stopped)


def _record_evaluation(model: TD3, out: Path, record: dict[str, Any]) -> None:
    """Append an evaluation record to evaluations.jsonl and its scalars to TensorBoard."""
    with (out / EVALUATIONS).open("a") as f:
        f.write(json.dumps(record) + "\n")
    scalars = {f"eval/{k}": v for k, v in record.items() if k != "steps"}
    _log(model, {**scalars, "eval/mean_reward": record["mean_return"]})  # SB3's EvalCallback tag


def make_policy(model: TD3, normalizer: VecNormalize) -> Policy:
    """The deterministic policy on raw observations (normalised with the run's statistics)."""
    return lambda obs: model.predict(normalizer.normalize_obs(obs), deterministic=True)[0]


def _normalized(env: gymnasium.Env, config: OffPolicyConfig) -> VecNormalize:
    """The running observation normaliser (rewards untouched), clipped at ±obs_clip, over the
    VecMonitor that records SB3's episode statistics."""
    return VecNormalize(VecMonitor(DummyVecEnv([lambda: env])), norm_obs=True, norm_reward=False,
                        clip_obs=config.obs_clip, gamma=config.gamma)


def _sb3_rollout_scalars(model: TD3, steps: int, seconds: float, has_success: bool) -> dict[str, float]:
    """SB3's standard rollout and fps tags, as its off-policy dump_logs computes them (we
    call learn with log_interval=None, so SB3 writes none), for dashboards that expect them.

    rollout/success_rate only for tasks with success: elsewhere is_success is always False,
    which must not read as a 0% success rate.
    """
    scalars = {"time/fps": int(steps / seconds)}
    if model.ep_info_buffer:
        scalars["rollout/ep_rew_mean"] = float(safe_mean([ep["r"] for ep in model.ep_info_buffer]))
        scalars["rollout/ep_len_mean"] = float(safe_mean([ep["l"] for ep in model.ep_info_buffer]))
    if has_success and model.ep_success_buffer:
        scalars["rollout/success_rate"] = float(safe_mean(model.ep_success_buffer))
    return scalars


def _log(model: TD3, values: dict[str, Any]) -> None:
    """Write the scalars among values (and SB3's pending train/* values) to TensorBoard."""
    for key, value in values.items():
        if isinstance(value, (int, float)):
            model.logger.record(key, value)
    model.logger.dump(step=model.num_timesteps)


# ----- run directory ------------------------------------------------------------------------
def read_config(run_dir: str | Path) -> OffPolicyConfig:
    """The config a run directory was made with."""
    path = Path(run_dir) / CONFIG
    if not path.is_file():
        raise ValueError(f"{run_dir} is not a training run (no {CONFIG}); make one with `dexterous train`")
    return config_from_json(read_json(path, "restore it from a copy, or rerun the `dexterous train` command "
                                              "that made the run (with the same settings) to rewrite it"))


def read_evaluations(run_dir: str | Path) -> list[dict[str, Any]]:
    """Every evaluation record of a run, in order."""
    path = Path(run_dir) / EVALUATIONS
    if not path.is_file():
        return []
    records = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as err:
            raise ValueError(f"{path} line {number} is damaged ({err}); delete that line: resuming the run "
                             "makes again the evaluations after its last checkpoint") from None
    return records


OPERATIONAL = frozenset({"checkpoint_every", "log_every"})
"""Settings a resumed run may change: they only move the chunk boundaries, where the learner
is at rest, so the updates stay the same bit for bit (a longer run checkpoints more often to
lose less on a hard stop, say)."""


def _claim(out: Path, config: OffPolicyConfig) -> None:
    """One run per directory: refuse other settings; only `steps` (upwards: the steps done
    cannot be undone) and the OPERATIONAL settings may change."""
    record = json.loads(json.dumps(config.to_json()))
    check_settings(out, CONFIG, record, "a run",
                   "use another --out folder (only --steps, to extend a run, --checkpoint-every and --log-every "
                   "may change)",
                   damaged="restore it, or train into another --out folder", may_change={"steps", *OPERATIONAL},
                   as_today=recorded_train_config)
    checkpoint = latest_checkpoint(out)
    done = 0 if checkpoint is None else read_state(checkpoint)["steps"]
    if config.steps < done:
        raise ValueError(f"{out} has trained {done:,} steps already, more than --steps {config.steps:,}: "
                         f"use --steps {done} or more to extend the run, or train into another --out folder")
    write_atomically(out / CONFIG, json.dumps(record, indent=1) + "\n")


def _keep_evaluations(out: Path, steps: int) -> list[dict[str, Any]]:
    """Drop evaluations made after the checkpoint we resume from (they will be made again)."""
    kept = [r for r in read_evaluations(out) if r["steps"] <= steps]
    if (out / EVALUATIONS).exists():
        (out / EVALUATIONS).write_text("".join(json.dumps(r) + "\n" for r in kept))
    return kept
