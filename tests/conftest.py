import os

os.environ.setdefault("MUJOCO_GL", "egl")

import pytest  # noqa: E402

import dexterous  # noqa: E402
from helpers import DENSE_IDS, FAMILY_IDS  # noqa: E402


@pytest.fixture(params=dexterous.env_ids())
def env_id(request) -> str:
    """Every registered environment id: for rewards, the registry and the spec."""
    return request.param


@pytest.fixture(params=DENSE_IDS)
def dense_env_id(request) -> str:
    """Every environment id except the Sparse twins: for physics, resets and observations."""
    return request.param


@pytest.fixture(params=FAMILY_IDS)
def family_env_id(request) -> str:
    """One environment id per family."""
    return request.param


@pytest.fixture(scope="session")
def demo_folder(tmp_path_factory):
    """A folder with one complete PenSpin demonstration (smoke budget: seconds)."""
    from dexterous.mpc.runner import PlanRun, run_plan

    out = tmp_path_factory.mktemp("pen_spin_demos")
    run_plan(PlanRun("dexterous/PenSpin-v1", preset="smoke", threads=1), out, use_ray=False, progress=False)
    return out


@pytest.fixture(scope="session")
def tiny(demo_folder):
    """TD3 + demo restarts at a test budget: 230 steps, 50 random, batch 32, 16-16 networks.

    Checkpoints every 115 steps fall inside 15-step segments, where resuming is hardest.
    """
    from dexterous.rl import TD3Config

    return TD3Config(demos=str(demo_folder), steps=230, learning_starts=50, batch_size=32, hidden=(16, 16),
                     buffer_size=1000, eval_every=115, eval_episodes=1, checkpoint_every=115, log_every=46)


@pytest.fixture
def results(tmp_path):
    """A synthetic results directory with known numbers (tests/experiments/synthetic.py).

    Here rather than in a tests/experiments/conftest.py, so that one conftest holds every
    shared fixture.
    """
    from synthetic import write_results  # importable once tests/experiments' modules are collected

    return write_results(tmp_path)
