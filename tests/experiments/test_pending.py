"""`dexterous reproduce --dry-run`: what is left of a figure, how far each run has got, its env steps."""

from __future__ import annotations

import dataclasses

import pytest

from dexterous.cli import main
from dexterous.demos import Demonstration
from dexterous.experiments.configs import BUDGETS, TOPDM, FigureConfig, Method
from dexterous.experiments.pending import pending_runs
from dexterous.experiments.results import read_runs
from dexterous.experiments.runner import reproduce
from dexterous.experiments.runs import planner_config, runs_of

PEN_SPIN = "dexterous/PenSpin-v1"
FIG = FigureConfig(name="fig5", title="a planner and TD3 restarting from its episodes", tasks=(PEN_SPIN,),
                   methods=(TOPDM, Method("TD3 + demos", "td3", demos_from="TOPDM")), budget=BUDGETS["smoke"],
                   plan_steps={PEN_SPIN: 4})
PLAN, _ = runs_of(FIG)


def _nominal(first_step: int) -> int:
    """The planner's env steps from real step first_step to the end: N·Ni(t)·τ per step."""
    config = planner_config(FIG, PLAN)
    return sum(config.iterations_at(t) * config.n_samples * config.horizon
               for t in range(first_step, config.episode_length))


def _rows(pending):
    return [(p.spec.method.label, p.done, p.total, p.env_steps_left, p.restore) for p in pending]


def test_a_dry_run_lists_every_run_left_with_its_env_steps_and_writes_nothing(tmp_path):
    pending = pending_runs(FIG, tmp_path)
    steps = BUDGETS["smoke"].td3_steps
    assert _rows(pending) == [("TOPDM", 0, 4, _nominal(0), False), ("TD3 + demos", 0, steps, steps, False)]
    assert _nominal(0) > _nominal(2) > 0
    assert list(tmp_path.iterdir()) == []
    assert _rows(pending_runs(FIG, tmp_path, max_runs=1)) == _rows(pending[:1])


def test_a_partial_episode_counts_its_planned_steps_and_a_recorded_one_is_left_out(tmp_path):
    reproduce(FIG, tmp_path / "done", parallel=False, progress=False, nthread=1, methods=["topdm"])
    (record,) = read_runs(tmp_path / "done" / "fig5")
    assert [p.spec.method.label for p in pending_runs(FIG, tmp_path / "done")] == ["TD3 + demos"]

    demo = Demonstration.load(tmp_path / "done" / "fig5" / record.path)
    cut = {name: getattr(demo, name)[:2] for name in ("actions", "means", "rewards", "successes", "predicted_returns")}
    cut |= {name: getattr(demo, name)[:3] for name in ("states", "observations", "rng_states")}
    partial = dataclasses.replace(demo, **cut, meta={**demo.meta, "complete": False})
    (tmp_path / "partial" / "fig5" / record.path).parent.mkdir(parents=True)
    partial.save(tmp_path / "partial" / "fig5" / record.path)
    assert _rows(pending_runs(FIG, tmp_path / "partial", methods=["topdm"])) == [("TOPDM", 2, 4, _nominal(2), False)]


def test_a_dry_run_names_the_recorded_episodes_a_fresh_clone_plans_again_and_those_it_copies(tmp_path):
    first = reproduce(FIG, tmp_path, parallel=False, progress=False, nthread=1, methods=["topdm"])
    (record,) = read_runs(first.folder)
    sibling = dataclasses.replace(FIG, name="appB")
    (copied,) = pending_runs(sibling, tmp_path, methods=["topdm"])
    assert (copied.env_steps_left, copied.copied_from) == (0, first.folder / record.path)

    (first.folder / record.path).unlink()  # as in a fresh clone: the record without its episode
    restored, training = pending = pending_runs(FIG, tmp_path)
    assert _rows(pending) == [("TOPDM", 0, 4, _nominal(0), True),
                              ("TD3 + demos", 0, BUDGETS["smoke"].td3_steps, BUDGETS["smoke"].td3_steps, False)]
    # sized at the recorded TOPDM episode's own rate; no TD3 run is recorded to size the training by
    assert restored.seconds_left == pytest.approx(_nominal(0) * record.wall_s / record.env_steps)
    assert training.seconds_left is None


def test_the_dry_run_flag_prints_the_table_and_runs_nothing(tmp_path, capsys):
    assert main(["reproduce", "fig5", "--budget", "smoke", "--out", str(tmp_path), "--dry-run", "--max-runs", "2",
                 "--methods", "topdm,mppi_kappa_20"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "fig5 (smoke budget): 2 runs, in the order they would run"
    assert [line.split("  ")[1].strip() for line in lines[1:3]] == ["PenSpin TOPDM seed 0", "PenSpin MPPI κ=20 seed 0"]
    assert "0/250 real steps" in lines[1] and lines[3].endswith("which TOPDM+'s early-out undercuts)")
    assert not (tmp_path / "fig5").exists()
