"""Physical sanity of the two-hand tasks (SPEC §2): holds, falls, servo reaches, palm gaps,
goal boxes, action/observation layouts and rewards against hand-computed values.

Environments are shared per (family, shape) and every test resets what it uses, so the
file costs a few seconds on two cores.
"""

import functools

import gymnasium
import mujoco
import mujoco.batch
import numpy as np
import pytest

import dexterous
from dexterous.envs.rewards import rotation_distance
from dexterous.envs.rotations import quat_from_axis_angle, quat_multiply
from dexterous.envs.two_hands import TwoHandEnv, sample_goal
from dexterous.catalog import SHAPES
from dexterous.scenes.two_hands import LAYOUTS

FAMILIES = list(LAYOUTS)
MOVABLE = [f for f in FAMILIES if LAYOUTS[f].mounts[0].movable]
PALM = "hand{}/robot0:palm"

PALM_GAPS = {"HandOver": 0.42, "CatchUnderarm": 0.77, "CatchUnderarmHard": 1.37, "CatchOverarm": 1.37, "TwoObject": 0.77}
"""Palm-to-palm distances of the SPEC §2 table (m)."""

REACH = {"Tx": 0.20, "Ty": 0.20, "Tz": 0.08, "Rx": 0.714, "Ry": 0.2, "Rz": 0.2}
"""SPEC §2 reach of each base servo at ctrl +1, measured from its rest under gravity."""

WEIGHTS = {"HandOver": (20.0, 1.0), "CatchUnderarm": (10.0, 0.2), "CatchUnderarmHard": (10.0, 0.2),
           "CatchOverarm": (10.0, 0.2), "TwoObject": (10.0, 0.2)}
"""SPEC §2 dense reward exp(−(w_pos·d_pos + w_rot·d_rot)) per object, typed in from the SPEC."""

FOOTPRINT_LOW = np.array([-0.06, -0.12, -0.03])
FOOTPRINT_HIGH = np.array([0.06, -0.011, 0.19])
"""Region of an object's centre, in the palm body's frame, that counts as "in this hand":
in front of the palm face (the palm box is 0.011 m thick; the face looks along −y), no
wider than the hand and no farther along +z than the fingertips."""


@functools.cache
def env(family: str, shape: str = "egg", sparse: bool = False) -> TwoHandEnv:
    return TwoHandEnv(family, shape, sparse=sparse)


def palm_frame(e: TwoHandEnv, hand: int, point: np.ndarray) -> np.ndarray:
    """`point` (world) in the frame of hand `hand`'s (0-based) palm body."""
    palm = e.data.body(PALM.format(hand + 1))
    return palm.xmat.reshape(3, 3).T @ (point - palm.xpos)


def in_hand(e: TwoHandEnv, hand: int, point: np.ndarray) -> bool:
    local = palm_frame(e, hand, point)
    return bool(np.all(FOOTPRINT_LOW <= local) and np.all(local <= FOOTPRINT_HIGH))


def object_positions(e: TwoHandEnv) -> list[np.ndarray]:
    return [e.data.qpos[obj.qpos[:3]].copy() for obj in e.indices.objects]


def hold_action(e: TwoHandEnv) -> np.ndarray:
    """The action that keeps the current pose: finger servos aimed at their current
    lengths, each base servo at its static equilibrium (force = gravity load)."""
    m, d = e.model, e.data
    ctrl = d.actuator_length.copy()
    for hand in e.indices.hands:
        for act in hand.base:
            joint = m.actuator_trnid[act, 0]
            q = d.qpos[m.jnt_qposadr[joint]]
            ctrl[act] = (d.qfrc_bias[m.jnt_dofadr[joint]] - m.actuator_biasprm[act, 1] * q) / m.actuator_gainprm[act, 0]
    low, high = m.actuator_ctrlrange[e.actuators].T
    return np.clip((ctrl[e.actuators] - (low + high) / 2) / ((high - low) / 2), -1.0, 1.0)


# ----- holding and falling ------------------------------------------------------------------

@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("family", FAMILIES)
def test_object_stays_in_its_starting_hand(family, shape):
    """After reset, 10 more steps leave every object on the palm it started on.

    Overarm starts wound back to throw: zero action lets the base servos swing hand 2
    forward and throws the object, so there the hand holds its pose instead.
    """
    e = env(family, shape)
    e.reset(seed=3)
    action = hold_action(e) if LAYOUTS[family].held_start else np.zeros(e.action_space.shape)
    for _ in range(10):
        e.step(action)
    for hand, position in zip(LAYOUTS[family].start_hands, object_positions(e), strict=True):
        assert in_hand(e, hand, position), f"object at {palm_frame(e, hand, position)} in hand {hand + 1}'s palm frame"


@pytest.mark.parametrize("family", FAMILIES)
def test_object_beside_the_hands_falls(family):
    """Moved 0.3 m sideways out of the hands, objects fall well below both palms."""
    e = env(family)
    e.reset(seed=0)
    for obj in e.indices.objects:
        e.data.qpos[obj.qpos[0]] += 0.3
        e.data.qvel[obj.qvel] = 0.0
    for _ in range(10):
        e.step(np.zeros(e.action_space.shape))
    lowest_palm = min(e.data.body(PALM.format(i)).xpos[2] for i in (1, 2))
    for position in object_positions(e):
        assert position[2] < lowest_palm - 0.08
        assert not any(in_hand(e, hand, position) for hand in (0, 1))


def test_overarm_starts_from_the_fixed_pose():
    """No warm-up, no random rotation: the SPEC pose exactly, at rest, for every seed."""
    for shape, quat in (("egg", [1, 0, 0, 0]), ("pen", [0.5, 0.5, 0.5, 0.5])):
        e = env("CatchOverarm", shape)
        for seed in (0, 1):
            e.reset(seed=seed)
            q = {name: e.data.joint(name).qpos[0] for name in
                 ("hand1/base:Tz", "hand2/base:Tz", "hand2/base:Rx", "hand2/robot0:WRJ0", "hand2/robot0:THJ0", "hand1/robot0:FFJ1")}
            assert q == {"hand1/base:Tz": -0.0983, "hand2/base:Tz": -0.0983, "hand2/base:Rx": -0.438,
                         "hand2/robot0:WRJ0": -0.6889, "hand2/robot0:THJ0": -1.4156, "hand1/robot0:FFJ1": 0.0}
            obj = e.indices.objects[0]
            assert np.array_equal(e.data.qpos[obj.qpos], [1.0, -0.2, 0.4027, *quat])
            assert not e.data.qvel.any()


@pytest.mark.parametrize("family", FAMILIES)
def test_reset_warms_up_except_overarm(family):
    """Reset takes 10 zero-action steps (0.4 s of sim time) before the goal is drawn, so
    the object is at rest on the palm; overarm starts from its fixed pose at time 0."""
    e = env(family)
    e.reset(seed=5)
    assert e.data.time == pytest.approx(0.0 if LAYOUTS[family].held_start else 0.4, abs=1e-9)
    for obj in e.indices.objects:
        assert np.all(np.abs(e.data.qvel[obj.qvel[:3]]) < 0.1)  # resting on a still-sagging hand


def test_underarm_reset_rotates_blocks_but_not_pens():
    e = env("CatchUnderarm", "block")
    e.reset(seed=0)
    a = e.data.qpos[e.indices.objects[0].qpos[3:]].copy()
    e.reset(seed=1)
    b = e.data.qpos[e.indices.objects[0].qpos[3:]].copy()
    assert rotation_distance(a, b) > 0.3
    pen = env("CatchUnderarm", "pen")
    start = pen.model.qpos0[pen.indices.objects[0].qpos[3:]]
    for seed in (0, 1):
        pen.reset(seed=seed)
        assert rotation_distance(pen.data.qpos[pen.indices.objects[0].qpos[3:]], start) < 0.3  # settled, not spun


# ----- geometry: palm gaps and base servos ----------------------------------------------------

@pytest.mark.parametrize("family", FAMILIES)
def test_palm_gap_matches_spec(family):
    e = env(family)
    mujoco.mj_resetData(e.model, e.data)
    mujoco.mj_forward(e.model, e.data)
    gap = np.linalg.norm(e.data.body(PALM.format(1)).xpos - e.data.body(PALM.format(2)).xpos)
    assert gap == pytest.approx(PALM_GAPS[family], abs=0.01)
    if not LAYOUTS[family].held_start:  # after the warm-up both hands have sagged alike
        e.reset(seed=0)
        gap = np.linalg.norm(e.data.body(PALM.format(1)).xpos - e.data.body(PALM.format(2)).xpos)
        assert gap == pytest.approx(PALM_GAPS[family], abs=0.01)


def _settle_bases(e: TwoHandEnv, seconds: float = 4.0):
    """Both hands' base joints and palm positions after `seconds` at ctrl 0 (row 0) and
    with one base axis at ctrl +1 on both hands (row 1 + axis), objects out of the way."""
    mujoco.mj_resetData(e.model, e.data)
    for obj in e.indices.objects:
        e.data.qpos[obj.qpos[:3]] = [3.0, 3.0, 0.0]  # far off: nothing touches the hands
    state = np.empty(e.state_size)
    mujoco.mj_getState(e.model, e.data, state, mujoco.mjtState.mjSTATE_INTEGRATION)
    batch = mujoco.batch.Batch(e.model, nsim=7, nthread=2)
    batch.state[:] = state
    ctrl, xpos = batch.bind("ctrl"), batch.bind("xpos")  # outputs are copied only once bound
    e.action_to_ctrl(np.zeros((7, e.action_space.shape[0])), ctrl)
    for axis in range(6):
        for hand in e.indices.hands:
            ctrl[1 + axis, hand.base[axis]] = 1.0
    batch.step(nstep=round(seconds / e.model.opt.timestep))
    qpos = batch.bind("qpos")
    base = np.stack([qpos[:, hand.qpos[:6]] for hand in e.indices.hands], axis=1)  # (7, hand, axis)
    palm_ids = [e.model.body(PALM.format(i)).id for i in (1, 2)]
    return base, xpos[:, palm_ids]


@pytest.mark.parametrize("family", MOVABLE)
def test_base_servos_reach_spec(family):
    e = env(family)
    base, palms = _settle_bases(e)
    rest = base[0]
    for axis, name in enumerate(REACH):
        displacement = base[1 + axis, :, axis] - rest[:, axis]
        assert displacement == pytest.approx([REACH[name]] * 2, rel=0.05), name
    overarm = LAYOUTS[family].held_start is not None
    vertical = "Tz" if overarm else "Ty"
    assert rest[:, list(REACH).index(vertical)] == pytest.approx([-0.098 if overarm else 0.098] * 2, abs=0.003)
    # +ctrl on the vertical slide: lowers an underarm hand (local y down), raises an overarm one
    rise = palms[1 + list(REACH).index(vertical), :, 2] - palms[0, :, 2]
    assert rise == pytest.approx([REACH[vertical] if overarm else -REACH[vertical]] * 2, abs=0.01)
    if not overarm:
        assert rest[:, list(REACH).index("Rx")] == pytest.approx([-0.020] * 2, abs=0.003)
        # +Tz moves each hand toward the other along the hand-to-hand axis
        gap = np.abs(palms[:, 0, 1] - palms[:, 1, 1])
        assert gap[1 + list(REACH).index("Tz")] == pytest.approx(gap[0] - 2 * 0.08, abs=0.01)


# ----- layouts --------------------------------------------------------------------------------

def test_action_layout_by_actuator_name():
    e = env("TwoObject")
    names = [e.model.actuator(a).name for a in e.actuators]
    assert names[0].startswith("hand1/robot0:") and names[19].startswith("hand1/robot0:")
    assert all(n.startswith("hand2/robot0:") for n in names[20:40])
    assert names[40:46] == [f"hand2/base:{a}" for a in REACH]
    assert names[46:52] == [f"hand1/base:{a}" for a in REACH]
    assert len(set(names)) == 52
    assert len(env("HandOver").actuators) == 40


def test_observation_layout_by_joint_name():
    e = env("TwoObject", "block")
    obs, _ = e.reset(seed=2)
    e.step(np.random.default_rng(0).uniform(-1, 1, 52))
    obs = e._flat_observation()
    d = e.data
    mujoco.mj_forward(e.model, d)  # body poses for the comparison below; the state is unchanged
    start = 0
    for hand in (1, 2):
        joints = [f"hand{hand}/base:{a}" for a in REACH] + \
                 [e.model.joint(j).name for j in range(e.model.njnt) if e.model.joint(j).name.startswith(f"hand{hand}/robot0:")]
        assert len(joints) == 30
        assert np.array_equal(obs[start:start + 30], [d.joint(n).qpos[0] for n in joints])
        assert np.array_equal(obs[start + 30:start + 60], [d.joint(n).qvel[0] for n in joints])
        start += 60
    for k in (1, 2):
        free = d.joint(f"object{k}:joint")
        body = d.body(f"object{k}")
        assert np.array_equal(obs[start:start + 7], free.qpos)
        assert np.array_equal(obs[start + 7:start + 13], free.qvel)
        assert np.allclose(obs[start:start + 3], body.xpos) and np.allclose(np.abs(obs[start + 3:start + 7] @ body.xquat), 1)
        start += 13
    assert start == obs.size == 146


def test_twoobject_alias_makes_the_canonical_env():
    assert dexterous.make("TwoEggCatchUnderarm-v1").spec.id == "dexterous/TwoEggCatchUnderArm-v1"
    assert dexterous.make("dexterous/TwoPenCatchUnderarmSparse-v1").spec.id == "dexterous/TwoPenCatchUnderArmSparse-v1"
    assert gymnasium.make("dexterous/TwoBlockCatchUnderarm-v1").unwrapped.layout is LAYOUTS["TwoObject"]
    assert not any("Underarm" in i and i.startswith("dexterous/Two") for i in dexterous.env_ids())
    assert len(dexterous.env_ids()) == len(set(dexterous.env_ids())) == 36  # 35 hand tasks + Humanoid


# ----- goals ----------------------------------------------------------------------------------

@pytest.mark.parametrize("family", FAMILIES)
def test_goal_is_drawn_in_the_box_across(family):
    """100 seeded draws with object 1 inside either box: its goal lies in the other box
    (a second object's goal in object 1's box); orientations spread over [0, π]."""
    layout = LAYOUTS[family]
    angles = []
    for seed in range(100):
        rng = np.random.default_rng(seed)
        here = seed % 2
        positions = [rng.uniform(layout.boxes[here].low, layout.boxes[here].high),
                     rng.uniform(layout.boxes[1 - here].low, layout.boxes[1 - here].high)][:len(layout.starts)]
        goal = sample_goal(rng, layout.boxes, np.array(positions)).reshape(-1, 7)
        assert goal.shape == (len(layout.starts), 7)
        assert layout.boxes[1 - here].contains(goal[0, :3]) and not layout.boxes[here].contains(goal[0, :3])
        if len(goal) == 2:
            assert layout.boxes[here].contains(goal[1, :3])
        assert np.allclose(np.sum(goal[:, 3:] ** 2, axis=1), 1.0)
        angles += list(rotation_distance(goal[:, 3:], np.array([1.0, 0, 0, 0])))
    assert min(angles) < 0.6 and max(angles) > 2.6


@pytest.mark.parametrize("family", FAMILIES)
def test_reset_goal_is_at_the_other_hand(family):
    """Real resets: each goal box is nearer the palm of the hand its object did not start in."""
    e = env(family)
    goals = []
    for seed in (0, 1, 2):
        e.reset(seed=seed)
        palms = [e.data.body(PALM.format(i)).xpos.copy() for i in (1, 2)]
        for hand, pose in zip(LAYOUTS[family].start_hands, e.goal.reshape(-1, 7), strict=True):
            box = next(b for b in LAYOUTS[family].boxes if b.contains(pose[:3]))
            assert np.linalg.norm(box.centre - palms[1 - hand]) < np.linalg.norm(box.centre - palms[hand])
        goals.append(e.goal.copy())
    assert not np.array_equal(goals[0], goals[1])


# ----- rewards --------------------------------------------------------------------------------

def _state_with_objects_at(e: TwoHandEnv, poses: np.ndarray) -> np.ndarray:
    """A copy of the current qpos with object k at poses[k]."""
    qpos = e.data.qpos.copy()
    for obj, pose in zip(e.indices.objects, poses, strict=True):
        qpos[obj.qpos] = pose
    return qpos


def _offset(pose: np.ndarray, shift, axis, angle: float) -> np.ndarray:
    """pose moved by `shift` and turned by `angle` about `axis` (pose ⊗ rotation)."""
    turn = quat_from_axis_angle(np.array(axis, dtype=float), angle)
    return np.concatenate([pose[:3] + shift, quat_multiply(pose[3:], turn)])


@pytest.mark.parametrize("family", FAMILIES)
def test_rewards_against_hand_computed_values(family):
    w_pos, w_rot = WEIGHTS[family]
    e = env(family)
    e.reset(seed=7)
    goals = e.goal.reshape(-1, 7)
    near = [_offset(g, [0.003, -0.004, 0.0], [1, 2, -0.5], 0.05) for g in goals]  # 0.005 m, 0.05 rad
    far = [_offset(g, [0.012, 0.0, -0.016], [0, 0, 1], 0.3) for g in goals]       # 0.02 m, 0.3 rad
    dropped = [np.concatenate([g[:3] - [0, 0, 1.2], g[3:]]) for g in goals]        # on the floor
    cases = [  # (object poses, expected dense reward, expected success)
        (near, len(goals) * np.exp(-(w_pos * 0.005 + w_rot * 0.05)), True),
        (far, len(goals) * np.exp(-(w_pos * 0.02 + w_rot * 0.3)), False),
        (dropped, len(goals) * np.exp(-w_pos * 1.2), False),  # no drop rule for two-hand tasks
    ]
    if len(goals) == 2:  # success needs both objects; the dense reward sums their terms
        cases.append(([goals[0], far[1]], 1.0 + np.exp(-(w_pos * 0.02 + w_rot * 0.3)), False))
    sparse = env(family, sparse=True)
    sparse.reset(seed=7)
    assert np.array_equal(sparse.goal, e.goal)
    for poses, expected, success in cases:
        qpos = _state_with_objects_at(e, np.array(poses))[None]
        reward, succ = e.reward_success(qpos, e.data.qvel[None], e.goal[None])
        assert reward[0] == pytest.approx(expected, rel=1e-9) and succ[0] == success
        sparse_reward, sparse_succ = sparse.reward_success(qpos, e.data.qvel[None], e.goal[None])
        assert sparse_succ[0] == success and sparse_reward[0] == float(success) - 1.0


@pytest.mark.parametrize("family", FAMILIES)
def test_dense_and_sparse_twins_agree_on_success(family):
    dense, sparse = env(family), env(family, sparse=True)
    dense.reset(seed=4)
    rng = np.random.default_rng(0)
    goal = dense.goal
    n = 300
    achieved = np.tile(goal, (n, 1)).reshape(n, -1, 7)
    achieved[..., :3] += rng.normal(scale=0.007, size=(n, achieved.shape[1], 3))
    for i in range(n):
        for k in range(achieved.shape[1]):
            achieved[i, k] = _offset(achieved[i, k], 0.0, rng.normal(size=3), rng.uniform(0, 0.15))
    achieved = achieved.reshape(n, -1)
    success = dense.reward_fn.success(achieved, goal)
    assert 0 < success.sum() < n
    assert np.array_equal(sparse.reward_fn.success(achieved, goal), success)
    assert np.array_equal(sparse.compute_reward(achieved, goal, {}), success - 1.0)
    assert np.all(dense.compute_reward(achieved, goal, {}) > 0)
