"""Trajectory optimisation: TOPDM and MPPI over the `contracts.protocol.Evaluator` contract.

Pure numpy; nothing here imports MuJoCo.
"""

from dexterous.planning.configs import PRESETS, VARIANTS, TOPDMConfig, preset, variant, with_budget
from dexterous.planning.planner import Planner, PlanStep

__all__ = ["PRESETS", "VARIANTS", "PlanStep", "Planner", "TOPDMConfig", "preset", "variant", "with_budget"]
