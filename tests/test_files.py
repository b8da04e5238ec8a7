"""Files are replaced whole or not at all, and records say what made them."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import dexterous
from dexterous.contracts.files import machine, processor_kind, versions, write_atomically
from dexterous.contracts.snapshot import Snapshot


def test_a_writer_that_fails_midway_leaves_the_old_file_whole(tmp_path):
    path = write_atomically(tmp_path / "record.json", json.dumps({"run": 1}))

    def crash(f):
        f.write(b'{"run": 2, "half')
        raise KeyboardInterrupt  # as a kill during the write

    with pytest.raises(KeyboardInterrupt):
        write_atomically(path, crash)
    assert json.loads(path.read_text()) == {"run": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["record.json"]  # nor a temporary file left behind
    write_atomically(path, b'{"run": 3}')
    assert json.loads(path.read_text()) == {"run": 3}


def test_processes_writing_one_file_at_once_each_replace_it_whole(tmp_path):
    # Each writer renames its own temporary file: with one shared temporary name, one
    # process renames the other's half-written file or finds its own gone.
    start = tmp_path / "go"
    script = ("import os, sys, time\nfrom dexterous.contracts.files import write_atomically\n"
              "print('ready', flush=True)\n"
              "while not os.path.exists(sys.argv[3]):\n"
              "    time.sleep(0.001)\n"
              "for i in range(300):\n"
              "    write_atomically(sys.argv[1], sys.argv[2] * 50_000)\n")
    writers = [subprocess.Popen([sys.executable, "-c", script, str(tmp_path / "index.json"), letter, str(start)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for letter in "ab"]
    assert [w.stdout.readline().strip() for w in writers] == ["ready", "ready"]  # both imported: start together
    start.touch()
    errors = [w.communicate()[1] for w in writers]
    assert [w.returncode for w in writers] == [0, 0], errors
    assert (tmp_path / "index.json").read_text() in ("a" * 50_000, "b" * 50_000)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["go", "index.json"]


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
    assert machine()["processor_kind"] == processor_kind()


def test_the_processor_kind_changes_with_the_instruction_set_numpy_computes_exp_on():
    """The kind tells apart the machines whose rewards differ in the last bit: numpy told to
    leave its instruction set for exp is another kind on the same processor."""
    from numpy.lib.introspect import opt_func_info

    target = opt_func_info(func_name="^exp$").get("exp", {}).get("dd", {}).get("current", "baseline")
    if target.startswith("baseline"):
        pytest.skip(f"numpy computes float64 exp on its baseline here ({target}), which cannot be disabled")
    here = processor_kind()
    assert here.endswith(f", numpy {target}")
    other = subprocess.run([sys.executable, "-c", "from dexterous.contracts.files import processor_kind; "
                            "print(processor_kind())"], env={**os.environ, "NPY_DISABLE_CPU_FEATURES": target},
                           capture_output=True, text=True, check=True).stdout.strip()
    assert other.split(", numpy ")[0] == here.split(", numpy ")[0] and other != here
