"""Learning curves as the paper draws them: per method, the median over seeds with a min–max band.

Runs are grouped into methods by their config (algorithm, demonstrations or not, β, the
in-play reward, HER variant); a method's band is over the evaluation steps all its runs have reached
(`bands.band`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from matplotlib.figure import Figure

from dexterous.rl.bands import band
from dexterous.rl.configs import OffPolicyConfig, TD3Config
from dexterous.rl.runs import read_config, read_evaluations


def method_label(config: OffPolicyConfig) -> str:
    """The legend entry of a run: what distinguishes the paper's methods, not the seed."""
    if isinstance(config, TD3Config):
        in_play = f", in-play reward, penalty {config.lost_penalty:g}" if config.lost_object else ""
        return f"TD3{' + demos' if config.demos else ''} (β = {config.beta:g}{in_play})"
    return {"original": "HER", "new": "HER new"}[config.variant]


def plot_runs(run_dirs: Sequence[str | Path], out_png: str | Path, metric: str = "mean_return") -> Path:
    """Draw `metric` against environment steps for every method among run_dirs into out_png."""
    if not run_dirs:
        raise ValueError("plot_runs needs at least one run directory")
    curves: dict[str, list[dict[int, float]]] = defaultdict(list)
    env_ids = set()
    for run in run_dirs:
        config = read_config(run)
        records = read_evaluations(run)
        if not records:
            raise ValueError(f"{run} has no evaluations yet")
        if metric not in records[0]:
            raise ValueError(f"{run}'s evaluations have no {metric!r}; they have "
                             f"{sorted(k for k, v in records[0].items() if isinstance(v, float))}")
        curves[method_label(config)].append({r["steps"]: r[metric] for r in records})
        env_ids.add(config.env_id)
    if len(env_ids) > 1:
        raise ValueError(f"the runs are on different environments ({', '.join(sorted(env_ids))}): "
                         "plot one environment per figure")
    fig = Figure(figsize=(7, 4.5), layout="constrained")
    ax = fig.subplots()
    for label, runs in sorted(curves.items()):
        aggregate = band(runs)
        runs_text = f"{len(runs)} run{'s' if len(runs) > 1 else ''}"
        ax.plot(aggregate.steps, aggregate.median, marker="o", markersize=3, label=f"{label} ({runs_text})")
        ax.fill_between(aggregate.steps, aggregate.low, aggregate.high, alpha=0.25)
    ax.set_xlabel("environment steps")
    ax.set_ylabel(metric.replace("_", " "))
    ax.set_title(f"{env_ids.pop()}: median, min–max band over runs")
    ax.grid(alpha=0.3)
    ax.legend()
    out_png = Path(out_png)
    out_png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_png, dpi=120)
    return out_png
