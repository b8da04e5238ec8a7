"""ActionCoupling, DemoRestarts and InPlayReward: arithmetic, segments, schedules, exact restarts, bad input."""

import collections
import dataclasses
from pathlib import Path

import gymnasium
import mujoco
import numpy as np
import pytest

import dexterous
from dexterous.demos import DemoError, load_folder, object_quat_index
from dexterous.demos.play import body_x_turns
from dexterous.rl import ActionCoupling, DemoRestarts, Float32Observation, InPlayReward, TD3Config

PEN_SPIN = "dexterous/PenSpin-v1"


@pytest.fixture(scope="module")
def demos(demo_folder):
    return load_folder(demo_folder, env_id=PEN_SPIN)


def restarts(demos, **kwargs) -> DemoRestarts:
    return DemoRestarts(dexterous.make(PEN_SPIN), demos, rng=np.random.default_rng(0), **kwargs)


def test_coupling_executes_beta_mu_plus_previous_action_and_observes_it():
    env = ActionCoupling(dexterous.make(PEN_SPIN), beta=0.7)
    obs, _ = env.reset(seed=0)
    assert env.observation_space.shape == (81,) and obs.shape == (81,)
    assert np.array_equal(obs[61:], np.zeros(20))
    rng = np.random.default_rng(1)
    prev = np.zeros(20)
    for _ in range(5):
        mu = rng.uniform(-1, 1, 20) * 1.5  # outside the bounds too: the coupled action is clipped
        obs, *_ = env.step(mu)
        expected = np.clip(0.7 * mu + (1 - 0.7) * prev, -1, 1)
        assert np.allclose(env.unwrapped.prev_action, expected, rtol=0, atol=1e-15)
        assert np.array_equal(obs[61:], env.unwrapped.prev_action)
        prev = env.unwrapped.prev_action.copy()


def test_beta_one_executes_mu_unchanged():
    env = ActionCoupling(dexterous.make(PEN_SPIN), beta=1.0)
    env.reset(seed=0)
    mu = np.linspace(-1, 1, 20)
    env.step(mu)
    assert np.array_equal(env.unwrapped.prev_action, mu)


@pytest.mark.parametrize("beta", [0, 0.0, -0.1, 1.5, float("nan"), "0.7"])
def test_beta_outside_zero_one_is_refused(beta):
    with pytest.raises(ValueError, match=r"beta must be in \(0, 1\] \(1: no coupling; 0 would ignore the agent"):
        ActionCoupling(dexterous.make(PEN_SPIN), beta=beta)
    with pytest.raises(ValueError, match=r"beta must be in \(0, 1\]"):
        TD3Config(beta=beta)


def test_coupling_needs_a_flat_observation():
    with pytest.raises(ValueError, match="ActionCoupling needs a flat Box observation.*dexterous train her"):
        ActionCoupling(dexterous.make("HandManipulateBlockFull-v1"), beta=0.7)


def test_segments_truncate_every_segment_len_steps_and_at_the_episode_end(demos):
    env = restarts(demos, p_demo=0.0, p_reset=0.0)  # always continue
    env.reset(seed=3)
    ends, modes = [], []
    for t in range(1, 251):
        _, _, terminated, truncated, _ = env.step(np.zeros(20))
        assert not terminated
        if truncated:
            ends.append(t)
            _, info = env.reset()
            modes.append(info["restart"])
    assert ends == [*range(15, 250, 15), 250]  # 16 full segments, then the episode's own end
    assert modes == ["continue"] * 16 + ["reset"]  # an ended episode cannot be continued
    assert env.unwrapped.steps == 0


def test_probabilities_decay_per_segment(demos):
    env = restarts(demos, p_demo=0.4, p_reset=0.4, decay=0.5)
    for n in range(1, 6):
        env.reset(seed=0 if n == 1 else None)
        assert env.p_demo == 0.4 * 0.5**n and env.p_reset == 0.4 * 0.5**n and env.segments == n


def test_segment_starts_follow_the_probabilities(demos):
    env = restarts(demos, segment_len=1, p_demo=0.5, p_reset=0.3, decay=1.0)
    env.reset(seed=0)
    counts = collections.Counter()
    for _ in range(300):
        env.step(np.zeros(20))
        counts[env.reset()[1]["restart"]] += 1
    assert abs(counts["demo"] / 300 - 0.5) < 0.1
    assert abs(counts["reset"] / 300 - 0.3) < 0.1
    assert abs(counts["continue"] / 300 - 0.2) < 0.1


def test_continuing_resumes_the_exact_snapshot_of_the_boundary(demos):
    env = restarts(demos, p_demo=0.0, p_reset=0.0)
    env.reset(seed=5)
    rng = np.random.default_rng(0)
    for _ in range(15):
        obs, _, _, truncated, _ = env.step(rng.uniform(-1, 1, 20))
    assert truncated
    boundary = env.unwrapped.snapshot()
    for _ in range(3):  # someone moves the simulation on (e.g. an evaluation on the same env)
        env.unwrapped.step(rng.uniform(-1, 1, 20))
    resumed, info = env.reset()
    assert info["restart"] == "continue"
    assert np.array_equal(resumed, obs)
    assert env.unwrapped.snapshot().equals(boundary)


def test_continue_advances_the_main_episode_begun_at_a_reset_not_the_last_segment(demos):
    env = restarts(demos, segment_len=5, p_demo=0.0, p_reset=0.0, decay=1.0)
    assert env.reset(seed=2)[1]["restart"] == "reset"  # the first segment begins the main episode
    main_steps, modes = 5, []
    for _ in range(5):
        env.step(np.zeros(20))
    main_end = env.unwrapped.snapshot()
    env.p_demo = 0.6
    for _ in range(40):
        _, info = env.reset()
        modes.append(info["restart"])
        if info["restart"] == "continue":
            assert env.unwrapped.snapshot().equals(main_end)
            assert env.unwrapped.steps == main_steps
        for _ in range(5):
            env.step(np.full(20, 0.3))
        if info["restart"] == "continue":
            main_steps += 5
            main_end = env.unwrapped.snapshot()
    assert modes.count("demo") > 15 and modes.count("continue") > 8
    # a continue right after a demo segment still resumes the main episode
    assert any(a == "demo" and b == "continue" for a, b in zip(modes, modes[1:]))


def test_the_main_episode_survives_a_checkpoint_taken_inside_a_demo_segment(demos):
    env = restarts(demos, segment_len=5, p_demo=0.0, p_reset=0.0)
    env.reset(seed=2)
    for _ in range(5):
        env.step(np.zeros(20))
    main_end = env.unwrapped.snapshot()
    env.p_demo = 1.0
    env.reset()
    env.step(np.zeros(20))
    state = env.get_state()
    assert not state.in_main and state.ongoing.equals(main_end)
    copy = restarts(demos, segment_len=5)
    copy.reset(seed=9)  # as a resumed run does, before adopting the checkpoint
    copy.set_state(state)
    copy.unwrapped.restore(env.unwrapped.snapshot())
    for _ in range(4):
        copy.step(np.zeros(20))
    copy.p_demo = 0.0
    _, info = copy.reset()
    assert info["restart"] == "continue" and copy.unwrapped.snapshot().equals(main_end)


def test_a_demo_restart_is_exact(demos):
    env = restarts(demos, p_demo=1.0, p_reset=0.0)
    for seed in (0, 1, 2):
        obs, info = env.reset(seed=seed)
        index, k = info["demo_step"]
        demo = demos[index]
        assert info["restart"] == "demo" and 0 <= k < demo.num_steps
        assert np.array_equal(obs, demo.observations[k])
        assert np.array_equal(env.unwrapped.prev_action, demo.actions[k - 1] if k else np.zeros(20))
        obs, reward, *_ = env.step(demo.actions[k])
        assert reward == demo.rewards[k]
        assert np.array_equal(obs, demo.observations[k + 1])


def test_coupling_outside_restarts_sees_the_demos_previous_action(demos):
    env = Float32Observation(ActionCoupling(restarts(demos, p_demo=1.0, p_reset=0.0), beta=0.7))
    obs, info = env.reset(seed=4)
    index, k = info["demo_step"]
    assert k > 0
    assert np.array_equal(obs[61:], demos[index].actions[k - 1].astype(np.float32))
    assert obs.dtype == np.float32


def test_restarts_refuse_to_wrap_coupling_or_observation_wrappers(demos):
    with pytest.raises(ValueError, match="DemoRestarts must wrap the environment directly.*ActionCoupling"):
        DemoRestarts(ActionCoupling(dexterous.make(PEN_SPIN), 0.7), demos)


def test_a_demo_from_another_env_is_refused(demos):
    other = dataclasses.replace(demos[0], env_id="dexterous/HandManipulatePenFull-v1")
    with pytest.raises(DemoError, match="was recorded on dexterous/HandManipulatePenFull-v1, not on "
                                        "dexterous/PenSpin-v1: use demonstrations of this environment"):
        restarts([other])


def test_no_demos_with_a_demo_probability_is_refused():
    with pytest.raises(DemoError, match="DemoRestarts was given no demonstrations"):
        DemoRestarts(dexterous.make(PEN_SPIN), [])



def pen_dropped(env) -> None:
    """Put the pen of env (reset) below the hand, as after a throw."""
    task = env.unwrapped
    task.data.qpos[task.indices.objects[0].qpos[2]] = 0.02
    mujoco.mj_forward(task.model, task.data)


def test_the_in_play_reward_is_the_tasks_in_the_hand_and_minus_the_penalty_once_the_pen_is_lost():
    plain, wrapped = dexterous.make(PEN_SPIN), InPlayReward(dexterous.make(PEN_SPIN), penalty=1.5)
    action = np.full(20, 0.3)
    for env in (plain, wrapped):
        env.reset(seed=3)
    _, reward, *_ = plain.step(action)
    _, shaped, _, _, info = wrapped.step(action)
    assert shaped == reward != 0.0 and info["in_play"] and info["task_reward"] == reward
    for env in (plain, wrapped):
        pen_dropped(env)
    _, reward, *_ = plain.step(action)
    _, shaped, _, _, info = wrapped.step(action)
    assert shaped == -1.5 and not info["in_play"] and info["task_reward"] == reward


def test_only_the_training_env_of_a_lost_object_config_has_the_in_play_reward(demo_folder):
    from dexterous.rl.td3 import TD3Recipe
    from dexterous.rl.wrappers import find_wrapper

    recipe = TD3Recipe(TD3Config(demos=str(demo_folder), lost_object=True, lost_penalty=1.0))
    shaped = find_wrapper(recipe.make_train_env(), InPlayReward)
    assert shaped is not None and shaped.penalty == 1.0 and isinstance(shaped.env, DemoRestarts)
    assert find_wrapper(recipe.make_eval_env(), InPlayReward) is None  # evaluated on the paper's reward
    assert find_wrapper(TD3Recipe(TD3Config(demos=str(demo_folder))).make_train_env(), InPlayReward) is None


def test_an_in_play_run_is_evaluated_on_its_training_reward_beside_the_papers_with_turns_and_picks_its_best_by_it():
    from dexterous.rl.episodes import EVAL_SEED, run_episode
    from dexterous.rl.td3 import TD3Recipe

    recipe = TD3Recipe(TD3Config(eval_episodes=1, lost_object=True, lost_penalty=3.0))
    throw = lambda obs: np.ones(20, dtype=np.float32)  # noqa: E731 (flicks the pen out at step 4)
    record = recipe.evaluate(throw)
    assert 0 < record["in_play_steps"][0] < 250 and record["mean_in_play_steps"] == record["in_play_steps"][0]
    # the same episode through the training env's reward, and through the paper's
    trained_on = Float32Observation(ActionCoupling(InPlayReward(dexterous.make(PEN_SPIN), 3.0), recipe.config.beta))
    assert record["in_play_returns"] == [float(run_episode(trained_on, throw, EVAL_SEED).rewards.sum())]
    assert record["returns"] == [float(run_episode(recipe.make_eval_env(), throw, EVAL_SEED).rewards.sum())]
    assert record["mean_in_play_return"] < record["mean_return"] - 3.0 * 200  # the lost steps cost the penalty
    # the turns, from the pen's orientations in the same episode
    env = recipe.make_eval_env()
    quat = object_quat_index(env)
    quats = run_episode(env, throw, EVAL_SEED, probe=lambda e: e.unwrapped.data.qpos[quat].copy()).probes
    assert record["turns"] == [float(body_x_turns(np.array(quats))[-1])] == [record["mean_turns"]]
    assert recipe.best_metric == "mean_in_play_return"
    paper = TD3Recipe(TD3Config(eval_episodes=1))
    assert paper.best_metric == "mean_return" and "mean_in_play_return" not in paper.evaluate(throw)


class Saved:
    """Stands for a model and its normaliser in save_best: writes its name where asked."""

    def __init__(self, name: str):
        self.name = name

    def save(self, path) -> None:
        Path(path).write_text(self.name)


def test_the_best_policy_is_chosen_by_the_runs_metric_among_the_records_that_have_it(tmp_path):
    from dexterous.rl.checkpoints import save_best

    def best(record, earlier) -> bool:
        return save_best(tmp_path, Saved(str(record["steps"])), Saved("norm"), record, earlier, "mean_in_play_return")

    before = {"steps": 0, "mean_return": 100.0}  # evaluated before the run had the metric
    held = {"steps": 5, "mean_return": 10.0, "mean_in_play_return": 10.0}
    thrown = {"steps": 10, "mean_return": 90.0, "mean_in_play_return": -200.0}
    assert best(held, [before]) and not best(thrown, [before, held])
    assert (tmp_path / "best" / "model.zip").read_text() == "5"
    assert not best({**held, "steps": 15}, [before, held, thrown])  # ties keep the earlier


def test_the_in_play_reward_refuses_a_task_without_a_lost_object_and_a_negative_penalty():
    with pytest.raises(ValueError, match="has no object_lost: InPlayReward needs a dexterous task"):
        InPlayReward(gymnasium.make("CartPole-v1"))
    with pytest.raises(ValueError, match=r"penalty must be a number ≥ 0, got -1"):
        InPlayReward(dexterous.make(PEN_SPIN), penalty=-1)
    with pytest.raises(ValueError, match=r"lost_penalty needs lost_object=True \(--lost-object\)"):
        TD3Config(lost_penalty=1.0)
