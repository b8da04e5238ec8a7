"""Minari export: the dataset holds exactly the recorded episodes, or the export is refused by name."""

import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

minari = pytest.importorskip("minari")  # installed with the test extra; optional for users

from dexterous.cli import main  # noqa: E402
from dexterous.demos import DemoError, Demonstration, write_index  # noqa: E402
from dexterous.demos.minari_export import default_dataset_id, export_minari, planner_label  # noqa: E402
from dexterous.mpc.driver import plan_episode  # noqa: E402
from dexterous.planning import preset  # noqa: E402

BLOCK = "dexterous/HandManipulateBlockFull-v1"


@pytest.fixture(scope="module")
def block_demos(tmp_path_factory) -> Path:
    """Two finished smoke episodes (seeds 1 and 2) and one cut off after 5 steps (seed 3)."""
    folder = tmp_path_factory.mktemp("block_demos")
    for number, (seed, steps) in enumerate(((1, None), (2, None), (3, 5))):
        plan_episode(BLOCK, preset("smoke", BLOCK), seed=seed, path=folder / f"episode_{number:04d}.npz",
                     nthread=1, max_steps=steps)
    write_index(folder)
    return folder


def test_a_goal_task_exports_its_finished_episodes_as_recorded(block_demos, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a plain export, without author or permalink, warns of nothing
        dataset = export_minari(block_demos, datasets_path=tmp_path)
    assert dataset.spec.dataset_id == "dexterous/HandManipulateBlockFull/topdm-v0"
    assert dataset.total_episodes == 2 and dataset.total_steps == 150  # the unfinished episode is left out
    for episode, seed in zip(dataset.iterate_episodes(), (1, 2), strict=True):
        demo = Demonstration.load(block_demos / f"episode_{seed - 1:04d}.npz")
        flat = np.concatenate([episode.observations[k] for k in ("observation", "achieved_goal", "desired_goal")],
                              axis=1)
        assert np.array_equal(flat, np.asarray(demo.observations))
        assert episode.actions.dtype == np.float32 and all(a in dataset.action_space for a in episode.actions)
        assert np.array_equal(episode.actions, np.asarray(demo.actions, dtype=np.float32))
        assert np.array_equal(episode.rewards, np.asarray(demo.rewards))
        assert np.array_equal(episode.infos["is_success"], [False, *demo.successes])
        assert not episode.terminations.any() and list(np.flatnonzero(episode.truncations)) == [74]
    assert dataset.recover_environment().spec.id == BLOCK


def test_an_episode_that_does_not_replay_is_refused(block_demos, tmp_path):
    folder = tmp_path / "tampered"
    folder.mkdir()
    demo = Demonstration.load(block_demos / "episode_0001.npz")
    demo.rewards[10] += 1.0
    demo.save(folder / "episode_0000.npz")
    write_index(folder)
    with pytest.raises(DemoError, match=r"tampered: episode seed 2 does not replay exactly at step 10"):
        export_minari(folder, datasets_path=tmp_path / "minari")


def test_the_command_writes_a_loadable_dataset_and_refuses_to_overwrite_it(demo_folder, tmp_path, capsys,
                                                                           monkeypatch):
    args = ["export-minari", str(demo_folder), "--datasets-path", str(tmp_path), "--author", "dexterous tests"]
    assert main(args) == 0
    assert "wrote Minari dataset dexterous/PenSpin/topdm-v0: 1 episodes, 250 steps" in capsys.readouterr().out
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path))
    dataset = minari.load_dataset("dexterous/PenSpin/topdm-v0")
    metadata = dataset.storage.metadata
    assert dataset.observation_space.shape == (61,) and metadata["author"] == {"dexterous tests"}
    assert metadata["algorithm_name"] == "topdm" and metadata["requirements"][0].startswith("dexterous==")
    assert main(args) == 2
    assert "a Minari dataset 'dexterous/PenSpin/topdm-v0' already exists" in capsys.readouterr().err


def test_a_malformed_dataset_id_is_refused_before_any_work(demo_folder, tmp_path):
    with pytest.raises(DemoError, match=r"'pen spin' is not a Minari dataset id: use \(namespace/\)name-v<version>"):
        export_minari(demo_folder, "pen spin", datasets_path=tmp_path)
    assert not any(tmp_path.iterdir())


def test_without_minari_the_export_says_how_to_install_it(demo_folder, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "minari", None)  # import minari now raises ImportError
    with pytest.raises(DemoError, match=r"pip install 'dexterous\[minari\]'"):
        export_minari(demo_folder, datasets_path=tmp_path)


@pytest.mark.parametrize("meta, label", [
    ({"planner": "topdm", "config": {"kappa": 20.0}}, "topdm"),
    ({"planner": "mod1+2", "config": {"kappa": 20.0}}, "mod1-2"),
    ({"planner": "mppi", "config": {"kappa": 1.0}}, "mppi-kappa-1"),
    ({"planner": "mppi", "config": {"kappa": 0.5}}, "mppi-kappa-0-5"),
])
def test_default_dataset_ids_name_the_env_and_the_planner(meta, label):
    assert default_dataset_id("dexterous/EggHandOver-v1", planner_label(meta)) == f"dexterous/EggHandOver/{label}-v0"
