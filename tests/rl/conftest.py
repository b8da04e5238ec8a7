"""Shared fixtures of the RL tests: one smoke-planned PenSpin demonstration, tiny budgets."""

from pathlib import Path

import pytest

from dexterous.demos.runner import PlanRun, run_plan
from dexterous.rl import TD3Config

PEN_SPIN = "dexterous/PenSpin-v1"


@pytest.fixture(scope="session")
def demo_folder(tmp_path_factory) -> Path:
    """A folder with one complete PenSpin demonstration (smoke budget: seconds)."""
    out = tmp_path_factory.mktemp("pen_spin_demos")
    run_plan(PlanRun(PEN_SPIN, preset="smoke", threads=1), out, use_ray=False, progress=False)
    return out


@pytest.fixture(scope="session")
def tiny(demo_folder) -> TD3Config:
    """TD3 + demo restarts at a test budget: 230 steps, 50 random, batch 32, 16-16 networks.

    Checkpoints every 115 steps fall inside 15-step segments, where resuming is hardest.
    """
    return TD3Config(demos=str(demo_folder), steps=230, learning_starts=50, batch_size=32, hidden=(16, 16),
                     buffer_size=1000, eval_every=115, eval_episodes=1, checkpoint_every=115, log_every=46)
