"""Progress bars that read well both in a terminal and in a piped log.

In a terminal, tqdm's bar, redrawn in place. Anywhere else (stderr piped, redirected to a
file, a batch job's log) the same text as whole lines: no carriage returns or cursor
moves, which a log shows as clutter, and at most one line per LOG_INTERVAL seconds plus
the last, so a long run leaves a short readable history.

Callers advance bars with `update` (never by assigning `n`), and a bar that starts part
way (a resumed run, an episode whose first step has already been planned) passes
`initial`: tqdm's rate then counts only the steps it timed, and the first line shows no
rate rather than a huge one made of steps done before the bar existed.
"""

from __future__ import annotations

import sys
from typing import Any, TextIO

from tqdm import tqdm

LOG_INTERVAL = 30.0
"""Seconds between progress lines in a log."""


class LineProgress(tqdm):
    """tqdm writing one whole line per refresh, never redrawing one."""

    def __init__(self, *args: Any, **kwargs: Any):
        kwargs.setdefault("mininterval", LOG_INTERVAL)
        kwargs.setdefault("miniters", 1)  # tqdm's adaptive miniters would skip the time check
        super().__init__(*args, **kwargs)

    @staticmethod
    def status_printer(file: TextIO):
        def print_line(text: str) -> None:
            file.write(text + "\n")
            file.flush()

        return print_line

    def display(self, msg: str | None = None, pos: int | None = None) -> bool:
        if msg == "":  # tqdm clears a bar by drawing nothing over it; a log keeps its lines
            return False
        self.sp(self.__str__() if msg is None else msg)
        self._line_n = self.n
        return True

    def moveto(self, n: int) -> None:
        """No cursor moves: each bar's lines simply follow one another."""

    def clear(self, nolock: bool = False) -> None:
        """Nothing to clear: `tqdm.write` goes between lines."""

    def close(self) -> None:
        """Write the final state as a last line (tqdm's leave=True would add a blank one)."""
        if not self.disable and self.n != getattr(self, "_line_n", None):
            self.display()
        self.leave = False
        super().close()


def progress_bar(iterable: Any = None, **kwargs: Any) -> tqdm:
    """A tqdm bar (same arguments) when its stream (default stderr) is a terminal, else a LineProgress."""
    stream = kwargs.get("file") or sys.stderr
    interactive = getattr(stream, "isatty", lambda: False)()
    return (tqdm if interactive else LineProgress)(iterable, **kwargs)
