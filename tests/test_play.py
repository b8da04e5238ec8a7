"""The objects' play for TOPDM+: each family's lost rule, and early-out equal to full simulation."""

import gymnasium
import numpy as np
import pytest

import dexterous
from dexterous.envs.pen_spin import LOST_DISTANCE, LOST_HEIGHT
from dexterous.envs.two_hands import LOST_BELOW_GOAL
from dexterous.sim.batch import BatchEvaluator


def _moved(env_id: str, shift: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(qpos at reset, the same with the first object shifted by shift, the goal), as (1, …) rows."""
    env = dexterous.make(env_id).unwrapped
    env.reset(seed=0)
    qpos = env.data.qpos[None].copy()
    moved = qpos.copy()
    moved[0, env.indices.objects[0].qpos[:3]] += shift
    return qpos, moved, env.goal[None].copy()


@pytest.mark.parametrize("env_id, shift", [
    ("PenSpin-v1", (0.0, 0.0, -0.15)),                      # below LOST_HEIGHT
    ("PenSpin-v1", (LOST_DISTANCE + 0.01, 0.0, 0.0)),       # out of the hand sideways
    ("HandManipulateBlockFull-v1", (0.0, 0.0, -0.05)),      # below the drop height 0.13
    ("HandManipulatePenFull-v1", (0.0, 0.0, -0.2)),         # on the floor
    ("EggHandOver-v1", (0.0, 0.0, -0.4)),
    ("EggCatchUnderarm-v1", (0.0, 0.0, -0.5)),
])
def test_an_object_that_left_the_hands_is_lost_and_one_at_rest_is_not(env_id, shift):
    env = dexterous.make(env_id).unwrapped
    at_rest, moved, goal = _moved(env_id, np.asarray(shift))
    assert not env.object_lost(at_rest, goal)[0]
    assert env.object_lost(moved, goal)[0]


def test_two_hand_objects_are_lost_below_their_goal_by_the_margin():
    env = dexterous.make("TwoEggCatchUnderArm-v1").unwrapped
    env.reset(seed=0)
    qpos, goal = env.data.qpos[None].copy(), env.goal[None].copy()
    second = env.indices.objects[1].qpos[2]
    qpos[0, second] = goal[0, 9] - LOST_BELOW_GOAL + 0.01
    assert not env.object_lost(qpos, goal)[0]
    qpos[0, second] = goal[0, 9] - LOST_BELOW_GOAL - 0.01
    assert env.object_lost(qpos, goal)[0]  # either object lost is lost


def test_pen_spin_measures_the_pens_distance_from_its_rest_position():
    env = dexterous.make("PenSpin-v1").unwrapped
    at_rest, moved, _ = _moved("PenSpin-v1", np.array([0.03, 0.0, 0.04]))
    assert env.rest_offset(moved)[0] - env.rest_offset(at_rest)[0] == pytest.approx(0.05, abs=0.02)
    assert env.rest_offset(at_rest)[0] < 0.02 and env.rest_position[2] > LOST_HEIGHT


def test_humanoid_never_loses_an_object():
    env = dexterous.make("Humanoid-v1").unwrapped
    env.reset(seed=0)
    assert not env.object_lost(env.data.qpos[None], env.goal[None]).any()
    assert env.rest_offset(env.data.qpos[None])[0] == 0.0


@pytest.mark.parametrize("env_id", ["dexterous/PenSpin-v1", "dexterous/EggHandOver-v1"])
def test_early_out_equals_full_simulation_for_every_step_it_simulates(env_id, monkeypatch):
    env = gymnasium.make(env_id)
    env.reset(seed=4)
    unwrapped = env.unwrapped
    finger = unwrapped.indices.hands[0].qpos[-1]
    snap = unwrapped.snapshot()
    actions = np.random.default_rng(5).uniform(-1, 1, (12, 15, env.action_space.shape[0]))
    seen = []
    monkeypatch.setattr(unwrapped, "object_lost", lambda qpos, goal: seen.append(qpos[:, finger].copy())
                        or np.zeros(len(qpos), bool))
    BatchEvaluator(env, nthread=2).evaluate(snap, actions, play=True)
    threshold = np.median(np.max(seen, axis=0))
    # a rule that about half the rollouts meet, at different steps: the last finger joint bent past its median peak
    monkeypatch.setattr(unwrapped, "object_lost", lambda qpos, goal: qpos[:, finger] > threshold)
    full = BatchEvaluator(env, nthread=2).evaluate(snap, actions, play=True)
    early = BatchEvaluator(env, nthread=2).evaluate(snap, actions, play=True, early_out=True)
    assert np.array_equal(full.lost, early.lost) and 0 < full.lost[:, -1].sum() < 12
    assert full.env_steps == 12 * 15
    simulated = np.concatenate([np.ones((12, 1), bool), ~full.lost[:, :-1]], axis=1)
    assert early.env_steps == simulated.sum() < full.env_steps
    assert np.array_equal(early.rewards[simulated], full.rewards[simulated])
    assert np.array_equal(early.successes[simulated], full.successes[simulated])
    assert np.array_equal(early.offsets[simulated], full.offsets[simulated])
    assert not early.rewards[~simulated].any() and not early.successes[~simulated].any()
    plain = BatchEvaluator(env, nthread=2).evaluate(snap, actions)
    assert np.array_equal(plain.rewards, full.rewards) and plain.lost is None
