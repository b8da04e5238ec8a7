"""Demonstrations: record, save, load, replay and restart from planned episodes."""

from dexterous.demos.folder import episode_digests, episode_path, load_folder, read_index, write_index
from dexterous.demos.format import DemoError, Demonstration
from dexterous.demos.play import EpisodePlay, inspect_demonstration, object_quat_index
from dexterous.demos.replay import ReplayReport, flat_observation, replay

__all__ = ["DemoError", "Demonstration", "EpisodePlay", "ReplayReport", "inspect_demonstration", "episode_digests", "episode_path", "flat_observation", "load_folder", "object_quat_index",
           "read_index", "replay", "write_index"]
