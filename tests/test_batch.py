"""BatchEvaluator: the same rewards and successes as env.step, bit for bit; bad input named."""

import gymnasium
import numpy as np
import pytest

from helpers import random_actions
from dexterous.sim.batch import BatchEvaluator


def test_batch_equals_sequential_env_steps(env_id):
    env = gymnasium.make(env_id)
    env.reset(seed=21)
    for a in random_actions(env, 6, seed=1):
        env.step(a)
    snap = env.unwrapped.snapshot()
    # beyond ±1 on purpose: both paths must clip the same way
    actions = np.random.default_rng(2).uniform(-1.3, 1.3, (8, 10, env.action_space.shape[0]))
    result = BatchEvaluator(env, nthread=2).evaluate(snap, actions, final_snapshots=True)
    assert result.rewards.shape == result.successes.shape == (8, 10)
    for i in range(8):
        env.unwrapped.restore(snap)
        rewards, successes, ended = [], [], False
        for a in actions[i]:  # after an episode terminates, a plan collects nothing
            _, reward, terminated, _, info = env.step(a)
            rewards.append(0.0 if ended else reward)
            successes.append(info["is_success"] and not ended)
            ended |= terminated
        assert np.array_equal(result.rewards[i], rewards)
        assert np.array_equal(result.successes[i], successes)
        assert env.unwrapped.snapshot().equals(result.final_snapshots[i])


def test_threads_and_persistence_do_not_change_results():
    env = gymnasium.make("dexterous/HandManipulatePenFull-v1")
    env.reset(seed=3)
    snap = env.unwrapped.snapshot()
    actions = np.random.default_rng(0).uniform(-1, 1, (6, 5, 20))
    reference = BatchEvaluator(env, nthread=1, persistent=False).evaluate(snap, actions)
    for nthread, persistent in ((2, False), (1, True), (2, True)):
        evaluator = BatchEvaluator(env, nthread=nthread, persistent=persistent)
        for _ in range(2):  # a reused batch starts afresh from the snapshot
            result = evaluator.evaluate(snap, actions)
            assert np.array_equal(reference.rewards, result.rewards)
            assert np.array_equal(reference.successes, result.successes)


def _pen_spin_blown_up():
    """A PenSpin snapshot and its twin whose pen spins at 1e30 rad/s: MuJoCo flags that
    state at the first substep and resets the simulation."""
    env = gymnasium.make("dexterous/PenSpin-v1")
    env.reset(seed=0)
    snap = env.unwrapped.snapshot()
    state = snap.state.copy()
    qvel_start = 1 + env.unwrapped.model.nq  # state = (time, qpos, qvel, ...)
    state[qvel_start + env.unwrapped.indices.objects[0].qvel[3]] = 1e30
    bad = type(snap)(env_id=snap.env_id, state=state, goal=snap.goal, step=snap.step,
                     prev_action=snap.prev_action, rng_state=snap.rng_state)
    return env, snap, bad


def test_a_diverged_rollout_scores_minus_infinity():
    env, snap, bad = _pen_spin_blown_up()
    evaluator = BatchEvaluator(env, nthread=1)
    result = evaluator.evaluate(bad, np.zeros((3, 4, 20)))
    assert np.all(result.rewards == -np.inf) and not result.successes.any()
    fine = evaluator.evaluate(snap, np.zeros((3, 4, 20)))
    assert np.all(np.isfinite(fine.rewards))


@pytest.mark.parametrize("persistent", [True, False])
@pytest.mark.parametrize("early_out", [False, True])
def test_a_reused_evaluator_catches_every_divergence(persistent, early_out):
    # MuJoCo's reset zeroes the warning counters, so after a first divergence a slot's
    # count stays at 1 through the next: planners keep their evaluator between calls
    env, snap, bad = _pen_spin_blown_up()
    evaluator = BatchEvaluator(env, nthread=1, persistent=persistent)
    for _ in range(2):
        result = evaluator.evaluate(bad, np.zeros((3, 4, 20)), early_out=early_out)
        # early_out stops a diverged rollout, whose later rewards stay unwritten
        assert np.all(result.rewards[:, 0] == -np.inf) and not result.successes.any()
        assert np.all(result.rewards.sum(axis=1) == -np.inf)
        fine = evaluator.evaluate(snap, np.zeros((3, 4, 20)), early_out=early_out)
        assert np.all(np.isfinite(fine.rewards))


@pytest.mark.parametrize("shape, message", [
    ((4, 5), r"actions must have shape \(N, τ, 20\)"),
    ((4, 5, 19), r"actions must have shape \(N, τ, 20\) with N, τ ≥ 1 for dexterous/PenSpin-v1, got \(4, 5, 19\)"),
    ((0, 5, 20), r"got \(0, 5, 20\)"),
])
def test_bad_action_shapes_are_named(shape, message):
    env = gymnasium.make("dexterous/PenSpin-v1")
    env.reset(seed=0)
    with pytest.raises(ValueError, match=message):
        BatchEvaluator(env).evaluate(env.unwrapped.snapshot(), np.zeros(shape))


def test_nan_actions_are_refused():
    env = gymnasium.make("dexterous/PenSpin-v1")
    env.reset(seed=0)
    actions = np.zeros((2, 3, 20))
    actions[1, 2, 4] = np.nan
    with pytest.raises(ValueError, match="actions contains NaN"):
        BatchEvaluator(env).evaluate(env.unwrapped.snapshot(), actions)


def test_foreign_snapshot_is_refused():
    block = gymnasium.make("dexterous/HandManipulateBlockFull-v1")
    block.reset(seed=0)
    pen = gymnasium.make("dexterous/HandManipulatePenFull-v1")
    with pytest.raises(ValueError, match="cannot restore it into dexterous/HandManipulatePenFull-v1"):
        BatchEvaluator(pen).evaluate(block.unwrapped.snapshot(), np.zeros((1, 1, 20)))
