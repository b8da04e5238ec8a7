"""Sharing work: a subset of a figure's runs, processes sharing a folder, figures sharing episodes."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import re
import shutil
import subprocess
import sys
import time

import numpy as np
import pytest

from dexterous.cli import main
from dexterous.contracts.files import processor_kind
from dexterous.demos import Demonstration
from dexterous.experiments.configs import BUDGETS, MPPI_1, MPPI_20, TOPDM, FigureConfig, Method, figure_config
from dexterous.experiments.pending import PLANNING, RUNNING, describe_pending, pending_runs
from dexterous.experiments.claims import claim, is_claimed
from dexterous.experiments.results import ResultsError, RunRecord, read_runs, record_run
from dexterous.experiments.runner import reproduce
from dexterous.experiments.runs import runs_of, select

EGG = "dexterous/EggHandOver-v1"
BLOCK = "dexterous/HandManipulateBlockFull-v1"
PAIR = FigureConfig(name="fig3", title="one two-hand task, two planners", tasks=(EGG,), methods=(TOPDM, MPPI_20),
                    budget=BUDGETS["smoke"], plan_steps={EGG: 10})
"""A figure whose episodes another figure (`planners`, planning as few steps) also plans."""


def _record(method: str, seed: int) -> RunRecord:
    return RunRecord(task=BLOCK, method=method, seed=seed, kind="plan", ret=float(seed), final_success=1.0,
                     env_steps=10, wall_s=1.0, path=f"plans/{method}/episode_{seed:04d}.npz")


def test_select_takes_names_ids_labels_and_slugs():
    figure = figure_config("planners", "smoke")
    everything = runs_of(figure)
    chosen = select(figure, everything, tasks=["EggHandOver", "dexterous/PenSpin-v1"],
                    methods=["TOPDM", "mppi_kappa_1"])
    assert {(s.task, s.method.label) for s in chosen} == {
        (EGG, "TOPDM"), (EGG, "MPPI κ=1"), ("dexterous/PenSpin-v1", "TOPDM"), ("dexterous/PenSpin-v1", "MPPI κ=1")}
    assert select(figure, everything) == everything


@pytest.mark.parametrize("tasks, methods, message", [
    (["Egg"], None, "planners has no task 'Egg'; choose from EggHandOver, HandManipulateBlockFull, PenSpin"),
    (None, ["mppi", "topdm"], "planners has no method 'mppi'; choose from mppi_kappa_1, mppi_kappa_20, topdm"),
])
def test_an_unknown_task_or_method_is_named_with_the_choices(tasks, methods, message):
    figure = figure_config("planners", "smoke")
    with pytest.raises(ValueError, match=message):
        select(figure, runs_of(figure), tasks, methods)


def test_training_from_demonstrations_that_will_not_exist_is_refused(tmp_path, capsys):
    assert main(["reproduce", "fig5", "--budget", "smoke", "--out", str(tmp_path), "--no-ray",
                 "--methods", "td3_plus_demos"]) == 2
    assert ("TD3 + demos on PenSpin restarts from TOPDM episodes (seeds [0]) that are neither finished nor selected; "
            "select --methods topdm too") in capsys.readouterr().err


def test_processes_sharing_a_folder_keep_each_others_records(tmp_path):
    # Each process knows only its own records; the file must end up with both.
    record_run(tmp_path, _record("TOPDM", 0))
    record_run(tmp_path, _record("MPPI κ=20", 0))
    rerun = dataclasses.replace(_record("TOPDM", 0), ret=5.0)
    kept = record_run(tmp_path, rerun)
    assert sorted(r.key for r in read_runs(tmp_path)) == sorted(r.key for r in kept)
    assert [r.ret for r in sorted(read_runs(tmp_path), key=lambda r: r.method)] == [0.0, 5.0]


def test_a_figure_copies_the_same_finished_episode_from_another_figure(tmp_path):
    first = reproduce(PAIR, tmp_path, parallel=False, progress=False)
    shared = dataclasses.replace(figure_config("planners", "smoke"), plan_steps={EGG: 10})
    again = reproduce(shared, tmp_path, parallel=False, progress=False, nthread=1, tasks=["EggHandOver"],
                      methods=["topdm", "mppi_kappa_20"])
    assert again.runs == 2
    for record in read_runs(again.folder):
        source = first.folder / record.path
        assert (again.folder / record.path).read_bytes() == source.read_bytes()
    assert ({(r.method, r.ret, r.env_steps, r.wall_s) for r in read_runs(again.folder)}
            == {(r.method, r.ret, r.env_steps, r.wall_s) for r in read_runs(first.folder)})


def test_a_finished_episode_of_another_figure_replaces_the_same_unfinished_one(tmp_path):
    from dexterous.experiments.runs import RunSpec, planner_config
    from dexterous.mpc.driver import plan_episode

    first = reproduce(dataclasses.replace(PAIR, methods=(TOPDM,)), tmp_path, parallel=False, progress=False)
    shared = dataclasses.replace(figure_config("planners", "smoke"), plan_steps={EGG: 10})
    spec = RunSpec(EGG, shared.method("TOPDM"), 0)
    partial = tmp_path / "planners" / spec.path
    partial.parent.mkdir(parents=True)
    plan_episode(EGG, planner_config(shared, spec), 0, partial, planner_name="topdm", nthread=1, max_steps=3)
    assert Demonstration.load(partial).num_steps == 3 and not Demonstration.load(partial).complete
    reproduce(shared, tmp_path, parallel=False, progress=False, nthread=1, tasks=["EggHandOver"], methods=["topdm"])
    (record,) = read_runs(first.folder)
    assert partial.read_bytes() == (first.folder / record.path).read_bytes()


def test_an_episode_of_another_planner_or_config_is_not_copied(tmp_path):
    reproduce(dataclasses.replace(PAIR, methods=(MPPI_20,)), tmp_path, parallel=False, progress=False)
    other = dataclasses.replace(PAIR, name="fig4", methods=(MPPI_1, Method("mod 1", "plan", "mod1")))
    summary = reproduce(other, tmp_path, parallel=False, progress=False)
    mppi_20 = Demonstration.load(tmp_path / "fig3" / "plans" / "EggHandOver" / "mppi_kappa_20" / "episode_0000.npz")
    for record in read_runs(summary.folder):
        demo = Demonstration.load(summary.folder / record.path)
        assert demo.meta["config"] != mppi_20.meta["config"] or demo.meta["planner"] != mppi_20.meta["planner"]
        assert not np.array_equal(demo.actions, mppi_20.actions)


def test_tasks_without_a_success_record_none_rather_than_zero(tmp_path):
    figure = dataclasses.replace(figure_config("planners", "smoke"), plan_steps={"dexterous/PenSpin-v1": 10})
    summary = reproduce(figure, tmp_path, parallel=False, progress=False, tasks=["PenSpin"], methods=["topdm"])
    (record,) = read_runs(summary.folder)
    assert record.task == "dexterous/PenSpin-v1" and record.final_success is None


def test_plan_summary_leaves_out_the_success_of_a_task_without_one(demo_folder, tmp_path, capsys):
    shutil.copy(demo_folder / "episode_0000.npz", tmp_path)  # the same run's finished episode: nothing to plan
    assert main(["plan", "PenSpin-v1", "--preset", "smoke", "--out", str(tmp_path), "--no-ray"]) == 0
    summary = capsys.readouterr().out.strip().splitlines()[-1]
    assert summary.startswith("1 episodes: mean return ") and "success" not in summary


def test_a_bad_selection_on_the_command_line_is_named(tmp_path, capsys):
    assert main(["reproduce", "planners", "--budget", "smoke", "--out", str(tmp_path), "--tasks", "Pen"]) == 2
    assert "planners has no task 'Pen'; choose from" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["reproduce", "planners", "--budget", "smoke", "--tasks", ","])
    assert "expected comma-separated names" in capsys.readouterr().err
    assert main(["reproduce", "planners", "--budget", "smoke", "--out", str(tmp_path), "--threads", "1"]) == 2
    assert "--threads applies with --no-ray only" in capsys.readouterr().err


SPIN_DEMOS = dataclasses.replace(figure_config("fig5", "smoke"), plan_steps={"dexterous/PenSpin-v1": 5},
                                 methods=(TOPDM, Method("TD3 + demos", "td3", demos_from="TOPDM")))
"""fig5 at the smoke budget, 5 planned steps, with only a planner and the training that
restarts from its episodes."""


def _as_in_a_fresh_clone(tmp_path):
    """Plan fig5's TOPDM episode, then delete it as a clone does (plans are not committed; records are)."""
    from dexterous.experiments.runner import _restore_demonstrations

    reproduce(SPIN_DEMOS, tmp_path, parallel=False, progress=False, nthread=1, methods=["topdm"])
    folder = tmp_path / "fig5"
    (planned,) = read_runs(folder)
    original = Demonstration.load(folder / planned.path)
    (folder / planned.path).unlink()
    training = [s for s in runs_of(SPIN_DEMOS) if s.method.demos_from]

    def restore(record):
        _restore_demonstrations(SPIN_DEMOS, training, {record.key: record}, folder, nthread=1, progress=False)

    return folder, planned, original, restore


def test_training_plans_again_the_recorded_demonstrations_that_a_fresh_clone_lacks(tmp_path):
    from dexterous.demos import load_folder, write_index

    folder, planned, original, restore = _as_in_a_fresh_clone(tmp_path)
    plans = (folder / planned.path).parent
    write_index(plans)  # indexed without the episode, as by a process that planned other seeds
    restore(planned)
    again = Demonstration.load(folder / planned.path)
    assert again.complete
    np.testing.assert_array_equal(again.actions, original.actions)
    np.testing.assert_array_equal(again.rewards, original.rewards)
    assert read_runs(folder) == [planned]  # the record is kept, not duplicated
    (indexed,) = load_folder(plans)  # what the training reads
    np.testing.assert_array_equal(indexed.actions, original.actions)


def test_a_demonstration_that_plans_again_differently_from_its_record_is_refused(tmp_path):
    from dexterous.experiments.results import ResultsError

    folder, planned, _, restore = _as_in_a_fresh_clone(tmp_path)
    with pytest.raises(ResultsError, match=(f"PenSpin TOPDM seed 0 planned again gives return .* where its record has "
                                            f"{planned.ret + 1.0!r} in {planned.env_steps}: the physics or the planner "
                                            "changed since it was recorded; retire its runs with --retire-redefined")):
        restore(dataclasses.replace(planned, ret=planned.ret + 1.0))


def test_a_replanned_mismatch_names_the_other_processor_the_record_was_planned_on(tmp_path):
    from dexterous.experiments.results import ResultsError

    folder, planned, _, restore = _as_in_a_fresh_clone(tmp_path)
    assert planned.processor == processor_kind()  # recorded from its file
    elsewhere = "AMD EPYC 7B13 64-Core Processor, numpy X86_V3"
    with pytest.raises(ResultsError, match=(f"where its record has {planned.ret + 1.0!r} in {planned.env_steps}: it "
                                            f"was planned on {re.escape(elsewhere)} and this machine is "
                                            f"{re.escape(processor_kind())}, and planning is deterministic on one "
                                            "kind of processor only")):
        restore(dataclasses.replace(planned, ret=planned.ret + 1.0, processor=elsewhere))


def test_a_claim_is_held_by_one_holder_at_a_time_and_leaves_no_file(tmp_path):
    run = "plans/EggHandOver/topdm/episode_0000.npz"
    with claim(tmp_path, run) as mine:
        assert mine and is_claimed(tmp_path, run)
        with claim(tmp_path, run) as again:  # another open file, as another process has: refused
            assert not again
    assert not is_claimed(tmp_path, run)
    assert not any((tmp_path / ".claims").iterdir())
    # The file a killed holder leaves behind claims nothing: only a held lock does.
    (tmp_path / ".claims" / "plans__EggHandOver__topdm__episode_0000.npz.lock").touch()
    assert not is_claimed(tmp_path, run)
    with claim(tmp_path, run) as mine:
        assert mine


def test_a_run_another_process_is_running_is_left_to_it_and_not_counted(tmp_path, capsys):
    (tmp_path / "fig3").mkdir()
    topdm, mppi = runs_of(PAIR)
    with claim(tmp_path / "fig3", topdm.path):
        dry = pending_runs(PAIR, tmp_path, max_runs=1)
        assert [(p.spec.method.label, p.passed_over) for p in dry] == [("TOPDM", RUNNING), ("MPPI κ=20", None)]
        table = describe_pending(PAIR, dry)
        assert "2 runs, in the order they would run (1 of them another process's, left to it)" in table
        assert "EggHandOver TOPDM seed 0" in table.splitlines()[1]
        assert table.splitlines()[1].endswith("(another process is running it now: passed over)")
        assert table.splitlines()[-1].startswith(f"{dry[1].env_steps_left:,} env steps left in all")
        reproduce(PAIR, tmp_path, parallel=False, progress=False, max_runs=1)
        assert [r.method for r in read_runs(tmp_path / "fig3")] == ["MPPI κ=20"]
        reproduce(PAIR, tmp_path, parallel=False, progress=False)  # nothing left that is not another's
        assert [r.method for r in read_runs(tmp_path / "fig3")] == ["MPPI κ=20"]
    assert "EggHandOver TOPDM seed 0: another process is running it; leaving it to that one" in capsys.readouterr().out
    reproduce(PAIR, tmp_path, parallel=False, progress=False)  # let go of: this process runs it
    assert sorted(r.method for r in read_runs(tmp_path / "fig3")) == ["MPPI κ=20", "TOPDM"]


def test_training_waits_for_demonstrations_another_process_is_planning(tmp_path, capsys):
    figure = FigureConfig(name="fig5", title="a planner and TD3 restarting from its episodes",
                          tasks=("dexterous/PenSpin-v1",), methods=(TOPDM, Method("TD3 + demos", "td3", demos_from="TOPDM")),
                          budget=BUDGETS["smoke"], plan_steps={"dexterous/PenSpin-v1": 4})
    (tmp_path / "fig5").mkdir()
    plan, training = runs_of(figure)
    with claim(tmp_path / "fig5", plan.path):
        assert [p.passed_over for p in pending_runs(figure, tmp_path)] == [RUNNING, PLANNING]
        reproduce(figure, tmp_path, parallel=False, progress=False)
    assert read_runs(tmp_path / "fig5") == []
    assert ("PenSpin TD3 + demos seed 0: another process is still planning its demonstrations; leaving it for the "
            "next run") in capsys.readouterr().out

    # Planned here, then its file lost (a fresh clone): while another process plans it again
    # for its own training, this one neither plans it a second time nor trains from it.
    reproduce(figure, tmp_path, parallel=False, progress=False, methods=["topdm"])
    (tmp_path / "fig5" / plan.path).unlink()
    with claim(tmp_path / "fig5", plan.path):
        reproduce(figure, tmp_path, parallel=False, progress=False)
        assert not (tmp_path / "fig5" / plan.path).exists()
    assert [r.method for r in read_runs(tmp_path / "fig5")] == ["TOPDM"]
    assert "PenSpin TD3 + demos seed 0: another process is still planning its demonstrations" in capsys.readouterr().out


def test_a_run_claimed_only_for_a_moment_is_run_at_the_second_pass(tmp_path, monkeypatch, capsys):
    import dexterous.experiments.runner as runner

    (tmp_path / "fig3").mkdir()
    topdm, _ = runs_of(PAIR)
    held = contextlib.ExitStack()
    held.enter_context(claim(tmp_path / "fig3", topdm.path))  # held while the first pass meets it
    execute = runner.execute

    def let_go_then_execute(*args, **kwargs):
        held.close()
        return execute(*args, **kwargs)

    monkeypatch.setattr(runner, "execute", let_go_then_execute)
    reproduce(PAIR, tmp_path, parallel=False, progress=False)
    assert sorted(r.method for r in read_runs(tmp_path / "fig3")) == ["MPPI κ=20", "TOPDM"]
    assert "another process" not in capsys.readouterr().out


def test_a_ray_wave_claims_its_runs_up_to_the_budget_and_not_training_still_waiting(tmp_path):
    from dexterous.experiments.runner import _claim_wave

    figure = dataclasses.replace(PAIR, seeds=2)
    first, second, third, _ = runs_of(figure)
    with claim(tmp_path, first.path), contextlib.ExitStack() as claims:
        wave = _claim_wave(claims, figure, tmp_path, [first, second, third], budget=1, records={})
        assert wave == [second] and is_claimed(tmp_path, second.path) and not is_claimed(tmp_path, third.path)
    assert not is_claimed(tmp_path, second.path)

    spin = dataclasses.replace(PAIR, name="fig5", tasks=("dexterous/PenSpin-v1",), plan_steps={},
                               methods=(TOPDM, Method("TD3 + demos", "td3", demos_from="TOPDM")))
    _, training = runs_of(spin)  # its TOPDM episode is being planned by another process, not recorded
    with contextlib.ExitStack() as claims:
        assert _claim_wave(claims, spin, tmp_path, [training], budget=1, records={}) == []
        assert not is_claimed(tmp_path, training.path)


def test_records_of_a_newer_version_or_damaged_are_refused_by_line(tmp_path):
    record_run(tmp_path, _record("TOPDM", 0))
    # fields added since the first records are written only where they are set, so an older
    # version still reads the records that do not use them
    line = json.loads((tmp_path / "runs.jsonl").read_text())
    assert not {"in_hand", "turns", "final_pos_error", "final_rot_error"} & set(line)
    assert read_runs(tmp_path) == [_record("TOPDM", 0)]
    full = dataclasses.replace(_record("HER", 2), final_success=None, curve={"steps": [0.0, 80.0],
                               "mean_return": [1.0, None]}, in_hand=0.0, turns=-0.5, final_pos_error=0.02,
                               final_rot_error=0.0)
    assert RunRecord.from_json(json.loads(json.dumps(full.to_json()))) == full  # set, zero and None alike
    newer = {**_record("TOPDM", 1).to_json(), "grasp_quality": 0.5}  # a field a later version keeps
    with (tmp_path / "runs.jsonl").open("a") as f:
        f.write(json.dumps(newer) + "\n")
    with pytest.raises(ResultsError, match=r"runs.jsonl line 2 is not a run record \(fields grasp_quality that this "
                                           r"version of dexterous does not know: a newer version wrote it; upgrade"):
        record_run(tmp_path, _record("MPPI κ=20", 0))  # refused rather than written back without the field
    (tmp_path / "runs.jsonl").write_text('{"task": "dexterous/EggHandOver-v1"\n')
    with pytest.raises(ResultsError, match=r"runs.jsonl line 1 is not a run record"):
        read_runs(tmp_path)


def test_a_claim_held_by_another_process_dies_with_it(tmp_path):
    run = "plans/EggHandOver/topdm/episode_0000.npz"
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time\n"
        "from dexterous.experiments.claims import claim\n"
        f"with claim({str(tmp_path)!r}, {run!r}) as mine:\n"
        "    print(mine, flush=True)\n"
        "    time.sleep(600)\n")], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "True"
        assert is_claimed(tmp_path, run)
        with claim(tmp_path, run) as mine:
            assert not mine
    finally:
        holder.kill()  # SIGKILL: no clean-up runs, its lock file stays behind
        holder.wait()
    deadline = time.monotonic() + 10
    while is_claimed(tmp_path, run) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert (tmp_path / ".claims" / "plans__EggHandOver__topdm__episode_0000.npz.lock").exists()
    with claim(tmp_path, run) as mine:
        assert mine


def _sibling_records(root) -> tuple[RunRecord, RunRecord]:
    """The `planners` folder under root at the smoke budget with records of TOPDM and MPPI κ=20
    on HandManipulateBlockFull, seed 0, and no episode files (as in a fresh clone)."""
    from dexterous.experiments.results import open_figure_dir

    folder = open_figure_dir(root, figure_config("planners", "smoke"))
    records = (dataclasses.replace(_record("TOPDM", 0), ret=10.0, in_hand=75, final_pos_error=0.005,
                                   final_rot_error=0.05, path="plans/HandManipulateBlockFull/topdm/episode_0000.npz"),
               dataclasses.replace(_record("MPPI κ=20", 0), ret=20.0, final_success=0.0,
                                   path="plans/HandManipulateBlockFull/mppi_kappa_20/episode_0000.npz"))
    for record in records:
        record_run(folder, record)
    return records


def test_a_figure_copies_the_record_of_the_same_episode_where_only_the_record_is_at_hand(tmp_path, capsys):
    topdm, mppi = _sibling_records(tmp_path)
    fig2 = figure_config("fig2", "smoke")
    summary = reproduce(fig2, tmp_path, parallel=False, progress=False, tasks=["HandManipulateBlockFull"],
                        methods=["topdm", "mppi_kappa_20"])
    assert summary.runs == 2 and not (summary.folder / "plans").exists()  # nothing planned
    assert sorted(read_runs(summary.folder), key=lambda r: r.method) == [
        dataclasses.replace(mppi, path="plans/HandManipulateBlockFull/mppi_kappa_20/episode_0000.npz"),
        dataclasses.replace(topdm, path="plans/HandManipulateBlockFull/topdm/episode_0000.npz")]
    assert ("HandManipulateBlockFull TOPDM seed 0: the same episode is recorded in planners (its file is not at "
            "hand); recording it here too") in capsys.readouterr().out


def test_a_record_is_copied_only_for_the_same_episode_of_a_sibling_that_today_s_definitions_describe(tmp_path):
    from dexterous.contracts.files import write_atomically
    from dexterous.experiments.results import read_manifest

    _sibling_records(tmp_path)
    fig2 = figure_config("fig2", "smoke")

    def copied() -> dict[str, str | None]:
        pending = pending_runs(fig2, tmp_path, tasks=["HandManipulateBlockFull"],
                               methods=["topdm", "mppi_kappa_1", "mppi_kappa_20"])
        return {p.spec.method.label: p.recorded_in for p in pending}

    assert copied() == {"TOPDM": "planners", "MPPI κ=1": None, "MPPI κ=20": "planners"}  # κ=1: no such episode
    assert "(recorded in planners: its record copied)" in describe_pending(fig2, pending_runs(fig2, tmp_path))
    own = tmp_path / "fig2" / "plans/HandManipulateBlockFull/topdm/episode_0000.npz"
    own.parent.mkdir(parents=True)
    own.write_bytes(b"begun")  # a file of its own (here a damaged one): the run names or resumes it
    assert copied()["TOPDM"] is None
    own.unlink()
    with claim(tmp_path / "fig2", own.relative_to(tmp_path / "fig2").as_posix()) as held:
        assert held and copied()["TOPDM"] is None  # another process is planning it
    manifest = read_manifest(tmp_path / "planners")
    for method in manifest["config"]["methods"]:
        method["kappa"] = 3.0 if method["label"] == "MPPI κ=20" else method["kappa"]  # as if since redefined
    write_atomically(tmp_path / "planners" / "manifest.json", json.dumps(manifest))
    assert copied() == {"TOPDM": None, "MPPI κ=1": None, "MPPI κ=20": None}  # today's configs describe none
