"""Every figure end to end at the smoke budget, through the command line: runs, PNG, table.

Each takes from tens of seconds (fig5: plans, TD3, TD3 restarting from the figure's own
plans; appC) to minutes on 2 cores, so all are marked slow (`pytest -m slow`); the
default run covers `reproduce` through tests/experiments/test_reproduce.py.
"""

from __future__ import annotations

import pytest
from matplotlib.image import imread

from dexterous.cli import main
from dexterous.experiments.configs import FIGURES, figure_config
from dexterous.experiments.results import read_runs
from dexterous.experiments.runs import runs_of

@pytest.mark.slow
@pytest.mark.parametrize("name", FIGURES)
def test_a_figure_runs_end_to_end_and_is_reported(name, tmp_path, capsys):
    out = tmp_path / "smoke"
    assert main(["reproduce", name, "--budget", "smoke", "--out", str(out), "--no-ray"]) == 0
    figure = figure_config(name, "smoke")
    records = read_runs(out / name)
    assert sorted(r.key for r in records) == sorted(s.key for s in runs_of(figure))
    image = imread(out / name / f"{name}.png")
    assert image.shape[0] > 300 and image.std() > 0.05
    assert (out / name / f"{name}.svg").stat().st_size > 0

    docs = tmp_path / "docs"
    assert main(["report", str(out), "--out", str(docs / "RESULTS.md")]) == 0
    report = (docs / "RESULTS.md").read_text()
    assert f"![{name}](results/{name}.png)" in report  # copied beside the markdown
    assert (docs / "results" / f"{name}.png").read_bytes() == (out / name / f"{name}.png").read_bytes()
    for record in records:
        if figure.method(record.method).shown:
            assert f"| {record.method} | 1/1 |" in report
            assert f"{record.ret:.2f}".replace("-", "\u2212") in report  # a typographic minus


def test_report_of_a_folder_without_results_is_refused(tmp_path, capsys):
    assert main(["report", str(tmp_path)]) == 2
    assert f"{tmp_path} holds no figure folders" in capsys.readouterr().err
