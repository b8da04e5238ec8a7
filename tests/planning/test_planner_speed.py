"""The planner's own cost must stay small next to the evaluator's (slow: run with -m slow).

Target: ≤ 10% of a ~0.25 s paper-scale evaluation (N 1000, τ 20, A 52), i.e. ≤ 25 ms of
planner work per iteration, measured here with an evaluator that costs nothing.
"""

import time

import numpy as np
import pytest

from dexterous.planning.configs import TOPDMConfig, variant
from dexterous.planning.planner import Planner
from dexterous.sim.protocol import EvalResult


class FreeEvaluator:
    """Returns zero rewards at once, so all measured time is the planner's."""

    action_low = -np.ones(52)
    action_high = np.ones(52)

    def evaluate(self, snapshot, actions, final_snapshots=False):
        shape = actions.shape[:2]
        return EvalResult(np.zeros(shape), np.zeros(shape, dtype=bool))


@pytest.mark.slow
@pytest.mark.parametrize("name", ["topdm", "mppi"])
def test_planner_overhead_per_iteration_at_paper_scale(name):
    config = variant(name, TOPDMConfig(iterations=10, schedule="constant"))
    planner = Planner(config)
    planner.reset(np.random.default_rng(0))
    evaluator = FreeEvaluator()
    planner.plan(evaluator, None, 0, np.zeros(52))  # allocate the work arrays
    start = time.perf_counter()
    plan = planner.plan(evaluator, None, 1, np.zeros(52))
    per_iteration = (time.perf_counter() - start) / plan.iterations
    assert per_iteration <= 0.025, f"{per_iteration * 1e3:.1f} ms per iteration"
