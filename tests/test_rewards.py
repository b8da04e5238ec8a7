"""Rewards and success against values computed by hand on constructed states (SPEC §2, §3)."""

import gymnasium
import mujoco
import numpy as np
import pytest

from dexterous.envs.rewards import GoalReward, rotation_distance
from dexterous.envs.rotations import quat_from_axis_angle


def _pen_state(env, quat, omega_x):
    """Put the pen at a pose with angular velocity omega_x about its body x axis."""
    u = env.unwrapped
    u.reset(seed=0)
    pen = u.indices.objects[0]
    u.data.qpos[pen.qpos[3:]] = quat
    u.data.qvel[pen.qvel] = [0, 0, 0, omega_x, 0, 0]
    mujoco.mj_forward(u.model, u.data)
    return u


@pytest.mark.parametrize("tilt", [0.0, 0.3, -0.7, np.pi / 2])
def test_pen_spin_reward_is_spin_minus_tilt(tilt):
    """Horizontal pen: reward = ω_x; tilted by φ: ω_x − 15·0.2·|sin φ|; heights from MuJoCo's sites."""
    env = gymnasium.make("dexterous/PenSpin-v1")
    # body z starts vertical; rotate it about world y down to horizontal, then back up by tilt
    quat = quat_from_axis_angle(np.array([0.0, 1.0, 0.0]), np.pi / 2 - tilt)
    u = _pen_state(env, quat, omega_x=4.5)
    reward, success = u.reward_success(u.data.qpos[None], u.data.qvel[None], u.goal[None])
    expected = 4.5 - 15 * 0.2 * abs(np.sin(tilt))
    assert reward[0] == pytest.approx(expected, abs=1e-12)
    top, bottom = u.data.site("object1:top").xpos[2], u.data.site("object1:bottom").xpos[2]
    assert reward[0] == pytest.approx(4.5 - 15 * abs(bottom - top), abs=1e-12)
    assert not success[0]


def test_pen_spin_rewards_spin_about_the_pen_body_x_axis_only():
    env = gymnasium.make("dexterous/PenSpin-v1")
    u = _pen_state(env, quat_from_axis_angle(np.array([0.0, 1.0, 0.0]), np.pi / 2), omega_x=0.0)
    pen = u.indices.objects[0]
    u.data.qvel[pen.qvel] = [0.3, 0.2, 0.1, 0, 2.0, 3.0]  # linear velocity and other axes: no pay
    reward, _ = u.reward_success(u.data.qpos[None], u.data.qvel[None], u.goal[None])
    assert reward[0] == pytest.approx(0.0, abs=1e-12)


def _pose(pos, quat):
    return np.concatenate([pos, quat])


IDENTITY = np.array([1.0, 0.0, 0.0, 0.0])


def test_block_dense_reward_at_a_known_offset():
    reward = gymnasium.make("dexterous/HandManipulateBlockFull-v1").unwrapped.reward_fn
    goal = _pose([1.0, 0.85, 0.25], IDENTITY)
    rotated = quat_from_axis_angle(np.array([1.0, 2.0, -0.5]), 0.3)
    achieved = _pose([1.0 + 0.006, 0.85 - 0.008, 0.25], rotated)  # 0.01 m away, 0.3 rad off
    assert reward.reward(achieved, goal) == pytest.approx(np.exp(-(20 * 0.01 + 0.3)), rel=1e-12)
    assert not reward.success(achieved, goal)
    near = _pose([1.005, 0.85, 0.25], quat_from_axis_angle(np.array([0.0, 0.0, 1.0]), 0.05))
    assert reward.success(near, goal)
    assert reward.reward(near, goal) == pytest.approx(np.exp(-(20 * 0.005 + 0.05)), rel=1e-12)


def test_dropped_object_pays_zero_dense_reward():
    for env_id, low in (("dexterous/HandManipulateBlockFull-v1", 0.12), ("dexterous/HandManipulatePenFull-v1", -0.01)):
        reward = gymnasium.make(env_id).unwrapped.reward_fn
        goal = _pose([1.0, 0.85, low], IDENTITY)
        assert reward.reward(goal, goal) == 0.0  # at the goal, but dropped
        assert reward.reward(_pose([1.0, 0.85, low + 0.02], IDENTITY), _pose([1.0, 0.85, low + 0.02], IDENTITY)) == 1.0


def test_sparse_twin_agrees_on_success():
    dense = gymnasium.make("dexterous/HandManipulatePenFull-v1").unwrapped.reward_fn
    sparse = gymnasium.make("dexterous/HandManipulatePenFullSparse-v1").unwrapped.reward_fn
    rng = np.random.default_rng(0)
    goal = _pose([1.0, 0.85, 0.25], IDENTITY)
    offsets = rng.normal(scale=0.008, size=(200, 3))
    quats = np.array([quat_from_axis_angle(rng.normal(size=3), rng.uniform(0, 0.2)) for _ in range(200)])
    achieved = np.concatenate([goal[:3] + offsets, quats], axis=1)
    succ = dense.success(achieved, goal)
    assert 0 < succ.sum() < 200
    assert np.array_equal(sparse.reward(achieved, goal), succ - 1.0)
    assert np.array_equal(sparse.success(achieved, goal), succ)


def test_rotation_distance_folds_the_double_cover():
    q = quat_from_axis_angle(np.array([0.3, -1.0, 0.2]), 2.5)
    assert rotation_distance(q, -q) == pytest.approx(0.0, abs=1e-7)
    assert rotation_distance(q, IDENTITY) == pytest.approx(2.5)
    assert rotation_distance(quat_from_axis_angle(np.array([1.0, 0, 0]), 3.0), IDENTITY) == pytest.approx(3.0)
    assert rotation_distance(quat_from_axis_angle(np.array([1.0, 0, 0]), -3.0), IDENTITY) == pytest.approx(3.0)


def test_two_object_dense_reward_sums_and_success_needs_both():
    reward = GoalReward(pos_weight=10.0, rot_weight=0.2)
    goal = np.concatenate([_pose([1, 0.4, 0.3], IDENTITY), _pose([1, 0.9, 0.3], IDENTITY)])
    achieved = goal.copy()
    achieved[:3] += [0.02, 0, 0]
    assert reward.reward(achieved, goal) == pytest.approx(np.exp(-0.2) + 1.0)
    assert not reward.success(achieved, goal)
    assert reward.success(goal, goal)
