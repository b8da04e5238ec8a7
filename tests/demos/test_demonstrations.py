"""Demonstrations: planning records the truth, files round-trip, replays are exact, damage is named."""

import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import dexterous
from dexterous.demos import DemoError, Demonstration, episode_path, load_folder, read_index, replay, write_index
from dexterous.mpc.driver import plan_episode
from dexterous.cli import main
from dexterous.mpc.runner import PlanRun, run_plan, threads_per_episode
from dexterous.planning import preset

ENV = "dexterous/HandManipulateBlockFull-v1"


@pytest.fixture(scope="module")
def smoke_demo(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "episode_0000.npz"
    plan_episode(ENV, preset("smoke", ENV), seed=3, path=path, nthread=1)
    return path


def test_executed_reward_equals_the_plans_predicted_first_reward():
    """One reward function and exact snapshots: the plan's first step is what the env pays."""
    from dexterous.planning import Planner
    from dexterous.sim.batch import BatchEvaluator

    env = dexterous.make(ENV)
    env.reset(seed=1)
    planner = Planner(preset("smoke", ENV))
    planner.reset(np.random.default_rng(0))
    evaluator = BatchEvaluator(env, nthread=1)
    for t in range(6):
        plan = planner.plan(evaluator, env.unwrapped.snapshot(), t, env.unwrapped.prev_action)
        _, reward, _, _, info = env.step(plan.action)
        assert reward == plan.predicted_rewards[0]
        assert info["is_success"] == plan.predicted_successes[0]


@pytest.mark.parametrize("env_id, fields", [(ENV, ["best", "success_steps", "env_steps_s"]),
                                             ("dexterous/PenSpin-v1", ["best", "env_steps_s"])])
def test_progress_counts_successful_steps_only_where_the_task_has_success(tmp_path, env_id, fields):
    class FirstStep(Exception):
        pass

    def stop_after_one(report):
        raise FirstStep(report)

    with pytest.raises(FirstStep) as first:
        plan_episode(env_id, preset("smoke", env_id), seed=0, path=tmp_path / "episode_0000.npz", nthread=1,
                     progress=stop_after_one)
    report = first.value.args[0]
    assert list(report.postfix()) == fields
    assert report.postfix()["best"] == f"{report.plan.score:.2f}"


def test_demonstration_round_trips_and_replays_exactly(smoke_demo):
    demo = Demonstration.load(smoke_demo)
    assert demo.complete and demo.num_steps == 75
    assert demo.env_id == ENV and demo.seed == 3
    assert np.array(demo.means).shape == (75, 5, 20)
    assert demo.meta["versions"]["mujoco"] == "4.0.0"
    assert len(demo.meta["step_seconds"]) == 75
    assert replay(demo).exact
    assert replay(demo, start=40).exact


def test_a_tampered_action_breaks_the_replay(smoke_demo):
    demo = Demonstration.load(smoke_demo)
    demo.actions[10] = demo.actions[10] + 0.05
    report = replay(demo)
    assert not report.exact and report.first_mismatch == 10


def test_any_step_restores_exactly(smoke_demo):
    demo = Demonstration.load(smoke_demo)
    env = dexterous.make(ENV)
    env.reset(seed=0)
    for k in (0, 1, 37, 74):
        env.unwrapped.restore(demo.snapshot(k))
        _, reward, *_ = env.step(demo.actions[k])
        assert reward == demo.rewards[k]
    with pytest.raises(IndexError, match="step 76 is outside this demonstration's 0..75"):
        demo.snapshot(76)


@pytest.mark.parametrize("damage", ["truncate", "garbage"])
def test_damaged_demonstration_file_is_named(smoke_demo, tmp_path, damage):
    data = smoke_demo.read_bytes()
    bad = tmp_path / "episode_0007.npz"
    bad.write_bytes(data[: len(data) // 3] if damage == "truncate" else b"junk" * 100)
    with pytest.raises(DemoError, match=r"episode_0007\.npz is truncated or corrupted"):
        Demonstration.load(bad)


def test_inconsistent_demonstration_is_named(smoke_demo, tmp_path):
    demo = Demonstration.load(smoke_demo)
    demo.rewards.pop()
    path = demo.save(tmp_path / "short.npz")
    with pytest.raises(DemoError, match=r"short\.npz is inconsistent: 75 actions"):
        Demonstration.load(path)


def test_folder_index_and_filters(smoke_demo, tmp_path):
    folder = tmp_path / "demos"
    folder.mkdir()
    (folder / "episode_0000.npz").write_bytes(smoke_demo.read_bytes())
    with pytest.raises(DemoError, match="has no index.json"):
        read_index(folder)
    write_index(folder)
    entries = read_index(folder)
    assert entries[0]["file"] == "episode_0000.npz" and entries[0]["steps"] == 75 and entries[0]["complete"]
    assert len(load_folder(folder, env_id=ENV, complete_only=True)) == 1
    with pytest.raises(DemoError, match="holds demonstrations of \\['dexterous/HandManipulateBlockFull-v1'\\], not only dexterous/PenSpin-v1"):
        load_folder(folder, env_id="dexterous/PenSpin-v1")
    with pytest.raises(DemoError, match="does not exist"):
        load_folder(tmp_path / "missing")
    (folder / "index.json").write_text("{broken")
    with pytest.raises(DemoError, match="index.json is corrupted"):
        read_index(folder)


def test_resuming_with_other_settings_is_refused(smoke_demo, tmp_path):
    path = tmp_path / "episode_0000.npz"
    path.write_bytes(smoke_demo.read_bytes())
    with pytest.raises(DemoError, match=r"started with other settings \(seed=3\)"):
        plan_episode(ENV, preset("smoke", ENV), seed=4, path=path)


@pytest.mark.parametrize("run, stranger", [
    (PlanRun(ENV, preset="smoke", seed=0), "seed=3"),  # another seed's episode renamed episode 0
    (PlanRun(ENV, planner="mppi", kappa=1.0, preset="smoke", seed=3), "planner='topdm'"),
])
def test_a_finished_episode_of_another_run_is_refused_not_reported(smoke_demo, tmp_path, run, stranger):
    (tmp_path / "episode_0000.npz").write_bytes(smoke_demo.read_bytes())
    with pytest.raises(DemoError, match=rf"episode_0000\.npz was started with other settings \({stranger}"):
        run_plan(run, tmp_path, use_ray=False, progress=False)
    assert not (tmp_path / "plan.json").exists()


def test_a_finished_episode_of_the_same_run_is_reused(smoke_demo, tmp_path):
    (tmp_path / "episode_0000.npz").write_bytes(smoke_demo.read_bytes())
    summary = run_plan(PlanRun(ENV, preset="smoke", seed=3), tmp_path, use_ray=False, progress=False)
    assert summary.mean_return == float(np.sum(Demonstration.load(smoke_demo).rewards))


def test_plan_resumes_after_being_killed_and_matches_an_uninterrupted_run(tmp_path):
    env_id = "dexterous/HandManipulatePenFull-v1"
    args = [sys.executable, "-m", "dexterous.cli", "plan", env_id, "--preset", "smoke", "--no-ray",
            "--threads", "1", "--seed", "5", "--steps", "30"]
    killed = tmp_path / "killed"
    proc = subprocess.Popen([*args, "--out", str(killed)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    episode = episode_path(killed, 0)
    deadline = time.time() + 120
    while time.time() < deadline:
        if episode.exists() and 5 <= Demonstration.load(episode).num_steps:
            break
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    interrupted = Demonstration.load(episode)
    partial = interrupted.num_steps
    assert 5 <= partial < 30, "the run was not interrupted mid-episode"
    run = PlanRun(env_id, preset="smoke", seed=5, threads=1, steps=30)
    resumed = run_plan(run, killed, use_ray=False, progress=False)
    straight = run_plan(run, tmp_path / "straight", use_ray=False, progress=False)
    a, b = Demonstration.load(episode), Demonstration.load(episode_path(tmp_path / "straight", 0))
    assert a.complete and b.complete and a.num_steps == 30
    for field in ("states", "observations", "actions", "means", "rewards", "successes", "predicted_returns"):
        assert np.array_equal(np.array(getattr(a, field)), np.array(getattr(b, field))), field
    assert resumed.mean_return == straight.mean_return
    # the steps done before the kill were kept, not planned again (their timings would differ)
    assert a.meta["step_seconds"][:partial] == interrupted.meta["step_seconds"]
    assert json.loads((killed / "plan.json").read_text())["env_id"] == env_id


def test_a_plan_run_of_fewer_steps_plans_whole_episodes_of_that_length(tmp_path):
    run = PlanRun(ENV, preset="smoke", threads=1, steps=4)
    summary = run_plan(run, tmp_path, use_ray=False, progress=False)
    (demo,) = load_folder(tmp_path)
    assert demo.complete and demo.num_steps == 4 and demo.meta["config"]["episode_length"] == 4
    assert "steps" not in json.loads((tmp_path / "plan.json").read_text())  # the config's episode_length says it
    assert run_plan(run, tmp_path, use_ray=False, progress=False).mean_return == summary.mean_return  # resumed
    with pytest.raises(DemoError, match=r"other settings \(config differ"):
        run_plan(PlanRun(ENV, preset="smoke", threads=1, steps=5), tmp_path, use_ray=False, progress=False)


def test_plan_run_validates_its_settings():
    with pytest.raises(ValueError, match="planner must be one of"):
        PlanRun(ENV, planner="cem")
    with pytest.raises(ValueError, match="episodes must be an integer ≥ 1, got 0"):
        PlanRun(ENV, episodes=0)
    with pytest.raises(ValueError, match="--kappa applies to --planner mppi only"):
        PlanRun(ENV, kappa=1.0)


def test_plan_refuses_a_folder_of_another_run(smoke_demo, tmp_path):
    (tmp_path / "episode_0000.npz").write_bytes(smoke_demo.read_bytes())  # finished: the run plans nothing
    run_plan(PlanRun(ENV, preset="smoke", seed=3, threads=1), tmp_path, use_ray=False, progress=False)
    with pytest.raises(DemoError, match=r"holds a plan run with other settings \(config, planner differ\)"):
        run_plan(PlanRun(ENV, planner="mppi", preset="smoke", seed=3, threads=1), tmp_path, use_ray=False,
                 progress=False)


def test_a_sparse_twin_is_refused_with_its_dense_twin_named(tmp_path, capsys):
    with pytest.raises(ValueError, match=r"EggHandOverSparse-v1 pays a sparse reward, .* plan dexterous/EggHandOver-v1"):
        plan_episode("dexterous/EggHandOverSparse-v1", preset("smoke", ENV), seed=0, path=tmp_path / "e.npz")
    assert main(["plan", "HandManipulateBlockFullSparse-v1", "--preset", "smoke", "--out", str(tmp_path)]) == 2
    assert "plan dexterous/HandManipulateBlockFull-v1 instead" in capsys.readouterr().err


@pytest.mark.parametrize("args, message", [
    (["NoSuchEnv-v1"], "unknown environment id 'dexterous/NoSuchEnv-v1'"),
    ([ENV, "--planner", "mppi", "--kappa", "-1"], r"kappa must be a finite number > 0, got -1.0"),
    ([ENV, "--seed", "-5"], r"seed must be an integer ≥ 0, got -5"),
    ([ENV, "--steps", "76"], r"--steps 76 is more than the 75 steps of an episode of dexterous/HandManipulateBlockFull"),
    (["HandManipulateBlockFullSparse-v1"], "pays a sparse reward"),
])
def test_a_refused_plan_leaves_no_out_folder(tmp_path, capsys, args, message):
    out = tmp_path / "out"
    assert main(["plan", *args, "--preset", "smoke", "--no-ray", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert re.search(message, err) and "Traceback" not in err
    assert not out.exists()


def test_a_demonstration_missing_meta_is_named(smoke_demo, tmp_path):
    with np.load(smoke_demo) as data:
        arrays = dict(data)
    meta = json.loads(str(arrays["meta"]))
    del meta["planner_rng"], meta["config"]
    arrays["meta"] = np.array(json.dumps(meta))
    np.savez(tmp_path / "episode_0000.npz", **arrays)
    with pytest.raises(DemoError, match=r"episode_0000\.npz is inconsistent: its meta lacks config, planner_rng"):
        Demonstration.load(tmp_path / "episode_0000.npz")


def test_a_snapshot_file_is_named_as_a_snapshot_not_a_demonstration(smoke_demo, tmp_path):
    Demonstration.load(smoke_demo).snapshot(0).save(tmp_path / "start.npz")
    with pytest.raises(DemoError, match=r"start\.npz is a snapshot .*Snapshot\.load"):
        Demonstration.load(tmp_path / "start.npz")


def test_a_corrupted_run_file_is_named(tmp_path):
    (tmp_path / "plan.json").write_text("{broken")
    with pytest.raises(DemoError, match=r"plan\.json is damaged .*delete it"):
        run_plan(PlanRun(ENV, preset="smoke", threads=1), tmp_path, use_ray=False, progress=False)


def test_an_interrupted_plan_leaves_an_index_of_its_finished_episodes(tmp_path, monkeypatch):
    import dexterous.mpc.runner as runner

    def plan_then_stop(env_id, config, seed, path, **kwargs):
        if seed == 1:
            raise KeyboardInterrupt
        return plan_episode(env_id, config, seed, path, **kwargs)

    monkeypatch.setattr(runner, "plan_episode", plan_then_stop)
    with pytest.raises(KeyboardInterrupt):
        run_plan(PlanRun(ENV, preset="smoke", episodes=2, threads=1, steps=5), tmp_path, use_ray=False,
                 progress=False)
    assert [(e["file"], e["complete"]) for e in read_index(tmp_path)] == [("episode_0000.npz", True)]


@pytest.mark.parametrize("requested, episodes, cluster, node, threads", [
    (0, 2, 16, 16, 8),   # the cores shared out
    (0, 40, 16, 16, 1),  # at least one each
    (0, 1, 64, 16, 16),  # never more than a node has
    (3, 1, 16, 16, 3),   # as asked
])
def test_ray_episodes_share_the_cores(requested, episodes, cluster, node, threads):
    assert threads_per_episode(requested, episodes, cluster, node) == threads


def test_more_threads_than_a_node_has_is_refused():
    with pytest.raises(ValueError, match="--threads 32 is more than the largest Ray node's 16 CPUs"):
        threads_per_episode(32, 1, 64, 16)


def test_a_topdm_plus_episode_resumes_exactly(tmp_path):
    """TOPDM+'s elite memory and early-out keep no state across real steps beyond the plan."""
    config = preset("smoke", "dexterous/PenSpin-v1", "topdm+")
    pieces, straight = tmp_path / "pieces.npz", tmp_path / "straight.npz"
    for stop in (3, 7, 10):
        plan_episode("dexterous/PenSpin-v1", config, 2, pieces, planner_name="topdm+", nthread=1, max_steps=stop)
    plan_episode("dexterous/PenSpin-v1", config, 2, straight, planner_name="topdm+", nthread=1, max_steps=10)
    a, b = Demonstration.load(pieces), Demonstration.load(straight)
    assert a.num_steps == b.num_steps == 10 and a.meta["env_steps"] == b.meta["env_steps"]
    for field in ("states", "actions", "means", "rewards", "predicted_returns"):
        assert np.array_equal(np.array(getattr(a, field)), np.array(getattr(b, field))), field


def test_an_episode_keeps_the_processor_kinds_that_planned_it(tmp_path, monkeypatch):
    """Planning is deterministic on one kind of processor only, so a resumed episode says
    which kinds planned its steps; one that predates the list does not invent its start's."""
    import dexterous.mpc.driver as driver

    config = preset("smoke", ENV)
    path, older = tmp_path / "episode.npz", tmp_path / "older.npz"
    plan_episode(ENV, config, 0, path, nthread=1, max_steps=2)
    here = driver.processor_kind()
    assert Demonstration.load(path).meta["processor_kinds"] == [here]
    plan_episode(ENV, config, 0, path, nthread=1, max_steps=3)  # resumed on the same kind: named once
    assert Demonstration.load(path).meta["processor_kinds"] == [here]
    monkeypatch.setattr(driver, "processor_kind", lambda: "AMD EPYC 7B13 64-Core Processor, numpy X86_V3")
    plan_episode(ENV, config, 0, path, nthread=1, max_steps=4)
    assert Demonstration.load(path).meta["processor_kinds"] == [here, "AMD EPYC 7B13 64-Core Processor, numpy X86_V3"]
    demo = Demonstration.load(path)
    del demo.meta["processor_kinds"]  # as a file written before the list was kept
    demo.save(older)
    plan_episode(ENV, config, 0, older, nthread=1, max_steps=5)
    assert "processor_kinds" not in Demonstration.load(older).meta


def test_a_plan_run_reads_each_new_episode_file_once(tmp_path, monkeypatch):
    from dexterous.demos.format import SUMMARY_FIELDS

    loads = []
    original = Demonstration.load.__func__
    monkeypatch.setattr(Demonstration, "load", classmethod(lambda cls, path: loads.append(path) or original(cls, path)))
    summary = run_plan(PlanRun(ENV, preset="smoke", episodes=2, threads=1, steps=5), tmp_path, use_ray=False,
                       progress=False)
    assert sorted(p.name for p in loads) == ["episode_0000.npz", "episode_0001.npz"]  # indexing, once each
    entries = read_index(tmp_path)
    assert [set(e) - {"file"} for e in entries] == [set(SUMMARY_FIELDS)] * 2
    assert summary.env_steps == sum(e["env_steps"] for e in entries) > 0


def test_a_run_recorded_before_the_newer_planner_switches_still_resumes(smoke_demo, tmp_path):
    """Switches added to TOPDMConfig are off by default, which is what an older version ran."""
    demo = Demonstration.load(smoke_demo)
    newer = ("keep_plan", "elite_memory", "plan_to_end", "rescue_iterations")
    demo.meta["config"] = {k: v for k, v in demo.meta["config"].items() if k not in newer}
    demo.save(tmp_path / "episode_0000.npz")
    run = PlanRun(ENV, preset="smoke", seed=3, threads=1)
    summary = run_plan(run, tmp_path, use_ray=False, progress=False)  # reused, not refused
    assert summary.mean_return == float(np.sum(demo.rewards))
    plan = json.loads((tmp_path / "plan.json").read_text())
    plan["config"] = {k: v for k, v in plan["config"].items() if k not in newer}
    (tmp_path / "plan.json").write_text(json.dumps(plan))
    assert run_plan(run, tmp_path, use_ray=False, progress=False).mean_return == summary.mean_return
