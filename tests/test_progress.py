"""Progress output: tqdm's bar in a terminal, plain throttled lines in a log."""

import io

from tqdm import tqdm

from dexterous.progress import LineProgress, progress_bar


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_tqdm_and_a_log_gets_lines():
    assert type(progress_bar(total=3, file=_Terminal())) is tqdm
    assert type(progress_bar(total=3, file=io.StringIO())) is LineProgress


def test_log_lines_have_no_carriage_returns_or_cursor_moves():
    log = io.StringIO()
    with progress_bar(total=10, initial=3, desc="episode 1", unit="step", position=1, file=log,
                      mininterval=0) as bar:
        for _ in range(7):
            bar.set_postfix({"best": "1.00"}, refresh=False)
            bar.update(1)
        tqdm.write("a message between progress lines", file=log)
    text = log.getvalue()
    assert "\r" not in text and "\x1b" not in text and "\n\n" not in text
    lines = text.splitlines()
    assert lines[0].startswith("episode 1:  30%") and "?step/s" in lines[0]  # no rate before one is timed
    assert "a message between progress lines" in lines
    assert "10/10" in lines[-1] and "best=1.00" in lines[-1]


def test_log_lines_come_at_most_once_per_interval_plus_the_last():
    log = io.StringIO()
    with progress_bar(total=100, file=log, mininterval=3600) as bar:
        for _ in range(100):
            bar.update(1)
    lines = log.getvalue().splitlines()
    assert len(lines) == 2 and "0/100" in lines[0] and "100/100" in lines[1]
