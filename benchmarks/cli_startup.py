"""Start-up time of the command line, as a ratio to `python -c "import gymnasium"`.

Each command runs in a fresh interpreter (a subprocess, its output discarded), on this
tree's code (`python -m dexterous.cli`); the baseline is the cheapest useful gymnasium
program, which every dexterous command pays anyway. Rounds are interleaved
(benchmarks.common); per command we report the median ratio to the baseline of the same
round, with its spread. Target for `--help` and `--version`: ≤ 2×. `envs` builds every
environment's model to read its sizes, so it pays MuJoCo model compilation on top.
Writes benchmarks/results/cli_startup.json.

    python -m benchmarks.cli_startup [--rounds 7]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.common import interleaved, load_average, ratio_spread, spread, write_results

SRC = Path(__file__).resolve().parents[1] / "src"
BASELINE = ("-c", "import gymnasium")
COMMANDS = {"--help": ("-m", "dexterous.cli", "--help"), "--version": ("-m", "dexterous.cli", "--version"),
            "envs": ("-m", "dexterous.cli", "envs")}
TARGET = 2.0


def timed_run(args: tuple[str, ...]) -> Callable[[], float]:
    """A measurement: wall seconds of `python ARGS` in a fresh process."""
    env = {**os.environ, "PYTHONPATH": str(SRC)}

    def run() -> float:
        start = time.perf_counter()
        subprocess.run([sys.executable, *args], env=env, stdout=subprocess.DEVNULL, check=True)
        return time.perf_counter() - start

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds (3 for a quick check)")
    args = parser.parse_args()
    load_before = load_average()
    timed_run(BASELINE)()  # warm the file cache before the first round
    seconds = interleaved({"baseline": timed_run(BASELINE), **{k: timed_run(v) for k, v in COMMANDS.items()}},
                          args.rounds)
    rows = []
    for name in COMMANDS:
        row = {"command": f"dexterous {name}", "seconds": spread(seconds[name], 3),
               "ratio_to_import_gymnasium": ratio_spread(seconds[name], seconds["baseline"])}
        rows.append(row)
        ratio = row["ratio_to_import_gymnasium"]
        print(f"dexterous {name}: median {row['seconds']['median']:.3f} s, {ratio['median']:.2f}× import gymnasium "
              f"(min {ratio['min']:.2f}×, max {ratio['max']:.2f}×)")
    baseline = spread(seconds["baseline"], 3)
    print(f"baseline python -c 'import gymnasium': median {baseline['median']:.3f} s")
    figures = {"rounds": args.rounds, "baseline": "python -c 'import gymnasium'", "baseline_seconds": baseline,
               "target_ratio": TARGET, "rows": rows,
               "load_average_1min": {"before": load_before, "after": load_average()}}
    print(f"wrote {write_results('cli_startup', figures)}")


if __name__ == "__main__":
    main()
