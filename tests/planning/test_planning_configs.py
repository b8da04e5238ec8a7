import dataclasses
import inspect
import math
import re

import pytest

from dexterous.catalog import ENTRIES
from dexterous.planning.configs import (
    CPU_EPISODE_SECONDS,
    FAMILY_SWITCHES,
    VARIANTS,
    TOPDMConfig,
    planner_definition,
    preset,
    variant,
    with_budget,
)


def test_defaults_are_the_papers():
    config = TOPDMConfig()
    assert (config.horizon, config.n_samples, config.top_fraction, config.iterations) == (
        20, 1000, 0.05, 20)
    assert (config.sigma_init, config.sigma_noise, config.noise_fraction, config.beta) == (
        0.9, 0.3, 0.3, 0.7)
    assert (config.episode_length, config.return_weight, config.schedule) == (
        75, 1.0, "decreasing")
    assert (config.selection, config.carry_over) == ("top_fraction", True)
    assert config.n_elites == 50


def test_every_field_is_documented():
    lines = [line.strip() for line in inspect.getsource(TOPDMConfig).splitlines()]
    for field in dataclasses.fields(TOPDMConfig):
        declaration = next(i for i, line in enumerate(lines) if line.startswith(f"{field.name}:"))
        assert lines[declaration + 1].startswith('"""'), f"{field.name} has no docstring"


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("top_fraction", 1.5, "top_fraction must be a number in (0, 1], got 1.5"),
        ("top_fraction", 0.0, "top_fraction must be a number in (0, 1], got 0.0"),
        ("noise_fraction", 0, "noise_fraction must be a number in (0, 1], got 0"),
        ("beta", 1.01, "beta must be a number in (0, 1], got 1.01"),
        ("sigma_init", -0.1, "sigma_init must be a finite number ≥ 0, got -0.1"),
        ("sigma_noise", math.inf, "sigma_noise must be a finite number ≥ 0, got inf"),
        ("kappa", 0.0, "kappa must be a finite number > 0, got 0.0"),
        ("return_weight", math.nan, "return_weight must be a finite number > 0, got nan"),
        ("beta", "0.7", "beta must be a number in (0, 1], got '0.7'"),
        ("horizon", 0, "horizon must be an integer ≥ 1, got 0"),
        ("n_samples", 25e3, "n_samples must be an integer ≥ 1, got 25000.0"),
        ("iterations", True, "iterations must be an integer ≥ 1, got True"),
        ("episode_length", -75, "episode_length must be an integer ≥ 1, got -75"),
        (
            "selection",
            "best",
            "selection must be one of 'top_fraction', 'weighted_average', got 'best'",
        ),
        ("schedule", "linear", "schedule must be one of 'decreasing', 'constant', got 'linear'"),
        ("carry_over", 1, "carry_over must be a bool, got 1"),
        ("samples_per_iteration", 0.0, "samples_per_iteration must be a finite number > 0, got 0.0"),
    ],
)
def test_invalid_fields_are_named_with_their_range(field, value, message):
    with pytest.raises(ValueError) as error:
        TOPDMConfig(**{field: value})
    assert str(error.value) == message


def test_configs_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        TOPDMConfig().horizon = 5


@pytest.mark.parametrize("n_samples, elites", [(1000, 50), (100, 5), (8, 1), (1, 1)])
def test_elite_count_rounds_and_keeps_at_least_one(n_samples, elites):
    assert TOPDMConfig(n_samples=n_samples).n_elites == elites


@pytest.mark.parametrize(
    "name, selection, carry_over, noise_fraction",
    [
        ("mppi", "weighted_average", False, 1.0),
        ("mod1", "top_fraction", False, 1.0),
        ("mod1+2", "top_fraction", True, 1.0),
        ("topdm", "top_fraction", True, 0.3),
    ],
)
def test_ablation_variants_flip_one_switch_at_a_time(name, selection, carry_over, noise_fraction):
    base = TOPDMConfig(n_samples=64, iterations=3)
    config = variant(name, base)
    assert (config.selection, config.carry_over, config.noise_fraction) == (
        selection, carry_over, noise_fraction)
    assert (config.n_samples, config.iterations) == (64, 3)


def test_mppi_takes_kappa_and_only_mppi():
    assert variant("mppi", kappa=1.0).kappa == 1.0
    message = "kappa only applies to planner 'mppi', got planner 'topdm'"
    with pytest.raises(ValueError, match=message):
        variant("topdm", kappa=1.0)


def test_unknown_variant_lists_the_choices():
    message = "planner must be one of 'topdm', 'mod1+2', 'mod1', 'mppi', 'topdm+', got 'cem'"
    with pytest.raises(ValueError, match=re.escape(message)):
        variant("cem")


def _budget(config: TOPDMConfig) -> tuple[int, int, int, int]:
    return config.horizon, config.n_samples, config.iterations, config.episode_length


@pytest.mark.parametrize(
    "env_id, budget",
    [
        ("dexterous/EggCatchOverarm-v1", (20, 1000, 20, 75)),
        ("BlockHandOverSparse", (20, 1000, 20, 75)),
        ("dexterous/TwoEggCatchUnderArm-v1", (20, 2000, 80, 75)),
        ("TwoEggCatchUnderArmSparse-v1", (20, 2000, 80, 75)),
        ("TwoPenCatchUnderArm", (20, 1000, 20, 75)),
        ("dexterous/PenSpin-v1", (20, 4000, 80, 250)),
        ("dexterous/HandManipulateBlockFullSparse-v1", (20, 1000, 20, 75)),
        ("Humanoid-v1", (40, 1020, 40, 1000)),
    ],
)
def test_paper_presets(env_id, budget):
    config = preset("paper", env_id)
    assert _budget(config) == budget
    assert (config.sigma_init, config.sigma_noise, config.beta) == (0.9, 0.3, 0.7)


def test_humanoid_weighs_later_rewards_and_keeps_iterations_constant():
    config = preset("paper", "Humanoid")
    assert (config.return_weight, config.schedule) == (1.02, "constant")


def test_mppi_preset_shares_the_budget():
    topdm = preset("paper", "TwoEggCatchUnderArm", "topdm")
    mppi = preset("paper", "TwoEggCatchUnderArm", "mppi", kappa=1.0)
    assert _budget(mppi) == _budget(topdm)
    assert (mppi.selection, mppi.carry_over, mppi.noise_fraction, mppi.kappa) == (
        "weighted_average", False, 1.0, 1.0)


@pytest.mark.parametrize(
    "env_id, iterations, env_steps_per_s",
    [
        ("EggCatchUnderarm", 6, 1700.0),
        ("TwoEggCatchUnderArm", 6, 1700.0),
        ("PenSpin", 3, 2850.0),
        ("HandManipulatePenFull", 12, 3150.0),
    ],
)
def test_cpu_presets_plan_an_episode_in_about_ten_minutes(env_id, iterations, env_steps_per_s):
    config = preset("cpu", env_id)
    assert (config.n_samples, config.iterations) == (100, iterations)
    env_steps = sum(
        config.iterations_at(t) * config.n_samples * config.horizon
        for t in range(config.episode_length)
    )
    seconds = env_steps / env_steps_per_s
    assert 0.75 * CPU_EPISODE_SECONDS <= seconds <= CPU_EPISODE_SECONDS


def test_humanoid_cpu_preset_keeps_one_iteration():
    """Even one iteration of N 100, τ 40 over 1000 steps takes longer than the target."""
    config = preset("cpu", "dexterous/Humanoid-v1")
    assert (config.n_samples, config.iterations, config.horizon, config.schedule) == (100, 1, 40, "constant")


def test_smoke_preset_is_tiny():
    config = preset("smoke", "dexterous/PenHandOver-v1", "mppi")
    assert (config.horizon, config.n_samples, config.iterations) == (5, 8, 2)
    assert config.selection == "weighted_average"


def test_unknown_preset_and_env_list_the_choices():
    message = "preset must be one of 'paper', 'cpu', 'smoke', got 'gpu'"
    with pytest.raises(ValueError, match=message):
        preset("gpu", "PenSpin")
    with pytest.raises(ValueError, match=r"unknown environment id 'dexterous/Ant-v5'.*dexterous envs.*PenSpin"):
        preset("paper", "Ant-v5")


def test_a_sparse_twin_or_an_alias_plans_with_its_familys_budget():
    assert preset("paper", "dexterous/PenCatchUnderarmHardSparse-v1").n_samples == 1000
    assert preset("paper", "TwoEggCatchUnderarm").n_samples == 2000  # the alias, without version
    assert preset("paper", "TwoPenCatchUnderArm-v1").n_samples == 1000


def test_topdm_plus_is_topdm_with_our_switches_and_the_papers_planners_have_none():
    plus, topdm = variant("topdm+"), variant("topdm")
    assert (plus.lost_object, plus.early_out, plus.noise_exponent, plus.plan_to_end) == (True, True, 2.0, True)
    assert not plus.elite_memory
    assert dataclasses.replace(plus, lost_object=False, lost_penalty=0.0, rest_weight=0.0, early_out=False,
                               noise_exponent=0.0, plan_to_end=False) == topdm
    for name in ("topdm", "mod1+2", "mod1", "mppi"):
        config = variant(name)
        assert not (config.lost_object or config.early_out or config.needs_play or config.elite_memory
                    or config.plan_to_end)
        assert config.lost_penalty == config.rest_weight == config.noise_exponent == 0.0


def test_topdm_plus_family_switches_keep_plan_on_penspin_and_white_noise_on_one_hand_tasks():
    pen, egg, block = (preset("cpu", env, "topdm+") for env in ("PenSpin-v1", "EggHandOver-v1",
                                                                  "HandManipulateBlockFull-v1"))
    assert (pen.keep_plan, pen.elite_memory, pen.plan_to_end, pen.schedule) == (True, True, False, "constant")
    for config in (egg, block):
        assert (config.keep_plan, config.elite_memory, config.plan_to_end, config.schedule) == (
            False, False, True, "decreasing")
    assert (pen.noise_exponent, egg.noise_exponent, block.noise_exponent) == (2.0, 2.0, 0.0)
    assert preset("cpu", "HandManipulatePenFull-v1", "topdm+").noise_exponent == 0.0
    assert dataclasses.replace(pen, keep_plan=False, elite_memory=False, plan_to_end=True, schedule="decreasing",
                               samples_per_iteration=None, n_samples=100, iterations=3) == dataclasses.replace(
        preset("cpu", "PenSpin-v1", "topdm"), lost_object=True, lost_penalty=5.0, rest_weight=20.0, early_out=True,
        noise_exponent=2.0, plan_to_end=True)
    for name in ("topdm", "mppi"):  # the paper's planners on PenSpin stay the paper's
        config = preset("paper", "PenSpin-v1", name)
        assert not (config.keep_plan or config.elite_memory or config.plan_to_end)
        assert config.schedule == "decreasing"
    assert planner_definition("topdm+")["pen_spin:elite_memory"] is True
    assert planner_definition("topdm") == {}


def test_every_family_switch_names_a_family_and_a_config_field():
    fields = {f.name for f in dataclasses.fields(TOPDMConfig)}
    for planner, families in FAMILY_SWITCHES.items():
        assert planner in VARIANTS
        for family, switches in families.items():
            assert family in {e.family for e in ENTRIES}, family
            assert set(switches) <= fields, set(switches) - fields


def test_with_budget_sets_ni_for_the_papers_n_or_splits_n_and_ni_in_a_proportion():
    paper = preset("paper", "PenSpin-v1")
    assert (paper.n_samples, paper.iterations) == (4000, 80)  # N : Ni = 50
    hundredth = paper.n_samples * paper.iterations / 100
    topdm = with_budget(preset("cpu", "PenSpin-v1"), hundredth)
    assert (topdm.n_samples, topdm.iterations) == (100, 32)  # the paper's way: N stays, Ni falls
    plus = with_budget(preset("cpu", "PenSpin-v1", "topdm+"), hundredth)
    assert (plus.n_samples, plus.iterations) == (400, 8)  # N and Ni each fall by √100
    assert with_budget(plus, paper.n_samples * paper.iterations) == dataclasses.replace(plus, n_samples=4000,
                                                                                        iterations=80)
    assert with_budget(plus, 10).iterations == 1  # at least one iteration, the budget then in N
    assert with_budget(plus, 10).n_samples == 10


def test_topdm_plus_divides_the_cpu_budget_on_penspin_in_the_papers_proportion():
    topdm, plus = (preset("cpu", "PenSpin-v1", name) for name in ("topdm", "topdm+"))
    assert (plus.n_samples, plus.iterations) == (150, 2)
    assert plus.n_samples * plus.iterations == topdm.n_samples * topdm.iterations  # the same budget
    assert preset("paper", "PenSpin-v1", "topdm+").n_samples == 4000
    assert preset("smoke", "PenSpin-v1", "topdm+").n_samples == preset("smoke", "PenSpin-v1").n_samples
    egg = preset("cpu", "EggHandOver-v1", "topdm+")
    assert egg.samples_per_iteration is None and egg.n_samples == 100
