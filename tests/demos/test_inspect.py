"""Object play of demonstrations: steps in hand, turns and reward per step, from the exact states."""

import numpy as np

import dexterous
from dexterous.cli import main
from dexterous.demos import inspect_demonstration, load_folder
from dexterous.demos.play import body_x_turns
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
    (tmp_path / "empty").mkdir()
    assert main(["inspect", str(tmp_path / "empty")]) == 2
    assert "holds no demonstration episodes" in capsys.readouterr().err
