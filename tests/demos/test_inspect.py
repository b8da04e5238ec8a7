"""Object play of demonstrations: steps in hand, turns and reward per step, from the exact states."""

import dataclasses

import numpy as np
import pytest

import dexterous
from dexterous.cli import main
from dexterous.demos import inspect_demonstration, load_folder
from dexterous.demos.play import body_x_turns, play_windows, while_in_hand
from dexterous.envs.pen_spin import LOST_HEIGHT


def test_inspection_reads_the_recorded_states(demo_folder, capsys):
    (demo,) = load_folder(demo_folder)
    play = inspect_demonstration(demo)
    env = dexterous.make(demo.env_id).unwrapped
    lost, quats = [], []
    for t in range(demo.num_steps + 1):
        env.restore(demo.snapshot(t))
        quats.append(env.data.qpos[env.indices.objects[0].qpos[3:7]].copy())
        lost.append(env.data.qpos[env.indices.objects[0].qpos[2]] < LOST_HEIGHT)
    assert play.steps == demo.num_steps == 250 and play.final_success is None
    assert play.in_hand <= demo.num_steps - int(np.sum(lost[1:]))  # lost below LOST_HEIGHT, or too far from rest
    assert play.first_lost is None or 1 <= play.first_lost <= demo.num_steps
    assert play.turns == body_x_turns(np.array(quats))[-1]
    assert play.reward_per_step == np.mean(demo.rewards)

    assert main(["inspect", str(demo_folder)]) == 0
    out = capsys.readouterr().out
    assert f"{demo_folder}: 1 episode of dexterous/PenSpin-v1" in out
    assert f"seed {demo.seed}: 250 steps, in hand {play.in_hand}/250" in out and "reward per step" in out


def test_inspection_reads_a_folder_still_being_planned(demo_folder, tmp_path, capsys):
    import shutil

    for episode in demo_folder.glob("episode_*.npz"):
        shutil.copy(episode, tmp_path / episode.name)  # no index.json, as a `reproduce` wave in progress
    assert main(["inspect", str(tmp_path)]) == 0
    assert f"{tmp_path}: 1 episode of dexterous/PenSpin-v1" in capsys.readouterr().out

    (demo,) = load_folder(demo_folder)
    begun = dataclasses.replace(demo, states=demo.states[:11], observations=demo.observations[:11],
                                rng_states=demo.rng_states[:11], actions=demo.actions[:10], means=demo.means[:10],
                                rewards=demo.rewards[:10], successes=demo.successes[:10],
                                predicted_returns=demo.predicted_returns[:10], meta={**demo.meta, "complete": False})
    begun.save(tmp_path / "episode_0000.npz")  # the beginning of the episode, as planning writes it
    assert main(["inspect", str(tmp_path)]) == 0
    assert f"seed {demo.seed}: 10 steps so far (unfinished), in hand " in capsys.readouterr().out
    assert inspect_demonstration(demo).complete
    (tmp_path / "empty").mkdir()
    assert main(["inspect", str(tmp_path / "empty")]) == 2
    assert "holds no demonstration episodes" in capsys.readouterr().err


def test_inspection_per_window_adds_up_to_the_episode(demo_folder, capsys):
    (demo,) = load_folder(demo_folder)
    play = inspect_demonstration(demo, window=100)
    assert [(w.first, w.steps) for w in play.windows] == [(1, 100), (101, 100), (201, 50)]
    assert sum(w.in_hand for w in play.windows) == play.in_hand
    assert sum(w.turns for w in play.windows) == pytest.approx(play.turns)
    assert [w.reward_per_step for w in play.windows] == pytest.approx(
        [np.mean(demo.rewards[:100]), np.mean(demo.rewards[100:200]), np.mean(demo.rewards[200:])])
    assert [w.planned for w in play.windows] == pytest.approx(
        [np.mean(demo.predicted_returns[:100]), np.mean(demo.predicted_returns[100:200]),
         np.mean(demo.predicted_returns[200:])])
    assert inspect_demonstration(demo).windows == ()

    assert main(["inspect", str(demo_folder), "--window", "100"]) == 0
    rows = capsys.readouterr().out.splitlines()
    assert rows[2].startswith("  steps 1-100: in hand ") and rows[4].startswith("  steps 201-250: in hand ")
    assert rows[2].endswith(f", planned score {play.windows[0].planned:.1f}")
    assert main(["inspect", str(demo_folder), "--window", "0"]) == 2
    assert "window must be an integer ≥ 1, got 0" in capsys.readouterr().err


def test_play_windows_of_a_scripted_episode():
    # 5 steps in windows of 2: the object leaves the hand after step 4
    windows = play_windows(np.arange(1.0, 6.0), np.array([False] * 3 + [True] * 2),
                           np.array([0.0, 0.25, 0.5, 0.5, 0.5, 0.75]), 2)
    assert [(w.first, w.steps, w.in_hand, w.turns, w.reward, w.planned) for w in windows] == [
        (1, 2, 2, 0.5, 3.0, None), (3, 2, 1, 0.0, 7.0, None), (5, 1, 0, 0.25, 5.0, None)]
    planned = play_windows(np.arange(1.0, 6.0), np.zeros(5, dtype=bool), np.zeros(6), 2,
                           planned=np.array([10.0, 20.0, -4.0, 0.0, 7.0]))
    assert [w.planned for w in planned] == [15.0, -2.0, 7.0]
    with pytest.raises(ValueError, match=r"need one planned score per step, \(5,\), got \(4,\)"):
        play_windows(np.arange(1.0, 6.0), np.zeros(5, dtype=bool), np.zeros(6), 2, planned=np.zeros(4))
    with pytest.raises(ValueError, match=r"need rewards \(T,\), lost \(T,\) and turns \(T\+1,\)"):
        play_windows(np.arange(1.0, 6.0), np.zeros(5, dtype=bool), np.zeros(5), 2)


def test_while_in_hand_counts_only_the_steps_with_the_object_in_play():
    # 4 steps: the object is out after steps 2 and 3 (and back after step 4), spinning on the floor meanwhile
    turns, reward = while_in_hand(np.array([1.0, 5.0, 5.0, 1.0]), np.array([False, True, True, False]),
                                  np.array([0.0, 0.25, 1.0, 1.75, 2.0]))
    assert (turns, reward) == (0.5, 0.5)  # steps 1 and 4: 0.25 turns each, reward (1 + 1) over all 4 steps
    with pytest.raises(ValueError, match=r"need rewards \(T,\), lost \(T,\) and turns \(T\+1,\) with T ≥ 1"):
        while_in_hand(np.zeros(0), np.zeros(0, dtype=bool), np.zeros(1))


def test_inspection_says_what_was_earned_in_the_hand_once_the_object_was_lost(demo_folder):
    (demo,) = load_folder(demo_folder)
    env = dexterous.make(demo.env_id).unwrapped
    pen = env.indices.objects[0].qpos
    dropped = dataclasses.replace(demo, states=list(demo.states))
    lost, quats = [], []
    for t in range(demo.num_steps + 1):
        env.restore(demo.snapshot(t))
        if t > 100:  # the pen below the lost height from step 101 on
            env.data.qpos[pen[2]] = LOST_HEIGHT - 0.01
            dropped.states[t] = env.snapshot().state
        quats.append(env.data.qpos[pen[3:7]].copy())
        lost.append(env.object_lost_now())
    play = inspect_demonstration(dropped)
    assert play.first_lost is not None and play.first_lost <= 101
    expected = while_in_hand(demo.rewards, np.array(lost[1:]), body_x_turns(np.array(quats)))
    assert play.in_hand_play == expected
    assert f"; while in hand: {expected[0]:.2f} turns, {expected[1]:.3f} reward per step" in play.row()


def test_inspection_lists_episodes_finished_since_the_index(demo_folder, tmp_path, capsys):
    import shutil

    shutil.copy(demo_folder / "index.json", tmp_path / "index.json")
    shutil.copy(demo_folder / "episode_0000.npz", tmp_path / "episode_0000.npz")
    shutil.copy(demo_folder / "episode_0000.npz", tmp_path / "episode_0001.npz")  # finished after the index
    assert main(["inspect", str(tmp_path)]) == 0
    assert f"{tmp_path}: 2 episodes of dexterous/PenSpin-v1" in capsys.readouterr().out


def test_two_objects_final_distances_are_given_per_object_beside_their_largest():
    from dexterous.demos.play import EpisodePlay

    env = dexterous.make("TwoEggCatchUnderArm-v1").unwrapped
    env.reset(seed=0)
    achieved, goal = env.achieved_goal(env.data.qpos).reshape(2, 7), env.goal.reshape(2, 7)
    expected = tuple((np.linalg.norm(a[:3] - g[:3]), 2 * np.arccos(min(abs(np.dot(a[3:], g[3:])), 1.0)))
                     for a, g in zip(achieved, goal))
    errors = env.object_goal_errors()
    assert np.allclose(errors, expected, atol=1e-9) and errors[0] != errors[1]
    assert env.goal_errors() == (max(p for p, _ in errors), max(r for _, r in errors))

    play = EpisodePlay(seed=0, steps=50, in_hand=50, first_lost=None, turns=0.0, reward_per_step=0.5,
                       final_success=False, final_errors=(0.581, 0.3),
                       object_final_errors=((0.012, 0.29), (0.581, 0.3)))
    assert ("final success False (object 1: 1.2 cm and 0.29 rad; object 2: 58.1 cm and 0.30 rad from the goal)"
            in play.row())
