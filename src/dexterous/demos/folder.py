"""A folder of demonstrations and its index.json.

Episode files are the truth; the index summarises them (env, seed, steps, complete, final
success, return) so that a folder can be listed and filtered without loading every
episode. Only one process writes the index (the planning coordinator), after episodes
finish, so parallel workers never race on it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection
from pathlib import Path

from dexterous.contracts.files import write_atomically
from dexterous.demos.format import SUMMARY_FIELDS, DemoError, Demonstration

INDEX = "index.json"
INDEX_FORMAT = "dexterous.demos"
_ENTRY_FIELDS = {"file", *SUMMARY_FIELDS}
"""An index entry's fields; an entry written before one of them existed is read again."""


def episode_path(folder: Path, episode: int) -> Path:
    return Path(folder) / f"episode_{episode:04d}.npz"


def write_index(folder: str | Path, changed: Collection[str] | None = None) -> Path:
    """Summarise every episode file of the folder into index.json (atomically).

    changed names the only episode files that changed since the index was last written:
    the other entries are kept as they are (a run that indexes after each episode then
    reads each file once); None reads every file again.
    """
    folder = Path(folder)
    known = {}
    if changed is not None and (folder / INDEX).exists():
        known = {e["file"]: e for e in read_index(folder) if e["file"] not in changed and set(e) == _ENTRY_FIELDS}
    episodes = [known.get(path.name) or {"file": path.name, **Demonstration.load(path).summary()}
                for path in sorted(folder.glob("episode_*.npz"))]
    return write_atomically(folder / INDEX,
                            json.dumps({"format": INDEX_FORMAT, "version": 1, "episodes": episodes}, indent=1) + "\n")


def read_index(folder: str | Path) -> list[dict]:
    """The index entries of a demonstration folder; a missing or damaged index is named."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DemoError(f"demonstration folder {folder} does not exist")
    index = folder / INDEX
    try:
        data = json.loads(index.read_text())
    except FileNotFoundError:
        raise DemoError(f"{folder} has no {INDEX}: it is not a demonstration folder "
                        "(create one with `dexterous plan ... --out DIR`)") from None
    except json.JSONDecodeError as err:
        raise DemoError(f"{index} is corrupted ({err}); rebuild it with dexterous.demos.write_index") from None
    if data.get("format") != INDEX_FORMAT:
        raise DemoError(f"{index} is not a dexterous demonstration index")
    return data["episodes"]


def episode_digests(folder: str | Path) -> dict[str, str]:
    """The SHA-256 of each episode file the folder's index lists, by file name.

    A training run records them for its demonstrations, so that resuming it after the
    folder was planned again is refused instead of silently learning from other episodes.
    """
    folder = Path(folder)
    return {e["file"]: hashlib.sha256((folder / e["file"]).read_bytes()).hexdigest() for e in read_index(folder)}


def load_folder(folder: str | Path, env_id: str | None = None, complete_only: bool = False) -> list[Demonstration]:
    """Load a folder's episodes, optionally only those of env_id and only complete ones."""
    folder = Path(folder)
    entries = read_index(folder)
    if env_id is not None:
        others = sorted({e["env_id"] for e in entries if e["env_id"] != env_id})
        if others:
            raise DemoError(f"{folder} holds demonstrations of {others}, not only {env_id}: "
                            "use a folder recorded on this environment")
    demos = [Demonstration.load(folder / e["file"]) for e in entries if e["complete"] or not complete_only]
    if not demos:
        raise DemoError(f"{folder} holds no {'complete ' if complete_only else ''}demonstrations")
    return demos


def episodes_at(path: str | Path) -> list[Demonstration]:
    """Every episode at path: one episode file, or every episode file of a folder, indexed
    or not. The files are the truth: `reproduce` indexes its plans only when a wave of runs
    ends, so a folder's index may not list the episodes finished since."""
    path = Path(path)
    if not path.is_dir():
        return [Demonstration.load(path)]
    demos = [Demonstration.load(file) for file in sorted(path.glob("episode_*.npz"))]
    if not demos:
        raise DemoError(f"{path} holds no demonstration episodes (episode_*.npz)")
    return demos
