"""One band over runs for `dexterous curves` and the figures: every point over the same runs."""

import pytest

from dexterous.rl.bands import band


def test_a_band_is_taken_where_every_run_has_been_evaluated():
    ahead = {0: 1.0, 100: 3.0, 200: 9.0}  # a run resumed further than the others
    behind = [{0: 0.0, 100: 2.0}, {0: 2.0, 100: 5.0}]
    aggregate = band([ahead, *behind])
    assert aggregate.steps == (0, 100)
    assert aggregate.median == (1.0, 3.0) and aggregate.low == (0.0, 2.0) and aggregate.high == (2.0, 5.0)


def test_a_band_needs_a_curve():
    with pytest.raises(ValueError, match="at least one curve"):
        band([])
