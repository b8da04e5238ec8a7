"""Replay a saved demonstration into an mp4 or a strip of frames, exactly: from its first
snapshot, its actions."""

from __future__ import annotations

from pathlib import Path

import gymnasium

import dexterous
from dexterous.demos.folder import episode_path
from dexterous.demos.format import Demonstration
from dexterous.video import replaying, write_video


def record_demonstration(demo_path: Path, out: Path, episode: int = 0, width: int = 480, height: int = 480,
                         progress: bool = True, frames: int = 8) -> Path:
    """Replay a saved demonstration (a file, or a folder and an episode number) into `out`
    (an mp4, or a strip of `frames` frames in a PNG)."""
    demo_path = Path(demo_path)
    demo = Demonstration.load(episode_path(demo_path, episode) if demo_path.is_dir() else demo_path)
    return write_video(demonstration_env(demo, width, height), replaying(demo.actions), demo.num_steps, Path(out),
                       progress, frames=frames)


def demonstration_env(demo: Demonstration, width: int, height: int) -> gymnasium.Env:
    """A rendering environment at the demonstration's first state, ready to replay its actions."""
    env = dexterous.make(demo.env_id, render_mode="rgb_array", width=width, height=height)
    env.reset(seed=demo.seed)
    env.unwrapped.restore(demo.snapshot(0))
    return env
