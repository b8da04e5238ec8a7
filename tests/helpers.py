"""Helpers shared by the tests: environment id lists and small observation/action utilities.

A plain module (conftest holds only fixtures), so that tests import them unambiguously.
"""

import re

import gymnasium
import numpy as np

import dexterous


DENSE_IDS = [env_id for env_id in dexterous.env_ids() if "Sparse-" not in env_id]
"""The ids whose physics is their own: a Sparse twin has its dense twin's physics, reset and
observation, and differs only in its reward (which the tests over `env_id` cover)."""


def family(env_id: str) -> str:
    """`EggHandOverSparse-v1` → `HandOver`, `TwoPenCatchUnderArm-v1` → `TwoCatchUnderArm`."""
    name = env_id.split("/")[1].rsplit("-v", 1)[0].removesuffix("Sparse")
    two_hand = re.fullmatch(r"(Two)?(?:Egg|Block|Pen)(HandOver|Catch\w+)", name)
    return "".join(filter(None, two_hand.groups())) if two_hand else name


FAMILY_IDS = list({family(env_id): env_id for env_id in reversed(DENSE_IDS)}.values())[::-1]
"""The first dense id of each family (scene layout): for checks whose cost is per id and whose
outcome depends only on the scene, such as gymnasium's check_env and rendering."""


def flat(obs) -> np.ndarray:
    """The observation as one vector (dict observations concatenated in key order)."""
    if isinstance(obs, dict):
        return np.concatenate([obs[k] for k in sorted(obs)])
    return obs


def random_actions(env: gymnasium.Env, n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-1, 1, (n, *env.action_space.shape))
