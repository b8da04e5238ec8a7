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
