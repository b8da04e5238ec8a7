import os

os.environ.setdefault("MUJOCO_GL", "egl")

import gymnasium  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import dexterous  # noqa: E402


@pytest.fixture(params=dexterous.env_ids())
def env_id(request) -> str:
    """Every registered environment id."""
    return request.param


def flat(obs) -> np.ndarray:
    """The observation as one vector (dict observations concatenated in key order)."""
    if isinstance(obs, dict):
        return np.concatenate([obs[k] for k in sorted(obs)])
    return obs


def random_actions(env: gymnasium.Env, n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-1, 1, (n, *env.action_space.shape))
