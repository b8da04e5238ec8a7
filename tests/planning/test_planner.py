import dataclasses

import numpy as np
import pytest
from planning_toys import DivergingEvaluator, TrackingEvaluator, sine_targets

from dexterous.planning.configs import TOPDMConfig, variant
from dexterous.planning.coupling import couple
from dexterous.planning.planner import Planner, PlanStep
from dexterous.planning.scoring import score_rollouts, step_weights
from dexterous.planning.selection import exponential_weights
from dexterous.contracts.protocol import EvalResult

ACTION_SIZE = 4
SMALL = TOPDMConfig(horizon=5, n_samples=32, iterations=4, episode_length=12)


def _planner(config: TOPDMConfig, seed: int = 0) -> Planner:
    planner = Planner(config)
    planner.reset(np.random.default_rng(seed))
    return planner


def _tracking(steps: int = 40, **kwargs) -> TrackingEvaluator:
    return TrackingEvaluator(sine_targets(steps, ACTION_SIZE), **kwargs)


def _episode(planner: Planner, evaluator, steps: int) -> list[PlanStep]:
    """MPC: plan from the real state (here: t), execute the plan's action, repeat."""
    prev = np.zeros(ACTION_SIZE)
    plans = []
    for t in range(steps):
        plans.append(planner.plan(evaluator, t, t, prev))
        prev = plans[-1].action
    return plans


def _scores(evaluator: TrackingEvaluator, t: int, actions: np.ndarray, config: TOPDMConfig):
    result = TrackingEvaluator.evaluate(evaluator, t, actions)
    return score_rollouts(result.rewards, result.successes, step_weights(config.horizon, 1.0))


@pytest.mark.parametrize("name", ["topdm", "mppi"])
def test_best_ever_score_is_the_running_maximum_over_every_evaluated_row(name):
    config = variant(name, SMALL)
    planner, evaluator, prev = _planner(config), _tracking(), np.zeros(ACTION_SIZE)
    for t in range(6):
        first = len(evaluator.batches)
        plan = planner.plan(evaluator, t, t, prev)
        best_per_iteration = [_scores(evaluator, t, batch, config).max() for batch in evaluator.batches[first:]]
        assert len(best_per_iteration) == config.iterations_at(t)
        np.testing.assert_array_equal(plan.best_scores, np.maximum.accumulate(best_per_iteration))
        assert np.all(np.diff(plan.best_scores) >= 0) and plan.score == plan.best_scores[-1]
        prev = plan.action


def test_topdm_prediction_is_what_the_plan_earns():
    evaluator = _tracking()
    prev = np.array([0.3, -0.2, 0.9, 0.0])
    plan = _planner(SMALL).plan(evaluator, 2, 2, prev)
    # The plan's coupled actions are the best evaluated row, and replaying them alone
    # pays exactly the predicted rewards.
    evaluated = np.concatenate(evaluator.batches)
    assert any(np.array_equal(row, plan.actions) for row in evaluated)
    replay = evaluator.evaluate(2, plan.actions[None])
    np.testing.assert_array_equal(replay.rewards[0], plan.predicted_rewards)
    np.testing.assert_array_equal(replay.successes[0], plan.predicted_successes)
    assert plan.score == plan.predicted_rewards.sum() + plan.predicted_successes.sum()


@pytest.mark.parametrize("name", ["topdm", "mppi"])
def test_action_is_the_coupled_first_step_of_the_plan(name):
    config = variant(name, SMALL)
    prev = np.array([0.3, -0.2, 0.9, -1.0])
    plan = _planner(config).plan(_tracking(), 0, 0, prev)
    expected = np.clip(config.beta * plan.means[0] + (1 - config.beta) * prev, -1, 1)
    np.testing.assert_array_equal(plan.action, expected)
    np.testing.assert_array_equal(plan.actions, couple(plan.means, prev, config.beta, -1.0, 1.0))


@pytest.mark.parametrize("failure", [-np.inf, np.nan])
@pytest.mark.parametrize("name", ["topdm", "mod1", "mppi"])
def test_diverged_rollouts_never_win(name, failure):
    evaluator = DivergingEvaluator(ACTION_SIZE, failure)
    config = variant(name, SMALL)
    plan = _planner(config).plan(evaluator, 0, 0, np.zeros(ACTION_SIZE))
    evaluated = np.concatenate(evaluator.batches)
    diverged = (evaluated[..., 0] > evaluator.threshold).any(axis=1)
    assert diverged.mean() > 0.2  # the toy really does produce non-finite rollouts
    assert np.isfinite(plan.score) and np.all(np.isfinite(plan.predicted_rewards))
    assert np.all(np.isfinite(plan.means))
    if config.selection == "top_fraction":
        assert plan.actions[:, 0].max() <= evaluator.threshold
        # Finite rollouts reward a_0 up to the threshold: the planner finds them.
        assert plan.score > 0


def test_all_rollouts_diverging_leaves_a_minus_infinity_score():
    evaluator = DivergingEvaluator(ACTION_SIZE, np.nan, threshold=-2.0)
    plan = _planner(SMALL).plan(evaluator, 0, 0, np.zeros(ACTION_SIZE))
    assert plan.score == -np.inf and np.all(plan.best_scores == -np.inf)


@pytest.mark.parametrize("name", ["topdm", "mppi"])
def test_seeded_runs_are_identical(name):
    config = variant(name, SMALL)
    first = _episode(_planner(config, seed=3), _tracking(), 5)
    second = _episode(_planner(config, seed=3), _tracking(), 5)
    other = _episode(_planner(config, seed=4), _tracking(), 5)
    for a, b in zip(first, second):
        for x, y in zip(a, b):
            assert np.array_equal(x, y)
    assert not np.array_equal(first[0].means, other[0].means)


def test_reset_restarts_the_same_episode():
    planner = _planner(SMALL, seed=5)
    first = _episode(planner, _tracking(), 3)
    planner.reset(np.random.default_rng(5))
    again = _episode(planner, _tracking(), 3)
    assert all(np.array_equal(a.means, b.means) for a, b in zip(first, again))


def test_global_numpy_random_is_untouched():
    np.random.seed(1234)
    _, keys, position, *_ = np.random.get_state()
    _episode(_planner(SMALL), _tracking(), 3)
    _episode(_planner(variant("mppi", SMALL)), _tracking(), 3)
    _, keys_after, position_after, *_ = np.random.get_state()
    assert np.array_equal(keys_after, keys) and position_after == position


def test_huge_kappa_mppi_picks_the_best_sample():
    config = dataclasses.replace(variant("mppi", SMALL, kappa=1e9), iterations=1,
                                 schedule="constant")
    evaluator = _tracking()
    plan = _planner(config).plan(evaluator, 0, 0, np.zeros(ACTION_SIZE))
    (batch,) = evaluator.batches
    best = int(np.argmax(_scores(evaluator, 0, batch, config)))
    np.testing.assert_array_equal(plan.actions, batch[best])
    assert plan.score == plan.best_scores[0]


def test_huge_kappa_mppi_searches_like_keeping_one_elite():
    mppi = variant("mppi", SMALL, kappa=1e9)
    top_one = dataclasses.replace(variant("mod1", SMALL), top_fraction=1 / SMALL.n_samples)
    mppi_evaluator, top_one_evaluator = _tracking(), _tracking()
    _planner(mppi).plan(mppi_evaluator, 0, 0, np.zeros(ACTION_SIZE))
    _planner(top_one).plan(top_one_evaluator, 0, 0, np.zeros(ACTION_SIZE))
    assert len(mppi_evaluator.batches) == SMALL.iterations_at(0)
    for a, b in zip(mppi_evaluator.batches, top_one_evaluator.batches, strict=True):
        np.testing.assert_array_equal(a, b)


def test_mppi_plans_the_weighted_mean_not_its_best_sample():
    # β = 1: the evaluated actions are the (clipped) means, so the mean can be recomputed.
    config = dataclasses.replace(variant("mppi", SMALL, kappa=1.0), beta=1.0)
    evaluator = _tracking()
    plan = _planner(config).plan(evaluator, 0, 0, np.zeros(ACTION_SIZE))
    last = evaluator.batches[-1]
    weights = exponential_weights(_scores(evaluator, 0, last, config), config.kappa)
    expected = weights[0] * last[0]
    for weight, sample in zip(weights[1:], last[1:]):
        expected = expected + weight * sample
    # summed sample after sample, bit for bit: BLAS orders the sum by processor, this does not
    np.testing.assert_array_equal(plan.means, expected)
    assert not any(np.allclose(row, plan.means) for row in last)


@pytest.mark.parametrize("noise_fraction", [0.3, 1.0])
def test_noise_touches_the_configured_fraction_of_entries(noise_fraction):
    # Small σi keeps the means away from the bounds, where clipping would hide noise.
    config = dataclasses.replace(
        SMALL, n_samples=100, top_fraction=0.1, beta=1.0, sigma_init=0.1,
        noise_fraction=noise_fraction,
    )
    evaluator = _tracking()
    _planner(config).plan(evaluator, 0, 0, np.zeros(ACTION_SIZE))
    first, second = evaluator.batches[:2]
    elites = np.argsort(-_scores(evaluator, 0, first, config), kind="stable")[: config.n_elites]
    parents = first[elites[np.arange(config.n_samples) % config.n_elites]]
    assert abs(np.mean(second != parents) - noise_fraction) < 0.04


def test_top_fraction_is_tiled_back_to_the_population():
    # No noise magnitude: the second iteration evaluates exact copies of the first's elites.
    config = dataclasses.replace(variant("mod1", SMALL), sigma_noise=0.0, top_fraction=0.1)
    evaluator = _tracking()
    _planner(config).plan(evaluator, 0, 0, np.zeros(ACTION_SIZE))
    first, second = evaluator.batches[:2]
    scores = _scores(evaluator, 0, first, config)
    elites = np.argsort(-scores, kind="stable")[: config.n_elites]
    assert config.n_elites == 3
    np.testing.assert_array_equal(second, first[elites[np.arange(config.n_samples) % 3]])


def test_each_tiled_copy_is_renoised():
    config = dataclasses.replace(SMALL, top_fraction=0.1)  # sparse noise, 3 elites
    evaluator = _tracking()
    _planner(config).plan(evaluator, 0, 0, np.zeros(ACTION_SIZE))
    second = evaluator.batches[1]
    assert len(np.unique(second.reshape(config.n_samples, -1), axis=0)) == config.n_samples


@pytest.mark.parametrize("carry_over", [True, False])
def test_carry_over_shifts_the_previous_plan(carry_over):
    # β = 1 and no noise magnitude: the evaluated actions are the initial means themselves.
    config = dataclasses.replace(
        SMALL, beta=1.0, sigma_noise=0.0, noise_fraction=1.0, carry_over=carry_over
    )
    planner, evaluator = _planner(config), _tracking()
    plan = planner.plan(evaluator, 0, 0, np.zeros(ACTION_SIZE))
    evaluator.batches.clear()
    planner.plan(evaluator, 1, 1, plan.action)
    start = evaluator.batches[0]
    shifted = np.all(start[:, :-1] == plan.means[1:], axis=(1, 2))
    assert shifted.all() == carry_over and shifted.any() == carry_over
    fresh = start[:, -1]
    assert np.all(np.abs(fresh) <= 1) and fresh.std(axis=0).min() > 0.1


def test_step_zero_starts_from_scratch_even_with_a_plan_in_hand():
    config = dataclasses.replace(SMALL, beta=1.0, sigma_noise=0.0)
    planner, evaluator = _planner(config), _tracking()
    plan = planner.plan(evaluator, 0, 0, np.zeros(ACTION_SIZE))
    evaluator.batches.clear()
    planner.plan(evaluator, 0, 0, np.zeros(ACTION_SIZE))
    assert not np.any(np.all(evaluator.batches[0][:, :-1] == plan.means[1:], axis=(1, 2)))


def test_iterations_and_env_steps_follow_the_schedule():
    planner = _planner(SMALL)
    for t in (0, 3, 11):
        plan = planner.plan(_tracking(), t, t, np.zeros(ACTION_SIZE))
        assert plan.iterations == SMALL.iterations_at(t) == len(plan.best_scores)
        assert plan.env_steps == plan.iterations * SMALL.n_samples * SMALL.horizon
    assert SMALL.iterations_at(0) == 10 and SMALL.iterations_at(11) == 2


def test_actions_respect_per_dimension_bounds():
    low, high = np.array([-0.4, -1.0, 0.0, -0.2]), np.array([0.4, 0.5, 1.0, 0.2])
    evaluator = _tracking(low=low, high=high)
    plans = _episode(_planner(SMALL), evaluator, 3)
    evaluated = np.concatenate(evaluator.batches)
    assert np.all(evaluated >= low) and np.all(evaluated <= high)
    assert np.all([(p.means >= low).all() and (p.means <= high).all() for p in plans])


def test_mpc_loop_improves_over_iterations_and_tracks_the_target():
    config = dataclasses.replace(SMALL, episode_length=15)
    evaluator = _tracking()
    plans = _episode(_planner(config), evaluator, 15)
    gains = np.array([p.best_scores[-1] - p.best_scores[0] for p in plans])
    assert np.all(gains >= 0) and gains.mean() > 0.1
    executed = np.array([p.action for p in plans])
    paid = -((executed - evaluator.targets[:15]) ** 2).sum(axis=1)
    standing_still = -(evaluator.targets[:15] ** 2).sum(axis=1)
    assert paid.mean() > 0.25 * standing_still.mean()  # under a quarter of the error


def test_more_iterations_plan_better():
    def mean_error(iterations: int) -> float:
        config = dataclasses.replace(SMALL, iterations=iterations, schedule="constant")
        errors = []
        for seed in range(3):
            evaluator = _tracking()
            executed = np.array([p.action for p in _episode(_planner(config, seed), evaluator, 10)])
            errors.append(((executed - evaluator.targets[:10]) ** 2).sum(axis=1).mean())
        return float(np.mean(errors))

    assert mean_error(8) < 0.5 * mean_error(1)


def test_plan_before_reset_is_an_error():
    with pytest.raises(RuntimeError, match=r"call reset\(rng\) before plan\(\)"):
        Planner(SMALL).plan(_tracking(), 0, 0, np.zeros(ACTION_SIZE))


def test_bad_arguments_are_named():
    planner = _planner(SMALL)
    with pytest.raises(ValueError, match=r"prev_action must have shape \(4,\) .*got \(3,\)"):
        planner.plan(_tracking(), 0, 0, np.zeros(3))
    with pytest.raises(ValueError, match="t must be an integer >= 0, got -1"):
        planner.plan(_tracking(), 0, -1, np.zeros(ACTION_SIZE))


def test_evaluator_returning_the_wrong_shape_is_reported():
    class Truncating(TrackingEvaluator):
        def evaluate(self, snapshot, actions, final_snapshots=False):
            result = super().evaluate(snapshot, actions)
            return EvalResult(result.rewards[:, :-1], result.successes)

    message = r"evaluator returned rewards of shape \(32, 4\), expected \(32, 5\)"
    evaluator = Truncating(sine_targets(10, ACTION_SIZE))
    with pytest.raises(ValueError, match=message):
        _planner(SMALL).plan(evaluator, 0, 0, np.zeros(ACTION_SIZE))
