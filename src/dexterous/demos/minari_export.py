"""Export a folder of demonstrations as a Minari dataset, the format offline-RL libraries read.

Each finished episode is replayed from its reset seed with its recorded actions
(`replay_steps`), so the dataset holds what the environment itself returns: observations
(dicts on goal tasks), terminations, truncations and the `is_success` info. Every replayed
step is checked bit for bit against the recording, and the written dataset is read back
and compared once more: an export never holds anything the demonstrations do not. The
planned means, predicted returns and MuJoCo states stay in the .npz files, which remain the
source of truth. Actions are stored as float32, the dtype of the action space, so that every
stored action lies in it; the executed float64 actions are in the .npz files.

Buffers go to `minari.create_dataset_from_buffers` rather than through Minari's
`DataCollector` wrapper, which needs jax. Minari is an optional dependency
(`pip install 'dexterous[minari]'`).
"""

from __future__ import annotations

import json
import os
import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gymnasium
import numpy as np
from gymnasium.envs.registration import parse_env_id

import dexterous
from dexterous.demos.folder import load_folder
from dexterous.demos.format import DemoError, Demonstration
from dexterous.demos.replay import flat_observation, replay_steps, reproduces

if TYPE_CHECKING:
    from minari import MinariDataset
    from minari.data_collector import EpisodeBuffer


def planner_label(meta: dict[str, Any]) -> str:
    """A demonstration's planner as a Minari name: "topdm", "mod1-2", "mppi-kappa-20"."""
    label = meta["planner"] + (f"-kappa-{meta['config']['kappa']:g}" if meta["planner"] == "mppi" else "")
    return re.sub(r"[^-\w]+", "-", label)


def default_dataset_id(env_id: str, planner: str) -> str:
    """"dexterous/EggHandOver-v1" planned by topdm → "dexterous/EggHandOver/topdm-v0"."""
    namespace, name, _ = parse_env_id(env_id)
    return f"{namespace}/{name}/{planner}-v0"


def export_minari(folder: str | Path, dataset_id: str | None = None, datasets_path: str | Path | None = None,
                  author: str | None = None, author_email: str | None = None,
                  code_permalink: str | None = None) -> MinariDataset:
    """Write the folder's finished episodes as the Minari dataset `dataset_id` and return it.

    dataset_id defaults to `default_dataset_id`; datasets_path to Minari's own root
    (MINARI_DATASETS_PATH, else ~/.minari/datasets). Unfinished episodes are left out: an
    episode cut off mid-way is not one an offline learner should see as truncated. author,
    author_email and code_permalink are stored as given, and left out where not given (without
    Minari's warnings: the description and requirements already say what made the dataset).
    """
    try:
        import minari
        from minari.dataset.minari_dataset import DATASET_ID_RE
    except ImportError:
        raise DemoError("exporting to Minari needs the minari package: pip install 'dexterous[minari]'") from None
    demos = load_folder(folder, complete_only=True)
    env_ids = sorted({d.env_id for d in demos})
    planners = sorted({planner_label(d.meta) for d in demos})
    if len(env_ids) > 1 or len(planners) > 1:
        raise DemoError(f"{folder} mixes environments {env_ids} or planners {planners}; a Minari dataset holds "
                        "one of each: export each demonstration folder on its own")
    dataset_id = dataset_id or default_dataset_id(env_ids[0], planners[0])
    if not DATASET_ID_RE.fullmatch(dataset_id):
        raise DemoError(f"{dataset_id!r} is not a Minari dataset id: use (namespace/)name-v<version> with letters, "
                        "digits, '-' and '_', e.g. dexterous/PenSpin/topdm-v0")
    with _datasets_root(datasets_path):
        if dataset_id in minari.list_local_datasets():
            raise DemoError(f"a Minari dataset {dataset_id!r} already exists; choose another --dataset-id "
                            f"or delete it (minari delete {dataset_id})")
        env = dexterous.make(env_ids[0])
        buffers = [_episode_buffer(folder, number, demo, env) for number, demo in enumerate(demos)]
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", r"`(author|author_email|code_permalink)` is set to None", UserWarning)
            dataset = minari.create_dataset_from_buffers(
                dataset_id, buffers, env=env_ids[0], eval_env=env_ids[0], algorithm_name=planners[0],
                author=author, author_email=author_email, code_permalink=code_permalink,
                description=_description(demos), data_format="hdf5",
                requirements=[f"dexterous=={version('dexterous')}"])
        _check_against_recordings(dataset, demos)
    return dataset


@contextmanager
def _datasets_root(path: str | Path | None) -> Iterator[None]:
    """Minari takes its root from the environment only, so set it for the export and restore it."""
    if path is None:
        yield
        return
    before = os.environ.get("MINARI_DATASETS_PATH")
    os.environ["MINARI_DATASETS_PATH"] = str(Path(path).resolve())
    try:
        yield
    finally:
        if before is None:
            del os.environ["MINARI_DATASETS_PATH"]
        else:
            os.environ["MINARI_DATASETS_PATH"] = before


def _episode_buffer(folder: str | Path, number: int, demo: Demonstration, env: gymnasium.Env) -> EpisodeBuffer:
    """One episode as Minari wants it, from a replay checked step by step against the recording."""
    from minari.data_collector import EpisodeBuffer

    obs, info = env.reset(seed=demo.seed)
    steps: list[tuple[Any, float, bool, bool, dict[str, Any]]] = [(obs, 0.0, False, False, info)]
    for k, (obs, reward, terminated, truncated, info) in replay_steps(demo, env):
        if not reproduces(demo, k, obs, reward):
            raise DemoError(f"{folder}: episode seed {demo.seed} does not replay exactly at step {k}; it was "
                            f"recorded with other versions ({demo.meta['versions']}) and cannot be exported "
                            "faithfully")
        steps.append((obs, float(reward), terminated, truncated, info))
    observations = [s[0] for s in steps]
    return EpisodeBuffer(
        id=number, seed=demo.seed,
        observations=({key: np.stack([o[key] for o in observations]) for key in observations[0]}
                      if isinstance(observations[0], dict) else np.stack(observations)),
        actions=_stored_actions(demo, env.action_space), rewards=[s[1] for s in steps[1:]],
        terminations=[s[2] for s in steps[1:]], truncations=[s[3] for s in steps[1:]],
        infos={"is_success": np.array([s[4]["is_success"] for s in steps])})


def _stored_actions(demo: Demonstration, space: gymnasium.spaces.Box) -> np.ndarray:
    """(T, A) the executed actions in the action space's dtype (float32), where every one of them lies."""
    return np.asarray(demo.actions, dtype=space.dtype)


def _description(demos: list[Demonstration]) -> str:
    meta = demos[0].meta
    return (f"{len(demos)} episodes of {demos[0].env_id} (reset seeds {[d.seed for d in demos]}) planned by "
            f"{meta['planner']} with config {json.dumps(meta['config'])}, exported by dexterous from its "
            "demonstration files; rewards are the environment's dense rewards.")


def _check_against_recordings(dataset: MinariDataset, demos: list[Demonstration]) -> None:
    """The dataset as written must read back as the recordings: observations, actions, rewards."""
    for demo, episode in zip(demos, dataset.iterate_episodes(), strict=True):
        observations = episode.observations
        if isinstance(observations, dict):
            observations = [flat_observation({k: v[i] for k, v in observations.items()})
                            for i in range(len(demo.observations))]
        if not (np.array_equal(np.asarray(observations), np.asarray(demo.observations))
                and np.array_equal(episode.actions, _stored_actions(demo, dataset.action_space))
                and np.array_equal(episode.rewards, np.asarray(demo.rewards))):
            raise DemoError(f"Minari dataset {dataset.spec.dataset_id} does not read back as episode seed "
                            f"{demo.seed} was recorded; delete it and report this as a bug")
