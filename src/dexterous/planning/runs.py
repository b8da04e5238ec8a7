"""`PlanRun`: what one `dexterous plan` invocation plans, as a config the command line is
built from (its flags are its fields, their help its docstrings)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from dexterous.contracts.configs import check_choice, check_number
from dexterous.planning.configs import PLANNERS, PRESETS, PlannerName, PresetName, TOPDMConfig, preset


@dataclass(frozen=True)
class PlanRun:
    """One `dexterous plan` invocation."""

    env_id: str
    """Environment to plan in (namespace optional)."""
    planner: PlannerName = "topdm"
    """topdm and mppi are the paper's; topdm+ is ours: TOPDM with a lost-object objective,
    early-out, coloured noise and a horizon that stops at the episode's end (on PenSpin:
    keeping its plan and elites, planning past the end, the same iterations every step; on
    the one-hand HandManipulate tasks: the paper's white noise)."""
    preset: PresetName = "cpu"
    """Budget: smoke (seconds), cpu (about 10 to 30 minutes per episode on one core), paper."""
    kappa: float | None = None
    """MPPI temperature (paper: 1 and 20; default 20); mppi only."""
    episodes: int = 1
    """Episodes to plan; episode k resets with seed + k."""
    seed: int = 0
    """Reset seed of episode 0."""
    threads: int = 0
    """Physics threads per episode (0: in process, all cores; on Ray, the cluster's cores
    shared out between the episodes, at most one node's)."""
    steps: int | None = None
    """Real steps to plan per episode (default: the whole episode); fewer plans its first
    steps only, e.g. to try a budget before spending it on whole episodes."""

    def __post_init__(self) -> None:
        check_choice("planner", self.planner, PLANNERS)
        check_choice("preset", self.preset, PRESETS)
        check_number("episodes", self.episodes, 1, integer=True)
        check_number("seed", self.seed, 0, integer=True)
        check_number("threads", self.threads, 0, integer=True)
        if self.steps is not None:
            check_number("steps", self.steps, 1, integer=True)
        if self.kappa is not None and self.planner != "mppi":
            raise ValueError("--kappa applies to --planner mppi only")

    def config(self) -> TOPDMConfig:
        """The planner config of every episode of the run."""
        config = preset(self.preset, self.env_id, self.planner, kappa=self.kappa)
        if self.steps is None:
            return config
        if self.steps > config.episode_length:
            raise ValueError(f"--steps {self.steps} is more than the {config.episode_length} steps of an episode of "
                             f"{self.env_id}")
        return dataclasses.replace(config, episode_length=self.steps)
