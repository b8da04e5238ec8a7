"""`dexterous plan` on a real `ray start` cluster with token auth, as a user runs it: from the
command line, joining by --address, and beside it without one (an embedded Ray of its own)."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import dexterous
from dexterous.demos import Demonstration, episode_path
from dexterous.mpc.runner import PlanRun, run_plan

pytest.importorskip("ray")
pytestmark = pytest.mark.slow  # a cluster and two Ray drivers start: tens of seconds
BLOCK = "dexterous/HandManipulateBlockFull-v1"
PLAN = ("plan", BLOCK, "--preset", "smoke", "--episodes", "2", "--seed", "3", "--no-progress")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _stop_group(group: int, grace: float = 5.0) -> None:
    """End the cluster by its process group, never `ray stop`, which ends every Ray on the machine."""
    os.killpg(group, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return
        time.sleep(0.5)
    os.killpg(group, signal.SIGKILL)  # the GCS may sit out SIGTERM


@pytest.fixture(scope="module")
def cluster() -> Iterator[tuple[str, dict[str, str]]]:
    """A two-CPU `ray start --head` on loopback that demands a token, with the environment that
    holds its token (RAY_AUTH_TOKEN_PATH) and this tree's code, and not RAY_AUTH_MODE: a driver
    must find out for itself that it has to send the token."""
    folder = Path(tempfile.mkdtemp(prefix="ray", dir="/tmp"))  # short: Ray's socket paths live under it
    (folder / "token").write_text(secrets.token_hex(32))
    env = {key: value for key, value in os.environ.items() if key not in ("RAY_AUTH_MODE", "RAY_ADDRESS")}
    env |= {"RAY_AUTH_TOKEN_PATH": str(folder / "token"), "PYTHONPATH": str(Path(dexterous.__file__).parents[1]),
            "OMP_NUM_THREADS": "1"}
    address = f"127.0.0.1:{_free_port()}"
    ray = str(Path(sys.executable).parent / "ray")
    log = folder / "start.log"  # a file, not a pipe: the daemons it leaves behind would hold a pipe open
    with log.open("w") as output:
        start = subprocess.Popen(
            [ray, "start", "--head", "--node-ip-address=127.0.0.1", f"--port={address.split(':')[1]}",
             f"--temp-dir={folder}", "--num-cpus=2", "--include-dashboard=false", "--disable-usage-stats"],
            env={**env, "RAY_AUTH_MODE": "token"}, start_new_session=True, stdout=output, stderr=subprocess.STDOUT)
    try:
        assert start.wait(timeout=120) == 0, log.read_text()
        yield address, env
    finally:
        _stop_group(start.pid)
        shutil.rmtree(folder, ignore_errors=True)


def _plan(out: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dexterous.cli", *PLAN, "--out", str(out), *args],
                          capture_output=True, text=True, env=env, timeout=600)


def _assert_same_episodes(folder: Path, reference: Path) -> None:
    for k in range(2):
        a, b = Demonstration.load(episode_path(folder, k)), Demonstration.load(episode_path(reference, k))
        for field in ("states", "actions", "rewards", "successes", "predicted_returns"):
            assert np.array_equal(np.array(getattr(a, field)), np.array(getattr(b, field))), (k, field)


@pytest.fixture(scope="module")
def in_process(tmp_path_factory) -> Path:
    """The reference: the same two episodes planned one after another in this process."""
    out = tmp_path_factory.mktemp("in_process")
    run_plan(PlanRun(BLOCK, preset="smoke", episodes=2, seed=3), out, use_ray=False, progress=False)
    return out


def test_plan_joins_a_token_auth_cluster_by_address(cluster, in_process, tmp_path):
    address, env = cluster
    done = _plan(tmp_path, env, "--address", address)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # no Ray banners, warnings or token notices
    _assert_same_episodes(tmp_path, in_process)


def test_plan_without_address_embeds_its_own_ray_beside_a_running_cluster(cluster, in_process, tmp_path):
    address, env = cluster
    done = _plan(tmp_path, {**env, "RAY_ADDRESS": address})  # what made ray.init join the cluster
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    _assert_same_episodes(tmp_path, in_process)


def test_a_missing_token_is_named_with_its_fix(cluster, tmp_path):
    address, env = cluster
    without_token = {key: value for key, value in env.items() if key != "RAY_AUTH_TOKEN_PATH"}
    done = _plan(tmp_path, {**without_token, "HOME": str(tmp_path)}, "--address", address)  # no ~/.ray/auth_token
    assert done.returncode == 2
    assert f"the Ray cluster at {address} requires an authentication token" in done.stderr
