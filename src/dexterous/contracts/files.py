"""How every long job writes, reads and claims its files, and the provenance it writes.

A run that is killed mid-write must never leave half a file that a resume would then read:
every file is written to a temporary name beside it and renamed over the old one, which
POSIX makes atomic. An output folder belongs to one run: its settings file says which,
and a run with other settings is refused by name, so nothing of another run is ever taken
for its own. Records say which package versions and machine made them, so a result can
always be traced to what produced it.
"""

from __future__ import annotations

import json
import os
import platform
import threading
from collections.abc import Callable, Collection, Iterable, Mapping
from importlib.metadata import version
from pathlib import Path
from typing import IO, Any


def write_atomically(path: str | Path, content: str | bytes | Callable[[IO[bytes]], Any]) -> Path:
    """Write text, bytes, or whatever a writer function puts into a binary file (e.g.
    `np.savez`) to path, through a temporary file and a rename; returns the path.

    The temporary file's name is this writer's own, so processes writing the same file at
    once (e.g. two `reproduce` processes indexing a plan folder) never rename each other's
    half-written file or find theirs gone: the last rename wins, whole. A failed write
    removes its temporary file.
    """
    path = Path(path)
    tmp = path.with_name(f"{path.name}.{os.getpid()}-{threading.get_ident()}.tmp")  # the umask's permissions
    try:
        with tmp.open("wb") as f:
            if callable(content):
                content(f)
            else:
                f.write(content.encode() if isinstance(content, str) else content)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, path)
    return path


def read_json(path: Path, remedy: str, error: type[Exception] = ValueError) -> Any:
    """The JSON in path; a damaged file raises error naming it and the remedy."""
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise error(f"{path} is damaged ({err}); {remedy}") from None


def check_settings(folder: Path, name: str, settings: Mapping[str, Any], holds: str, remedy: str, damaged: str,
                   may_change: Collection[str] = (), error: type[Exception] = ValueError,
                   as_today: Callable[[dict[str, Any]], dict[str, Any]] = lambda found: found) -> None:
    """Refuse folder if its settings file `name` records other settings than these (those in
    may_change aside), naming them: "{folder} holds {holds} with other settings (… differ);
    {remedy}"; a damaged file is refused with the `damaged` remedy. as_today brings a file of
    an older version up to today's fields before comparing. A folder without the file claims
    nothing."""
    path = folder / name
    if not path.exists():
        return
    found = as_today(read_json(path, damaged, error))
    differ = sorted(k for k in set(settings) | set(found) if k not in may_change and found.get(k) != settings.get(k))
    if differ:
        raise error(f"{folder} holds {holds} with other settings ({', '.join(differ)} differ); {remedy}")


def versions(packages: Iterable[str]) -> dict[str, str]:
    """The installed version of each package, by name."""
    return {package: version(package) for package in packages}


def machine() -> dict[str, Any]:
    """The machine a record was made on: its name, cores, platform and processor (`processor_kind`)."""
    return {"node": platform.node(), "cpu_count": os.cpu_count(), "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(), "processor_kind": processor_kind()}


def processor_kind() -> str:
    """The processor's model and the instruction set numpy's float64 `exp` runs on here, e.g.
    "Intel(R) Xeon(R) Processor, numpy X86_V4".

    Planning is deterministic on one kind of processor, not across kinds: numpy picks its
    float64 `exp` and `arccos` kernels (which the rewards use) per instruction set at run
    time, and the AVX-512 and AVX2 kernels differ in the last bit, which changes a planned
    episode. A record that names its processor kind lets a mismatch on replanning be told
    from a changed planner.
    """
    from numpy.lib.introspect import opt_func_info

    target = opt_func_info(func_name="^exp$").get("exp", {}).get("dd", {}).get("current", "without dispatch")
    return f"{cpu_model()}, numpy {target}"


def cpu_model() -> str:
    """The processor's model name as Linux's /proc/cpuinfo gives it, else what `platform` knows."""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


RECORDINGS: tuple[str, ...] = (".mp4", ".png")
"""What a recording can be written to: a video, or a strip of frames."""


def check_recording_path(out: str | Path) -> None:
    """Refuse, before anything is planned or simulated, a file a recording cannot be written to."""
    if Path(out).suffix.lower() not in RECORDINGS:
        raise ValueError(f"cannot record to {str(out)!r}: name an .mp4 file for a video or a .png file for a "
                         f"strip of frames")
