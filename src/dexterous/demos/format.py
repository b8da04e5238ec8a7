"""Demonstrations on disk: one .npz file per episode plus an index.json per folder.

Layout of a demonstration folder::

    index.json            {"format": "dexterous.demos", "version": 1, "episodes": [ {...}, ... ]}
    episode_0000.npz      one episode (below), rewritten atomically after every step
    episode_0001.npz

An episode file is a NumPy .npz archive (no pickle) holding, for T recorded steps:

    meta              JSON string: format, version, env_id, seed, planner config, package
                      versions, machine, timings, complete flag, rng_states (T+1 entries)
    states            (T+1, S) float64  MuJoCo integration state before each step, and after the last
    goal              (G,)     float64  the episode's goal (empty for PenSpin)
    observations      (T+1, O) float64  flat observation before each step, and after the last
    actions           (T, A)   float64  the executed (coupled, clipped) actions
    means             (T, τ, A) float64 the plan's means at each step
    rewards           (T,)     float64  reward the environment paid
    successes         (T,)     bool     success flag after each step
    predicted_returns (T,)     float64  the score the planner expected of its choice at each step:
                                        Σ dense reward + 1 per successful step over τ steps, of the
                                        best-ever plan (TOPDM) or of the best sample (MPPI)
    planner_rng       JSON string inside meta: the planner's generator state after the last step

Snapshot k (the state before step k) is rebuilt from states[k], goal, k, actions[k−1]
(zeros for k = 0) and rng_states[k]; so a demonstration restarts exactly from any step.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from dexterous.contracts.files import write_atomically
from dexterous.contracts.snapshot import FORMAT as SNAPSHOT_FORMAT
from dexterous.contracts.snapshot import Snapshot

FORMAT = "dexterous.demo"
VERSION = 1
SUMMARY_FIELDS = ("env_id", "seed", "steps", "complete", "final_success", "return", "env_steps")
"""What `Demonstration.summary` (and so a folder's index.json) keeps of an episode."""
_META = ("env_id", "seed", "action_size", "planner", "config", "versions", "complete", "step_seconds", "env_steps",
         "planner_rng", "rng_states")
_ARRAYS = ("states", "goal", "observations", "actions", "means", "rewards", "successes", "predicted_returns")


class DemoError(ValueError):
    """A demonstration file or folder that cannot be used; the message names it."""


@dataclass
class Demonstration:
    """One planned episode: what was executed, what was planned, and the exact states."""

    env_id: str
    """Environment the episode ran in."""
    seed: int
    """Reset seed of the episode."""
    goal: np.ndarray
    """(G,) the episode's goal."""
    action_size: int
    """A, the environment's action size (the previous action before step 0 is zeros(A))."""
    states: list[np.ndarray] = field(default_factory=list)
    """MuJoCo integration state before each step (T+1 once a step is recorded)."""
    observations: list[np.ndarray] = field(default_factory=list)
    """Flat observation before each step (T+1)."""
    rng_states: list[dict | None] = field(default_factory=list)
    """Environment RNG state before each step (T+1)."""
    actions: list[np.ndarray] = field(default_factory=list)
    """Executed actions (T)."""
    means: list[np.ndarray] = field(default_factory=list)
    """Planned means (τ, A) at each step (T)."""
    rewards: list[float] = field(default_factory=list)
    """Rewards paid (T)."""
    successes: list[bool] = field(default_factory=list)
    """Success after each step (T)."""
    predicted_returns: list[float] = field(default_factory=list)
    """The score the planner expected of its choice at each step (T): see the module docstring."""
    meta: dict[str, Any] = field(default_factory=dict)
    """Config, versions, machine, timings, planner RNG state, complete flag."""

    @property
    def num_steps(self) -> int:
        return len(self.actions)

    @property
    def complete(self) -> bool:
        return bool(self.meta.get("complete", False))

    def snapshot(self, k: int) -> Snapshot:
        """The exact snapshot before step k (k = num_steps: after the last step)."""
        if not 0 <= k < len(self.states):
            raise IndexError(f"step {k} is outside this demonstration's 0..{len(self.states) - 1}")
        prev = self.actions[k - 1] if k > 0 else np.zeros(self.action_size)
        return Snapshot(env_id=self.env_id, state=self.states[k], goal=self.goal, step=k,
                        prev_action=prev, rng_state=self.rng_states[k])

    def summary(self) -> dict[str, Any]:
        """What the index keeps of an episode."""
        return {"env_id": self.env_id, "seed": self.seed, "steps": self.num_steps, "complete": self.complete,
                "final_success": bool(self.successes[-1]) if self.successes else False,
                "return": float(np.sum(self.rewards)), "env_steps": int(self.meta.get("env_steps", 0))}

    # ----- files ----------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write atomically (temporary file + rename): an interruption never leaves half a file."""
        path = Path(path)
        arrays = {
            "states": np.array(self.states), "goal": np.asarray(self.goal, dtype=np.float64),
            "observations": np.array(self.observations), "actions": np.array(self.actions).reshape(self.num_steps, self.action_size),
            "means": np.array(self.means), "rewards": np.array(self.rewards, dtype=np.float64),
            "successes": np.array(self.successes, dtype=bool),
            "predicted_returns": np.array(self.predicted_returns, dtype=np.float64),
        }
        meta = {**self.meta, "format": FORMAT, "version": VERSION, "env_id": self.env_id, "seed": self.seed,
                "action_size": self.action_size, "rng_states": self.rng_states}
        return write_atomically(path, lambda f: np.savez(f, meta=np.array(json.dumps(meta)), **arrays))

    @classmethod
    def load(cls, path: str | Path) -> "Demonstration":
        """Read an episode file; a truncated, corrupted or inconsistent one raises DemoError."""
        path = Path(path)
        if not path.is_file():
            raise DemoError(f"demonstration file {path} does not exist")
        try:
            with np.load(path, allow_pickle=False) as data:
                meta = json.loads(str(data["meta"]))
                arrays = {name: data[name] for name in _ARRAYS if name in data}
        except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError, json.JSONDecodeError) as err:
            raise DemoError(f"demonstration file {path} is truncated or corrupted ({type(err).__name__}: {err}); "
                            "delete it and plan the episode again") from None
        if meta.get("format") == SNAPSHOT_FORMAT:
            raise DemoError(f"{path} is a snapshot (one exact state, written by Snapshot.save), not a demonstration "
                            "episode: read it with dexterous.contracts.snapshot.Snapshot.load")
        if meta.get("format") != FORMAT or meta.get("version") != VERSION:
            raise DemoError(f"{path} is not a dexterous demonstration of format version {VERSION} "
                            f"(found format={meta.get('format')!r}, version={meta.get('version')!r})")
        missing = [key for key in _META if key not in meta]
        if missing:
            raise DemoError(f"demonstration file {path} is inconsistent: its meta lacks {', '.join(missing)}; "
                            "delete it and plan the episode again")
        absent = [name for name in _ARRAYS if name not in arrays]
        if absent:
            raise DemoError(f"demonstration file {path} is inconsistent: it has no {', '.join(absent)}; "
                            "delete it and plan the episode again")
        t = arrays["actions"].shape[0]
        if arrays["actions"].shape[1:] != (meta.get("action_size"),):
            raise DemoError(f"demonstration file {path} is inconsistent: actions of shape {arrays['actions'].shape} "
                            f"for action size {meta.get('action_size')}; delete it and plan again")
        expected = {"states": t + 1, "observations": t + 1, "means": t, "rewards": t, "successes": t,
                    "predicted_returns": t}
        wrong = {k: arrays[k].shape[0] for k, n in expected.items() if arrays[k].shape[0] != n}
        if wrong or len(meta.get("rng_states", [])) != t + 1:
            raise DemoError(f"demonstration file {path} is inconsistent: {t} actions but lengths {wrong} "
                            f"and {len(meta.get('rng_states', []))} rng states; delete it and plan again")
        rng_states = meta.pop("rng_states")
        return cls(env_id=meta["env_id"], seed=int(meta["seed"]), goal=arrays["goal"],
                   action_size=int(meta.pop("action_size")),
                   states=list(arrays["states"]), observations=list(arrays["observations"]), rng_states=rng_states,
                   actions=list(arrays["actions"]), means=list(arrays["means"]),
                   rewards=arrays["rewards"].tolist(), successes=arrays["successes"].tolist(),
                   predicted_returns=arrays["predicted_returns"].tolist(), meta=meta)
