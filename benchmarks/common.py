"""Shared plumbing of the benchmarks: interleaved rounds, machine description, results files.

The machine the benchmarks run on is often shared, and its load changes over a run. A
benchmark that measures A for a while and then B compares A under one load with B under
another. Ours measure each quantity once per round, the rounds interleaved (A B C, B C A,
C A B, …), and report the median over rounds of each per-round ratio with its spread:
a load change inside one round moves one ratio, not the median.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from collections.abc import Callable, Sequence
from importlib.metadata import version
from pathlib import Path

import numpy as np

from dexterous.contracts.files import cpu_model

RESULTS = Path(__file__).parent / "results"


def machine() -> dict:
    """What the figures were measured on."""
    return {"cpu": cpu_model(), "cores": os.cpu_count(), "python": platform.python_version(),
            "mujoco": version("mujoco"), "numpy": version("numpy"), "platform": platform.platform()}


def write_results(name: str, figures: dict) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    payload = {"benchmark": name, "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "machine": machine(), **figures}
    path.write_text(json.dumps(payload, indent=2) + "\n")
    return path


def interleaved(measurements: dict[str, Callable[[], float]], rounds: int) -> dict[str, list[float]]:
    """Each measurement once per round, the order rotating by one each round (so that none is
    always first, after a pause, or last); its values by name, in round order."""
    if rounds < 1:
        raise ValueError(f"rounds must be ≥ 1, got {rounds}")
    names = list(measurements)
    values: dict[str, list[float]] = {name: [] for name in names}
    for r in range(rounds):
        k = r % len(names)
        for name in names[k:] + names[:k]:
            values[name].append(float(measurements[name]()))
    return values


def spread(values: Sequence[float], digits: int = 4) -> dict:
    """Median of per-round values with their spread: min, max and the quartiles."""
    q1, median, q3 = np.percentile(values, [25, 50, 75])
    return {"median": round(float(median), digits), "min": round(float(min(values)), digits),
            "max": round(float(max(values)), digits), "quartiles": [round(float(q1), digits), round(float(q3), digits)],
            "rounds": len(values)}


def ratio_spread(numerator: Sequence[float], denominator: Sequence[float]) -> dict:
    """`spread` of the per-round ratios numerator[r] / denominator[r] (measured side by side)."""
    return spread([a / b for a, b in zip(numerator, denominator, strict=True)])


def load_average() -> float:
    """The 1-minute load average: how busy the shared cores were."""
    return round(os.getloadavg()[0], 2)


def training_args(doc: str, rounds: int) -> argparse.Namespace:
    """The flags of a training-throughput benchmark: random steps, training steps, rounds;
    `steps` is their total."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--random", type=int, default=1000, help="initial random steps")
    parser.add_argument("--train", type=int, default=3000, help="training steps after them")
    parser.add_argument("--rounds", type=int, default=rounds, help="interleaved rounds of one run of each side")
    args = parser.parse_args()
    args.steps = args.random + args.train
    return args


def learn_rate(model, steps: int) -> float:
    """Env steps per second of an SB3 model's learn over `steps` steps."""
    start = time.perf_counter()
    model.learn(steps)
    return steps / (time.perf_counter() - start)
