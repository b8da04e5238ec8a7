"""Side-by-side videos replayed from two short real demonstrations."""

from __future__ import annotations

import imageio.v3 as iio
import pytest
from synthetic import make_figure, plan

from dexterous import planning
from dexterous.mpc.driver import plan_episode
from dexterous.experiments.videos import LABEL_HEIGHT, best_and_median, write_side_by_side

BLOCK = "dexterous/HandManipulateBlockFull-v1"
TOPDM_STEPS, MPPI_STEPS = 6, 4
"""Short episodes keep the test at a few seconds; unequal lengths check the last-frame hold."""


@pytest.fixture(scope="module")
def figure_dir(tmp_path_factory):
    """fig2 (1 seed) with a TOPDM and an MPPI κ=20 episode of HandManipulateBlockFull, seed 0."""
    root = tmp_path_factory.mktemp("results")
    folder = make_figure(root, "fig2", [])
    records = []
    for label, planner, steps in (("TOPDM", "topdm", TOPDM_STEPS), ("MPPI κ=20", "mppi", MPPI_STEPS)):
        path = folder / plan(BLOCK, label, 0, 0.0, 0.0).path
        path.parent.mkdir(parents=True)
        demo = plan_episode(BLOCK, planning.preset("smoke", BLOCK, planner), 0, path,
                            planner_name=planner, nthread=1, max_steps=steps)
        records.append(plan(BLOCK, label, 0, sum(demo.rewards), float(demo.successes[-1])))
    return make_figure(root, "fig2", records)


def test_side_by_side_holds_both_replays(figure_dir):
    paths = write_side_by_side(figure_dir, width=64, height=48)
    assert [p.relative_to(figure_dir).as_posix() for p in paths] == [
        "videos/HandManipulateBlockFull_best.mp4", "videos/HandManipulateBlockFull_median.mp4"]
    frames = iio.imread(paths[0])
    assert frames.shape == (TOPDM_STEPS + 1, 48 + LABEL_HEIGHT, 2 * 64, 3)
    assert frames[:, LABEL_HEIGHT:].std() > 10  # rendered scenes, not blank halves
    assert paths[1].read_bytes() == paths[0].read_bytes()  # one seed: best is the median


def test_best_and_median_seed_by_return():
    assert best_and_median({0: 1.0, 1: 6.0, 2: 2.0, 3: 4.0}) == (1, 2)
    assert best_and_median({5: 3.0}) == (5, 5)


def test_a_seed_whose_episodes_are_not_here_gets_no_video_and_a_note(figure_dir, tmp_path, capsys):
    """A clone holds the records, not the planned episodes: reproduce must not fail at its end."""
    import shutil

    clone = tmp_path / "fig2"
    shutil.copytree(figure_dir, clone, ignore=shutil.ignore_patterns("*.npz", "videos"))
    assert write_side_by_side(clone, width=64, height=48) == []
    assert not (clone / "videos").exists()
    notes = capsys.readouterr().out
    assert "HandManipulateBlockFull best seed 0: no side-by-side video, its episode files are not here (" in notes
    assert str(clone / plan(BLOCK, "TOPDM", 0, 0.0, 0.0).path) in notes
