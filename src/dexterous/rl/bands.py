"""Learning curves over several runs as the paper draws them: the median and the min–max band.

One definition for `dexterous curves` and the figures of `dexterous report`: a band is taken
at the evaluation steps that every run has reached, so each of its points is over the same
runs (a run that went further adds its later points once the others get there).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Band:
    """A curve aggregated over runs: median and min–max at each evaluation step."""

    steps: tuple[float, ...]
    """Environment steps of the evaluations (E,)."""
    median: tuple[float, ...]
    """Median over runs at each step (E,)."""
    low: tuple[float, ...]
    """Minimum over runs at each step (E,)."""
    high: tuple[float, ...]
    """Maximum over runs at each step (E,)."""


def band(curves: Sequence[Mapping[float, float]]) -> Band:
    """The band of curves (each {step: value}) over the steps they all share."""
    if not curves:
        raise ValueError("a band needs at least one curve")
    shared = sorted(set.intersection(*(set(curve) for curve in curves)))
    values = np.array([[curve[s] for s in shared] for curve in curves], dtype=float).reshape(len(curves), len(shared))
    return Band(steps=tuple(shared), median=tuple(np.median(values, axis=0).tolist()),
                low=tuple(values.min(axis=0).tolist()), high=tuple(values.max(axis=0).tolist()))
