"""Behaviour every registered environment must have (the Gymnasium-Robotics test pattern)."""

import functools
import pickle

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import dexterous
from helpers import family as _family, flat, random_actions
from dexterous.catalog import ENTRIES, entry

SPEC_DIMS = {
    "PenSpin": (61, 20, 0, 250),
    "HandManipulateBlockFull": (61, 20, 7, 75),
    "HandManipulatePenFull": (61, 20, 7, 75),
    "HandOver": (109, 40, 7, 75),
    "CatchUnderarm": (133, 52, 7, 75),
    "CatchUnderarmHard": (133, 52, 7, 75),
    "CatchOverarm": (133, 52, 7, 75),
    "TwoCatchUnderArm": (146, 52, 14, 75),
    "Humanoid": (348, 17, 0, 1000),
}
"""(observation, action, goal, episode steps) of SPEC §2 and §3 (Humanoid: gymnasium's v5), by family."""
ENDS_EARLY = {"Humanoid"}
"""Families whose episodes terminate (a fall); tests/test_humanoid.py covers their ends."""


def test_check_env(family_env_id):
    env = gymnasium.make(family_env_id, render_mode="rgb_array")
    with pytest.warns(UserWarning):  # only the warnings about unbounded Box observations
        check_env(env.unwrapped)


def test_dimensions_match_spec(dense_env_id):
    env = gymnasium.make(dense_env_id)
    obs_dim, act_dim, goal_dim, steps = SPEC_DIMS[_family(dense_env_id)]
    obs, _ = env.reset(seed=0)
    assert env.action_space.shape == (act_dim,)
    if goal_dim:
        assert obs["observation"].shape == (obs_dim,)
        assert obs["achieved_goal"].shape == obs["desired_goal"].shape == (goal_dim,)
    else:
        assert obs.shape == (obs_dim,)
    if _family(dense_env_id) in ENDS_EARLY:
        return
    truncations = []
    for a in random_actions(env, steps, seed=1):
        *_, terminated, truncated, _ = env.step(a)
        assert not terminated
        truncations.append(truncated)
    assert truncations == [False] * (steps - 1) + [True]


def test_seeded_episodes_are_identical(dense_env_id):
    def run():
        env = gymnasium.make(dense_env_id)
        obs, _ = env.reset(seed=123)
        out = [flat(obs)]
        for a in random_actions(env, 15, seed=7):
            obs, reward, *_ = env.step(a)
            out.append(np.append(flat(obs), reward))
        return out

    first, second = run(), run()
    assert all(np.array_equal(a, b) for a, b in zip(first, second))


def test_different_seeds_give_different_starts(dense_env_id):
    env = gymnasium.make(dense_env_id)
    a = flat(env.reset(seed=1)[0])
    b = flat(env.reset(seed=2)[0])
    assert not np.array_equal(a, b)


def test_observations_share_no_memory(dense_env_id):
    env = gymnasium.make(dense_env_id)
    first, _ = env.reset(seed=0)
    second, *_ = env.step(env.action_space.sample())
    parts = [first, second] if not isinstance(first, dict) else [*first.values(), *second.values()]
    for i, a in enumerate(parts):
        for b in parts[i + 1:]:
            assert not np.shares_memory(a, b)
    before = flat(first).copy()
    env.step(env.action_space.sample())
    assert np.array_equal(flat(first), before)


def test_no_observation_element_is_constant(dense_env_id):
    if _family(dense_env_id) == "Humanoid":
        pytest.skip("v5's observation holds constants by design: body masses in cinert, and the "
                    "external forces of bodies that have not touched the floor")
    env = gymnasium.make(dense_env_id)
    obs, _ = env.reset(seed=0)
    key = "observation" if isinstance(obs, dict) else None
    history = [obs[key] if key else obs]
    for a in random_actions(env, 40, seed=3):
        obs, *_ = env.step(a)
        history.append(obs[key] if key else obs)
    constant = np.flatnonzero(np.ptp(np.array(history), axis=0) == 0)
    assert constant.size == 0, f"constant observation elements: {constant.tolist()}"


def test_render_is_a_nonblank_image(family_env_id):
    env = gymnasium.make(family_env_id, render_mode="rgb_array", width=160, height=120)
    env.reset(seed=0)
    image = env.render()
    assert image.shape == (120, 160, 3) and image.dtype == np.uint8
    assert len(np.unique(image.reshape(-1, 3), axis=0)) > 50
    env.close()


def test_goal_ghost_is_drawn_where_the_goal_is(dense_env_id):
    env = gymnasium.make(dense_env_id).unwrapped
    env.reset(seed=0)
    if env.goal.size == 0:
        assert env.model.nmocap == 0  # no goal, no ghost
        return
    for obj, goal in zip(env.indices.objects, env.goal.reshape(-1, 7)):
        assert np.array_equal(env.data.mocap_pos[obj.mocap], goal[:3])
        assert np.array_equal(env.data.mocap_quat[obj.mocap], goal[3:])


def test_goal_env_compute_reward_matches_step(env_id):
    env = gymnasium.make(env_id)
    obs, _ = env.reset(seed=5)
    if not isinstance(obs, dict):
        pytest.skip("no goal")
    achieved, rewards = [], []
    for a in random_actions(env, 10, seed=2):
        obs, reward, *_ = env.step(a)
        achieved.append(obs["achieved_goal"])
        rewards.append(reward)
    batched = env.unwrapped.compute_reward(np.array(achieved), np.tile(obs["desired_goal"], (10, 1)), {})
    assert np.array_equal(batched, np.array(rewards))


def test_the_catalog_knows_each_envs_sizes_without_building_it(env_id):
    task = entry(env_id)
    sizes = (task.observation_size, task.action_size, task.goal_size, task.episode_steps)
    assert sizes == SPEC_DIMS[_family(env_id)] and task.has_success == (task.goal_size > 0)


def test_the_spec_reports_the_episode_length(env_id):
    assert gymnasium.make(env_id).spec.max_episode_steps == SPEC_DIMS[_family(env_id)][3]


@pytest.mark.parametrize("env_id, steps", [("dexterous/PenSpin-v1", 250), ("dexterous/Humanoid-v1", 1000)])
def test_another_max_episode_steps_is_refused_not_ignored(env_id, steps):
    with pytest.raises(ValueError, match=rf"ends its episodes itself after {steps} steps, so "
                                         r"max_episode_steps=400 cannot be honoured"):
        gymnasium.make(env_id, max_episode_steps=400)
    assert gymnasium.make(env_id, max_episode_steps=steps).spec.max_episode_steps == steps


@pytest.mark.parametrize("alias", [a for e in ENTRIES for a in e.alias_ids])
def test_an_env_made_through_an_alias_takes_snapshots_its_canonical_env_restores(alias):
    env = gymnasium.make(alias)
    env.reset(seed=0)
    env.step(env.action_space.sample())
    snap = env.unwrapped.snapshot()
    canonical = dexterous.make(alias)
    assert snap.env_id == canonical.spec.id != alias
    obs = canonical.unwrapped.restore(snap)
    assert np.array_equal(flat(obs), flat(env.unwrapped.restore(snap)))


ONE_PER_FAMILY = ("dexterous/PenSpin-v1", "dexterous/HandManipulatePenFull-v1", "dexterous/EggCatchOverarm-v1",
                  "dexterous/Humanoid-v1")
"""One id per kind of scene: one hand, one hand with a goal, two hands, gymnasium's humanoid."""


def test_every_env_pickles_and_continues_exactly(env_id):
    env = gymnasium.make(env_id)
    env.reset(seed=0)
    actions = random_actions(env, 6, seed=4)
    env.step(actions[0])
    clone = pickle.loads(pickle.dumps(env))
    for a in actions[1:]:
        (obs, *rest), (clone_obs, *clone_rest) = env.step(a), clone.step(a)
        assert np.array_equal(flat(obs), flat(clone_obs)) and rest == clone_rest


@pytest.mark.parametrize("env_id", ONE_PER_FAMILY)
def test_a_rendered_env_pickles_and_renders_the_same(env_id):
    env = gymnasium.make(env_id, render_mode="rgb_array", width=64, height=48)
    env.reset(seed=0)
    image = env.render()
    clone = pickle.loads(pickle.dumps(env))  # without the GL context, which is made again at the next render
    assert np.array_equal(clone.render(), image)
    env.close()
    clone.close()


def test_forked_async_vector_envs_render_after_the_parent_rendered():
    make = functools.partial(gymnasium.make, "dexterous/PenSpin-v1", render_mode="rgb_array", width=32, height=24)
    parent = make()
    parent.reset(seed=0)
    parent.render()  # the parent holds a GL context when the workers fork
    envs = gymnasium.vector.AsyncVectorEnv([make, make], context="fork")
    try:
        envs.reset(seed=0)
        envs.call_async("render")
        frames = envs.call_wait(timeout=120)  # a worker that cannot make its context hangs here
    finally:
        envs.close(terminate=True)
    assert [frame.shape for frame in frames] == [(24, 32, 3)] * 2
    assert parent.render().shape == (24, 32, 3)  # and the parent renders again
