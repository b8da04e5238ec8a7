import os
import re

os.environ.setdefault("MUJOCO_GL", "egl")

import gymnasium  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import dexterous  # noqa: E402


@pytest.fixture(params=dexterous.env_ids())
def env_id(request) -> str:
    """Every registered environment id: for rewards, the registry and the spec."""
    return request.param


DENSE_IDS = [env_id for env_id in dexterous.env_ids() if "Sparse-" not in env_id]
"""The ids whose physics is their own: a Sparse twin has its dense twin's physics, reset and
observation, and differs only in its reward (which the tests over `env_id` cover)."""


@pytest.fixture(params=DENSE_IDS)
def dense_env_id(request) -> str:
    """Every environment id except the Sparse twins: for physics, resets and observations."""
    return request.param


def family(env_id: str) -> str:
    """`EggHandOverSparse-v1` → `HandOver`, `TwoPenCatchUnderArm-v1` → `TwoCatchUnderArm`."""
    name = env_id.split("/")[1].rsplit("-v", 1)[0].removesuffix("Sparse")
    two_hand = re.fullmatch(r"(Two)?(?:Egg|Block|Pen)(HandOver|Catch\w+)", name)
    return "".join(filter(None, two_hand.groups())) if two_hand else name


FAMILY_IDS = list({family(env_id): env_id for env_id in reversed(DENSE_IDS)}.values())[::-1]
"""The first dense id of each family (scene layout): for checks whose cost is per id and whose
outcome depends only on the scene, such as gymnasium's check_env and rendering."""


@pytest.fixture(params=FAMILY_IDS)
def family_env_id(request) -> str:
    """One environment id per family."""
    return request.param


def flat(obs) -> np.ndarray:
    """The observation as one vector (dict observations concatenated in key order)."""
    if isinstance(obs, dict):
        return np.concatenate([obs[k] for k in sorted(obs)])
    return obs


def random_actions(env: gymnasium.Env, n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-1, 1, (n, *env.action_space.shape))


@pytest.fixture(scope="session")
def demo_folder(tmp_path_factory):
    """A folder with one complete PenSpin demonstration (smoke budget: seconds)."""
    from dexterous.demos.runner import PlanRun, run_plan

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

    Here rather than in a tests/experiments/conftest.py: a second conftest module would
    shadow this one for `from conftest import ...` in other test folders.
    """
    from synthetic import write_results  # importable once tests/experiments' modules are collected

    return write_results(tmp_path)
