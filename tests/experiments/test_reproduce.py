"""`dexterous reproduce`: figure configs, the results directory, resuming after a kill."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import dexterous
from dexterous.cli import main
from dexterous.envs.rotations import quat_multiply
from dexterous.experiments.configs import (BUDGETS, FIGURES, HER_NEW, TOPDM, TOPDM_PLUS, FigureConfig, Method,
                                          figure_config)
from dexterous.planning.configs import FAMILY_SWITCHES, VARIANTS, planner_definition
from dexterous.contracts.files import processor_kind
from dexterous.experiments.results import MANIFEST, ResultsError, read_runs, retire_redefined
from dexterous.experiments.runner import reproduce, update_records
from dexterous.experiments.runs import runs_of

BLOCK = "dexterous/HandManipulateBlockFull-v1"
PEN_SPIN = "dexterous/PenSpin-v1"
SMALL = FigureConfig(name="fig2", title="one task, a planner and HER", tasks=(BLOCK,), methods=(TOPDM, HER_NEW),
                     budget=BUDGETS["smoke"], plan_steps={BLOCK: 20})
"""Two runs of a few seconds each: a planned episode of 20 steps (resumes per step) and HER
(resumes from checkpoints)."""


def _without_times(records):
    return [dataclasses.replace(r, wall_s=0.0) for r in records]


def test_every_figure_has_a_config_at_every_budget():
    for name in FIGURES:
        for budget in BUDGETS:
            figure = figure_config(name, budget)
            specs = runs_of(figure)
            assert len(specs) == len(figure.tasks) * len(figure.methods) * BUDGETS[budget].seeds
            assert len({s.path for s in specs}) == len(specs)  # no two runs share files


def test_budgets_scale_planning_seeds_and_training_together():
    smoke, cpu, paper = (BUDGETS[b] for b in ("smoke", "cpu", "paper"))
    assert smoke.seeds < cpu.seeds < paper.seeds
    assert smoke.td3_steps < cpu.td3_steps < paper.td3_steps == 10_000_000
    assert (smoke.planner_preset, cpu.planner_preset, paper.planner_preset) == ("smoke", "cpu", "paper")
    assert figure_config("fig5", "cpu", seeds=2).n_seeds == 2


@pytest.mark.parametrize("call, message", [
    (lambda: figure_config("fig9"), "unknown figure 'fig9'; choose one of fig2"),
    (lambda: figure_config("fig2", "huge"), "unknown budget 'huge'; choose one of smoke, cpu, paper"),
    (lambda: figure_config("fig2", "cpu", seeds=0), "seeds must be an integer ≥ 1, got 0"),
    (lambda: dataclasses.replace(SMALL, methods=(TOPDM, Method("TD3 + demos", "td3", demos_from="MPPI"))),
     "TD3 + demos restarts from 'MPPI', which is not a method of the figure"),
    (lambda: Method("TD3 + demos", "td3", train_switches=(("lost_objects", True),)),
     "TD3 + demos: train_switches set TD3 config fields of td3 methods only, got kind 'td3' and unknown fields: lost_objects"),
    (lambda: Method("TOPDM", "plan", train_switches=(("lost_object", True),)),
     "TOPDM: train_switches set TD3 config fields of td3 methods only, got kind 'plan'"),
])
def test_bad_figure_requests_are_named(call, message):
    with pytest.raises(ValueError, match=message.replace("+", r"\+")):
        call()


def test_cli_refuses_an_unknown_figure(capsys):
    with pytest.raises(SystemExit):
        main(["reproduce", "fig9", "--budget", "smoke"])
    assert "invalid choice: 'fig9'" in capsys.readouterr().err


@pytest.mark.parametrize("args, message", [
    (["--tasks", "NoSuchTask"], "fig2 has no task 'NoSuchTask'"),
    (["--methods", "mppi_kappa_-5"], "fig2 has no method 'mppi_kappa_-5'"),
    (["--seeds", "-5"], "seeds must be an integer ≥ 1, got -5"),
])
def test_a_refused_reproduce_leaves_no_out_folder(tmp_path, capsys, args, message):
    out = tmp_path / "out"
    assert main(["reproduce", "fig2", "--budget", "smoke", "--no-ray", "--out", str(out), *args]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_a_results_directory_of_other_settings_or_version_is_refused(tmp_path):
    reproduce(dataclasses.replace(SMALL, methods=(HER_NEW,)), tmp_path, parallel=False, progress=False)
    other_budget = dataclasses.replace(SMALL, methods=(HER_NEW,), budget=BUDGETS["cpu"])
    with pytest.raises(ResultsError, match="holds fig2 results made with other settings.*budget 'smoke'"):
        reproduce(other_budget, tmp_path, parallel=False, progress=False)
    manifest = tmp_path / "fig2" / MANIFEST
    manifest.write_text(json.dumps({**json.loads(manifest.read_text()), "version": 0}))
    with pytest.raises(ResultsError, match="results format version 0.*new directory"):
        reproduce(dataclasses.replace(SMALL, methods=(HER_NEW,)), tmp_path, parallel=False, progress=False)


def test_a_killed_reproduce_completes_to_the_same_records(tmp_path):
    uninterrupted = reproduce(SMALL, tmp_path / "whole", parallel=False, progress=False)
    assert uninterrupted.runs == 2
    expected = read_runs(uninterrupted.folder)

    killed = tmp_path / "killed"
    script = ("import sys; from tests.experiments.test_reproduce import SMALL; "
              "from dexterous.experiments.runner import reproduce; "
              "reproduce(SMALL, sys.argv[1], parallel=False, progress=False)")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}
    proc = subprocess.Popen([sys.executable, "-c", script, str(killed)], env=env)
    episode = killed / "fig2" / "plans" / "HandManipulateBlockFull" / "topdm" / "episode_0000.npz"
    deadline = time.monotonic() + 120
    while not episode.exists() and time.monotonic() < deadline:  # killed a few steps into the episode
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert episode.exists() and read_runs(killed / "fig2") == []

    resumed = reproduce(SMALL, killed, parallel=False, progress=False)
    assert resumed.finished_before == 0 and resumed.runs == 2
    assert _without_times(read_runs(resumed.folder)) == _without_times(expected)
    again = reproduce(SMALL, killed, parallel=False, progress=False)  # nothing left: skips everything
    assert again.finished_before == 2


def test_records_hold_what_the_runs_did(tmp_path):
    summary = reproduce(SMALL, tmp_path, parallel=False, progress=False)
    planned, her = sorted(read_runs(summary.folder), key=lambda r: r.kind == "her")
    from dexterous.demos import Demonstration

    demo = Demonstration.load(summary.folder / planned.path)
    assert planned.ret == float(np.sum(demo.rewards))
    assert planned.final_success == float(demo.successes[-1]) and demo.complete
    assert planned.env_steps == demo.meta["env_steps"] > 0
    assert her.kind == "her" and her.env_steps == BUDGETS["smoke"].her_steps
    assert her.curve["steps"] == [0.0, 80.0, 160.0] and her.ret == her.curve["mean_return"][-1]
    assert (summary.folder / "plans" / "HandManipulateBlockFull" / "topdm" / "index.json").exists()
    assert planned.processor == her.processor == processor_kind()  # planning is deterministic on one kind only


def test_plan_records_hold_the_objects_play_and_older_records_get_it_from_their_episodes(tmp_path, capsys):
    from dexterous.demos import Demonstration, inspect_demonstration
    from dexterous.experiments.results import write_runs

    short = dataclasses.replace(SMALL, methods=(TOPDM,), plan_steps={BLOCK: 4})
    summary = reproduce(short, tmp_path, parallel=False, progress=False)
    (record,) = read_runs(summary.folder)
    demo = Demonstration.load(summary.folder / record.path)
    play = inspect_demonstration(demo)
    assert (record.in_hand, record.turns) == (play.in_hand, play.turns) and record.in_hand is not None
    assert record.steps == demo.num_steps == 4
    # how far the final pose is from the goal, computed here from the final observation
    env = dexterous.make(BLOCK).unwrapped
    env.restore(demo.snapshot(demo.num_steps))
    achieved, desired = env.achieved_goal(env.data.qpos), env.goal
    relative = quat_multiply(achieved[3:], desired[3:] * [1, -1, -1, -1])
    assert record.final_pos_error == pytest.approx(np.linalg.norm(achieved[:3] - desired[:3]), abs=1e-12)
    assert record.final_rot_error == pytest.approx(2 * np.arccos(min(abs(relative[0]), 1.0)), abs=1e-9)
    assert (record.final_pos_error < 0.01 and record.final_rot_error < 0.1) == bool(record.final_success)
    assert main(["inspect", str(summary.folder / record.path)]) == 0
    assert (f"final success {bool(record.final_success)} ({100 * record.final_pos_error:.1f} cm and "
            f"{record.final_rot_error:.2f} rad from the goal)") in capsys.readouterr().out

    write_runs(summary.folder, [dataclasses.replace(record, in_hand=None, turns=None)])  # as recorded before
    lines = (summary.folder / "runs.jsonl").read_text()
    reproduce(short, tmp_path, parallel=False, progress=False)  # nothing to run; fills in the play
    assert read_runs(summary.folder) == [record]
    write_runs(summary.folder, [dataclasses.replace(record, final_pos_error=None, final_rot_error=None)])
    reproduce(short, tmp_path, parallel=False, progress=False)  # recorded before the final pose was kept
    assert read_runs(summary.folder) == [record]
    write_runs(summary.folder, [dataclasses.replace(record, steps=None)])
    reproduce(short, tmp_path, parallel=False, progress=False)  # recorded before the steps run were kept
    assert read_runs(summary.folder) == [record]
    other = dataclasses.replace(record, ret=record.ret + 1.0, in_hand=None, turns=None)  # not this file's episode
    write_runs(summary.folder, [other])
    reproduce(short, tmp_path, parallel=False, progress=False)
    assert read_runs(summary.folder) == [other]
    (summary.folder / record.path).unlink()  # an episode not at hand (plans are not committed)
    write_runs(summary.folder, [dataclasses.replace(record, in_hand=None, turns=None)])
    reproduce(short, tmp_path, parallel=False, progress=False)
    assert (summary.folder / "runs.jsonl").read_text() == lines


def test_a_td3_record_holds_its_last_evaluations_object_play(tmp_path):
    from dexterous.rl import read_evaluations

    figure = FigureConfig(name="fig5", title="TD3 on PenSpin", tasks=(PEN_SPIN,), methods=(Method("TD3", "td3"),),
                          budget=BUDGETS["smoke"])
    summary = reproduce(figure, tmp_path, parallel=False, progress=False)
    (record,) = read_runs(summary.folder)
    last = read_evaluations(summary.folder / record.path)[-1]
    assert (record.in_hand, record.turns) == (last["mean_in_play_steps"], last["mean_turns"])
    assert record.ret == last["mean_return"] and 0 <= record.in_hand <= 250
    assert record.curve["mean_in_play_steps"][-1] == record.in_hand and record.curve["mean_turns"][-1] == record.turns

    from dexterous.experiments.results import write_runs

    older = dataclasses.replace(record, in_hand=None, turns=None,  # as recorded before these were kept
                                curve={k: record.curve[k] for k in ("steps", "mean_return")})
    write_runs(summary.folder, [older])
    reproduce(figure, tmp_path, parallel=False, progress=False)  # nothing to run; fills them in from the run
    assert read_runs(summary.folder) == [record]
    other = dataclasses.replace(older, ret=record.ret + 1.0)  # not this run folder's run
    write_runs(summary.folder, [other])
    reproduce(figure, tmp_path, parallel=False, progress=False)
    assert read_runs(summary.folder) == [other]


def test_an_her_record_holds_its_play_and_final_pose_and_an_older_one_gets_them_from_its_policy(tmp_path):
    from dexterous.experiments.results import write_runs
    from dexterous.rl import read_evaluations

    her_only = dataclasses.replace(SMALL, methods=(HER_NEW,))
    summary = reproduce(her_only, tmp_path, parallel=False, progress=False)
    (record,) = read_runs(summary.folder)
    last = read_evaluations(summary.folder / record.path)[-1]
    assert (record.in_hand, record.turns) == (last["mean_in_play_steps"], last["mean_turns"])
    assert (record.final_pos_error, record.final_rot_error) == (last["median_final_pos_error"],
                                                                last["median_final_rot_error"])
    assert 0 <= record.in_hand <= 75 and record.final_pos_error > 0

    evaluations = summary.folder / record.path / "evaluations.jsonl"
    kept = evaluations.read_text()
    older_fields = ("steps", "time", "success_rate", "mean_return", "returns")  # as HER evaluated before
    evaluations.write_text("".join(json.dumps({k: e[k] for k in older_fields}) + "\n"
                                   for e in map(json.loads, kept.splitlines())))
    older = dataclasses.replace(record, in_hand=None, turns=None, final_pos_error=None, final_rot_error=None,
                                curve={k: record.curve[k] for k in ("steps", "success_rate", "mean_return")})
    write_runs(summary.folder, [older])
    history = evaluations.read_text()
    assert update_records(tmp_path, her_only) == 1  # the latest policy evaluated again; nothing run
    filled = read_runs(summary.folder)[0]
    assert filled == dataclasses.replace(record, curve={**record.curve, **{  # earlier evaluations: not made again
        name: [None] * (len(record.curve["steps"]) - 1) + record.curve[name][-1:]
        for name in ("mean_in_play_steps", "mean_turns")}})
    assert evaluations.read_text() == history  # the run's own history is left as it was
    assert update_records(tmp_path, her_only) == 0  # nothing more to fill: kept as it is, not evaluated again
    assert read_runs(summary.folder) == [filled]
    from dexterous.rl import evaluated_again

    earlier = json.loads(history.splitlines()[-2])  # an evaluation of a policy the checkpoint no longer holds
    assert evaluated_again(summary.folder / record.path, earlier) is None

    lines = evaluations.read_text().splitlines()
    tampered = {**json.loads(lines[-1]), "returns": [r + 1.0 for r in json.loads(lines[-1])["returns"]]}
    evaluations.write_text("\n".join([*lines[:-1], json.dumps(tampered)]) + "\n")  # not this policy's returns
    write_runs(summary.folder, [older])
    reproduce(her_only, tmp_path, parallel=False, progress=False)
    assert read_runs(summary.folder) == [older]


def test_update_records_runs_nothing_and_refuses_a_folder_without_results(tmp_path, capsys):
    assert main(["reproduce", "fig3", "--out", str(tmp_path), "--update-records"]) == 2
    assert f"{tmp_path / 'fig3'} holds no fig3 results yet: run `dexterous reproduce fig3 --out" in capsys.readouterr().err
    assert not (tmp_path / "fig3").exists()
    assert main(["reproduce", "fig3", "--out", str(tmp_path), "--update-records", "--dry-run"]) == 2
    assert "--dry-run and --update-records both run nothing: give one of them" in capsys.readouterr().err
    reproduce(SMALL, tmp_path, parallel=False, progress=False, methods=["topdm"])
    before = (tmp_path / "fig2" / "runs.jsonl").read_text()
    assert update_records(tmp_path, SMALL) == 0 and (tmp_path / "fig2" / "runs.jsonl").read_text() == before
    assert not (tmp_path / "fig2" / "train").exists()  # HER new is pending: not started


def test_fig3_and_fig4_plan_the_two_hand_tasks_for_the_originals_50_steps():
    from dexterous.experiments.runs import RunSpec, planner_config

    fig3, fig4, planners = (figure_config(name) for name in ("fig3", "fig4", "planners"))
    assert fig3.plan_steps == {task: 50 for task in fig3.tasks}
    assert set(fig4.plan_steps) == {"dexterous/EggCatchUnderarm-v1", "dexterous/EggHandOver-v1"}
    egg = "dexterous/EggHandOver-v1"
    short = planner_config(fig3, RunSpec(egg, TOPDM, 0))
    full = planner_config(planners, RunSpec(egg, TOPDM, 0))
    assert (short.episode_length, full.episode_length) == (50, 75)
    assert dataclasses.replace(short, episode_length=75) == full  # the same budget per real step
    pen = RunSpec("dexterous/HandManipulatePenFull-v1", TOPDM, 0)
    assert planner_config(fig4, pen).episode_length == 75  # one hand: its whole episode


@pytest.mark.parametrize("plan_steps, message", [
    ({"dexterous/PenSpin-v1": 50}, "plan_steps names 'dexterous/PenSpin-v1', which is not a task of the figure"),
    ({BLOCK: 0}, "plan_steps of dexterous/HandManipulateBlockFull-v1 must be an integer ≥ 1, got 0")])
def test_bad_plan_steps_are_named(plan_steps, message):
    with pytest.raises(ValueError, match=message):
        dataclasses.replace(SMALL, plan_steps=plan_steps)


def test_a_figure_plans_its_shorter_episodes_and_scores_them_at_their_last_step(tmp_path):
    from dexterous.demos import Demonstration

    short = dataclasses.replace(SMALL, methods=(TOPDM,), plan_steps={BLOCK: 4})
    summary = reproduce(short, tmp_path, parallel=False, progress=False)
    (record,) = read_runs(summary.folder)
    demo = Demonstration.load(summary.folder / record.path)
    assert demo.complete and demo.num_steps == 4 and demo.meta["config"]["episode_length"] == 4
    assert record.final_success == float(demo.successes[3]) and record.ret == float(np.sum(demo.rewards))


def test_a_manifest_from_before_plan_steps_and_paper_fraction_reads_as_before(tmp_path):
    figure = dataclasses.replace(SMALL, methods=(HER_NEW,), plan_steps={})  # as figures were before plan_steps
    reproduce(figure, tmp_path, parallel=False, progress=False)
    manifest = tmp_path / "fig2" / MANIFEST
    old = json.loads(manifest.read_text())
    del old["config"]["plan_steps"]
    for method in old["config"]["methods"]:
        del method["paper_fraction"], method["switches"], method["train_switches"]
    manifest.write_text(json.dumps(old))
    assert reproduce(figure, tmp_path, parallel=False, progress=False).finished_before == 1
    with pytest.raises(ResultsError, match=r"other settings \(plan_steps differ"):
        reproduce(dataclasses.replace(figure, plan_steps={BLOCK: 50}), tmp_path, parallel=False, progress=False)


def test_a_figure_grows_by_seeds_and_methods_and_keeps_its_records(tmp_path):
    her_only = dataclasses.replace(SMALL, methods=(HER_NEW,))
    reproduce(her_only, tmp_path, parallel=False, progress=False)
    grown = dataclasses.replace(SMALL, methods=(HER_NEW, TOPDM), seeds=2, title="a new caption")
    summary = reproduce(grown, tmp_path, parallel=False, progress=False, methods=["TOPDM"], max_runs=1)
    assert summary.finished_before == 1 and summary.runs == 2 and summary.total == 4
    assert json.loads((tmp_path / "fig2" / MANIFEST).read_text())["config"]["title"] == "a new caption"
    redefined = dataclasses.replace(grown, methods=(dataclasses.replace(HER_NEW, her_variant="original"), TOPDM))
    with pytest.raises(ResultsError, match=r"other settings \(methods HER new differ"):
        reproduce(redefined, tmp_path, parallel=False, progress=False)
    with pytest.raises(ResultsError, match=r"other settings \(seeds differ"):
        reproduce(dataclasses.replace(grown, seeds=1), tmp_path, parallel=False, progress=False)


def test_fig5s_in_play_method_trains_on_topdm_plus_episodes_with_the_in_play_reward_and_the_papers_without(tmp_path):
    from dexterous.experiments.runs import RunSpec, train_config
    from dexterous.rl.configs import IN_PLAY

    figure = figure_config("fig5", "cpu")
    ours = train_config(figure, RunSpec(PEN_SPIN, figure.method("TD3 + TOPDM+ demos, in-play reward"), 1), tmp_path)
    paper = train_config(figure, RunSpec(PEN_SPIN, figure.method("TD3 + demos"), 1), tmp_path)
    assert (ours.lost_object, ours.lost_penalty) == (IN_PLAY["lost_object"], IN_PLAY["lost_penalty"]) == (True, 1.0)
    assert Path(ours.demos).parts[-2:] == ("PenSpin", "topdmplus") and Path(paper.demos).parts[-2:] == ("PenSpin", "topdm")
    assert not paper.lost_object and dataclasses.replace(ours, lost_object=False, lost_penalty=0.0, demos=paper.demos) == paper


def test_the_efficiency_figure_sets_ni_from_the_papers_budget_per_real_step():
    from dexterous.experiments.runs import RunSpec, planner_config

    figure = figure_config("efficiency", "cpu")
    steps = {(task, m.label): planner_config(figure, RunSpec(task, m, 0)) for task in figure.tasks for m in figure.methods}
    egg, spin = "dexterous/EggHandOver-v1", "dexterous/PenSpin-v1"
    per_step = {key: c.n_samples * c.horizon * c.iterations for key, c in steps.items()}
    assert per_step[(egg, "TOPDM 1/100")] == 4_000 and per_step[(egg, "TOPDM 1/33")] == 12_000  # paper: 400,000
    assert per_step[(spin, "TOPDM 1/100")] == 64_000  # paper: 6.4M
    assert per_step[(spin, "TOPDM+ 1/100")] == 64_000  # the same budget, split at the paper's N : Ni
    assert (steps[(spin, "TOPDM+ 1/100")].n_samples, steps[(spin, "TOPDM+ 1/100")].iterations) == (400, 8)
    assert (steps[(spin, "TOPDM 1/100")].n_samples, steps[(spin, "TOPDM 1/100")].iterations) == (100, 32)
    assert steps[(spin, "TOPDM+ 1/100")].episode_length == 100 and steps[(egg, "TOPDM+ 1/100")].episode_length == 75
    assert steps[(egg, "TOPDM+ 1/33")].lost_object and not steps[(egg, "TOPDM 1/33")].lost_object
    smoke = figure_config("efficiency", "smoke")
    assert planner_config(smoke, RunSpec(egg, smoke.methods[0], 0)).iterations == 2  # the smoke preset's


def test_a_planner_redefined_since_its_records_is_refused_by_name(tmp_path, monkeypatch):
    figure = dataclasses.replace(SMALL, methods=(TOPDM, TOPDM_PLUS), tasks=(BLOCK, PEN_SPIN))
    reproduce(figure, tmp_path, parallel=False, progress=False, methods=["TOPDM+"], tasks=["HandManipulateBlockFull"])
    manifest = tmp_path / "fig2" / MANIFEST
    stored = json.loads(manifest.read_text())
    plus = next(m for m in stored["config"]["methods"] if m["label"] == "TOPDM+")
    assert dict(plus["switches"]) == planner_definition("topdm+")  # its PenSpin switches too
    assert ["pen_spin:elite_memory", True] in plus["switches"]

    def rebuilt() -> FigureConfig:  # the figure as defined after a change
        return dataclasses.replace(figure, methods=(TOPDM, Method("TOPDM+", "plan", "topdm+")))

    # changed on PenSpin only, where TOPDM+ has no record yet: no recorded run changes
    monkeypatch.setitem(FAMILY_SWITCHES["topdm+"], "pen_spin", {"keep_plan": False})
    assert reproduce(rebuilt(), tmp_path, parallel=False, progress=False, methods=["TOPDM"],
                     tasks=["HandManipulateBlockFull"]).finished_before == 1
    assert ["pen_spin:keep_plan", False] in next(
        m for m in json.loads(manifest.read_text())["config"]["methods"] if m["label"] == "TOPDM+")["switches"]
    monkeypatch.setitem(FAMILY_SWITCHES["topdm+"], "one_hand_manipulate", {"keep_plan": True})  # the block's family
    with pytest.raises(ResultsError, match=r"other settings \(methods TOPDM\+ differ"):
        reproduce(rebuilt(), tmp_path, parallel=False, progress=False)
    monkeypatch.delitem(FAMILY_SWITCHES["topdm+"], "one_hand_manipulate")
    monkeypatch.setitem(VARIANTS, "topdm+", {**VARIANTS["topdm+"], "lost_penalty": 1.0})  # on every family
    with pytest.raises(ResultsError, match=r"other settings \(methods TOPDM\+ differ"):
        reproduce(rebuilt(), tmp_path, parallel=False, progress=False)


def test_a_figure_keeps_its_records_when_a_planner_changes_on_another_familys_tasks(tmp_path, monkeypatch):
    figure = dataclasses.replace(SMALL, methods=(TOPDM, TOPDM_PLUS), tasks=(BLOCK,))
    reproduce(figure, tmp_path, parallel=False, progress=False)
    stored = json.loads((tmp_path / "fig2" / MANIFEST).read_text())
    plus = next(m for m in stored["config"]["methods"] if m["label"] == "TOPDM+")
    families = {name.split(":")[0] for name, _ in plus["switches"] if ":" in name}
    assert families <= {"one_hand_manipulate"}  # PenSpin's are not this figure's

    def rebuilt() -> FigureConfig:  # the figure as defined after the change
        return dataclasses.replace(figure, methods=(TOPDM, Method("TOPDM+", "plan", "topdm+")))

    monkeypatch.setitem(FAMILY_SWITCHES["topdm+"], "pen_spin", {"keep_plan": False})
    assert reproduce(rebuilt(), tmp_path, parallel=False, progress=False).finished_before == 2
    monkeypatch.setitem(FAMILY_SWITCHES["topdm+"], "one_hand_manipulate", {"keep_plan": True})
    with pytest.raises(ResultsError, match=r"other settings \(methods TOPDM\+ differ"):
        reproduce(rebuilt(), tmp_path, parallel=False, progress=False, methods=["TOPDM"])


def test_retire_redefined_moves_a_redefined_methods_runs_aside_and_runs_them_again(tmp_path, monkeypatch):
    figure = dataclasses.replace(SMALL, methods=(TOPDM, TOPDM_PLUS), tasks=(BLOCK, PEN_SPIN))
    block_only = {"tasks": ["HandManipulateBlockFull"]}
    reproduce(figure, tmp_path, parallel=False, progress=False, **block_only)
    folder = tmp_path / "fig2"
    before = {r.key: r for r in read_runs(folder)}
    plus_plan = folder / before[BLOCK, "TOPDM+", 0].path
    old_manifest = json.loads((folder / MANIFEST).read_text())

    def rebuilt() -> FigureConfig:  # the figure as defined after the change
        return dataclasses.replace(figure, methods=(TOPDM, Method("TOPDM+", "plan", "topdm+")))

    monkeypatch.setitem(FAMILY_SWITCHES["topdm+"], "pen_spin", {"keep_plan": False})  # where nothing ran yet
    assert retire_redefined(tmp_path, rebuilt()) == [] and not (folder / "retired").exists()
    monkeypatch.setitem(FAMILY_SWITCHES["topdm+"], "one_hand_manipulate", {"keep_plan": True})
    with pytest.raises(ResultsError, match=r"methods TOPDM\+ differ.*use --retire-redefined"):
        reproduce(rebuilt(), tmp_path, parallel=False, progress=False, **block_only)
    summary = reproduce(rebuilt(), tmp_path, parallel=False, progress=False, retire=True, **block_only)
    assert (summary.retired, summary.finished_before, summary.runs) == (1, 1, 2)
    (retired,) = (folder / "retired").iterdir()
    assert read_runs(retired) == [before[BLOCK, "TOPDM+", 0]]  # kept, with its episode file
    assert json.loads((retired / MANIFEST).read_text()) == old_manifest
    assert (retired / before[BLOCK, "TOPDM+", 0].path).exists()
    after = {r.key: r for r in read_runs(folder)}
    assert after[BLOCK, "TOPDM", 0] == before[BLOCK, "TOPDM", 0]  # the unchanged method's run stays
    assert plus_plan.exists()  # planned again under the new definition
    assert reproduce(rebuilt(), tmp_path, parallel=False, progress=False, retire=True, **block_only).retired == 0


def test_retiring_a_planner_retires_the_runs_trained_from_its_demonstrations(tmp_path, monkeypatch):
    from dexterous.experiments.results import write_runs

    demos = Method("TD3 + TOPDM+ demos", "td3", demos_from="TOPDM+")
    figure = dataclasses.replace(SMALL, methods=(TOPDM, TOPDM_PLUS, demos), tasks=(BLOCK,))
    reproduce(figure, tmp_path, parallel=False, progress=False, methods=["TOPDM", "TOPDM+"])
    folder = tmp_path / "fig2"
    trained = dataclasses.replace(read_runs(folder)[0], method=demos.label, kind="td3",
                                  path=runs_of(figure)[2].path)
    (folder / trained.path).mkdir(parents=True)
    write_runs(folder, [*read_runs(folder), trained])
    monkeypatch.setitem(FAMILY_SWITCHES["topdm+"], "one_hand_manipulate", {"keep_plan": True})
    rebuilt = dataclasses.replace(figure, methods=(TOPDM, Method("TOPDM+", "plan", "topdm+"), demos))
    assert sorted(r.method for r in retire_redefined(tmp_path, rebuilt)) == ["TD3 + TOPDM+ demos", "TOPDM+"]
    assert [r.method for r in read_runs(folder)] == ["TOPDM"]
    (retired,) = (folder / "retired").iterdir()
    assert (retired / trained.path).is_dir() and not (folder / trained.path).exists()
