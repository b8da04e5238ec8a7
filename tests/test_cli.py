"""The command line: listing, video, and errors that say what is wrong."""

import argparse
import dataclasses
import os
import signal
import subprocess
import sys
from pathlib import Path

import imageio.v3 as iio
import pytest

import dexterous
from dexterous.cli import build_parser, main
from dexterous.contracts.configs import field_docs
from dexterous.video import STRIP_LABEL_PX, strip_steps


def test_envs_lists_every_id_with_dims(capsys):
    assert main(["envs"]) == 0
    out = capsys.readouterr().out
    assert "dexterous/PenSpin-v1" in out
    row = next(line for line in out.splitlines() if line.startswith("dexterous/HandManipulateBlockFull-v1 "))
    assert row.split()[1:] == ["61", "20", "7", "75"]


def test_a_reader_that_stops_early_gets_no_broken_pipe_error():
    import subprocess
    import sys

    listing = subprocess.Popen([sys.executable, "-m", "dexterous.cli", "envs"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    listing.stdout.close()  # as `dexterous envs | head -1` does once it has its line
    assert listing.wait(timeout=60) == 0 and listing.stderr.read() == b""


def test_video_writes_a_playable_mp4(tmp_path):
    out = tmp_path / "pen.mp4"
    assert main(["video", "PenSpin-v1", "--out", str(out), "--steps", "6", "--width", "96", "--height", "64"]) == 0
    frames = iio.imread(out)
    assert frames.shape == (7, 64, 96, 3)
    assert frames.std() > 10


def test_video_to_a_png_writes_a_strip_of_evenly_spread_frames(tmp_path):
    out = tmp_path / "strip.png"
    assert main(["video", "PenSpin-v1", "--out", str(out), "--steps", "6", "--frames", "4", "--width", "96",
                 "--height", "64"]) == 0
    strip = iio.imread(out)
    assert strip.shape[:2] == (64 + STRIP_LABEL_PX, 4 * 96)
    assert strip_steps(6, 4).tolist() == [0, 2, 4, 6]
    assert strip_steps(250, 1).tolist() == [0]


def test_video_names_what_it_cannot_record(tmp_path, capsys):
    assert main(["video", "PenSpin-v1", "--out", str(tmp_path / "x.gif")]) == 2
    assert "cannot record to" in capsys.readouterr().err
    assert main(["video", "PenSpin-v1", "--out", str(tmp_path / "x.png"), "--steps", "2", "--frames", "4"]) == 2
    assert "a strip of 4 frames needs at least 3 steps, got 2" in capsys.readouterr().err
    # before any planning, not after it
    assert main(["plan", "PenSpin-v1", "--preset", "smoke", "--out", str(tmp_path / "demos"), "--no-ray",
                 "--video", str(tmp_path / "x.avi")]) == 2
    assert "cannot record to" in capsys.readouterr().err and not (tmp_path / "demos").exists()


def test_video_of_unknown_env_fails_with_a_suggestion(tmp_path, capsys):
    assert main(["video", "PenSpn-v1", "--out", str(tmp_path / "x.mp4")]) == 2
    assert "unknown environment id 'dexterous/PenSpn-v1'. Did you mean dexterous/PenSpin-v1" in capsys.readouterr().err


def test_video_rejects_nonpositive_steps(tmp_path, capsys):
    assert main(["video", "PenSpin-v1", "--out", str(tmp_path / "x.mp4"), "--steps", "0"]) == 2
    assert "steps must be an integer ≥ 1, got 0" in capsys.readouterr().err


def test_video_replays_a_demonstration(tmp_path):
    from dexterous.mpc.driver import plan_episode
    from dexterous.planning import preset

    env_id = "dexterous/HandManipulateBlockFull-v1"
    (tmp_path / "demos").mkdir()
    plan_episode(env_id, preset("smoke", env_id), seed=0, path=tmp_path / "demos" / "episode_0000.npz", nthread=1,
                 max_steps=8)  # a partial episode replays too
    out = tmp_path / "demo.mp4"
    assert main(["video", "--demo", str(tmp_path / "demos"), "--out", str(out), "--width", "64", "--height", "64"]) == 0
    assert iio.imread(out).shape == (9, 64, 64, 3)


def test_video_needs_exactly_one_source(tmp_path, capsys):
    assert main(["video", "--out", str(tmp_path / "x.mp4")]) == 2
    assert "give exactly one of: an environment id, --demo FILE_OR_FOLDER, --run RUN_DIR" in capsys.readouterr().err


def test_video_of_a_two_hand_scene(tmp_path):
    out = tmp_path / "catch.mp4"
    assert main(["video", "TwoBlockCatchUnderArm-v1", "--out", str(out), "--steps", "2", "--width", "80", "--height", "64"]) == 0
    assert iio.imread(out).shape == (3, 64, 80, 3)


def _run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """`python -m dexterous.cli ARGS` on this tree's code, its output piped (not a terminal)."""
    env = {**os.environ, "PYTHONPATH": str(Path(dexterous.__file__).parents[1]), "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "dexterous.cli", *args], capture_output=True, text=True, env=env,
                          cwd=cwd, timeout=600)


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out == f"dexterous {dexterous.__version__}\n"


def _parsers(parser: argparse.ArgumentParser, name: str = "dexterous"):
    """(name, parser) of the command line and of every subcommand, nested ones included."""
    yield name, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub_name, sub in action.choices.items():
                yield from _parsers(sub, f"{name} {sub_name}")


def test_every_flag_of_every_subcommand_has_help_and_shows_its_default():
    parsers = dict(_parsers(build_parser()))
    assert {"dexterous plan", "dexterous train td3", "dexterous train her", "dexterous reproduce"} <= parsers.keys()
    for name, parser in parsers.items():
        for action in parser._actions:
            assert action.help, f"{name} {'/'.join(action.option_strings) or action.dest} has no help"
    assert "(default: topdm)" in parsers["dexterous plan"].format_help()
    assert "(default: 0)" in parsers["dexterous plan"].format_help()  # --seed: a default of 0 is shown too


def test_every_argument_of_every_command_is_a_field_of_its_configs_helped_by_its_docstring():
    checked = 0
    for name, parser in _parsers(build_parser()):
        configs = parser.get_default("configs")
        if configs is None:  # `dexterous` and `dexterous train` only choose a subcommand
            assert parser.get_default("func") is None, name
            continue
        docs = {f.name: field_docs(cls).get(f.name) for cls in configs for f in dataclasses.fields(cls)}
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            assert action.dest in docs, f"{name}: {action.dest} is not a field of {[c.__name__ for c in configs]}"
            assert docs[action.dest] and action.help.startswith(docs[action.dest]), (name, action.dest)
            checked += 1
    assert checked > 60


def test_the_no_progress_help_says_the_log_interval():
    from dexterous.commands import Quiet
    from dexterous.progress import LOG_INTERVAL

    assert f"a line every {LOG_INTERVAL:.0f} s" in field_docs(Quiet)["no_progress"]


@pytest.fixture
def sigint_as_in_a_terminal():
    """SIGINT raising KeyboardInterrupt, as Python sets it up in a terminal (a test worker
    process may have it ignored), restored afterwards."""
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, before)


def test_the_first_ctrl_c_asks_a_training_run_to_stop_and_the_second_interrupts(capsys, sigint_as_in_a_terminal):
    from dexterous.cli import _stop_requests

    with _stop_requests() as stop:
        assert not stop.is_set()
        signal.raise_signal(signal.SIGINT)
        assert stop.is_set() and "next checkpoint" in capsys.readouterr().err
        with pytest.raises(KeyboardInterrupt):
            signal.raise_signal(signal.SIGINT)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_job_started_with_ctrl_c_ignored_keeps_ignoring_it(sigint_as_in_a_terminal):
    from dexterous.cli import _stop_requests

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # as for a job started in the background by a shell
    with _stop_requests() as stop:
        signal.raise_signal(signal.SIGINT)
        assert not stop.is_set()
    assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN


@pytest.mark.parametrize("command", ["plan", "reproduce", "train td3", "train her", "evaluate"])
def test_every_long_command_takes_no_progress(command):
    parsers = dict(_parsers(build_parser()))
    assert "--no-progress" in parsers[f"dexterous {command}"]._option_string_actions


def test_the_parser_imports_no_torch_sb3_or_matplotlib(tmp_path):
    code = ("import sys, dexterous.cli; dexterous.cli.build_parser(); "
            "print([m for m in ('torch', 'stable_baselines3', 'matplotlib') if m in sys.modules])")
    env = {**os.environ, "PYTHONPATH": str(Path(dexterous.__file__).parents[1])}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_piped_plan_output_reads_as_plain_lines(tmp_path):
    done = _run_cli("plan", "HandManipulateBlockFull-v1", "--preset", "smoke", "--no-ray", "--threads", "1",
                    "--steps", "10", "--out", str(tmp_path / "demos"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    for stream in (done.stdout, done.stderr):
        assert "\r" not in stream and "\x1b" not in stream
    progress = [line for line in done.stderr.splitlines() if line.startswith("episode 0:")]
    assert progress and "?step/s" in progress[0]  # the first line shows no rate, rather than a bogus one
    assert "100%" in progress[-1]
