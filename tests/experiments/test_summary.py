"""Summaries computed from known run records."""

from __future__ import annotations

import dataclasses
import json

import pytest

from dexterous.experiments.configs import figure_config
from dexterous.experiments.results import ResultsError, RunRecord
from dexterous.experiments.configs import task_name
from dexterous.experiments.summary import (PaperLevel, PooledPairing, figure_from_json, load_summary, pairings,
                                           paper_level, pooled_pairing, sign_test_p, summarize, wilson_interval)

BLOCK = "dexterous/HandManipulateBlockFull-v1"


def test_planned_episodes_give_success_rate_and_return_range(results):
    _, summary = load_summary(results / "fig2")
    cell = summary.cell(BLOCK, "TOPDM")
    assert (cell.finished, cell.planned) == (3, 3)
    assert cell.success == pytest.approx(2 / 3)
    assert (cell.mean_return, cell.min_return, cell.max_return) == (3.0, 1.0, 6.0)
    assert cell.curves == {}
    assert cell.paper == "≈100% success"


def test_training_curves_are_median_and_min_max_over_seeds(results):
    _, summary = load_summary(results / "fig2")
    cell = summary.cell(BLOCK, "HER new")
    band = cell.curves["mean_return"]
    assert band.steps == (0.0, 60.0, 120.0)
    assert band.median == (0.0, 2.0, 4.0)
    assert (band.low, band.high) == ((0.0, 1.0, 2.0), (0.0, 3.0, 9.0))
    assert cell.curves["success_rate"].median == (0.0, 0.5, 0.0)
    assert cell.success == pytest.approx(1 / 3)


def test_a_method_without_finished_runs_shows_as_0_of_k(results):
    _, summary = load_summary(results / "fig2")
    cell = summary.cell("dexterous/HandManipulatePenFull-v1", "MPPI κ=1")
    assert (cell.finished, cell.planned, cell.success, cell.mean_return) == (0, 3, None, None)
    assert (summary.finished, summary.planned) == (6, 2 * 5 * 3)


def test_td3_on_pen_spin_has_no_success(results):
    _, summary = load_summary(results / "fig5")
    assert summary.cell("dexterous/PenSpin-v1", "TD3").success is None
    assert "success_rate" not in summary.cell("dexterous/PenSpin-v1", "TD3").curves


def test_hidden_methods_are_left_out_but_their_cost_is_counted(results):
    _, summary = load_summary(results / "appB")
    assert [c.method.label for c in summary.cells] == ["TD3 + demos β=0.7", "TD3 + demos β=1.0"]
    assert summary.env_steps == 3 * 1000 + 6 * 120


def test_a_record_outside_the_figure_is_refused():
    figure = figure_config("fig5", "smoke")
    stray = RunRecord("dexterous/PenSpin-v1", "HER", 0, "her", 0.0, None, 1, 1.0, "x")
    with pytest.raises(ResultsError, match="HER"):
        summarize(figure, [stray])


def test_the_manifest_config_reads_back_as_the_figure_config():
    figure = figure_config("appB", "smoke", seeds=3)
    assert figure_from_json(json.loads(json.dumps(figure.to_json()))) == figure


def test_task_name_drops_namespace_and_version():
    assert task_name("dexterous/PenSpin-v1") == "PenSpin"


@pytest.mark.parametrize("successes, n, low, high", [
    (3, 3, 0.4385, 1.0), (0, 5, 0.0, 0.4345), (3, 5, 0.2307, 0.8824), (9, 10, 0.5958, 0.9821)])
def test_wilson_interval_matches_its_closed_form(successes, n, low, high):
    assert wilson_interval(successes, n) == pytest.approx((low, high), abs=1e-4)


@pytest.mark.parametrize("successes, n", [(1, 0), (4, 3), (-1, 3)])
def test_wilson_interval_refuses_impossible_counts(successes, n):
    with pytest.raises(ValueError, match="need 0 ≤ successes ≤ n and n ≥ 1"):
        wilson_interval(successes, n)


def test_a_cell_counts_its_successes_and_their_interval(results):
    _, summary = load_summary(results / "fig2")
    cell = summary.cell(BLOCK, "TOPDM")
    assert cell.successes == 2 and cell.success_interval == wilson_interval(2, 3)
    assert summary.cell(BLOCK, "HER new").successes == 1


def test_a_trained_cell_counts_its_successes_over_its_evaluation_episodes():
    """A trained run's final_success is its last evaluation's rate: at the cpu budget 10
    episodes each, so rates 0.4 and 0.1 are 5 successes of 20 episodes, not 0 of 2 runs."""
    figure = figure_config("fig2", "cpu")
    her = [RunRecord(BLOCK, "HER new", seed, "her", 1.0, rate, env_steps=100, wall_s=1.0, path=f"train/{seed}")
           for seed, rate in ((0, 0.4), (1, 0.1))]
    cell = summarize(figure, her).cell(BLOCK, "HER new")
    assert (cell.successes, cell.trials, cell.success) == (5, 20, 0.25)
    assert cell.success_interval == wilson_interval(5, 20)
    assert cell.success_count() == "5/20 evaluation episodes"


@pytest.mark.parametrize("text, metric, level", [
    ("≈83% success", "final_success", PaperLevel(83.0, "about")),
    ("≤15% success", "final_success", PaperLevel(15.0, "at most")),
    ("≈60% success at step 50", "final_success", PaperLevel(60.0, "about")),
    ("return > 15,000 over 1000 steps (> 15 per step)", "return", PaperLevel(15000.0, "above")),
    ("return > 15,000 over 1000 steps (> 15 per step)", "final_success", None),  # no success in it
    ("≈100% success", "return", None),
    ("reasonable attempts, lacks precision", "final_success", None),  # words only
    (None, "final_success", None)])
def test_the_papers_number_is_read_from_the_text_the_report_quotes(text, metric, level):
    assert paper_level(text, metric) == level


def test_topdm_plus_is_paired_with_paper_topdm_beside_a_trained_method():
    """fig3 also has HER new, a trained method (whose planner field is unused): TOPDM+ still
    has one paper-TOPDM twin per task."""
    egg = "dexterous/EggHandOver-v1"
    records = [RunRecord(egg, label, 0, kind, ret, success, env_steps=100, wall_s=1.0, path=f"{kind}/{label}")
               for label, kind, ret, success in (("TOPDM", "plan", 10.0, 0.0), ("TOPDM+", "plan", 12.5, 1.0),
                                                 ("HER new", "her", 0.1, 0.0))]
    (pair,) = [p for p in pairings(summarize(figure_config("fig3", "cpu"), records)) if p.task == egg]
    assert (pair.paper.method.label, pair.seeds, pair.return_differences, pair.successes) == ("TOPDM", (0,), (2.5,), (1, 0))


@pytest.mark.parametrize("wins, losses, p", [
    (3, 0, 0.25), (0, 3, 0.25), (14, 1, 2 * 16 / 2 ** 15), (8, 3, 2 * (1 + 11 + 55 + 165) / 2 ** 11),
    (1, 1, 1.0), (0, 0, 1.0)])
def test_sign_test_p_is_the_exact_two_sided_binomial_tail(wins, losses, p):
    assert sign_test_p(wins, losses) == pytest.approx(p, rel=1e-12)


def test_sign_test_refuses_negative_counts():
    with pytest.raises(ValueError, match="need wins and losses ≥ 0, got -1 and 2"):
        sign_test_p(-1, 2)


def test_pairings_pool_the_seeds_that_tell_the_planners_apart_over_all_tasks():
    """A seed both solve, or neither, says nothing of which planner is better: only the seeds
    one alone solved count, and only strictly higher returns."""
    egg, block, pen = "dexterous/EggHandOver-v1", "dexterous/BlockHandOver-v1", "dexterous/PenHandOver-v1"
    outcomes = {  # (task, seed): (TOPDM return, success), (TOPDM+ return, success)
        (egg, 0): ((10.0, 1.0), (12.0, 1.0)), (egg, 1): ((9.0, 0.0), (11.0, 1.0)),
        (block, 0): ((8.0, 0.0), (8.0, 0.0)), (pen, 0): ((7.0, 1.0), (5.0, 0.0)), (pen, 1): ((3.0, 0.0), (6.0, 1.0))}
    records = [RunRecord(task, label, seed, "plan", ret, success, env_steps=100, wall_s=1.0,
                         path=f"{task}/{label}/{seed}")
               for (task, seed), runs in outcomes.items() for label, (ret, success) in zip(("TOPDM", "TOPDM+"), runs)]
    found = pairings(summarize(figure_config("fig3", "cpu"), records))
    assert {p.task: p.successes_alone for p in found if p.seeds} == {egg: (1, 0), block: (0, 0), pen: (1, 1)}
    assert pooled_pairing(found) == PooledPairing(seeds=5, successes_alone=(2, 1), success_p=sign_test_p(2, 1),
                                                  returns_higher=(3, 1), return_p=sign_test_p(3, 1))
    assert pooled_pairing([p for p in found if p.task == "nothing"]) is None


def test_pooled_pairings_without_a_goal_task_have_no_success_count():
    spin = "dexterous/PenSpin-v1"
    records = [RunRecord(spin, label, 0, "plan", ret, None, env_steps=100, wall_s=1.0, path=label)
               for label, ret in (("TOPDM", 40.0), ("TOPDM+", 130.0))]
    pooled = pooled_pairing(pairings(summarize(figure_config("fig5", "cpu"), records)))
    assert (pooled.successes_alone, pooled.success_p, pooled.returns_higher) == (None, None, (1, 0))


@pytest.mark.parametrize("successes, trials, paper, verdict", [
    (3, 3, "≈100% success at step 50", "consistent"),  # 44–100% holds 100
    (2, 3, "≈100% success", "below"),  # 21–94%
    (0, 3, "≈80% success at step 50", "below"),  # 0–56%
    (2, 5, "≈60% success", "consistent"),  # 12–77%
    (5, 5, "≈0% success", "above"),  # 57–100%
    (1, 5, "≤15% success", "consistent"),  # 4–62%: not all of it above the bound
    (5, 5, "≤15% success", "above"),
    (0, 3, "reasonable attempts, lacks precision", None),  # words only
    (None, None, "≈100% success", None)])  # nothing finished
def test_a_cell_is_set_against_the_papers_success_by_its_interval(successes, trials, paper, verdict):
    block = "dexterous/HandManipulateBlockFull-v1"
    cell = summarize(figure_config("fig2", "cpu"), []).cell(block, "TOPDM")
    assert dataclasses.replace(cell, successes=successes, trials=trials, paper=paper).against_paper == verdict


def test_a_planned_cell_knows_its_share_of_the_papers_env_steps_per_real_step():
    """SPEC §4: the two-hand tasks N 1000 × Ni 20 (TwoEggCatchUnderArm N 2000 × Ni 80), τ 20,
    Ni(t) on the decreasing schedule over the 50 steps fig3 plans."""
    from dexterous.experiments.runs import RunSpec, paper_env_steps_per_step
    from dexterous.planning.schedule import decreasing_iterations

    fig3 = figure_config("fig3", "cpu")
    egg, two = "dexterous/EggHandOver-v1", "dexterous/TwoEggCatchUnderArm-v1"
    topdm = next(m for m in fig3.methods if m.label == "TOPDM")
    assert paper_env_steps_per_step(fig3, RunSpec(egg, topdm, 0)) == sum(
        decreasing_iterations(t, 20, 50) for t in range(50)) * 1000 * 20 / 50 == 404_000
    assert paper_env_steps_per_step(fig3, RunSpec(two, topdm, 0)) == sum(
        decreasing_iterations(t, 80, 50) for t in range(50)) * 2000 * 20 / 50
    record = RunRecord(egg, "TOPDM", 0, "plan", 10.0, 1.0, env_steps=588_000, wall_s=1.0, path="p")
    cell = summarize(fig3, [record]).cell(egg, "TOPDM")
    assert cell.paper_budget_share == pytest.approx(588_000 / 50 / 404_000)
    assert summarize(fig3, [record]).cell(egg, "HER new").paper_budget_share is None  # trained
