"""The one table of dexterous environments: ids, aliases and what the other layers need to
know about each one, readable without building it.

Every layer asks this table (the planners for their preset family, the figures for whether a
task reports success, HER for a goal task's twins, `dexterous envs` for the sizes) instead of
taking ids apart or building an environment to read its metadata. It imports neither MuJoCo
nor gymnasium; `envs.registry` registers its entries with gymnasium, and the environment
tests check each entry's sizes against the environment built from it.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping

NAMESPACE = "dexterous"
SPARSE = "Sparse"
"""Suffix of a goal task's twin that pays success − 1 instead of the dense reward."""


@dataclass(frozen=True)
class TaskEntry:
    """One environment of the package."""

    name: str
    """Name within the namespace, without version (e.g. `EggHandOverSparse`)."""
    entry_point: str
    """`module:Class` that builds it."""
    family: str
    """Planning preset family (`planning.configs`): two_hands, two_egg_catch, pen_spin,
    one_hand_manipulate or humanoid."""
    episode_steps: int
    """Steps after which the environment truncates its episodes."""
    observation_size: int
    """Length of the flat observation (a goal task's `observation` entry)."""
    action_size: int
    """Length of the action vector."""
    goal_size: int
    """Length of the desired goal; 0 for tasks without one (PenSpin, Humanoid)."""
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    """Constructor arguments."""
    aliases: tuple[str, ...] = ()
    """Other accepted names (the original's spelling variants), registered too."""
    version: int = 1
    """Id version suffix."""

    @property
    def id(self) -> str:
        return f"{NAMESPACE}/{self.name}-v{self.version}"

    @property
    def alias_ids(self) -> tuple[str, ...]:
        return tuple(f"{NAMESPACE}/{alias}-v{self.version}" for alias in self.aliases)

    @property
    def has_success(self) -> bool:
        """Goal tasks report success (reaching the goal pose); PenSpin and Humanoid have none."""
        return self.goal_size > 0

    @property
    def has_object(self) -> bool:
        """Every task but Humanoid moves an object that can leave play (`object_lost`)."""
        return self.family != "humanoid"

    @property
    def sparse(self) -> bool:
        return self.name.endswith(SPARSE)

    @property
    def dense_id(self) -> str:
        """The id of the dense twin (this id for a dense task)."""
        return f"{NAMESPACE}/{self.name.removesuffix(SPARSE)}-v{self.version}"

    @property
    def sparse_id(self) -> str | None:
        """The id of the Sparse twin, None for tasks without one (PenSpin, Humanoid)."""
        return f"{NAMESPACE}/{self.name.removesuffix(SPARSE)}{SPARSE}-v{self.version}" if self.has_success else None


@dataclass(frozen=True)
class TwoHandNames:
    """How one two-hand family names its environments and what it is made of."""

    pattern: str
    """Name with `{shape}` for Egg/Block/Pen, e.g. `{shape}HandOver`."""
    family: str
    """Planning preset family."""
    observation_size: int
    action_size: int
    goal_size: int
    alias_patterns: tuple[str, ...] = ()
    """Other accepted spellings of pattern."""

    def name(self, shape: str) -> str:
        return self.pattern.format(shape=shape.capitalize())

    def aliases(self, shape: str) -> tuple[str, ...]:
        return tuple(p.format(shape=shape.capitalize()) for p in self.alias_patterns)


SHAPES: tuple[str, ...] = ("egg", "block", "pen")
"""Objects every two-hand family comes with, in table order."""
TWO_HAND_FAMILIES: Mapping[str, TwoHandNames] = MappingProxyType({
    "HandOver": TwoHandNames("{shape}HandOver", "two_hands", 109, 40, 7),
    "CatchUnderarm": TwoHandNames("{shape}CatchUnderarm", "two_hands", 133, 52, 7),
    "CatchUnderarmHard": TwoHandNames("{shape}CatchUnderarmHard", "two_hands", 133, 52, 7),
    "CatchOverarm": TwoHandNames("{shape}CatchOverarm", "two_hands", 133, 52, 7),
    # sic: the original's capital A; the paper's budget doubles for two eggs only
    "TwoObject": TwoHandNames("Two{shape}CatchUnderArm", "two_hands", 146, 52, 14,
                              alias_patterns=("Two{shape}CatchUnderarm",)),
})
"""The five two-hand families of SPEC §2 (their scenes: `scenes.two_hands.LAYOUTS`)."""
TWO_HAND_STEPS = 75


def _two_hand_family(family: str, shape: str) -> str:
    """TwoEggCatchUnderArm plans with the paper's doubled budget (SPEC §4); every other two-hand task not."""
    return "two_egg_catch" if family == "TwoObject" and shape == "egg" else TWO_HAND_FAMILIES[family].family


def _entries() -> tuple[TaskEntry, ...]:
    entries = [
        TaskEntry("PenSpin", "dexterous.envs.pen_spin:PenSpinEnv", "pen_spin", 250, 61, 20, 0),
        TaskEntry("Humanoid", "dexterous.envs.humanoid:HumanoidEnv", "humanoid", 1000, 348, 17, 0),
    ]
    for shape in ("Block", "Pen"):
        for suffix in ("", SPARSE):
            entries.append(TaskEntry(f"HandManipulate{shape}Full{suffix}", "dexterous.envs.manipulate:ManipulateEnv",
                                     "one_hand_manipulate", 75, 61, 20, 7,
                                     kwargs=MappingProxyType({"shape": shape.lower(), "sparse": bool(suffix)})))
    for family, names in TWO_HAND_FAMILIES.items():
        for shape in SHAPES:
            for suffix in ("", SPARSE):
                entries.append(TaskEntry(
                    names.name(shape) + suffix, "dexterous.envs.two_hands:TwoHandEnv", _two_hand_family(family, shape),
                    TWO_HAND_STEPS, names.observation_size, names.action_size, names.goal_size,
                    kwargs=MappingProxyType({"family": family, "shape": shape, "sparse": bool(suffix)}),
                    aliases=tuple(alias + suffix for alias in names.aliases(shape))))
    return tuple(entries)


ENTRIES: tuple[TaskEntry, ...] = _entries()
_BY_ID: Mapping[str, TaskEntry] = MappingProxyType(
    {env_id: e for e in ENTRIES for env_id in (e.id, *e.alias_ids)})
_LATEST: Mapping[str, str] = MappingProxyType(
    {env_id.rsplit("-v", 1)[0]: env_id for env_id in sorted(_BY_ID, key=lambda i: _BY_ID[i].version)})
"""Id without its version → the id of the latest version."""


class UnknownEnvError(ValueError):
    """An environment id that dexterous does not register."""


def env_ids() -> list[str]:
    """Ids of every dexterous environment, canonical spellings only (no aliases)."""
    return [e.id for e in ENTRIES]


def entry(env_id: str) -> TaskEntry:
    """The table's entry for env_id: a canonical id or an alias, optionally without
    "dexterous/" or without its version (then the latest).

    An unknown id raises UnknownEnvError, which suggests the closest and lists them all.
    """
    spelled = env_id if "/" in env_id else f"{NAMESPACE}/{env_id}"
    full = _LATEST.get(spelled, spelled)
    if full not in _BY_ID:
        close = difflib.get_close_matches(full, env_ids(), n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise UnknownEnvError(f"unknown environment id {spelled!r}.{hint} Run `dexterous envs` to list them all: "
                              + ", ".join(env_ids()))
    return _BY_ID[full]


def canonical_id(env_id: str) -> str:
    """The canonical id of env_id (see `entry`): aliases map to the id they spell."""
    return entry(env_id).id
