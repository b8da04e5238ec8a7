"""Every environment of the package, registered with gymnasium from the one table
(`dexterous.catalog`)."""

from __future__ import annotations

import gymnasium
from gymnasium.envs.registration import WrapperSpec

from dexterous.catalog import ENTRIES, UnknownEnvError, canonical_id, entry, env_ids

__all__ = ["UnknownEnvError", "canonical_id", "env_ids", "make", "register_all", "resolve_alias"]


_EPISODE_LIMIT_CHECK = WrapperSpec("EpisodeLimitCheck", f"{__name__}:check_episode_limit", {})
"""Registered as each environment's last `additional_wrappers` entry, so that `gymnasium.make`
calls check_episode_limit on every environment it makes."""


def register_all() -> None:
    """Register every entry with gymnasium (idempotent).

    Episodes are truncated by the environments themselves, not by a TimeLimit wrapper,
    so that restoring a snapshot also restores the step count that truncation uses; the
    environments' specs still report their episode length as max_episode_steps.
    """
    for task in ENTRIES:
        for env_id in (task.id, *task.alias_ids):
            if env_id not in gymnasium.registry:
                gymnasium.register(id=env_id, entry_point=task.entry_point, kwargs=dict(task.kwargs),
                                   additional_wrappers=(_EPISODE_LIMIT_CHECK,))


def check_episode_limit(env: gymnasium.Env) -> gymnasium.Env:
    """Refuse `gymnasium.make(id, max_episode_steps=n)` for any n but the environment's own
    episode length (which it would silently ignore); returns env unchanged.

    A TimeLimit wrapper counts steps since the last reset, which a restored snapshot does
    not restore, so the length cannot be changed by wrapping; to run past it, keep stepping
    after truncated=True, which every dexterous environment allows.
    """
    steps = env.unwrapped.episode_steps
    if env.spec is not None and env.spec.max_episode_steps not in (None, steps):
        raise ValueError(f"{env.spec.id} ends its episodes itself after {steps} steps, so max_episode_steps="
                         f"{env.spec.max_episode_steps} cannot be honoured: make it without max_episode_steps, and "
                         f"to run longer episodes keep stepping after truncated=True (the environment allows it)")
    return env


def resolve_alias(env_id: str) -> str:
    """The canonical id of a dexterous id or alias; any other id (another package's) unchanged."""
    try:
        return entry(env_id).id if env_id.startswith("dexterous/") else env_id
    except UnknownEnvError:
        return env_id


def make(env_id: str, **kwargs) -> gymnasium.Env:
    """`gymnasium.make` of `canonical_id(env_id)`: an alias makes the canonical environment,
    so its `spec.id`, and the snapshots it takes, use the canonical id."""
    return gymnasium.make(canonical_id(env_id), **kwargs)
