"""Files are replaced whole or not at all, and records say what made them."""

import json

import numpy as np
import pytest

import dexterous
from dexterous.contracts.files import machine, versions, write_atomically
from dexterous.contracts.snapshot import Snapshot


def test_a_writer_that_fails_midway_leaves_the_old_file_whole(tmp_path):
    path = write_atomically(tmp_path / "record.json", json.dumps({"run": 1}))

    def crash(f):
        f.write(b'{"run": 2, "half')
        raise KeyboardInterrupt  # as a kill during the write

    with pytest.raises(KeyboardInterrupt):
        write_atomically(path, crash)
    assert json.loads(path.read_text()) == {"run": 1}
    write_atomically(path, b'{"run": 3}')
    assert json.loads(path.read_text()) == {"run": 3}


def test_a_snapshot_is_saved_atomically(tmp_path, monkeypatch):
    env = dexterous.make("PenSpin-v1").unwrapped
    env.reset(seed=0)
    path = env.snapshot().save(tmp_path / "snap.npz")
    saved = Snapshot.load(path)
    env.step(np.zeros(env.action_space.shape))
    monkeypatch.setattr(np, "savez", lambda *args, **kwargs: (_ for _ in ()).throw(OSError("disk full")))
    with pytest.raises(OSError, match="disk full"):
        env.snapshot().save(path)
    assert np.array_equal(Snapshot.load(path).state, saved.state)


def test_provenance_names_versions_and_machine():
    assert versions(["numpy"]) == {"numpy": np.__version__}
    assert machine()["cpu_count"] >= 1
