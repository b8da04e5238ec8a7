"""How every long job writes its files, and the provenance it writes into them.

A run that is killed mid-write must never leave half a file that a resume would then read:
every file is written to a temporary name beside it and renamed over the old one, which
POSIX makes atomic. Records say which package versions and machine made them, so a result
can always be traced to what produced it.
"""

from __future__ import annotations

import os
import platform
from collections.abc import Callable, Iterable
from importlib.metadata import version
from pathlib import Path
from typing import IO, Any


def write_atomically(path: str | Path, content: str | bytes | Callable[[IO[bytes]], Any]) -> Path:
    """Write text, bytes, or whatever a writer function puts into a binary file (e.g.
    `np.savez`) to path, through a temporary file and a rename; returns the path."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("wb") as f:
        if callable(content):
            content(f)
        else:
            f.write(content.encode() if isinstance(content, str) else content)
    os.replace(tmp, path)
    return path


def versions(packages: Iterable[str]) -> dict[str, str]:
    """The installed version of each package, by name."""
    return {package: version(package) for package in packages}


def machine() -> dict[str, Any]:
    """The machine a record was made on: its name, cores, platform and processor."""
    return {"node": platform.node(), "cpu_count": os.cpu_count(), "platform": platform.platform(),
            "processor": platform.processor() or platform.machine()}
