"""The policy shipped in data/policies/pen_spin: it loads from a fresh clone without training,
and it acts as the evaluation that chose it says."""

import json
from pathlib import Path

import pytest
import torch as th

from dexterous.rl import evaluate_run, load_policy
from dexterous.rl.episodes import run_episode
from dexterous.rl.episodes import EVAL_SEED

SHIPPED = Path(__file__).parents[2] / "data" / "policies" / "pen_spin"


@pytest.fixture
def one_torch_thread():
    """Training evaluated with one torch thread; another count may sum in another order."""
    before = th.get_num_threads()
    th.set_num_threads(1)
    yield
    th.set_num_threads(before)


CROSS_CPU_RELATIVE = 1e-6
"""How closely another CPU replays the evaluation's return. torch's float32 kernels (MKL,
oneDNN, ATen) are chosen per instruction set and round differently: the evaluation ran on
an AMD EPYC (AVX2); on an Intel Xeon (AVX-512) its first episode returns 44.6674221 where it
recorded 44.6674244 (5e-8 relative; MKL_CBWR's AVX2 and COMPATIBLE paths: 6e-8 and 2e-8).
Another checkpoint differs by the spread between episodes (43.3 to 46.5), 1e-2 and more."""


def test_the_shipped_pen_spin_policy_plays_the_first_episode_of_its_evaluation_again(one_torch_thread):
    provenance = json.loads((SHIPPED / "policy.json").read_text())
    policy = load_policy(SHIPPED)
    assert policy.config.env_id == "dexterous/PenSpin-v1" and provenance["chosen"] == "best"
    assert policy.model.num_timesteps == provenance["steps"] == provenance["evaluation"]["steps"]
    episode = run_episode(policy.recipe.make_eval_env(), policy, EVAL_SEED)
    again = run_episode(policy.recipe.make_eval_env(), policy, EVAL_SEED)
    assert episode.rewards.tobytes() == again.rewards.tobytes()  # on one machine, bit for bit
    recorded = provenance["evaluation"]["returns"]
    assert float(episode.rewards.sum()) == pytest.approx(recorded[0], rel=CROSS_CPU_RELATIVE)
    assert min(abs(r - recorded[0]) for r in recorded[1:]) > 100 * CROSS_CPU_RELATIVE * recorded[0]


def test_the_shipped_policy_is_evaluated_past_its_episode(one_torch_thread):
    report = evaluate_run(SHIPPED, episodes=1, steps=260, progress=False)
    (episode,) = report.episodes
    assert len(episode.window_returns) == 2 and len(episode.window_in_hand) == 2


def test_the_shipped_policy_is_evaluated_from_any_directory_without_its_demonstrations(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # its config names its run's --demos folder, relative to the repository
    report = evaluate_run(SHIPPED, episodes=1, steps=5, progress=False)
    assert report.steps == 5 and report.episodes[0].window_in_hand == [5]
