"""Synthetic results directories with known numbers, written through the results API.

A plain module (not conftest) so that tests can import its helpers unambiguously.
"""

from __future__ import annotations

from pathlib import Path

from dexterous.experiments.configs import Method, figure_config
from dexterous.experiments.results import RunRecord, open_figure_dir, write_runs
from dexterous.experiments.configs import task_name

BLOCK = "dexterous/HandManipulateBlockFull-v1"
PEN_SPIN = "dexterous/PenSpin-v1"
STEPS = [0.0, 60.0, 120.0]
CURVES = ([0.0, 1.0, 2.0], [0.0, 3.0, 4.0], [0.0, 2.0, 9.0])
"""Per-seed mean_return curves: median [0, 2, 4], min [0, 1, 2], max [0, 3, 9]."""


def plan(task: str, method: str, seed: int, ret: float, success: float | None) -> RunRecord:
    """A planned episode's record (1000 env steps, 10 s), its file where the runner would put it."""
    return RunRecord(task, method, seed, "plan", ret, success, env_steps=1000, wall_s=10.0,
                     path=f"plans/{task_name(task)}/{Method(method, 'plan').slug}/episode_{seed:04d}.npz")


def train(task: str, method: str, seed: int, kind: str = "td3", success: bool = False) -> RunRecord:
    """A training run's record (120 env steps, 5 s) whose mean_return curve is CURVES[seed]."""
    curve = {"steps": STEPS, "mean_return": CURVES[seed]}
    if success:
        curve["success_rate"] = [0.0, 0.5, float(seed % 2)]
    return RunRecord(task, method, seed, kind, CURVES[seed][-1], float(seed % 2) if success else None,
                     env_steps=120, wall_s=5.0, path=f"train/{method}/seed_{seed}", curve=curve)


def make_figure(root: Path, name: str, records: list[RunRecord]) -> Path:
    """The figure's folder at the smoke budget with 3 seeds, holding exactly these records."""
    folder = open_figure_dir(root, figure_config(name, "smoke", seeds=3))
    write_runs(folder, records)
    return folder


def write_results(root: Path) -> Path:
    """fig2, fig5 and appB at the smoke budget with 3 seeds; some methods unfinished.

    fig2 TOPDM on HandManipulateBlockFull: returns 1, 2, 6 and successes 1, 0, 1
    (success 2/3, mean 3, min 1, max 6); HER new there: the three CURVES; nothing else.
    """
    topdm = ((0, 1.0, 1.0), (1, 2.0, 0.0), (2, 6.0, 1.0))  # seed, return, final success
    make_figure(root, "fig2", [plan(BLOCK, "TOPDM", s, r, x) for s, r, x in topdm]
                + [train(BLOCK, "HER new", s, "her", success=True) for s in range(3)])
    make_figure(root, "fig5", [plan(PEN_SPIN, "TOPDM", s, 5.0 + s, None) for s in range(3)]
                + [plan(PEN_SPIN, "MPPI κ=20", 0, 1.5, None)]
                + [train(PEN_SPIN, m, s) for m in ("TD3", "TD3 + demos") for s in range(3)])
    make_figure(root, "appB", [plan(PEN_SPIN, "TOPDM", s, 5.0, None) for s in range(3)]
                + [train(PEN_SPIN, m, s) for m in ("TD3 + demos β=0.7", "TD3 + demos β=1.0") for s in range(3)])
    return root
