"""Ray runs what one process runs: the same episodes and records, bit for bit, just in parallel."""

from __future__ import annotations

import numpy as np
import pytest

from dexterous.demos import Demonstration, episode_path, read_index
from dexterous.cluster import connect_ray
from dexterous.mpc.runner import PlanRun, run_plan
from dexterous.experiments.configs import figure_config
from dexterous.experiments.results import read_runs
from dexterous.experiments.runner import reproduce

ray = pytest.importorskip("ray")
pytestmark = pytest.mark.slow  # starting Ray costs tens of seconds; `pytest -m slow` runs these
BLOCK = "dexterous/HandManipulateBlockFull-v1"


@pytest.fixture(scope="module", autouse=True)
def local_ray():
    """One embedded local Ray for the module, shut down after it so no other test inherits it."""
    connect_ray(None)
    yield
    ray.shutdown()


def test_the_embedded_ray_is_on_loopback_only():
    assert {node["NodeManagerAddress"] for node in ray.nodes()} == {"127.0.0.1"}
    assert ray.get_runtime_context().gcs_address.startswith("127.0.0.1:")


def test_plan_on_ray_equals_planning_in_process(tmp_path):
    run = PlanRun(BLOCK, preset="smoke", episodes=2, seed=7)
    on_ray = run_plan(run, tmp_path / "ray", use_ray=True, progress=False)
    in_process = run_plan(run, tmp_path / "process", use_ray=False, progress=False)
    assert (on_ray.mean_return, on_ray.env_steps) == (in_process.mean_return, in_process.env_steps)
    assert [e["complete"] for e in read_index(tmp_path / "ray")] == [True, True]
    for k in range(2):
        a = Demonstration.load(episode_path(tmp_path / "ray", k))
        b = Demonstration.load(episode_path(tmp_path / "process", k))
        assert a.seed == b.seed == 7 + k
        for field in ("states", "actions", "rewards", "successes", "predicted_returns"):
            assert np.array_equal(np.array(getattr(a, field)), np.array(getattr(b, field))), field


def test_reproduce_on_ray_records_what_one_process_records(tmp_path):
    figure = figure_config("planners", "smoke")
    kwargs = dict(progress=False, tasks=["HandManipulateBlockFull"], methods=["topdm", "mppi_kappa_20"])
    reproduce(figure, tmp_path / "ray", parallel=True, **kwargs)
    reproduce(figure, tmp_path / "process", parallel=False, nthread=1, **kwargs)
    def fields(folder):
        return sorted((r.key, r.ret, r.final_success, r.env_steps) for r in read_runs(folder / "planners"))

    assert len(fields(tmp_path / "ray")) == 2
    assert fields(tmp_path / "ray") == fields(tmp_path / "process")
