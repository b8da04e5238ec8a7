"""Record an environment episode to an mp4 (imageio + its bundled ffmpeg).

The pieces every recording shares (rendering a rollout, writing frames) live here, below
the layers that record something of their own: `dexterous.demos.video` replays
demonstrations, `dexterous.rl.policies` records trained policies.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import gymnasium
import imageio
import numpy as np

import dexterous
from dexterous.progress import progress_bar

POLICIES: dict[str, Callable[[object, np.random.Generator, tuple[int, ...]], np.ndarray]] = {
    "zero": lambda obs, rng, shape: np.zeros(shape),
    "random": lambda obs, rng, shape: rng.uniform(-1.0, 1.0, shape),
}
"""Built-in open-loop policies for quick looks at a scene."""


def record_episode(env_id: str, out: Path, steps: int | None = None, seed: int = 0, policy: str = "random",
                   width: int = 480, height: int = 480, progress: bool = True) -> Path:
    """Run `policy` for `steps` (default: one episode) and write the frames to `out`."""
    if policy not in POLICIES:
        raise ValueError(f"unknown policy {policy!r}: choose one of {sorted(POLICIES)}")
    if steps is not None and steps < 1:
        raise ValueError(f"steps must be ≥ 1, got {steps}")
    env = dexterous.make(env_id, render_mode="rgb_array", width=width, height=height)
    steps = steps or env.unwrapped.episode_steps
    rng = np.random.default_rng(seed)
    env.reset(seed=seed)
    return write_video(env, lambda obs: POLICIES[policy](obs, rng, env.action_space.shape), steps, Path(out), progress)


def replaying(actions: Iterable[np.ndarray]) -> Callable[[Any], np.ndarray]:
    """An open-loop policy: the given actions, one per call, whatever the observation."""
    remaining = iter(actions)
    return lambda obs: next(remaining)


def rendered(env: gymnasium.Env, act: Callable[[Any], np.ndarray], steps: Iterable[int],
             obs: Any = None) -> Iterator[np.ndarray]:
    """The current frame, then one frame after each step of act(obs); closes env when done or abandoned.

    obs is the observation act sees first (the reset's, for a closed-loop policy).
    """
    try:
        yield env.render()
        for _ in steps:
            obs, *_ = env.step(act(obs))
            yield env.render()
    finally:
        env.close()


def frame_writer(out: Path, fps: int):
    """An imageio mp4 writer (H.264) for frames of any size; use as a context manager."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    return imageio.get_writer(out, fps=fps, codec="libx264", quality=7, macro_block_size=8)


def write_video(env: gymnasium.Env, act: Callable[[Any], np.ndarray], steps: int, out: Path, progress: bool,
                obs: Any = None) -> Path:
    """Render the current state, then one frame after each of `steps` actions act(obs) chooses."""
    with frame_writer(out, env.metadata["render_fps"]) as writer:
        bar = progress_bar(range(steps), desc=f"{env.unwrapped.env_id} → {out.name}", unit="step",
                           disable=not progress)
        for frame in rendered(env, act, bar, obs):
            writer.append_data(frame)
    return out
