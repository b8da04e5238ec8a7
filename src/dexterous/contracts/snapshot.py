"""Exact snapshots: everything that determines an environment's future.

A snapshot is the MuJoCo integration state (`mj_getState` with mjSTATE_INTEGRATION: time,
qpos, qvel, act, ctrl, warm-start, applied forces, mocap poses, …) plus what the task keeps
outside MuJoCo: the goal, the step count, the previous action and the task's random state.
Restoring one and replaying the same actions reproduces observations and rewards bit for
bit, which is what lets demonstrations restart and plans be trusted.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import mujoco
import numpy as np

from dexterous.contracts.files import write_atomically

STATE_SPEC = mujoco.mjtState.mjSTATE_INTEGRATION
FORMAT = "dexterous.snapshot"
FORMAT_VERSION = 1
_ARRAYS = ("state", "goal", "prev_action")


class SnapshotError(ValueError):
    """A snapshot that cannot be loaded or does not fit the environment."""


@dataclass(frozen=True, eq=False)
class Snapshot:
    """One environment's exact state between two steps.

    Arrays are private copies: a snapshot never changes after it is taken.
    """

    env_id: str
    """Id of the environment it was taken from (restore refuses another env)."""
    state: np.ndarray
    """(mj_stateSize(mjSTATE_INTEGRATION),) float64 MuJoCo state."""
    goal: np.ndarray
    """The task's goal, (G,) (empty for tasks without one)."""
    step: int
    """Steps taken in the episode so far."""
    prev_action: np.ndarray
    """(A,) the last executed action (zeros after reset)."""
    rng_state: dict[str, Any] | None = field(default=None)
    """The task's np.random.Generator bit-generator state, so resets after a restore match."""

    def __post_init__(self) -> None:
        for name in _ARRAYS:
            value = np.array(getattr(self, name), dtype=np.float64)
            value.flags.writeable = False
            object.__setattr__(self, name, value)

    def equals(self, other: "Snapshot") -> bool:
        """Exact equality of every field (arrays bit for bit)."""
        return (
            self.env_id == other.env_id
            and self.step == other.step
            and self.rng_state == other.rng_state
            and all(np.array_equal(getattr(self, n), getattr(other, n)) for n in _ARRAYS)
        )

    def save(self, path: str | Path) -> Path:
        """Write the snapshot as an .npz file (no pickle), atomically; returns the path written."""
        meta = {"format": FORMAT, "version": FORMAT_VERSION, "env_id": self.env_id,
                "step": self.step, "rng_state": self.rng_state}
        arrays = {n: getattr(self, n) for n in _ARRAYS}
        return write_atomically(path, lambda f: np.savez(f, meta=np.array(json.dumps(meta)), **arrays))

    @classmethod
    def load(cls, path: str | Path) -> "Snapshot":
        """Read a snapshot written by `save`; a damaged file raises SnapshotError naming it."""
        path = Path(path)
        try:
            with np.load(path, allow_pickle=False) as data:
                meta = json.loads(str(data["meta"]))
                arrays = {n: data[n] for n in _ARRAYS}
        except FileNotFoundError:
            raise SnapshotError(f"snapshot file {path} does not exist") from None
        except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError, json.JSONDecodeError) as err:
            raise SnapshotError(
                f"snapshot file {path} is truncated or corrupted ({type(err).__name__}: {err}); "
                "save the snapshot again with Snapshot.save"
            ) from None
        if meta.get("format") != FORMAT or meta.get("version") != FORMAT_VERSION:
            raise SnapshotError(
                f"{path} is not a dexterous snapshot of format version {FORMAT_VERSION} "
                f"(found format={meta.get('format')!r}, version={meta.get('version')!r})"
            )
        return cls(env_id=meta["env_id"], step=int(meta["step"]), rng_state=meta["rng_state"], **arrays)
