"""Bad input gets an error that says what is wrong and how to fix it."""

import dataclasses

import gymnasium
import numpy as np
import pytest

import dexterous
from dexterous.catalog import UnknownEnvError
from dexterous.contracts.divergence import SimulationDivergedError


def test_unknown_env_id_lists_and_suggests():
    with pytest.raises(UnknownEnvError, match=r"unknown environment id 'dexterous/PenSpinn-v1'\. Did you mean dexterous/PenSpin-v1, "):
        dexterous.make("dexterous/PenSpinn-v1")


def test_ids_without_namespace_are_accepted():
    assert dexterous.make("PenSpin-v1").spec.id == "dexterous/PenSpin-v1"


def test_gymnasium_make_of_unknown_id_names_the_namespace():
    with pytest.raises(gymnasium.error.Error, match="`NoSuchEnv` doesn't exist in namespace dexterous"):
        gymnasium.make("dexterous/NoSuchEnv-v1")


def test_wrong_action_shape():
    env = gymnasium.make("dexterous/HandManipulateBlockFull-v1")
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"action must have shape \(20,\) for dexterous/HandManipulateBlockFull-v1, got \(19,\)"):
        env.step(np.zeros(19))


def test_nan_action():
    env = gymnasium.make("dexterous/PenSpin-v1")
    env.reset(seed=0)
    action = np.zeros(20)
    action[[3, 7]] = np.nan
    with pytest.raises(ValueError, match=r"action contains NaN or inf at indices \[3, 7\]"):
        env.step(action)


def test_bad_render_mode():
    from dexterous.envs.pen_spin import PenSpinEnv

    with pytest.raises(ValueError, match="render_mode must be None or 'rgb_array', got 'rgb'"):
        PenSpinEnv(render_mode="rgb")


def test_missing_hand_assets_say_how_to_fix(monkeypatch):
    import importlib.util

    from dexterous import assets

    assets.assets_root.cache_clear()
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    try:
        with pytest.raises(assets.MissingAssetError, match=r"pip install gymnasium-robotics==1\.4\.2"):
            assets.assets_root()
    finally:
        monkeypatch.undo()
        assets.assets_root.cache_clear()


def test_env_step_refuses_to_play_on_after_a_divergence():
    env = gymnasium.make("dexterous/PenSpin-v1")
    env.reset(seed=0)
    snap = env.unwrapped.snapshot()
    state = snap.state.copy()
    state[1 + env.unwrapped.model.nq + env.unwrapped.indices.objects[0].qvel[3]] = 1e30  # the pen's spin
    bad = dataclasses.replace(snap, state=state)
    for _ in range(2):  # the second divergence of one MjData is caught too
        env.unwrapped.restore(bad)
        with pytest.raises(SimulationDivergedError,
                           match=r"PenSpin-v1 diverged at step 1: MuJoCo found a bad QVEL .*call reset\(\) or restore\(\)"):
            env.step(np.zeros(20))
        with pytest.raises(SimulationDivergedError):  # not from MuJoCo's auto-reset pose
            env.step(np.zeros(20))
    env.unwrapped.restore(snap)
    env.step(np.zeros(20))
    env.unwrapped.restore(bad)
    with pytest.raises(SimulationDivergedError):
        env.step(np.zeros(20))
    env.reset(seed=0)
    env.step(np.zeros(20))


def test_a_task_that_misses_a_hook_cannot_be_made():
    from dexterous.envs.goal import GoalHandEnv

    class Incomplete(GoalHandEnv):
        def _action_layout(self):
            return []

    with pytest.raises(TypeError, match="Can't instantiate abstract class Incomplete.*_flat_observation"):
        Incomplete(None, 75, None)  # refused before any of its (here absent) scene is built
