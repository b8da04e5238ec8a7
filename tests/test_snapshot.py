"""Exact snapshots: restore and replay give identical futures; files round-trip or fail loudly."""

import pickle

import gymnasium
import numpy as np
import pytest

from helpers import flat, random_actions
from dexterous.contracts.snapshot import Snapshot, SnapshotError


def _rollout(env, actions):
    out = []
    for a in actions:
        obs, reward, _, truncated, info = env.step(a)
        out.append((flat(obs), reward, truncated, info["is_success"]))
    return out


def _same(a, b):
    return all(np.array_equal(x[0], y[0]) and x[1:] == y[1:] for x, y in zip(a, b, strict=True))


def test_restore_then_replay_is_identical(dense_env_id):
    env = gymnasium.make(dense_env_id)
    env.reset(seed=11)
    _rollout(env, random_actions(env, 7, seed=1))
    snap = env.unwrapped.snapshot()
    actions = random_actions(env, 12, seed=2)
    first = _rollout(env, actions)
    _rollout(env, random_actions(env, 5, seed=3))  # wander off
    env.unwrapped.restore(snap)
    assert _same(first, _rollout(env, actions))


def test_restore_into_a_fresh_env_and_reset_rng(dense_env_id):
    """A snapshot carries the step count and RNG: truncation and the next reset agree too."""
    env = gymnasium.make(dense_env_id)
    env.reset(seed=4)
    snap = env.unwrapped.snapshot()
    other = gymnasium.make(dense_env_id)
    other.reset(seed=99)
    other.unwrapped.restore(snap)
    actions = random_actions(env, 5, seed=5)
    assert _same(_rollout(env, actions), _rollout(other, actions))
    assert np.array_equal(flat(env.reset()[0]), flat(other.reset()[0]))


def test_snapshot_pickles_and_round_trips_through_a_file(dense_env_id, tmp_path):
    env = gymnasium.make(dense_env_id)
    env.reset(seed=0)
    env.step(env.action_space.sample())
    snap = env.unwrapped.snapshot()
    assert pickle.loads(pickle.dumps(snap)).equals(snap)
    loaded = Snapshot.load(snap.save(tmp_path / "snap.npz"))
    assert loaded.equals(snap)
    actions = random_actions(env, 6, seed=8)
    env.unwrapped.restore(snap)
    first = _rollout(env, actions)
    env.unwrapped.restore(loaded)
    assert _same(first, _rollout(env, actions))


def test_snapshot_is_immutable():
    env = gymnasium.make("dexterous/PenSpin-v1")
    env.reset(seed=0)
    snap = env.unwrapped.snapshot()
    with pytest.raises(ValueError):
        snap.state[0] = 1.0
    env.step(env.action_space.sample())
    assert not np.array_equal(snap.state, env.unwrapped.snapshot().state)


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty"])
def test_corrupted_snapshot_file_is_rejected(tmp_path, damage):
    env = gymnasium.make("dexterous/HandManipulateBlockFull-v1")
    env.reset(seed=0)
    path = env.unwrapped.snapshot().save(tmp_path / "snap.npz")
    data = path.read_bytes()
    path.write_bytes({"truncate": data[: len(data) // 2], "garbage": b"\x00not a snapshot" * 50, "empty": b""}[damage])
    with pytest.raises(SnapshotError, match=r"snap\.npz is truncated or corrupted"):
        Snapshot.load(path)


def test_missing_snapshot_file_is_named(tmp_path):
    with pytest.raises(SnapshotError, match=r"nope\.npz does not exist"):
        Snapshot.load(tmp_path / "nope.npz")


def test_snapshot_of_another_env_is_refused():
    block = gymnasium.make("dexterous/HandManipulateBlockFull-v1")
    block.reset(seed=0)
    pen = gymnasium.make("dexterous/PenSpin-v1")
    with pytest.raises(SnapshotError, match="taken from dexterous/HandManipulateBlockFull-v1, cannot restore it into dexterous/PenSpin-v1"):
        pen.unwrapped.restore(block.unwrapped.snapshot())
