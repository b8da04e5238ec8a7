"""The command line: listing, video, and errors that say what is wrong."""

import imageio.v3 as iio

from dexterous.cli import main


def test_envs_lists_every_id_with_dims(capsys):
    assert main(["envs"]) == 0
    out = capsys.readouterr().out
    assert "dexterous/PenSpin-v1" in out
    row = next(line for line in out.splitlines() if line.startswith("dexterous/HandManipulateBlockFull-v1 "))
    assert row.split()[1:] == ["61", "20", "7", "75"]


def test_video_writes_a_playable_mp4(tmp_path):
    out = tmp_path / "pen.mp4"
    assert main(["video", "PenSpin-v1", "--out", str(out), "--steps", "6", "--width", "96", "--height", "64"]) == 0
    frames = iio.imread(out)
    assert frames.shape == (7, 64, 96, 3)
    assert frames.std() > 10


def test_video_of_unknown_env_fails_with_a_suggestion(tmp_path, capsys):
    assert main(["video", "PenSpn-v1", "--out", str(tmp_path / "x.mp4")]) == 2
    assert "unknown environment id 'dexterous/PenSpn-v1'. Did you mean dexterous/PenSpin-v1" in capsys.readouterr().err


def test_video_rejects_nonpositive_steps(tmp_path, capsys):
    assert main(["video", "PenSpin-v1", "--out", str(tmp_path / "x.mp4"), "--steps", "0"]) == 2
    assert "steps must be ≥ 1, got 0" in capsys.readouterr().err


def test_video_replays_a_demonstration(tmp_path):
    from dexterous.demos.runner import PlanRun, run_plan

    run_plan(PlanRun("HandManipulateBlockFull-v1", preset="smoke", threads=1), tmp_path / "demos",
             use_ray=False, progress=False)
    out = tmp_path / "demo.mp4"
    assert main(["video", "--demo", str(tmp_path / "demos"), "--out", str(out), "--width", "64", "--height", "64"]) == 0
    assert iio.imread(out).shape == (76, 64, 64, 3)


def test_video_needs_exactly_one_source(tmp_path, capsys):
    assert main(["video", "--out", str(tmp_path / "x.mp4")]) == 2
    assert "give exactly one of: an environment id, --demo FILE_OR_FOLDER, --run RUN_DIR" in capsys.readouterr().err


def test_video_of_a_two_hand_scene(tmp_path):
    out = tmp_path / "catch.mp4"
    assert main(["video", "TwoBlockCatchUnderArm-v1", "--out", str(out), "--steps", "2", "--width", "80", "--height", "64"]) == 0
    assert iio.imread(out).shape == (3, 64, 80, 3)
