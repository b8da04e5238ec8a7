"""Claims on runs, so that processes sharing a figure folder split its runs between them.

A process claims a run (a planned episode or a training run) for as long as it runs it: an
exclusive `flock` on FIGURE/.claims/<run path>.lock. Other processes pass a claimed run
over and take the next one, so the same `dexterous reproduce` command started once per core
splits a figure, seeds of one cell included, and no run is planned twice. The kernel drops
a claim when its process ends however it ends, so a killed run is free at once for the next
process to resume; a lock file left behind claims nothing.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

CLAIMS = ".claims"
"""The folder of a figure folder that holds the claims' lock files."""


@contextlib.contextmanager
def claim(folder: str | Path, run_path: str) -> Iterator[bool]:
    """Hold this process's claim on the run whose files are at `run_path` in folder, while it
    runs: yields True, or False where another process holds it (and then claims nothing).
    Whoever gets a claim must re-read runs.jsonl: the run may have finished since it was
    last read."""
    path = _claim_file(folder, run_path)
    path.parent.mkdir(exist_ok=True)
    while True:
        lock = open(path, "a")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.close()
            yield False
            return
        with contextlib.suppress(FileNotFoundError):
            if os.stat(path).st_ino == os.fstat(lock.fileno()).st_ino:
                break  # the file is still the one at path: nobody can claim the run past it
        lock.close()  # the holder removed it between our open and lock: claim the new file
    try:
        yield True
    finally:
        path.unlink(missing_ok=True)  # first: one who locks the removed file after us sees it gone and retries
        lock.close()


def is_claimed(folder: str | Path, run_path: str) -> bool:
    """Whether a process holds the claim on a run now (`claim`); writes nothing."""
    try:
        with open(_claim_file(folder, run_path), "rb") as lock:
            fcntl.flock(lock, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except FileNotFoundError:
        return False  # a holder keeps its file until it lets go
    except BlockingIOError:
        return True
    return False


def _claim_file(folder: str | Path, run_path: str) -> Path:
    return Path(folder) / CLAIMS / (run_path.replace("/", "__") + ".lock")
