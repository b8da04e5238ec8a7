"""Training runs: seeded determinism, exact resumption, run directories, HER, bad input."""

import dataclasses
import json
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest
from stable_baselines3 import TD3
from stable_baselines3.common.save_util import load_from_pkl
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from dexterous.demos import DemoError, Demonstration, episode_path, write_index
from dexterous.rl import HERConfig, TD3Config, load_policy, read_evaluations, train


def parameters(run_dir) -> dict[str, np.ndarray]:
    """Every tensor of the run's final policy (actor, critics and their targets)."""
    return {k: v.numpy() for k, v in load_policy(run_dir).model.policy.state_dict().items()}


def best_parameters(run_dir) -> dict[str, np.ndarray]:
    """Every tensor of the run's best policy (best/model.zip)."""
    return {k: v.numpy() for k, v in TD3.load(Path(run_dir) / "best" / "model.zip", device="cpu").policy.state_dict().items()}


def same(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> bool:
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


def tensorboard_scalars(run_dir) -> dict[str, list[float]]:
    """Every scalar of the run's TensorBoard event files, by tag."""
    values: dict[str, list[float]] = {}
    for events in sorted((Path(run_dir) / "tb").glob("events.out.tfevents.*")):
        accumulator = EventAccumulator(str(events))
        accumulator.Reload()
        for tag in accumulator.Tags()["scalars"]:
            values.setdefault(tag, []).extend(e.value for e in accumulator.Scalars(tag))
    return values


SB3_TAGS = {"rollout/ep_rew_mean", "rollout/ep_len_mean", "time/fps", "eval/mean_reward"}


def metrics(run_dir) -> list[dict]:
    return [{k: v for k, v in r.items() if k != "time"} for r in read_evaluations(run_dir)]


@pytest.fixture(scope="module")
def runs(tiny, tmp_path_factory):
    """Two uninterrupted seeded runs, and one stopped at 115 steps then resumed to 230."""
    root = tmp_path_factory.mktemp("runs")
    first = train(tiny, root / "a", progress=False)
    train(tiny, root / "b", progress=False)
    train(dataclasses.replace(tiny, steps=115), root / "resumed", progress=False)
    restarts = json.loads((root / "resumed" / "checkpoint" / "state.json").read_text())["restarts"]
    assert restarts["segment_steps"] > 0 and restarts["segments"] > 1  # stopped inside a segment
    with (root / "resumed" / "evaluations.jsonl").open("a") as f:  # as if killed after an evaluation at 230
        f.write(json.dumps({"steps": 230, "mean_return": 0.0}) + "\n")
    resumed = train(tiny, root / "resumed", progress=False)
    return root, first, resumed


def test_two_seeded_runs_are_identical(runs):
    root, first, _ = runs
    assert first.steps == 230 and first.resumed_from == 0
    a, b = parameters(root / "a"), parameters(root / "b")
    assert a.keys() == b.keys() and len(a) == 36  # actor, 2 critics and their targets: 3 layers, weight + bias
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert metrics(root / "a") == metrics(root / "b")


def test_a_resumed_run_makes_the_same_updates_as_an_uninterrupted_one(runs):
    root, _, resumed = runs
    assert resumed.resumed_from == 115 and resumed.steps == 230
    a, r = parameters(root / "a"), parameters(root / "resumed")
    assert all(np.array_equal(a[k], r[k]) for k in a)
    assert metrics(root / "resumed") == metrics(root / "a")  # the stale line after the checkpoint is gone


def test_a_run_asked_to_stop_checkpoints_at_its_next_chunk_and_resumes_exactly(runs, tiny, tmp_path):
    root, _, _ = runs
    train(dataclasses.replace(tiny, steps=115), tmp_path / "run", progress=False)
    stop = threading.Event()
    stop.set()
    stopped = train(tiny, tmp_path / "run", progress=False, stop=stop)
    assert stopped.stopped and stopped.steps == 138  # the next log boundary (3 × 46), inside a demo segment
    assert "rerun the same command to resume" in str(stopped)
    assert json.loads((tmp_path / "run" / "checkpoint" / "state.json").read_text())["steps"] == 138
    finished = train(tiny, tmp_path / "run", progress=False)
    assert finished.resumed_from == 138 and not finished.stopped
    a, r = parameters(root / "a"), parameters(tmp_path / "run")
    assert all(np.array_equal(a[k], r[k]) for k in a)
    assert metrics(tmp_path / "run") == metrics(root / "a")
    assert same(best_parameters(root / "a"), best_parameters(tmp_path / "run"))


def test_the_run_directory_holds_config_evaluations_checkpoint_and_tensorboard(runs, tiny):
    root, first, _ = runs
    run = root / "a"
    assert json.loads((run / "config.json").read_text()) == {**json.loads(json.dumps(dataclasses.asdict(tiny))),
                                                             "algo": "td3"}
    assert [r["steps"] for r in read_evaluations(run)] == [0, 115, 230]
    assert all(len(r["returns"]) == 1 and r["mean_return"] == r["returns"][0] for r in read_evaluations(run))
    assert first.evaluation["steps"] == 230
    files = {p.name for p in (run / "checkpoint").iterdir()}
    assert {"model.zip", "replay.pkl", "normalizer.pkl", "env.npz", "state.json"} <= files
    assert list((run / "tb").glob("events.out.tfevents.*"))
    policy = load_policy(run)
    assert policy.normalizer.obs_rms.count > 230  # the running statistics were saved with the model
    assert policy.normalizer.clip_obs == 5.0


def test_the_best_policy_is_the_first_evaluation_with_the_highest_mean_return_and_survives_a_resume(runs):
    root, _, _ = runs
    evaluations = read_evaluations(root / "a")
    best = max(evaluations, key=lambda r: r["mean_return"])  # max keeps the first of equals
    for run in ("a", "resumed"):
        kept = json.loads((root / run / "best" / "evaluation.json").read_text())
        assert {k: v for k, v in kept.items() if k != "time"} == {k: v for k, v in best.items() if k != "time"}
    a = load_from_pkl(root / "a" / "best" / "normalizer.pkl")
    resumed = load_from_pkl(root / "resumed" / "best" / "normalizer.pkl")
    assert np.array_equal(a.obs_rms.mean, resumed.obs_rms.mean) and a.obs_rms.count == resumed.obs_rms.count
    assert same(best_parameters(root / "a"), best_parameters(root / "resumed"))
    assert same(best_parameters(root / "a"), parameters(root / "a")) == (best["steps"] == 230)


def test_a_best_policy_cut_off_mid_swap_is_found_in_its_previous_folder(tmp_path):
    from dexterous.rl.checkpoints import best_policy

    assert best_policy(tmp_path) is None
    (tmp_path / "best.old").mkdir()
    (tmp_path / "best.old" / "evaluation.json").write_text("{}")
    (tmp_path / "best").mkdir()  # the new one half written: no evaluation.json yet
    assert best_policy(tmp_path) == tmp_path / "best.old"


def test_tensorboard_has_sb3s_standard_tags_beside_ours(runs, tiny):
    root, _, _ = runs
    scalars = tensorboard_scalars(root / "a")
    assert SB3_TAGS | {"eval/mean_return", "time/env_steps_per_s", "restarts/p_demo"} <= scalars.keys()
    assert "rollout/success_rate" not in scalars  # PenSpin has no success to rate
    assert scalars["eval/mean_reward"] == scalars["eval/mean_return"]
    # SB3 sees the demo-restart segments (shorter where the episode ended inside one)
    assert all(0 < length <= tiny.segment_len for length in scalars["rollout/ep_len_mean"])
    assert all(fps > 0 for fps in scalars["time/fps"])


def test_segment_ends_are_truncations_that_the_critic_bootstraps_through(runs):
    root, _, _ = runs
    buffer = load_from_pkl(root / "a" / "checkpoint" / "replay.pkl")
    dones, timeouts = buffer.dones[:buffer.pos, 0], buffer.timeouts[:buffer.pos, 0]
    assert buffer.pos == 230 and dones.sum() >= 230 // 15
    assert np.array_equal(dones, timeouts)  # no terminal mask: every end is a timeout (PenSpin never terminates)
    assert buffer.observations.shape[-1] == 81 and buffer.observations.dtype == np.float32  # obs + a_prev
    assert np.abs(buffer.actions[:buffer.pos]).max() <= 1.0  # the agent's μ, before coupling


def test_a_finished_run_is_not_trained_again_and_other_settings_are_refused(runs, tiny):
    root, _, _ = runs
    again = train(tiny, root / "a", progress=False)
    assert again.resumed_from == 230 and again.learn_seconds == 0.0
    with pytest.raises(ValueError, match=r"holds a run with other settings \(beta differ\); use another --out"):
        train(dataclasses.replace(tiny, beta=0.9), root / "a", progress=False)


def test_a_run_resumed_with_other_checkpoint_and_log_intervals_makes_the_same_updates(runs, tiny, tmp_path):
    root, _, _ = runs
    train(dataclasses.replace(tiny, steps=115), tmp_path / "run", progress=False)
    finished = train(dataclasses.replace(tiny, checkpoint_every=23, log_every=23), tmp_path / "run", progress=False)
    assert finished.resumed_from == 115 and finished.steps == 230
    assert json.loads((tmp_path / "run" / "config.json").read_text())["checkpoint_every"] == 23
    assert same(parameters(root / "a"), parameters(tmp_path / "run"))
    assert metrics(tmp_path / "run") == metrics(root / "a")


def test_a_run_whose_config_predates_a_new_field_resumes_with_that_field_at_its_default(runs, tiny, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(runs[0] / "a", run)
    written = json.loads((run / "config.json").read_text())
    (run / "config.json").write_text(json.dumps({k: v for k, v in written.items() if k != "lost_object"}))
    assert train(tiny, run, progress=False).resumed_from == 230
    with pytest.raises(ValueError, match=r"other settings \(lost_object differ\)"):
        train(dataclasses.replace(tiny, lost_object=True), run, progress=False)


def test_resuming_from_demonstrations_planned_again_is_refused(tmp_path, tiny, demo_folder):
    folder = tmp_path / "demos"
    shutil.copytree(demo_folder, folder)
    config = dataclasses.replace(tiny, demos=str(folder), steps=115)
    train(config, tmp_path / "run", progress=False)
    demo = Demonstration.load(episode_path(folder, 0))
    demo.meta["step_seconds"][0] += 1.0  # planned again: the same settings, another file
    demo.save(episode_path(folder, 0))
    with pytest.raises(ValueError, match=r"was started from other demonstrations than its --demos folder holds "
                                         r"now \(episode_0000\.npz changed\); put those episode files back"):
        train(dataclasses.replace(config, steps=230), tmp_path / "run", progress=False)


@pytest.mark.parametrize("damage, message", [
    (("evaluations.jsonl", "a", "{broken\n"), r"evaluations\.jsonl line 4 is damaged .*; delete that line"),
    (("config.json", "w", "{broken"), r"config\.json is damaged .*; restore it, or train into another --out"),
    (("checkpoint/state.json", "w", "{broken"), r"checkpoint/state\.json is damaged .*; delete the folder .*checkpoint"),
    (("checkpoint/replay.pkl", "w", "broken"), r"checkpoint/replay\.pkl is damaged .*; delete the folder .*checkpoint"),
])
def test_a_damaged_run_file_is_named_with_what_to_do(runs, tiny, tmp_path, damage, message):
    run = tmp_path / "run"
    shutil.copytree(runs[0] / "a", run)
    name, mode, text = damage
    with (run / name).open(mode) as f:
        f.write(text)
    with pytest.raises(ValueError, match=message):
        train(tiny, run, progress=False)


def test_fewer_steps_than_a_run_has_done_are_refused(runs, tiny):
    config = (runs[0] / "a" / "config.json").read_text()
    with pytest.raises(ValueError, match=r"has trained 230 steps already, more than --steps 115: use --steps 230"):
        train(dataclasses.replace(tiny, steps=115), runs[0] / "a", progress=False)
    assert (runs[0] / "a" / "config.json").read_text() == config


def test_config_json_is_written_atomically(runs, tiny, tmp_path, monkeypatch):
    run = tmp_path / "run"
    shutil.copytree(runs[0] / "a", run)
    before = (run / "config.json").read_text()

    def crash_before_the_rename(*args):
        raise OSError("no space left on device")  # the new text went to the temporary file only

    monkeypatch.setattr("dexterous.contracts.files.os.replace", crash_before_the_rename)
    with pytest.raises(OSError, match="no space left"):
        train(dataclasses.replace(tiny, steps=345), run, progress=False)
    assert (run / "config.json").read_text(encoding="utf-8") == before


def test_plain_td3_without_demos_trains(tmp_path, tiny):
    summary = train(dataclasses.replace(tiny, demos=None, steps=100, eval_every=100), tmp_path, progress=False)
    assert summary.steps == 100 and len(read_evaluations(tmp_path)) == 2


def test_her_trains_on_the_sparse_twin_and_is_evaluated_on_the_dense_task(tmp_path):
    config = HERConfig(env_id="HandManipulateBlockFull-v1", variant="new", steps=160, learning_starts=80,
                       batch_size=32, hidden=(16, 16), buffer_size=1000, eval_every=80, eval_episodes=1,
                       checkpoint_every=80, log_every=80)
    summary = train(config, tmp_path, progress=False)
    assert summary.steps == 160
    records = read_evaluations(tmp_path)
    assert [r["steps"] for r in records] == [0, 80, 160]
    assert all(r["success_rate"] in (0.0, 1.0) and r["mean_return"] > 0 for r in records)  # dense returns
    scalars = tensorboard_scalars(tmp_path)
    assert SB3_TAGS | {"rollout/success_rate", "eval/success_rate"} <= scalars.keys()
    assert scalars["rollout/ep_len_mean"][-1] == 75  # the Sparse twin's whole episodes
    policy = load_policy(tmp_path)
    assert policy.recipe.sparse_id == "dexterous/HandManipulateBlockFullSparse-v1"
    assert policy.recipe.env_id == "dexterous/HandManipulateBlockFull-v1"
    assert policy.model.random_action_prob == 0.0
    assert HERConfig().random_action_prob == 0.3
    # the object's play and final pose, as the planners' episodes are reported: of the
    # episode the latest policy plays from the evaluation start
    from dexterous.rl.episodes import EVAL_SEED, run_episode

    env = policy.recipe.make_eval_env()
    episode = run_episode(env, policy, EVAL_SEED, probe=lambda e: e.unwrapped.object_lost_now())
    pos, rot = env.unwrapped.goal_errors()
    last = records[-1]
    assert last["returns"] == [float(episode.rewards.sum())]
    assert last["in_play_steps"] == [75 - sum(episode.probes[1:])] and len(last["turns"]) == 1
    assert (last["final_pos_errors"], last["final_rot_errors"]) == ([pos], [rot])
    assert (last["median_final_pos_error"], last["median_final_rot_error"]) == (pos, rot)
    assert last["success_rate"] == float(pos < 0.01 and rot < 0.1)


def test_her_learns_in_the_baselines_rounds_with_the_targets_moved_once_per_round(tmp_path):
    """75-step episodes end at steps 75 and 150: with updates from step 81 on and rounds of 2
    episodes, the one round comes at step 150: round_batches gradient steps, then one Polyak
    step of the targets from their initial values (SB3 alone would make 3 steps of 1 each)."""
    config = HERConfig(env_id="HandManipulateBlockFull-v1", variant="new", steps=160, learning_starts=80,
                       batch_size=32, hidden=(16, 16), buffer_size=1000, eval_every=80, eval_episodes=1,
                       checkpoint_every=80, log_every=80, round_batches=3)
    train(dataclasses.replace(config, steps=80), tmp_path / "start", progress=False)  # no update before step 81
    train(config, tmp_path / "run", progress=False)
    start, end = parameters(tmp_path / "start"), parameters(tmp_path / "run")
    assert load_policy(tmp_path / "run").model._n_updates == 3
    online = [k for k in end if "_target" not in k and ("actor." in k or "critic." in k) and "features" not in k]
    assert online and all(not np.array_equal(start[k], end[k]) for k in online)
    for name in online:
        target = name.replace("actor.", "actor_target.", 1).replace("critic.", "critic_target.", 1)
        assert np.array_equal(start[target], start[name])
        expected = start[target] * (1 - config.tau) + config.tau * end[name]
        np.testing.assert_allclose(end[target], expected, rtol=0, atol=1e-6)


def test_a_resumed_her_run_makes_its_next_round_as_an_uninterrupted_one(tmp_path):
    """Rounds after every episode, at steps 75 and 150; stopped at step 80, after the first:
    the round counter and the episode count come back with the model (a counter started
    afresh would make a round at step 81 too)."""
    config = HERConfig(env_id="HandManipulateBlockFull-v1", variant="original", steps=160, learning_starts=60,
                       batch_size=32, hidden=(16, 16), buffer_size=1000, eval_every=80, eval_episodes=1,
                       checkpoint_every=80, log_every=80, round_episodes=1, round_batches=3)
    train(config, tmp_path / "whole", progress=False)
    train(dataclasses.replace(config, steps=80), tmp_path / "parts", progress=False)
    train(config, tmp_path / "parts", progress=False)
    assert same(parameters(tmp_path / "whole"), parameters(tmp_path / "parts"))
    assert load_policy(tmp_path / "parts").model._n_updates == 6


def test_her_needs_a_goal_task_with_a_sparse_twin(tmp_path):
    with pytest.raises(ValueError, match="dexterous/PenSpin-v1 has no dense/Sparse twin.*HandManipulateBlockFull-v1"):
        train(HERConfig(env_id="PenSpin-v1", steps=10), tmp_path, progress=False)


def test_a_missing_demo_folder_is_named(tmp_path, tiny):
    with pytest.raises(DemoError, match=f"demonstration folder {tmp_path / 'nope'} does not exist"):
        train(dataclasses.replace(tiny, demos=str(tmp_path / "nope")), tmp_path / "run", progress=False)


def test_a_corrupt_demo_folder_is_named(tmp_path, tiny, demo_folder):
    folder = tmp_path / "demos"
    shutil.copytree(demo_folder, folder)
    path = episode_path(folder, 0)
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(DemoError, match="episode_0000.npz is truncated or corrupted"):
        train(dataclasses.replace(tiny, demos=str(folder)), tmp_path / "run", progress=False)
    (folder / "index.json").unlink()
    with pytest.raises(DemoError, match="has no index.json: it is not a demonstration folder"):
        train(dataclasses.replace(tiny, demos=str(folder)), tmp_path / "run", progress=False)


def test_demos_recorded_on_another_env_are_refused(tmp_path, tiny, demo_folder):
    demo = Demonstration.load(episode_path(demo_folder, 0))
    demo.env_id = "dexterous/HandManipulatePenFull-v1"
    folder = tmp_path / "demos"
    folder.mkdir()
    demo.save(episode_path(folder, 0))
    write_index(folder)
    with pytest.raises(DemoError, match=r"holds demonstrations of \['dexterous/HandManipulatePenFull-v1'\], "
                                        "not only dexterous/PenSpin-v1"):
        train(dataclasses.replace(tiny, demos=str(folder)), tmp_path / "run", progress=False)


@pytest.mark.parametrize(("field", "value", "message"), [
    ("steps", 0, "steps must be an integer ≥ 1, got 0"),
    ("batch_size", 32.0, "batch_size must be an integer ≥ 1, got 32.0"),
    ("gamma", 1.5, r"gamma must be a number in \[0, 1\], got 1.5"),
    ("p_demo", 0.9, r"p_demo \+ p_reset must be ≤ 1, got 0.9 \+ 0.2"),
    ("hidden", (), "hidden must be a non-empty tuple of layer sizes"),
    ("learning_rate", 0.0, "learning_rate must be a number > 0, got 0.0"),
])
def test_config_errors_name_the_field(field, value, message):
    with pytest.raises(ValueError, match=message):
        TD3Config(**{field: value})


def test_env_ids_are_stored_with_their_namespace():
    assert TD3Config(env_id="PenSpin-v1") == TD3Config()
    with pytest.raises(ValueError, match="variant must be one of"):
        HERConfig(variant="newest")
