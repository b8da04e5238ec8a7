"""The train / evaluate / curves commands, rotation counting, learning curves."""

import json

import imageio.v3 as iio
import numpy as np
import pytest
from matplotlib.image import imread

from dexterous.cli import main
from dexterous.envs.rotations import quat_from_axis_angle, quat_multiply, random_rotation
from dexterous.rl import body_x_turns, evaluate_run, plot_runs, read_config

TINY_FLAGS = ["--steps", "60", "--learning-starts", "30", "--batch-size", "16", "--hidden", "8", "8",
              "--buffer-size", "500", "--eval-every", "30", "--eval-episodes", "1", "--checkpoint-every", "30",
              "--log-every", "30", "--no-progress"]


@pytest.fixture(scope="module")
def cli_runs(demo_folder, tmp_path_factory):
    """Two seeds of TD3 + demos and one plain TD3 run, trained through the command line."""
    root = tmp_path_factory.mktemp("cli_runs")
    for name, extra in (("demos0", ["--demos", str(demo_folder)]), ("demos1", ["--demos", str(demo_folder),
                        "--seed", "1"]), ("plain", ["--beta", "1.0"])):
        assert main(["train", "td3", "PenSpin-v1", "--out", str(root / name), *TINY_FLAGS, *extra]) == 0
    return root


def test_train_flags_reach_the_config(cli_runs, demo_folder):
    config = read_config(cli_runs / "demos1")
    assert (config.steps, config.seed, config.hidden, config.demos) == (60, 1, (8, 8), str(demo_folder))
    assert config.beta == 0.7 and read_config(cli_runs / "plain").beta == 1.0


def test_train_reports_bad_input_plainly(tmp_path, capsys):
    assert main(["train", "td3", "PenSpin-v1", "--beta", "0", "--out", str(tmp_path)]) == 2
    assert "dexterous train: error: beta must be in (0, 1]" in capsys.readouterr().err
    assert main(["train", "td3", "--demos", str(tmp_path / "none"), "--out", str(tmp_path)]) == 2
    assert f"demonstration folder {tmp_path / 'none'} does not exist" in capsys.readouterr().err


def test_evaluate_runs_past_the_episode_and_reports_windows_and_turns(cli_runs):
    report = evaluate_run(cli_runs / "demos0", episodes=2, steps=260, seed=7, progress=False)
    assert [e.seed for e in report.episodes] == [7, 8]
    assert all(len(e.window_returns) == len(e.window_in_hand) == len(e.window_turns) == 2 and np.isfinite(e.turns)
               for e in report.episodes)
    assert all(0 <= e.window_in_hand[0] <= 250 and 0 <= e.window_in_hand[1] <= 10 for e in report.episodes)
    assert all(sum(e.window_turns) == pytest.approx(e.turns) for e in report.episodes)
    assert "250-260: return/in hand/turns" in str(report)


def test_evaluating_an_her_run_reports_windows_of_its_episode_and_the_last_steps_success_and_pose(tmp_path):
    from dexterous.rl import HERConfig, load_policy, train
    from dexterous.rl.episodes import run_episode

    config = HERConfig(env_id="HandManipulateBlockFull-v1", variant="new", steps=80, learning_starts=40,
                       batch_size=16, hidden=(8, 8), buffer_size=500, eval_every=80, eval_episodes=1,
                       checkpoint_every=80, log_every=80)
    train(config, tmp_path, progress=False)
    report = evaluate_run(tmp_path, episodes=2, steps=80, seed=3, progress=False)
    assert report.window == 75 and all(len(e.window_returns) == 2 for e in report.episodes)  # 75 + 5 steps
    policy = load_policy(tmp_path)
    env = policy.recipe.make_eval_env()
    episode = run_episode(env, policy, 3, 80)
    first = report.episodes[0]
    assert first.final_errors == env.unwrapped.goal_errors() and first.success == episode.final_info["is_success"]
    assert first.window_returns == [float(episode.rewards[:75].sum()), float(episode.rewards[75:].sum())]
    text = str(report)
    assert "75-80: return/in hand/turns" in text and "last step: success (from the goal)" in text
    assert f"{'yes' if first.success else 'no'} ({100 * first.final_errors[0]:.1f} cm, " in text.splitlines()[2]


def test_spin_windows_count_returns_steps_in_hand_and_turns_of_a_scripted_trajectory():
    from dexterous.rl.evaluate import spin_windows

    # 7 steps, windows of 3: a quarter turn per step about body x for 4 steps, then still;
    # the object leaves the hand after step 5
    step = quat_from_axis_angle(np.array([1.0, 0.0, 0.0]), np.pi / 2)
    quats = [np.array([1.0, 0.0, 0.0, 0.0])]
    for k in range(7):
        quats.append(quat_multiply(quats[-1], step) if k < 4 else quats[-1])
    rewards = np.arange(1.0, 8.0)
    lost = np.array([False] * 5 + [True] * 2)
    returns, in_hand, turns = spin_windows(rewards, np.array(quats), lost, window=3)
    assert returns == [6.0, 15.0, 7.0] and in_hand == [3, 2, 0]
    assert turns == pytest.approx([0.75, 0.25, 0.0])
    with pytest.raises(ValueError, match=r"need rewards \(T,\), lost \(T,\) and quats \(T\+1, 4\)"):
        spin_windows(rewards, np.array(quats[:-1]), lost)


def test_evaluate_command_writes_json_and_video(cli_runs, tmp_path, capsys):
    video, report = tmp_path / "spin.mp4", tmp_path / "spin.json"
    assert main(["evaluate", str(cli_runs / "plain"), "--episodes", "1", "--steps", "12", "--video", str(video),
                 "--json", str(report)]) == 0
    assert "1 episodes of 12 steps" in capsys.readouterr().out
    assert iio.imread(video).shape[0] == 13  # the reset state, then one frame per step
    data = json.loads(report.read_text())
    assert data["steps"] == 12 and len(data["episodes"][0]["window_returns"]) == 1
    assert data["episodes"][0]["window_in_hand"] == [12]  # a plain policy keeps the pen 12 steps


def test_evaluating_a_folder_that_is_not_a_run_fails_plainly(tmp_path, capsys):
    assert main(["evaluate", str(tmp_path)]) == 2
    assert "is not a training run (no config.json)" in capsys.readouterr().err


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_body_x_turns_counts_rotation_about_the_body_x_axis_only(sign):
    start = random_rotation(np.random.default_rng(0))
    step = quat_from_axis_angle(np.array([1.0, 0.0, 0.0]), sign * 0.3)
    quats = [start]
    for _ in range(100):
        quats.append(quat_multiply(quats[-1], step))
    turns = body_x_turns(np.array(quats))
    assert turns.shape == (101,) and turns[0] == 0.0
    assert turns[-1] == pytest.approx(sign * 100 * 0.3 / (2 * np.pi), rel=1e-9)
    about_y = [start]
    for _ in range(10):
        about_y.append(quat_multiply(about_y[-1], quat_from_axis_angle(np.array([0.0, 1.0, 0.0]), 0.3)))
    assert body_x_turns(np.array(about_y))[-1] == pytest.approx(0.0, abs=1e-12)


def test_curves_draw_one_band_per_method(cli_runs, tmp_path, capsys):
    out = tmp_path / "curves.png"
    assert main(["curves", str(cli_runs / "demos0"), str(cli_runs / "demos1"), str(cli_runs / "plain"),
                 "--out", str(out)]) == 0
    image = imread(out)
    assert image.shape[0] > 300 and image.std() > 0.05
    with pytest.raises(ValueError, match=r"have no 'success_rate'; they have \['mean_in_play_steps', 'mean_return', 'mean_turns'\]"):
        plot_runs([cli_runs / "plain"], tmp_path / "x.png", metric="success_rate")


def test_curves_keep_the_in_play_reward_apart_from_the_papers_td3():
    from dexterous.rl.configs import TD3Config
    from dexterous.rl.curves import method_label

    paper = TD3Config(demos="demos")
    assert method_label(paper) == "TD3 + demos (β = 0.7)"
    assert method_label(TD3Config(demos="demos", lost_object=True, lost_penalty=1.0)) == (
        "TD3 + demos (β = 0.7, in-play reward, penalty 1)")


def test_video_runs_a_trained_policy(cli_runs, tmp_path, capsys):
    video = tmp_path / "policy.mp4"
    assert main(["video", "--run", str(cli_runs / "demos0"), "--steps", "9", "--width", "64", "--height", "64",
                 "--out", str(video)]) == 0
    frames = iio.imread(video)
    assert frames.shape == (10, 64, 64, 3) and frames.std() > 1.0
    assert main(["video", "PenSpin-v1", "--run", str(cli_runs / "demos0"), "--out", str(video)]) == 2
    assert "give exactly one of: an environment id, --demo" in capsys.readouterr().err


def test_an_exported_policy_acts_as_its_run_and_is_evaluated_alone(cli_runs, tmp_path, capsys):
    from dexterous.rl import export_policy, load_policy

    folder = tmp_path / "policies" / "pen_spin"
    assert main(["export-policy", str(cli_runs / "demos0"), "--out", str(folder)]) == 0
    assert sorted(p.name for p in folder.rglob("*") if p.is_file()) == [
        "config.json", "model.zip", "normalizer.pkl", "policy.json"]  # no replay buffer
    assert json.loads((folder / "policy.json").read_text())["steps"] == 60
    obs, _ = load_policy(folder).recipe.make_eval_env().reset(seed=3)
    assert np.array_equal(load_policy(folder)(obs), load_policy(cli_runs / "demos0")(obs))
    report = evaluate_run(folder, episodes=1, steps=12, seed=7, progress=False)
    assert report.episodes == evaluate_run(cli_runs / "demos0", episodes=1, steps=12, seed=7, progress=False).episodes
    best = json.loads((cli_runs / "demos0" / "best" / "evaluation.json").read_text())
    assert main(["export-policy", str(cli_runs / "demos0"), "--out", str(folder), "--best"]) == 0
    provenance = json.loads((folder / "policy.json").read_text())
    assert provenance["chosen"] == "best" and provenance["evaluation"] == best
    assert (folder / "policy" / "model.zip").read_bytes() == (cli_runs / "demos0" / "best" / "model.zip").read_bytes()
    assert load_policy(folder).model.num_timesteps == best["steps"]
    export_policy(cli_runs / "demos1", folder)  # a policy folder may be replaced
    with pytest.raises(ValueError, match="exists and is not a policy folder: choose a new --out"):
        export_policy(cli_runs / "demos0", cli_runs / "plain")
