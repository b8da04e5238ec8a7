"""How many optimisation iterations TOPDM spends on each real step.

The paper front-loads the search: the first step of an episode starts from nothing, while
later steps inherit a good plan through the warm start, so the iteration count falls
linearly from about 2.5·Ni at t = 0 to Ni//2 at t ≥ T/2, keeping the episode's total near
Ni·T (SPEC §4):

    min = Ni // 2,   y0 = 2·(Ni·T − min·T) / (T/2) = 4·(Ni − min),
    Ni(t) = max(min, min + y0 − y0·t/(T/2)).

We evaluate that line in exact integer arithmetic and truncate it to an integer (the line
is sampled at the left end of each step, so truncation brings the total closer to Ni·T
than rounding would). Deviation: the count never drops below 1, so Ni = 1 still plans.
"""

from __future__ import annotations


def decreasing_iterations(t: int, iterations: int, episode_length: int) -> int:
    """Ni(t) of the paper's schedule for step t of an episode of episode_length steps."""
    if t < 0:
        raise ValueError(f"t must be >= 0, got {t}")
    floor = iterations // 2
    y0 = 4 * (iterations - floor)
    remaining = max(episode_length - 2 * t, 0)  # (T/2 − t)·2, clamped at t ≥ T/2
    return max(1, floor + (y0 * remaining) // episode_length)
