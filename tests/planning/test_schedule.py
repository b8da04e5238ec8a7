import pytest

from dexterous.planning.configs import TOPDMConfig
from dexterous.planning.schedule import decreasing_iterations


def _schedule(iterations: int, episode_length: int) -> list[int]:
    return [decreasing_iterations(t, iterations, episode_length) for t in range(episode_length)]


@pytest.mark.parametrize("iterations, episode_length", [(20, 75), (80, 75), (80, 250), (6, 76)])
def test_endpoints(iterations, episode_length):
    assert decreasing_iterations(0, iterations, episode_length) == 2.5 * iterations
    for t in ((episode_length + 1) // 2, episode_length - 1, 10 * episode_length):  # t ≥ T/2
        assert decreasing_iterations(t, iterations, episode_length) == iterations // 2


def test_odd_iterations_follow_the_formula_from_the_floor():
    # min = 5 // 2 = 2, y0 = 4·(5 − 2) = 12: Ni(0) = 14, not 2.5·5.
    assert decreasing_iterations(0, 5, 75) == 14
    assert decreasing_iterations(40, 5, 75) == 2


@pytest.mark.parametrize(
    "iterations, episode_length, tolerance",
    [(20, 75, 0.02), (80, 75, 0.02), (80, 250, 0.02), (40, 1000, 0.02), (6, 75, 0.05),
     (4, 250, 0.1), (13, 75, 0.05)],
)
def test_episode_total_is_about_iterations_times_length(iterations, episode_length, tolerance):
    total = sum(_schedule(iterations, episode_length))
    assert abs(total / (iterations * episode_length) - 1) <= tolerance


def test_paper_schedule_values():
    schedule = _schedule(20, 75)
    assert schedule[:3] == [50, 48, 47]
    assert sum(schedule) == 1501


def test_schedule_never_increases_and_never_stops():
    for iterations in (1, 2, 3, 20):
        schedule = _schedule(iterations, 75)
        assert all(a >= b for a, b in zip(schedule, schedule[1:]))
        assert min(schedule) >= 1


def test_negative_step_is_rejected():
    with pytest.raises(ValueError, match="t must be >= 0, got -1"):
        decreasing_iterations(-1, 20, 75)


def test_config_picks_its_schedule():
    decreasing = TOPDMConfig(iterations=20, episode_length=75)
    constant = TOPDMConfig(iterations=20, episode_length=75, schedule="constant")
    assert [decreasing.iterations_at(t) for t in (0, 74)] == [50, 10]
    assert [constant.iterations_at(t) for t in (0, 74)] == [20, 20]
