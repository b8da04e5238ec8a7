"""The benchmarks' interleaved rounds: every measurement once per round, in rotating order."""

import pytest

from benchmarks.common import interleaved, ratio_spread, spread


def test_rounds_interleave_the_measurements_in_rotating_order():
    order = []
    values = interleaved({name: (lambda name=name: order.append(name) or len(order)) for name in "abc"}, 3)
    assert order == list("abc" "bca" "cab")
    assert values == {"a": [1, 6, 8], "b": [2, 4, 9], "c": [3, 5, 7]}


def test_ratios_are_taken_within_each_round():
    # a load that doubles every time in round 2 leaves each round's ratio at 2
    summary = ratio_spread([2.0, 4.0, 2.0], [1.0, 2.0, 1.0])
    assert summary["median"] == summary["min"] == summary["max"] == 2.0 and summary["rounds"] == 3
    assert spread([1.0, 2.0, 3.0, 10.0]) == {"median": 2.5, "min": 1.0, "max": 10.0, "quartiles": [1.75, 4.75],
                                             "rounds": 4}


def test_rounds_must_be_positive():
    with pytest.raises(ValueError, match="rounds must be ≥ 1, got 0"):
        interleaved({"a": lambda: 1.0}, 0)
