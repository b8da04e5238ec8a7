"""Record an environment episode to an mp4 (imageio + its bundled ffmpeg) or to a strip of
frames in a PNG (matplotlib, for a README or a paper, where a video cannot play).

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
from dexterous.contracts.files import check_recording_path
from dexterous.progress import progress_bar

POLICIES: dict[str, Callable[[object, np.random.Generator, tuple[int, ...]], np.ndarray]] = {
    "zero": lambda obs, rng, shape: np.zeros(shape),
    "random": lambda obs, rng, shape: rng.uniform(-1.0, 1.0, shape),
}
"""Built-in open-loop policies for quick looks at a scene."""

STRIP_LABEL_PX = 24
"""Height of the row above each frame of a strip that names its step (pixels)."""


def record_episode(env_id: str, out: Path, steps: int | None = None, seed: int = 0, policy: str = "random",
                   width: int = 480, height: int = 480, progress: bool = True, frames: int = 8) -> Path:
    """Run `policy` for `steps` (default: one episode) and write the frames to `out` (see write_video)."""
    if policy not in POLICIES:
        raise ValueError(f"unknown policy {policy!r}: choose one of {sorted(POLICIES)}")
    if steps is not None and steps < 1:
        raise ValueError(f"steps must be ≥ 1, got {steps}")
    env = dexterous.make(env_id, render_mode="rgb_array", width=width, height=height)
    steps = steps or env.unwrapped.episode_steps
    rng = np.random.default_rng(seed)
    env.reset(seed=seed)
    return write_video(env, lambda obs: POLICIES[policy](obs, rng, env.action_space.shape), steps, Path(out), progress,
                       frames=frames)


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


def check_recording(out: Path, frames: int, steps: int | None = None) -> None:
    """Fail before anything is simulated where `out` cannot be written as asked."""
    check_recording_path(out)
    if frames < 1:
        raise ValueError(f"a strip needs at least 1 frame, got {frames}")
    if steps is not None and Path(out).suffix.lower() == ".png" and frames > steps + 1:
        raise ValueError(f"a strip of {frames} frames needs at least {frames - 1} steps, got {steps}: "
                         f"record more steps or ask for fewer --frames")


def strip_steps(steps: int, frames: int) -> np.ndarray:
    """The `frames` steps a strip shows, evenly spread from the first state (0) to the last
    (steps); a single frame shows the first."""
    return np.unique(np.linspace(0, steps, frames).round().astype(int))


def write_video(env: gymnasium.Env, act: Callable[[Any], np.ndarray], steps: int, out: Path, progress: bool,
                obs: Any = None, frames: int = 8) -> Path:
    """Render the current state, then one frame after each of `steps` actions act(obs) chooses.

    An .mp4 `out` gets every frame; a .png one a strip of `frames` of them, evenly spread over
    the steps, each under its step number.
    """
    check_recording(out, frames, steps)
    bar = progress_bar(range(steps), desc=f"{env.unwrapped.env_id} → {out.name}", unit="step", disable=not progress)
    if out.suffix.lower() == ".png":
        shown = strip_steps(steps, frames)
        return write_strip([(int(t), frame) for t, frame in enumerate(rendered(env, act, bar, obs)) if t in shown], out)
    with frame_writer(out, env.metadata["render_fps"]) as writer:
        for frame in rendered(env, act, bar, obs):
            writer.append_data(frame)
    return out


def write_strip(frames: list[tuple[int, np.ndarray]], out: Path) -> Path:
    """Frames (step, image), side by side at their own resolution, each under "step t"."""
    from matplotlib.figure import Figure  # only strips need matplotlib: mp4 recordings start without it

    height, width = frames[0][1].shape[:2]
    rows = height + STRIP_LABEL_PX
    figure = Figure(figsize=(width * len(frames) / 100, rows / 100), dpi=100)
    for k, (step, image) in enumerate(frames):
        axes = figure.add_axes((k / len(frames), 0.0, 1.0 / len(frames), height / rows))
        axes.imshow(image, interpolation="nearest")
        axes.set_axis_off()
        figure.text((k + 0.5) / len(frames), 1.0 - 0.5 * STRIP_LABEL_PX / rows, f"step {step}", ha="center",
                    va="center", fontsize=11)
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out, dpi=100)
    return out
