"""Every environment of the package, registered from this one table."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

import gymnasium
from gymnasium.envs.registration import WrapperSpec

from dexterous.scenes.two_hands import LAYOUTS, SHAPES

NAMESPACE = "dexterous"


@dataclass(frozen=True)
class EnvEntry:
    """One registered environment."""

    name: str
    """Name within the namespace, without version (e.g. `PenSpin`)."""
    entry_point: str
    """`module:Class` that builds it."""
    kwargs: dict[str, Any] = field(default_factory=dict)
    """Constructor arguments."""
    version: int = 1
    """Id version suffix."""
    aliases: tuple[str, ...] = ()
    """Other accepted names (registered too; `make` resolves them to `id`)."""

    @property
    def id(self) -> str:
        return f"{NAMESPACE}/{self.name}-v{self.version}"

    @property
    def alias_ids(self) -> tuple[str, ...]:
        return tuple(f"{NAMESPACE}/{alias}-v{self.version}" for alias in self.aliases)


ENTRIES: list[EnvEntry] = [
    EnvEntry("PenSpin", "dexterous.envs.pen_spin:PenSpinEnv"),
    EnvEntry("Humanoid", "dexterous.envs.humanoid:HumanoidEnv"),
]
for _shape in ("Block", "Pen"):
    for _sparse in (False, True):
        ENTRIES.append(EnvEntry(
            f"HandManipulate{_shape}Full{'Sparse' if _sparse else ''}",
            "dexterous.envs.manipulate:ManipulateEnv",
            {"shape": _shape.lower(), "sparse": _sparse},
        ))
for _family, _layout in LAYOUTS.items():
    for _shape in SHAPES:
        for _suffix, _sparse in (("", False), ("Sparse", True)):
            ENTRIES.append(EnvEntry(
                _layout.name(_shape) + _suffix,
                "dexterous.envs.two_hands:TwoHandEnv",
                {"family": _family, "shape": _shape, "sparse": _sparse},
                aliases=tuple(alias + _suffix for alias in _layout.aliases(_shape)),
            ))


_EPISODE_LIMIT_CHECK = WrapperSpec("EpisodeLimitCheck", f"{__name__}:check_episode_limit", {})
"""Registered as each environment's last `additional_wrappers` entry, so that `gymnasium.make`
calls check_episode_limit on every environment it makes."""


def register_all() -> None:
    """Register every entry with gymnasium (idempotent).

    Episodes are truncated by the environments themselves, not by a TimeLimit wrapper,
    so that restoring a snapshot also restores the step count that truncation uses; the
    environments' specs still report their episode length as max_episode_steps.
    """
    for entry in ENTRIES:
        for env_id in (entry.id, *entry.alias_ids):
            if env_id not in gymnasium.registry:
                gymnasium.register(id=env_id, entry_point=entry.entry_point, kwargs=dict(entry.kwargs),
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


def env_ids() -> list[str]:
    """Ids of every dexterous environment, canonical spellings only (no aliases)."""
    return [e.id for e in ENTRIES]


_CANONICAL = {alias: e.id for e in ENTRIES for alias in e.alias_ids}
"""Alias id → canonical id."""


def resolve_alias(env_id: str) -> str:
    """The canonical id of an alias id; any other id unchanged."""
    return _CANONICAL.get(env_id, env_id)


class UnknownEnvError(ValueError):
    """An environment id that dexterous does not register."""


def canonical_id(env_id: str) -> str:
    """The registered canonical id of env_id, without building the environment.

    The namespace may be left out ("PenSpin-v1"); aliases (the original's spelling
    variants, e.g. `TwoEggCatchUnderarm`) map to their canonical id. An unknown id raises
    UnknownEnvError, which lists the ids and suggests the closest.
    """
    if "/" not in env_id:
        env_id = f"{NAMESPACE}/{env_id}"
    env_id = resolve_alias(env_id)
    if env_id not in env_ids():
        close = difflib.get_close_matches(env_id, env_ids(), n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise UnknownEnvError(
            f"unknown environment id {env_id!r}.{hint} Run `dexterous envs` to list them all: "
            + ", ".join(env_ids())
        )
    return env_id


def make(env_id: str, **kwargs) -> gymnasium.Env:
    """`gymnasium.make` of `canonical_id(env_id)`: an alias makes the canonical environment,
    so its `spec.id`, and the snapshots it takes, use the canonical id."""
    return gymnasium.make(canonical_id(env_id), **kwargs)
