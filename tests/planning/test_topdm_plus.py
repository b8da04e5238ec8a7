"""TOPDM+'s switches on toy evaluators: the lost-object objective, early-out, coloured noise."""

import dataclasses

import numpy as np
import pytest
from planning_toys import LosingEvaluator, TrackingEvaluator, sine_targets

from dexterous.planning.configs import TOPDMConfig, variant
from dexterous.planning.coupling import couple
from dexterous.planning.noise import coloured_noise, spectrum_scales
from dexterous.planning.planner import Planner
from dexterous.planning.scoring import objective_scores, score_rollouts

ACTION_SIZE = 3
SMALL = TOPDMConfig(horizon=6, n_samples=64, iterations=4, episode_length=10, schedule="constant")
PLUS = dataclasses.replace(SMALL, lost_object=True, lost_penalty=1.0)


def _plans(config: TOPDMConfig, evaluator, steps: int, seed: int = 0):
    planner = Planner(config)
    planner.reset(np.random.default_rng(seed))
    prev, plans = np.zeros(ACTION_SIZE), []
    for t in range(steps):
        plans.append(planner.plan(evaluator, t, t, prev))
        prev = plans[-1].action
    return plans


def test_objective_pays_nothing_once_lost_and_charges_the_penalty_and_the_rest_offset():
    rewards = np.array([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0], [1.0, -np.inf, 3.0]])
    successes = np.array([[True, True, True], [True, True, True], [False, False, False]])
    lost = np.array([[False, False, False], [False, True, True], [True, True, True]])
    offsets = np.array([[0.1, 0.2, 0.3], [0.5, 9.0, 9.0], [0.0, 0.0, 0.0]])
    scores = objective_scores(rewards, successes, np.ones(3), lost, offsets, lost_penalty=4.0, rest_weight=10.0)
    assert scores[0] == pytest.approx(6.0 + 3.0 - 10.0 * 0.6)
    assert scores[1] == pytest.approx(1.0 + 1.0 - 2 * 4.0 - 10.0 * 0.5)
    assert scores[2] == -np.inf  # a diverged rollout never wins, lost or not
    nothing_lost = objective_scores(rewards[:2], successes[:2], np.ones(3), np.zeros((2, 3), bool),
                                    np.zeros((2, 3)), 4.0, 0.0)
    assert np.array_equal(nothing_lost, score_rollouts(rewards[:2], successes[:2], np.ones(3)))


def test_the_papers_planner_pays_for_losing_the_object_and_topdm_plus_does_not():
    paper = _plans(SMALL, LosingEvaluator(ACTION_SIZE), 6)
    plus = _plans(PLUS, LosingEvaluator(ACTION_SIZE), 6)
    assert max(p.actions[:, 0].max() for p in paper) > 0.5  # chases the reward past the loss
    assert all(p.actions[:, 0].max() <= 0.5 for p in plus)
    assert all(p.predicted_rewards.sum() > 0 for p in plus)  # and still pushes up to the edge


def test_the_papers_planners_never_ask_for_play():
    evaluator = LosingEvaluator(ACTION_SIZE)
    _plans(variant("mppi", SMALL), evaluator, 2)
    _plans(SMALL, evaluator, 2)
    assert all(call == {"play": False, "early_out": False} for call in evaluator.calls)


def test_early_out_counts_only_the_simulated_steps_and_plans_the_same():
    config = dataclasses.replace(PLUS, early_out=True)
    evaluator = LosingEvaluator(ACTION_SIZE)
    stopped, full = _plans(config, evaluator, 4), _plans(PLUS, LosingEvaluator(ACTION_SIZE), 4)
    assert evaluator.calls[0] == {"play": True, "early_out": True}
    simulated = [int(np.concatenate([np.ones((len(b), 1), bool),
                                     ~np.logical_or.accumulate(b[..., 0] > 0.5, axis=1)[:, :-1]], axis=1).sum())
                 for b in evaluator.batches]
    assert sum(p.env_steps for p in stopped) == sum(simulated) < 4 * SMALL.iterations * SMALL.n_samples * 6
    assert all(np.array_equal(a.actions, b.actions) for a, b in zip(stopped, full))  # nothing it skips is scored


def test_spend_budget_iterates_on_until_the_env_steps_early_out_saved_are_spent():
    stopping = dataclasses.replace(PLUS, early_out=True)
    spending = dataclasses.replace(stopping, spend_budget=True)
    nominal, iteration = SMALL.iterations * SMALL.n_samples * SMALL.horizon, SMALL.n_samples * SMALL.horizon
    saved, spent = (_plans(config, LosingEvaluator(ACTION_SIZE, threshold=0.0), 4) for config in (stopping, spending))
    assert all(p.env_steps < nominal for p in saved) and saved[0].env_steps < nominal - iteration
    assert all(nominal - iteration < p.env_steps <= nominal for p in spent)  # what is left is under an iteration
    assert all(p.iterations >= SMALL.iterations for p in spent) and spent[0].iterations > SMALL.iterations
    assert np.array_equal(spent[0].best_scores[:SMALL.iterations], saved[0].best_scores)  # the same draws first
    assert spent[0].score >= saved[0].score
    # with nothing saved there is nothing to spend: the paper's budget and plans exactly
    unsaved = _plans(dataclasses.replace(PLUS, spend_budget=True), LosingEvaluator(ACTION_SIZE), 3)
    assert all(np.array_equal(a.actions, b.actions) and a.env_steps == b.env_steps == nominal
               for a, b in zip(unsaved, _plans(PLUS, LosingEvaluator(ACTION_SIZE), 3)))
    with pytest.raises(ValueError, match="spend_budget must be a bool"):
        dataclasses.replace(PLUS, spend_budget=1)


def test_an_evaluator_without_play_is_refused_by_name():
    with pytest.raises(TypeError, match="TrackingEvaluator.evaluate takes no play/early_out arguments"):
        _plans(PLUS, TrackingEvaluator(np.zeros((10, ACTION_SIZE))), 1)

    class Silent(LosingEvaluator):
        def evaluate(self, *args, **kwargs):
            return super().evaluate(*args, **kwargs)._replace(lost=None)

    with pytest.raises(ValueError, match="evaluator returned lost of shape None.*needs an evaluator that answers"):
        _plans(PLUS, Silent(ACTION_SIZE), 1)


@pytest.mark.parametrize("changes, message", [
    ({"early_out": True}, "early_out and lost_penalty need lost_object=True"),
    ({"lost_object": True, "lost_penalty": -1.0}, r"lost_penalty must be a finite number ≥ 0, got -1.0"),
    ({"noise_exponent": 5.0}, r"noise_exponent must be a number in \[0, 4\]"),
    ({"lost_object": 1}, "lost_object must be a bool")])
def test_bad_topdm_plus_switches_are_named(changes, message):
    with pytest.raises(ValueError, match=message):
        dataclasses.replace(SMALL, **changes)


@pytest.mark.parametrize("length", [1, 2, 7, 20])
@pytest.mark.parametrize("exponent", [0.0, 1.0, 2.0])
def test_coloured_noise_has_unit_variance(length, exponent):
    noise = coloured_noise(np.random.default_rng(0), (4000, length, 5), spectrum_scales(length, exponent))
    assert noise.std() == pytest.approx(1.0, abs=0.02) and abs(noise.mean()) < 0.02


def test_a_larger_exponent_correlates_neighbouring_steps_more():
    def lag_one(exponent: float) -> float:
        noise = coloured_noise(np.random.default_rng(1), (4000, 20, 2), spectrum_scales(20, exponent))
        return float(np.mean(noise[:, 1:] * noise[:, :-1]))

    assert abs(lag_one(0.0)) < 0.03 and 0.4 < lag_one(1.0) < lag_one(2.0)


def test_coloured_noise_perturbs_whole_channels_with_probability_fn():
    config = dataclasses.replace(SMALL, noise_exponent=2.0, noise_fraction=0.3, n_samples=2000)
    planner = Planner(config)
    planner.reset(np.random.default_rng(0))
    planner._allocate(ACTION_SIZE)
    population = np.zeros((2000, 6, ACTION_SIZE))
    planner._perturb(population, -10.0, 10.0)
    touched = population != 0
    assert np.array_equal(touched.all(axis=1), touched.any(axis=1))  # a channel moves over the whole horizon
    assert touched.any(axis=1).mean() == pytest.approx(0.3, abs=0.02)


def test_coloured_noise_still_plans_towards_smooth_targets():
    config = dataclasses.replace(SMALL, noise_exponent=2.0, noise_fraction=1.0, iterations=6)
    evaluator = TrackingEvaluator(sine_targets(20, ACTION_SIZE))
    plans = _plans(config, evaluator, 10)
    executed = np.array([p.action for p in plans])
    error = ((executed - evaluator.targets[:10]) ** 2).sum(axis=1).mean()
    assert error < 0.25 * (evaluator.targets[:10] ** 2).sum(axis=1).mean()
    assert all(p.best_scores[-1] >= p.best_scores[0] for p in plans)


def test_keep_plan_scores_the_carried_plan_itself_first():
    config = dataclasses.replace(SMALL, keep_plan=True)
    evaluator = TrackingEvaluator(sine_targets(20, ACTION_SIZE))
    planner = Planner(config)
    planner.reset(np.random.default_rng(0))
    first = planner.plan(evaluator, 0, 0, np.zeros(ACTION_SIZE))
    planner.plan(evaluator, 1, 1, first.action)
    carried = evaluator.batches[SMALL.iterations][0]  # step 1, iteration 0, sample 0
    assert np.array_equal(carried[:-1], couple(first.means[1:], first.action, config.beta, -1.0, 1.0))
    plain = _plans(SMALL, TrackingEvaluator(sine_targets(20, ACTION_SIZE)), 2)
    noisy = TrackingEvaluator(sine_targets(20, ACTION_SIZE))
    _plans(SMALL, noisy, 2)
    assert not np.array_equal(noisy.batches[SMALL.iterations][0][:-1],
                              couple(plain[0].means[1:], plain[0].action, SMALL.beta, -1.0, 1.0))


class _WorseEachCall(TrackingEvaluator):
    """Every later call pays less for the same actions: noisy copies never beat the elites."""

    def evaluate(self, snapshot, actions, final_snapshots=False):
        result = super().evaluate(snapshot, actions)
        return result._replace(rewards=result.rewards - 100.0 * len(self.batches))


def test_elite_memory_keeps_elites_that_their_noisy_copies_do_not_beat():
    config = dataclasses.replace(SMALL, elite_memory=True, iterations=3)
    evaluator = _WorseEachCall(sine_targets(20, ACTION_SIZE))
    planner = Planner(config)
    planner.reset(np.random.default_rng(0))
    step = planner.plan(evaluator, 0, 0, np.zeros(ACTION_SIZE))
    first = evaluator.batches[0]
    scores = (-((first - sine_targets(20, ACTION_SIZE)[:6]) ** 2).sum(axis=-1) - 100.0).sum(axis=1)
    elites = np.argsort(-scores, kind="stable")[: config.n_elites]
    assert np.array_equal(step.actions, first[elites[0]])
    # the third iteration still perturbs the first iteration's elites, not the worse second batch's
    memory, _ = planner._memory
    assert np.array_equal(couple(memory, np.zeros(ACTION_SIZE), config.beta, -1.0, 1.0), first[elites])
    plain = Planner(dataclasses.replace(config, elite_memory=False))
    plain.reset(np.random.default_rng(0))
    plain.plan(_WorseEachCall(sine_targets(20, ACTION_SIZE)), 0, 0, np.zeros(ACTION_SIZE))
    assert plain._memory is None


def test_elite_memory_needs_top_fraction_selection():
    with pytest.raises(ValueError, match="elite_memory needs selection='top_fraction'"):
        dataclasses.replace(variant("mppi", SMALL), elite_memory=True)


def test_plan_to_end_scores_and_simulates_only_the_steps_left_in_the_episode():
    config = dataclasses.replace(SMALL, plan_to_end=True)  # τ 6, episode 10
    evaluator = TrackingEvaluator(sine_targets(20, ACTION_SIZE))
    plans = _plans(config, evaluator, 10)
    per_call = SMALL.iterations
    assert [b.shape[1] for b in evaluator.batches[::per_call]] == [6, 6, 6, 6, 6, 5, 4, 3, 2, 1]
    assert [p.env_steps for p in plans] == [per_call * SMALL.n_samples * h for h in (6, 6, 6, 6, 6, 5, 4, 3, 2, 1)]
    assert plans[-1].predicted_rewards.shape == (1,) and plans[-1].means.shape == (6, ACTION_SIZE)
    paper = _plans(SMALL, TrackingEvaluator(sine_targets(20, ACTION_SIZE)), 10)
    assert all(p.env_steps == per_call * SMALL.n_samples * 6 for p in paper)


class _DangerAhead(LosingEvaluator):
    """Every rollout of the first `danger` evaluations loses the object; then LosingEvaluator's rule."""

    def __init__(self, danger: int) -> None:
        super().__init__(ACTION_SIZE)
        self.danger = danger

    def evaluate(self, snapshot, actions, final_snapshots=False, play=False, early_out=False):
        result = super().evaluate(snapshot, actions, final_snapshots, play, early_out)
        if len(self.calls) > self.danger:
            return result
        return result._replace(lost=np.ones_like(result.lost))


@pytest.mark.parametrize("rescue, first_step", [(0, 4), (2, 6), (10, 7)])
def test_rescue_iterations_search_on_while_the_best_sequence_loses_the_object(rescue, first_step):
    config = dataclasses.replace(PLUS, rescue_iterations=rescue)
    plans = _plans(config, _DangerAhead(danger=6), 3)
    assert [p.iterations for p in plans] == [first_step, 4, 4]  # the schedule's 4, then more while lost
    assert len(plans[0].best_scores) == first_step and np.all(np.diff(plans[0].best_scores) >= 0)
    assert plans[0].env_steps == first_step * SMALL.n_samples * SMALL.horizon  # counted like any others
    if rescue == 0:
        assert all(np.array_equal(a.actions, b.actions) for a, b in zip(plans, _plans(PLUS, _DangerAhead(6), 3)))


def test_rescue_iterations_need_the_lost_object_objective():
    with pytest.raises(ValueError, match="rescue_iterations needs lost_object=True"):
        dataclasses.replace(SMALL, rescue_iterations=5)
    with pytest.raises(ValueError, match="rescue_iterations"):
        dataclasses.replace(PLUS, rescue_iterations=-1)
