"""The contracts between layers, at ground level: `Snapshot` (an exact state, taken by the
environments, restored by everything above them), what counts as a diverged simulation
(`divergence`, shared by env.step and the batch evaluator), and the `Evaluator` protocol with
its `EvalResult` (what planners ask of physics). Importing nothing of the package, they let
the environments, the batch evaluator and the planners depend on them without depending on
each other."""
