"""The markdown report and the plots: numbers from the records, refusals that name the folder."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import pytest
from synthetic import BLOCK, make_figure, plan, train

from dexterous.experiments.plots import draw_figure
from dexterous.experiments.report import TABLE_HEADER, write_report
from dexterous.experiments.results import MANIFEST, ResultsError, read_runs
from dexterous.planning.configs import VARIANTS
from dexterous.planning.schedule import decreasing_iterations


def test_report_tables_quote_the_records_and_the_paper(results):
    text = write_report(results).read_text()
    assert "| " + " | ".join(TABLE_HEADER) + " |" in text
    digest = text.split("## Against the paper at a glance")[1].split("## fig2")[0]
    assert "ours below it in 1 cell, consistent with it in 1 cell." in digest  # HER new 1/3 (6–79%) and ≤15%
    paper = sum(decreasing_iterations(t, 20, 75) for t in range(75)) * 1000 * 20 / 75  # N·τ·Ni(t), mean over 75 steps
    assert (f"| fig2 | HandManipulateBlockFull | TOPDM | ≈100% success | 67% (2/3; 21–94%) | below it | 13 "
            f"(1/{paper / (1000 / 75):.0f}) |") in digest  # 1000 env steps over 75 real steps
    assert ("| fig2 | HandManipulateBlockFull | HER new | ≤15% success | 33% (1/3 evaluation episodes; 6–79%) | "
            "consistent with it | – |") in digest
    assert "| HandManipulateBlockFull | TOPDM | 3/3 | 67% (2/3; 21–94%) | 3.00, 2.00 (1.00 to 6.00) | 13 | – | ≈100% success; ours below it |" in text
    assert "| HandManipulateBlockFull | HER new | 3/3 | 33% (1/3 evaluation episodes; 6–79%) | 5.00, 4.00 (2.00 to 9.00) | – | – | ≤15% success; ours consistent with it |" in text
    assert "| HandManipulatePenFull | MPPI κ=1 | 0/3 | – | – | – | – | ≤15% success |" in text
    assert "| PenSpin | MPPI κ=20 | 1/3 | – | 1.50, 1.50 (1.50 to 1.50) | 4 | 0.01 per step | – |" in text
    assert "| PenSpin | TOPDM |" not in text.split("## appB")[1]  # hidden: demonstrations only
    assert "Budget: smoke" in text and "| mujoco |" in text and "CPUs" in text
    assert "![fig2](fig2/fig2.png)" in text


def test_report_tables_show_the_objects_play_where_the_records_hold_it(results):
    spin, egg = "dexterous/PenSpin-v1", "dexterous/EggHandOver-v1"
    make_figure(results, "planners", [
        dataclasses.replace(plan(spin, "TOPDM+", 0, 50.0, None), in_hand=250, turns=0.5),
        dataclasses.replace(plan(spin, "TOPDM+", 1, 100.0, None), in_hand=240, turns=-0.25),
        plan(spin, "TOPDM+", 2, 0.0, None),  # recorded before the play was kept, its episode not at hand
        dataclasses.replace(plan(egg, "TOPDM+", 0, 20.0, 1.0), in_hand=73, turns=3.0),
        *(dataclasses.replace(plan(egg, "TOPDM", seed, 5.0, 0.0), in_hand=75, turns=0.0, final_pos_error=error,
                              final_rot_error=angle) for seed, error, angle in ((0, 0.02, 0.8), (1, 0.5, 3.0), (2, 0.004, 0.6))),
        dataclasses.replace(plan(egg, "MPPI κ=20", 0, 5.0, 0.0), in_hand=75, turns=0.0, final_pos_error=0.031,
                            final_rot_error=0.25),
        plan(egg, "MPPI κ=20", 1, 5.0, 0.0)])  # recorded before the final pose was kept, its episode not at hand
    make_figure(results, "fig5", [dataclasses.replace(train(spin, "TD3", 0), ret=50.0, in_hand=240.5, turns=1.5),
                                  train(spin, "TD3", 1)])  # its last evaluation made before turns were kept
    fig5 = write_report(results).read_text().split("## fig5")[1]
    assert ("| PenSpin | TD3 | 2/3 | – | 27.00, 27.00 (4.00 to 50.00) | – | 240.5/250 in hand, 1.50 turns, 0.11 per step "
            "(in hand, turns: 1 of 2 runs) | – |") in fig5  # training: over its 250-step evaluation episodes
    text = write_report(results).read_text().split("## planners")[1]
    assert ("| PenSpin | TOPDM+ | 3/3 | – | 50.00, 50.00 (0.00 to 100.00) | 4 | 245.0/250 in hand, 0.12 turns, 0.20 per step "
            "(in hand, turns: 2 of 3 runs) | – |") in text
    assert "| EggHandOver | TOPDM+ | 1/3 | 100% (1/1; 21–100%) | 20.00, 20.00 (20.00 to 20.00) | 13 | 73.0/75 in hand | – |" in text
    # how far the final pose ended from the goal: medians, as one lost object (0.5 m) would drag a mean
    assert ("| 75.0/75 in hand, final pose 2.0 cm, 0.80 rad from the goal (medians) | ≈100% success; ours below it |") in text
    assert "| 75.0/75 in hand, final pose 3.1 cm, 0.25 rad from the goal (medians, 1 of 2 runs) " in text


def test_report_gives_the_steps_run_and_their_cost_where_planned_episodes_ended_early(results):
    humanoid = "dexterous/Humanoid-v1"
    make_figure(results, "appC", [dataclasses.replace(plan(humanoid, "TOPDM", 0, 1500.0, None), steps=250),
                                  dataclasses.replace(plan(humanoid, "TOPDM", 1, 2500.0, None), steps=1000,
                                                      env_steps=8000)])
    text = write_report(results).read_text().split("## appC")[1]
    # env steps per step run: mean of 1000/250 and 8000/1000, not 9000/2 spread over 1000 planned steps
    assert ("| Humanoid | TOPDM | 2/3 | – | 2000.00, 2000.00 (1500.00 to 2500.00) | 6 | "
            "625/1000 steps run (ended early), 3.20 per step run | "
            "return > 15,000 over 1000 steps (> 15 per step) |") in text


def test_report_names_the_processor_kinds_the_runs_were_made_on(results):
    intel, amd = "Intel(R) Xeon(R) Processor, numpy X86_V4", "AMD EPYC 7B13 64-Core Processor, numpy X86_V3"
    spin = "dexterous/PenSpin-v1"
    make_figure(results, "fig5", [dataclasses.replace(plan(spin, "TOPDM", 0, 5.0, None), processor=intel),
                                  dataclasses.replace(plan(spin, "TOPDM", 1, 5.0, None), processor=f"{amd} then {intel}"),
                                  dataclasses.replace(train(spin, "TD3", 0), processor=amd),
                                  dataclasses.replace(train(spin, "TD3", 1), processor=amd),
                                  plan(spin, "TOPDM", 2, 5.0, None)])
    appb = results / "appB" / "runs.jsonl"
    lines = appb.read_text().splitlines()
    appb.write_text("\n".join([json.dumps({**json.loads(lines[0]), "processor": intel}), *lines[1:]]) + "\n")
    text = write_report(results).read_text()
    # most runs first (ties by name), those whose records predate the field last; counted per figure
    assert (f"- Processors the runs were made on: {amd}: 2 runs (fig5 2); {intel}: 2 runs (fig5 1, appB 1); "
            f"{amd} then {intel}: 1 run (fig5 1); not recorded (runs made before records kept it): 15 runs (fig2 6, fig5 1, "
            f"appB 8)\n") in text


def test_report_skips_a_blank_trailing_line_of_the_records(results):
    before = write_report(results).read_text()
    runs = results / "fig2" / "runs.jsonl"
    with runs.open("a") as f:
        f.write("\n")
    assert write_report(results).read_text() == before


def test_report_writes_negative_returns_with_a_minus_sign(results):
    make_figure(results, "fig5", [plan("dexterous/PenSpin-v1", "MPPI κ=20", s, r, None)
                                  for s, r in ((0, -110.614), (1, -49.5), (2, 3.0))])
    assert "| PenSpin | MPPI κ=20 | 3/3 | – | \u221252.37, \u221249.50 (\u2212110.61 to 3.00) | 4 | \u22120.21 per step | – |" in write_report(results).read_text()


def test_report_totals_count_an_episode_shared_by_figures_once(results):
    # fig5 and appB plan the same PenSpin TOPDM episodes (seeds 0-2, 10 s and 1000 steps each):
    # 25 records, 22 distinct runs; 175 s and 9,800 steps summed per record.
    text = write_report(results).read_text()
    assert "- Wall time: 0.04 h (145 s) in total, summed over the 22 distinct runs" in text
    assert "- Environment steps: 8,800 in total" in text


def test_report_outside_the_results_copies_its_images(results, tmp_path):
    out = write_report(results, tmp_path / "docs" / "RESULTS.md")
    text = out.read_text()
    for name in ("fig2", "fig5", "appB"):
        assert f"![{name}](results/{name}.png)" in text
        assert (out.parent / "results" / f"{name}.png").stat().st_size > 0
        assert (out.parent / "results" / f"{name}.svg").stat().st_size > 0


def test_report_links_the_videos_made_after_the_last_record_only(results, tmp_path):
    videos = results / "fig2" / "videos"
    videos.mkdir()
    last_record = (results / "fig2" / "runs.jsonl").stat().st_mtime
    for name, mtime in (("HandManipulateBlockFull_best", last_record + 1), ("stale_best", last_record - 1)):
        (videos / f"{name}.mp4").write_bytes(name.encode())
        os.utime(videos / f"{name}.mp4", (mtime, mtime))
    out = write_report(results, tmp_path / "docs" / "RESULTS.md")
    text = out.read_text()
    copied = "results/videos/fig2/HandManipulateBlockFull_best.mp4"
    assert f"[HandManipulateBlockFull best]({copied})" in text
    assert (out.parent / copied).read_bytes() == b"HandManipulateBlockFull_best"
    assert "stale" not in text and not (out.parent / "results/videos/fig2/stale_best.mp4").exists()
    assert "Videos" not in text.split("## fig5")[1]  # fig5 has none


def test_a_manifest_of_another_version_is_refused_by_name(results):
    path = results / "fig5" / MANIFEST
    path.write_text(json.dumps({**json.loads(path.read_text()), "version": 99}))
    with pytest.raises(ResultsError, match=f"{results / 'fig5'}.*version 99"):
        write_report(results)


@pytest.mark.parametrize("folder", ["empty", "fig2"])
def test_a_folder_without_results_is_refused_by_name(tmp_path, folder):
    (tmp_path / folder).mkdir()
    with pytest.raises(ResultsError, match=str(tmp_path)):
        write_report(tmp_path / folder if folder == "empty" else tmp_path)
    with pytest.raises(ResultsError, match=str(tmp_path / folder)):
        draw_figure(tmp_path / folder)


def test_an_unknown_figure_folder_is_refused(results):
    (results / "fig9").mkdir()
    (results / "fig9" / MANIFEST).write_text("{}")
    with pytest.raises(ResultsError, match="fig9"):
        write_report(results)


@pytest.mark.parametrize("name", ["fig2", "fig5", "appB", "appC"])
def test_draw_figure_writes_png_and_svg(results, name):
    if name == "appC":
        make_figure(results, "appC", [plan("dexterous/Humanoid-v1", "TOPDM", 0, 15000.0, None)])
    paths = draw_figure(results / name)
    assert [p.name for p in paths] == [f"{name}.png", f"{name}.svg"]
    assert all(p.stat().st_size > 1000 for p in paths)
    assert Path(paths[0]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    drawn = [p.read_bytes() for p in paths]
    assert [p.read_bytes() for p in draw_figure(results / name)] == drawn  # no date, no random ids


def test_fig5_draws_the_steps_in_hand_below_the_returns_where_the_records_hold_them(results):
    from dexterous.experiments.plots import _curves_and_levels
    from dexterous.experiments.summary import load_summary

    spin = "dexterous/PenSpin-v1"
    _, without = load_summary(results / "fig5")  # records from before the steps in hand were kept
    assert [ax.get_ylabel() for ax in _curves_and_levels(without).axes] == ["mean return per episode"]

    def kept(seed: int, in_hand: list[float]):
        run = train(spin, "TD3", seed)
        return dataclasses.replace(run, curve={**run.curve, "mean_in_play_steps": in_hand}, in_hand=in_hand[-1], turns=0.5)

    make_figure(results, "fig5", [dataclasses.replace(plan(spin, "TOPDM", 0, 5.0, None), in_hand=20, turns=0.4),
                                  kept(0, [10.0, 100.0, 250.0]), kept(1, [30.0, 50.0, 230.0])])
    _, summary = load_summary(results / "fig5")
    top, below = _curves_and_levels(summary).axes
    assert below.get_ylabel() == "steps with the object in hand per episode" and below.get_legend() is None
    assert (top.get_xlabel(), below.get_xlabel()) == ("", "environment steps")  # one x axis, shared
    (td3,) = [line for line in below.lines if line.get_label() == "TD3 (2/3)"]
    assert list(td3.get_xdata()) == [0.0, 60.0, 120.0] and list(td3.get_ydata()) == [20.0, 75.0, 240.0]  # medians
    (topdm,) = [line for line in below.lines if line.get_label() == "TOPDM (1/3)"]
    assert list(topdm.get_ydata()) == [20, 20]  # a planner's steps in hand, a level


def test_success_bars_are_labelled_with_their_rate_and_seeds(results):
    from dexterous.experiments.plots import NONE_FINISHED, _bars
    from dexterous.experiments.summary import load_summary

    _, summary = load_summary(results / "fig2")
    texts = {text.get_text() for ax in _bars(summary).axes for text in ax.texts}
    # successes of trials: TOPDM's 2 of 3 episodes, HER new's 1 of 3 evaluation episodes (1 per run at
    # the smoke budget), and a method of which no run has finished
    assert {"67%\n2/3", "33%\n1/3 ep.", NONE_FINISHED} <= texts


def test_bars_are_marked_with_the_papers_number_where_it_gives_one(results):
    from matplotlib.collections import LineCollection

    from dexterous.experiments.plots import _bars
    from dexterous.experiments.summary import load_summary

    _, summary = load_summary(results / "fig2")
    success, returns = _bars(summary).axes[:2]
    # five methods per task, bars 0.16 wide from x − 0.4: TOPDM on BlockFull at −0.32, PenFull at 0.68
    abouts = [segment for c in success.collections if isinstance(c, LineCollection) and c.get_label() == "paper (about)"
              for segment in c.get_segments()]
    assert sorted((round(s[0][0], 2), round(s[1][0], 2), s[0][1]) for s in abouts) == [(-0.4, -0.24, 100.0),
                                                                                        (0.6, 0.76, 83.0)]
    bounds = [line for line in success.lines if line.get_marker() == "v"]
    assert len(bounds) == 8 and {line.get_ydata()[0] for line in bounds} == {15.0}  # MPPI κ 1, 20, HER, HER new
    # the paper gives no return in fig. 2
    assert not [c for c in returns.collections + returns.lines if c.get_label().startswith("paper")]
    legend = [text.get_text() for text in success.get_legend().get_texts()]
    assert legend[-2:] == ["paper (about)", "paper (at most)"] and legend.count("paper (at most)") == 1

    make_figure(results, "appC", [plan("dexterous/Humanoid-v1", "TOPDM", 0, 1500.0, None)])
    _, summary = load_summary(results / "appC")
    (ax,) = _bars(summary).axes
    (above,) = [line for line in ax.lines if line.get_marker() == "^"]
    assert above.get_ydata()[0] == 15000.0 and ax.get_ylim()[1] > 15000.0
    assert [text.get_text() for text in ax.get_legend().get_texts()] == ["TOPDM", "paper (above)"]


def test_report_says_which_tasks_a_figure_plans_for_fewer_steps(results):
    make_figure(results, "fig3", [plan("dexterous/EggHandOver-v1", "TOPDM", 0, 20.0, 1.0)])
    whole = write_report(results).read_text()
    text = whole.split("## fig3")[1]
    assert ("Planned for 50 steps, final-step success measured at step 50: EggHandOver, BlockHandOver, "
            "PenHandOver, EggCatchUnderarm, EggCatchOverarm, TwoEggCatchUnderArm.") in text
    assert "| EggHandOver | TOPDM | 1/3 | 100% (1/1; 21–100%) | 20.00, 20.00 (20.00 to 20.00) | 20 | – | ≈100% success at step 50; ours consistent with it |" in text
    assert ("HER new: trained and evaluated on the environments' whole episodes (75 steps), final-step success "
            "at their last step.") in text
    assert "Planned for" not in whole.split("## fig3")[0]  # fig2 plans whole episodes


def test_report_says_how_long_the_trained_methods_train_and_what_their_numbers_are_read_from(results):
    text = write_report(results).read_text()
    # the smoke budget: 160 steps, one evaluation episode
    assert ("Trained for 160 environment steps per run, the table's numbers from each run's last evaluation "
            "(1 episode): HER; HER new.") in text.split("## fig2")[1].split("## ")[0]
    assert (": TD3; TD3 + demos; TD3 + TOPDM+ demos, in-play reward.\n") in text.split("## fig5")[1].split("## ")[0]


def test_report_says_no_success_is_measured_where_a_task_has_none(results):
    make_figure(results, "efficiency", [plan("dexterous/EggHandOver-v1", "TOPDM+ 1/33", 0, 20.0, 1.0)])
    assert "Planned for 100 steps: PenSpin." in write_report(results).read_text()


def test_success_bars_carry_the_wilson_interval(results):
    from dexterous.experiments.plots import _bar_values
    from dexterous.experiments.summary import load_summary

    _, summary = load_summary(results / "fig2")
    values, low, high = _bar_values([summary.cell(BLOCK, "TOPDM")], "final_success")
    assert values[0] == pytest.approx(200 / 3)
    assert (low[0], high[0]) == pytest.approx((20.77, 93.85), abs=0.01)


def test_the_efficiency_figure_plots_success_or_return_against_env_steps_per_real_step(results):
    from dexterous.experiments.plots import _efficiency
    from dexterous.experiments.summary import load_summary

    egg, spin = "dexterous/EggHandOver-v1", "dexterous/PenSpin-v1"
    spinning = dataclasses.replace(plan(spin, "TOPDM+ 1/100", 0, 30.0, None), in_hand=90, turns=1.25)
    flicked = dataclasses.replace(plan(spin, "TOPDM 1/100", 0, 40.0, None), in_hand=15, turns=1.5, env_steps=4000)
    make_figure(results, "efficiency", [plan(egg, "TOPDM 1/100", 0, 5.0, 0.0), plan(egg, "TOPDM 1/100", 1, 7.0, 1.0),
                                        plan(egg, "TOPDM+ 1/33", 0, 9.0, 1.0), spinning, flicked])
    _, summary = load_summary(results / "efficiency")
    axes = _efficiency(summary).axes

    def points(ax, label: str) -> tuple[list[float], list[float]]:
        (container,) = [c for c in ax.containers if c.get_label() == label]
        line = container.lines[0]
        return list(line.get_xdata()), list(line.get_ydata())

    assert points(axes[0], "TOPDM (2 of 3 seeds)") == ([1000 / 75], [50.0])  # 1000 env steps over 75 steps
    assert points(axes[0], "TOPDM+ (1 of 3 seeds)") == ([1000 / 75], [100.0])
    assert points(axes[2], "TOPDM+ (1 of 3 seeds)") == ([10.0], [0.3])  # PenSpin: 1000 env steps, 30 over 100 steps
    assert [(t.get_text(), t.get_horizontalalignment()) for t in axes[2].texts] == [
        ("in hand 15%\n1.50 turns", "right"), ("in hand 90%\n1.25 turns", "left")]  # labels inside the panel
    assert "TOPDM (1 of 3 seeds)" in [t.get_text() for t in axes[2].get_legend().get_texts()]
    assert axes[2].get_ylabel() == "reward per step, mean over first 100 steps" and axes[0].get_xscale() == "log"
    # below: EggHandOver's reward per step (returns 5 and 7 over 75 steps), PenSpin's steps in hand
    assert points(axes[3], "TOPDM (2 of 3 seeds)") == ([1000 / 75], [pytest.approx(6.0 / 75)])
    assert axes[3].get_ylabel() == "reward per step, mean over the episode"
    assert points(axes[5], "TOPDM+ (1 of 3 seeds)") == ([10.0], [90.0]) and not axes[5].texts
    assert axes[5].get_ylabel() == "steps in hand (%), first 100 steps"
    assert draw_figure(results / "efficiency")[0].exists()


def test_report_pairs_topdm_plus_with_paper_topdm_seed_by_seed_at_each_budget(results):
    egg, spin = "dexterous/EggHandOver-v1", "dexterous/PenSpin-v1"
    records = [plan(egg, "TOPDM 1/100", 0, 5.0, 0.0), plan(egg, "TOPDM 1/100", 1, 7.0, 1.0),
               plan(egg, "TOPDM 1/100", 2, 3.0, 0.0), plan(egg, "TOPDM+ 1/100", 0, 9.0, 1.0),
               dataclasses.replace(plan(egg, "TOPDM+ 1/100", 1, 6.0, 1.0), env_steps=800),
               plan(egg, "TOPDM+ 1/33", 0, 9.0, 1.0),  # no paper TOPDM 1/33 seed to pair it with
               dataclasses.replace(plan(spin, "TOPDM 1/100", 0, 40.0, None), in_hand=15),  # flicked out
               dataclasses.replace(plan(spin, "TOPDM+ 1/100", 0, 30.0, None), in_hand=100)]
    make_figure(results, "efficiency", records)
    text = write_report(results).read_text()
    section = text[text.index("## efficiency"):]
    assert ("| EggHandOver | TOPDM+ 1/100 vs TOPDM 1/100 | 0, 1 | 1.50 (−1.00 to 4.00) | 1/2 | 2 / 1 | – | 0.90 |"
            in section)  # seed 2 of paper TOPDM has no TOPDM+ twin; env steps (1000 + 800) / (1000 + 1000)
    assert "| PenSpin | TOPDM+ 1/100 vs TOPDM 1/100 | 0 | −10.00 (−10.00 to −10.00) | 0/1 | – | 100 / 15 | 1.00 |" in section
    assert "TOPDM+ 1/33 vs" not in section
    assert ("The 3 paired seeds above together: TOPDM+ alone solved 1 and paper TOPDM alone 0 (exact two-sided "
            "sign test, McNemar's: p = 1); TOPDM+'s return is the higher on 1 and the lower on 2 (sign test: "
            "p = 1).") in section  # PenSpin's seed counts for the returns only
    assert "TOPDM+ against paper TOPDM" not in text[:text.index("## efficiency")]  # figures without TOPDM+


def test_report_names_the_runs_retired_from_a_figure(results):
    from dexterous.experiments.results import retire_redefined
    from dexterous.experiments.summary import figure_from_json
    assert "Retired since" not in write_report(results).read_text()
    folder = results / "fig5"
    figure = figure_from_json(json.loads((folder / MANIFEST).read_text())["config"])
    spin_topdm = [r for r in read_runs(folder) if r.method == "TOPDM"]
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(VARIANTS, "topdm", {"keep_plan": True})  # TOPDM redefined
        rebuilt = dataclasses.replace(figure, methods=tuple(dataclasses.replace(m, switches=None) if m.label == "TOPDM"
                                                            else m for m in figure.methods))
        retired = retire_redefined(results, rebuilt)
    trained = {m.label for m in figure.methods if m.demos_from == "TOPDM"}  # retired with their demonstrations
    assert sorted(r.key for r in retired if r.method not in trained) == sorted(r.key for r in spin_topdm) and spin_topdm
    (name,) = [p.name for p in (folder / "retired").iterdir()]
    text = write_report(results).read_text().split("## fig5")[1].split("\n## ")[0]
    assert f"`fig5/retired/{name}`: TD3 + demos on PenSpin (3 runs); TOPDM on PenSpin ({len(spin_topdm)} runs)." in text
