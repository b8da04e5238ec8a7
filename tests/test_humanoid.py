"""Humanoid-v1: gymnasium Humanoid-v5's dynamics and reward behind exact snapshots and the
batch evaluator; falls end episodes and zero the rewards that a plan would collect after."""

import dataclasses

import gymnasium
import numpy as np
import pytest

import dexterous
from dexterous.envs.humanoid import HumanoidEnv, humanoid_xml
from dexterous.sim.batch import BatchEvaluator

ENV_ID = "dexterous/Humanoid-v1"


def _actions(n: int, seed: int, scale: float = 0.4) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-scale, scale, (n, 17))


def _mid_episode(seed: int = 1, steps: int = 5):
    env = dexterous.make(ENV_ID)
    env.reset(seed=seed)
    for a in _actions(steps, seed=seed):
        env.step(a)
    return env, env.unwrapped.snapshot()


def _with_state(snap, env, edit):
    """snap with its MuJoCo state changed by edit(data), as env's data holds it."""
    u = env.unwrapped
    u.restore(snap)
    edit(u.data)
    return dataclasses.replace(snap, state=u.snapshot().state)


def test_dimensions_and_model_come_from_gymnasium():
    env = dexterous.make(ENV_ID)
    obs, _ = env.reset(seed=0)
    u = env.unwrapped
    assert humanoid_xml().is_file() and u.model.nq == 24 and u.model.nu == 17
    assert obs.shape == env.observation_space.shape == (348,)
    assert env.action_space.shape == (17,)
    assert np.array_equal(u.action_low, np.full(17, -0.4)) and np.array_equal(u.action_high, np.full(17, 0.4))
    assert (u.episode_steps, u.substeps, u.dt) == (1000, 5, 0.015)


def test_observation_and_reward_equal_gymnasium_humanoid_v5():
    """Same seed, same actions: observations equal bit for bit; rewards to rounding (v5 sums
    the centre of mass with einsum, ours body by body); both fall at the same step."""
    ours, theirs = HumanoidEnv(), gymnasium.make("Humanoid-v5").unwrapped
    assert np.array_equal(ours.reset(seed=3)[0], theirs.reset(seed=3)[0])
    for t, a in enumerate(_actions(40, seed=0)):
        obs, reward, terminated, *_ = ours.step(a)
        v5_obs, v5_reward, v5_terminated, *_ = theirs.step(a)
        assert np.array_equal(obs, v5_obs), t
        assert reward == pytest.approx(v5_reward, rel=0, abs=1e-12), t
        assert terminated == v5_terminated, t
        if terminated:
            break
    assert terminated, "40 random steps should end in a fall"


def test_seeded_runs_are_identical():
    def run():
        env = dexterous.make(ENV_ID)
        out = [np.append(env.reset(seed=7)[0], 0.0)]
        for a in _actions(8, seed=2):
            obs, reward, *_ = env.step(a)
            out.append(np.append(obs, reward))
        return np.array(out)

    assert np.array_equal(run(), run())


def test_snapshot_round_trip_is_exact():
    env, snap = _mid_episode()
    actions = _actions(6, seed=9)
    first = [np.append(*env.step(a)[:2]) for a in actions]
    other = dexterous.make(ENV_ID)
    other.reset(seed=123)
    other.unwrapped.restore(snap)
    assert other.unwrapped.snapshot().equals(snap)
    assert np.array_equal(first, [np.append(*other.step(a)[:2]) for a in actions])


def test_truncates_after_1000_steps():
    env, snap = _mid_episode()
    env.unwrapped.restore(dataclasses.replace(snap, step=999))
    *_, truncated, _ = env.step(np.zeros(17))
    assert truncated


def test_batch_equals_sequential_until_the_fall_and_zero_after():
    env, snap = _mid_episode()
    actions = np.random.default_rng(4).uniform(-0.5, 0.5, (4, 25, 17))  # beyond ±0.4: both clip
    result = BatchEvaluator(env, nthread=2).evaluate(snap, actions, final_snapshots=True)
    assert not result.successes.any()
    falls = 0
    for i in range(4):
        env.unwrapped.restore(snap)
        paid, ended = [], False
        for a in actions[i]:
            _, reward, terminated, *_ = env.step(a)
            paid.append(0.0 if ended else reward)
            ended |= terminated
        falls += ended
        assert np.array_equal(result.rewards[i], paid)
        assert env.unwrapped.snapshot().equals(result.final_snapshots[i])
    assert falls > 0, "some of these rollouts should fall, or the zeroing goes untested"


def test_fallen_start_pays_its_first_step_then_zero():
    env, snap = _mid_episode()
    fallen = _with_state(snap, env, lambda d: d.qpos.__setitem__(2, 0.6))
    actions = _actions(3 * 4, seed=5).reshape(3, 4, 17)
    result = BatchEvaluator(env, nthread=1).evaluate(fallen, actions)
    env.unwrapped.restore(fallen)
    _, reward, terminated, *_ = env.step(actions[0, 0])
    assert terminated and result.rewards[0, 0] == reward
    assert np.all(result.rewards[:, 1:] == 0.0) and not result.successes.any()


def test_diverged_rollout_scores_minus_infinity():
    env, snap = _mid_episode()
    diverged = _with_state(snap, env, lambda d: d.qvel.__setitem__(0, 1e30))
    result = BatchEvaluator(env, nthread=1).evaluate(diverged, np.zeros((2, 3, 17)))
    assert np.all(result.rewards == -np.inf)


def test_bad_shapes_and_settings_are_named():
    env, snap = _mid_episode()
    with pytest.raises(ValueError, match=r"action must have shape \(17,\) for dexterous/Humanoid-v1, got \(16,\)"):
        env.step(np.zeros(16))
    with pytest.raises(ValueError, match=r"actions must have shape \(N, τ, 17\)"):
        BatchEvaluator(env, nthread=1).evaluate(snap, np.zeros((2, 3, 16)))
    with pytest.raises(ValueError, match="persistent=True"):
        BatchEvaluator(env, persistent=False)


def test_planned_episode_ends_at_the_fall_and_replays_exactly(tmp_path):
    from dexterous.mpc.driver import plan_episode
    from dexterous.demos.replay import replay
    from dexterous.planning import preset

    demo = plan_episode(ENV_ID, preset("smoke", ENV_ID), 0, tmp_path / "episode.npz", nthread=1, max_steps=60)
    assert demo.complete and demo.num_steps < 60  # the smoke budget cannot keep it up
    assert replay(demo).exact
