"""Checkpoints of a training run, and its best evaluated policy.

A checkpoint (`checkpoint/`, replaced atomically; see `dexterous.rl.runs` for the layout)
holds every piece of state that decides a run's future, so resuming from it is exact. The
best policy (`best/`: model, normaliser and the evaluation that chose it) is what SB3's
EvalCallback keeps as best_model: the policy of the evaluation with the highest mean
return so far, since a TD3 run's latest policy may be worse than one it had.
"""

from __future__ import annotations

import json
import pickle
import random
import shutil
import zipfile
from pathlib import Path
from typing import Any

import gymnasium
import numpy as np
import torch as th
from stable_baselines3 import TD3
from stable_baselines3.common.vec_env import DummyVecEnv, VecMonitor, VecNormalize

from dexterous.contracts.files import read_json
from dexterous.contracts.snapshot import Snapshot
from dexterous.rl.wrappers import DemoRestarts, RestartState, find_wrapper

CHECKPOINT = "checkpoint"
BEST = "best"
"""A run's folder with its best evaluated policy: model.zip, normalizer.pkl, evaluation.json."""


def train_env(venv: VecNormalize) -> gymnasium.Env:
    """The training environment inside the VecEnv wrappers."""
    return venv.unwrapped.envs[0]


def save_best(out: Path, model: TD3, venv: VecNormalize, record: dict[str, Any],
              earlier: list[dict[str, Any]], metric: str) -> bool:
    """Keep model as the run's best policy if its evaluation record beats, by `metric`, every
    earlier one that has it (ties keep the earlier); True if it did. Records written before
    a run's metric existed (a run resumed across versions) take no part.

    Called before the record is appended to evaluations.jsonl, so a run killed in between
    evaluates again on resume and decides again; resuming redoes the evaluations after the
    checkpoint, and with them the same choices, so best/ ends as an uninterrupted run's.
    """
    if any(e[metric] >= record[metric] for e in earlier if metric in e):
        return False
    tmp = _fresh(out / (BEST + ".tmp"))
    model.save(tmp / "model.zip")  # SB3 leaves the replay buffer out
    venv.save(str(tmp / "normalizer.pkl"))
    (tmp / "evaluation.json").write_text(json.dumps(record) + "\n")
    _swap_in(tmp, out / BEST)
    return True


def best_policy(out: str | Path) -> Path | None:
    """The run's best-policy folder (or the previous one, if a save was interrupted mid-swap)."""
    return _kept(Path(out) / BEST, "evaluation.json")


def latest_checkpoint(out: str | Path) -> Path | None:
    """The run's checkpoint folder (or the previous one, if a save was interrupted mid-swap)."""
    return _kept(Path(out) / CHECKPOINT, "state.json")


def _kept(final: Path, last_file: str) -> Path | None:
    """final, or final.old where a swap was interrupted (`_swap_in`), whichever holds last_file,
    the file written last, or None."""
    for folder in (final, final.with_name(final.name + ".old")):
        if (folder / last_file).is_file():
            return folder
    return None


def _fresh(tmp: Path) -> Path:
    """An empty folder tmp to write a new version of a folder into."""
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    return tmp


def _swap_in(tmp: Path, final: Path) -> None:
    """Replace final by the finished folder tmp; at every instant one of final and final.old is whole."""
    old = final.with_name(final.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if final.exists():
        final.rename(old)
    tmp.rename(final)
    shutil.rmtree(old, ignore_errors=True)


def save_checkpoint(out: Path, model: TD3, venv: VecNormalize, sources: dict[str, str]) -> None:
    """Write the checkpoint of a learner at rest into out/checkpoint, replacing the last one atomically."""
    tmp = _fresh(out / (CHECKPOINT + ".tmp"))
    model.save(tmp / "model.zip")
    model.save_replay_buffer(tmp / "replay.pkl")
    venv.save(str(tmp / "normalizer.pkl"))
    env = train_env(venv)
    env.unwrapped.snapshot().save(tmp / "env.npz")
    state: dict[str, Any] = {"steps": model.num_timesteps, "rng": _rng_state(model), "restarts": None,
                             "sources": sources}
    restarts = find_wrapper(env, DemoRestarts)
    if restarts is not None:
        saved = restarts.get_state()
        if saved.ongoing is not None:
            saved.ongoing.save(tmp / "ongoing.npz")
        state["restarts"] = {"p_demo": saved.p_demo, "p_reset": saved.p_reset, "segments": saved.segments,
                             "segment_steps": saved.segment_steps, "rng_state": saved.rng_state,
                             "started": saved.started, "in_main": saved.in_main}
    (tmp / "state.json").write_text(json.dumps(state))
    _swap_in(tmp, out / CHECKPOINT)


def _check_sources(checkpoint: Path, recorded: dict[str, str] | None, sources: dict[str, str]) -> None:
    """Refuse to resume a run whose demonstration files changed since it started (e.g. planned again).

    recorded is None for a checkpoint written before dexterous recorded its sources.
    """
    if recorded is None or recorded == sources:
        return
    changes = ([f"{name} changed" for name in sorted(recorded.keys() & sources.keys())
                if recorded[name] != sources[name]]
               + [f"{name} removed" for name in sorted(recorded.keys() - sources.keys())]
               + [f"{name} added" for name in sorted(sources.keys() - recorded.keys())])
    raise ValueError(f"the run in {checkpoint.parent} was started from other demonstrations than its --demos "
                     f"folder holds now ({', '.join(changes)}); put those episode files back, "
                     "or train into another --out folder")


def resume(model_class: type[TD3], checkpoint: Path, env: gymnasium.Env,
           sources: dict[str, str]) -> tuple[TD3, VecNormalize]:
    """The model, normaliser, replay buffer, environment state and RNGs of a checkpoint."""
    state = read_state(checkpoint)
    _check_sources(checkpoint, state.get("sources"), sources)
    inner = VecMonitor(DummyVecEnv([lambda: env]))
    inner.reset()  # gymnasium's order checks want one reset; the state is replaced below
    venv = VecNormalize.load(str(checkpoint / "normalizer.pkl"), inner)
    # force_reset=False keeps the saved last observation; seed=None stops load from reseeding
    model = model_class.load(checkpoint / "model.zip", env=venv, device="cpu", force_reset=False, seed=None)
    try:
        model.load_replay_buffer(checkpoint / "replay.pkl", truncate_last_traj=False)
    except (OSError, EOFError, pickle.UnpicklingError, ValueError, AttributeError, zipfile.BadZipFile) as err:
        raise ValueError(f"{checkpoint / 'replay.pkl'} is damaged ({type(err).__name__}: {err}); "
                         f"{_DAMAGED_CHECKPOINT.format(checkpoint=checkpoint)}") from None
    env.unwrapped.restore(Snapshot.load(checkpoint / "env.npz"))
    restarts = find_wrapper(env, DemoRestarts)
    if (restarts is None) != (state["restarts"] is None):
        raise ValueError(f"checkpoint {checkpoint} does not match this run's environment (demo restarts)")
    if restarts is not None:
        ongoing = checkpoint / "ongoing.npz"
        ongoing_snapshot = Snapshot.load(ongoing) if ongoing.exists() else None
        restarts.set_state(RestartState(**state["restarts"], ongoing=ongoing_snapshot))
    _set_rng_state(model, state["rng"])
    return model, venv


_DAMAGED_CHECKPOINT = ("delete the folder {checkpoint} to resume from the checkpoint before it where one is "
                       "left ({checkpoint}.old), else to train the run again from the start")


def read_state(checkpoint: Path) -> dict[str, Any]:
    """A checkpoint's state.json; a damaged one is named with what to do."""
    return read_json(checkpoint / "state.json", _DAMAGED_CHECKPOINT.format(checkpoint=checkpoint))


def _rng_state(model: TD3) -> dict[str, Any]:
    """The generators SB3 draws from: numpy's global (replay sampling, action noise), torch's
    (target smoothing noise), python's, and the action space's (warm-up actions)."""
    numpy_state = np.random.get_state(legacy=False)
    numpy_state["state"]["key"] = numpy_state["state"]["key"].tolist()
    return {"numpy": numpy_state, "torch": th.get_rng_state().tolist(), "python": random.getstate(),
            "action_space": model.action_space.np_random.bit_generator.state}


def _set_rng_state(model: TD3, state: dict[str, Any]) -> None:
    numpy_state = state["numpy"]
    numpy_state["state"]["key"] = np.array(numpy_state["state"]["key"], dtype=np.uint32)
    np.random.set_state(numpy_state)
    th.set_rng_state(th.tensor(state["torch"], dtype=th.uint8))
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    model.action_space.np_random.bit_generator.state = state["action_space"]
