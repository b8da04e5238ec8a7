"""The options of each `dexterous` command that is not a config of its own layer (`PlanRun`,
`ReproduceRun`, the training configs): what to read, where to write, how to show it.

Each is a frozen dataclass whose fields are the command's flags and whose field docstrings
are their help, so the command line (`cli._add_config_flags`), its defaults and its checks
are read from one place. The flag conventions: a field without a default is a positional
argument (a tuple of them: one or more), unless marked `option()`, which makes it a
required --flag; a field marked `positional()` is an optional positional argument; a bool
is a switch.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from dexterous.contracts.configs import check_number
from dexterous.contracts.files import check_recording_path


def option(metavar: str | None = None) -> Any:
    """A required --flag (a field without a default that is not positional)."""
    return dataclasses.field(metadata={"option": True, "metavar": metavar})


def positional(default: Any = None, metavar: str | None = None) -> Any:
    """An optional positional argument."""
    return dataclasses.field(default=default, metadata={"positional": True, "metavar": metavar})


@dataclass(frozen=True, kw_only=True)
class Quiet:
    """What a long command shows."""

    no_progress: bool = False
    """No progress output (in a terminal a bar, in a piped log a line every 30 s)."""


@dataclass(frozen=True, kw_only=True)
class Execution(Quiet):
    """Where a planning command runs (plan, reproduce)."""

    address: str | None = None
    """Existing Ray cluster to run on (default: local Ray)."""
    no_ray: bool = False
    """Run in this process, one after another (no Ray)."""


@dataclass(frozen=True, kw_only=True)
class Frame:
    """The size of rendered frames."""

    width: int = 480
    """Frame width in pixels."""
    height: int = 480
    """Frame height in pixels."""

    def __post_init__(self) -> None:
        check_number("width", self.width, 1, integer=True)
        check_number("height", self.height, 1, integer=True)


@dataclass(frozen=True, kw_only=True)
class VideoCommand(Frame):
    """`dexterous video`: one episode to an mp4 or to a strip of frames in a PNG, from exactly
    one of an environment (random or zero actions), a demonstration or a trained policy."""

    env: str | None = positional()
    """Environment id, e.g. dexterous/PenSpin-v1 (namespace optional)."""
    demo: Path | None = None
    """Replay a demonstration instead: an episode file, or a folder with --episode."""
    episode: int = 0
    """Episode of a demonstration folder."""
    run: Path | None = None
    """Run a trained policy instead: a `dexterous train` run directory or a policy folder."""
    out: Path = option("MP4_OR_PNG")
    """The file to write: an .mp4 video, or a .png strip of --frames frames."""
    steps: int | None = None
    """Steps to record (default: one episode)."""
    seed: int = 0
    """Reset and policy seed."""
    policy: Literal["random", "zero"] = "random"
    """Actions to take in an environment."""
    frames: int = 8
    """Frames a .png strip shows, evenly spread from the first state to the last (one: the first)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        check_number("frames", self.frames, 1, integer=True)
        check_recording_path(self.out)
        if sum(x is not None for x in (self.env, self.demo, self.run)) != 1:
            raise ValueError("give exactly one of: an environment id, --demo FILE_OR_FOLDER, --run RUN_DIR")
        check_number("episode", self.episode, 0, integer=True)
        check_number("seed", self.seed, 0, integer=True)
        if self.steps is not None:
            check_number("steps", self.steps, 1, integer=True)


@dataclass(frozen=True, kw_only=True)
class GalleryCommand(Frame):
    """`dexterous gallery`: one picture per two-hand family."""

    out: Path = Path("docs/gallery")
    """Folder for the PNGs."""
    height: int = 360
    """Frame height in pixels."""


@dataclass(frozen=True, kw_only=True)
class PlanOutput(Execution):
    """Where `dexterous plan` writes."""

    out: Path = option("FOLDER")
    """Demonstration folder (rerun the command to resume)."""
    video: Path | None = None
    """After planning, write an mp4 of episode 0 (a .png: a strip of 8 of its frames)."""

    def __post_init__(self) -> None:
        if self.video is not None:
            check_recording_path(self.video)  # now, not after hours of planning


@dataclass(frozen=True, kw_only=True)
class ReproduceOutput(Execution):
    """Where `dexterous reproduce` writes."""

    out: Path | None = None
    """Results directory (default: results/BUDGET)."""
    no_videos: bool = False
    """Skip the side-by-side TOPDM vs MPPI videos of the best and median seed."""
    dry_run: bool = False
    """Run nothing: list the runs this invocation would run, how far each has got on disk and
    the env steps it has left, to size a figure before committing cores to it."""
    update_records: bool = False
    """Run nothing: give all the figure's records (whatever --tasks and --methods say) the fields
    this version keeps that they were made without, from their run files at hand (an HER run's
    object play from its latest policy evaluated again), and redraw the figure. A plain
    reproduce does this first too."""

    def __post_init__(self) -> None:
        if self.dry_run and self.update_records:
            raise ValueError("--dry-run and --update-records both run nothing: give one of them")


@dataclass(frozen=True, kw_only=True)
class TrainOutput(Quiet):
    """Where `dexterous train` writes."""

    out: Path = option("RUN_DIR")
    """Run directory (rerun the command to resume)."""


@dataclass(frozen=True, kw_only=True)
class InspectCommand:
    """`dexterous inspect`."""

    path: Path
    """A demonstration folder or one episode file."""
    window: int | None = None
    """Also show each episode per window of this many steps (e.g. 50), where a planner's
    falling budget per real step shows in its play."""

    def __post_init__(self) -> None:
        if self.window is not None:
            check_number("window", self.window, 1, integer=True)


@dataclass(frozen=True, kw_only=True)
class ExportMinariCommand:
    """`dexterous export-minari`."""

    folder: Path
    """Demonstration folder of `dexterous plan` or `reproduce`."""
    dataset_id: str | None = None
    """Minari id (default: dexterous/<env name>/<planner>-v0, e.g. dexterous/PenSpin/topdm-v0)."""
    datasets_path: Path | None = None
    """Minari's datasets root (default: $MINARI_DATASETS_PATH, else ~/.minari/datasets)."""
    author: str | None = None
    """Author name stored in the dataset."""
    author_email: str | None = None
    """Author contact stored in the dataset."""
    code_permalink: str | None = None
    """Link to the code that planned the episodes."""


@dataclass(frozen=True, kw_only=True)
class ReportCommand:
    """`dexterous report`."""

    results: Path
    """Results directory of `dexterous reproduce` (e.g. results/cpu)."""
    out: Path | None = None
    """Markdown file (default: RESULTS_DIR/REPORT.md)."""


@dataclass(frozen=True, kw_only=True)
class EvaluateCommand(Quiet):
    """`dexterous evaluate`."""

    run: Path
    """Run directory of `dexterous train`, or a policy folder of `dexterous export-policy`
    (e.g. data/policies/pen_spin)."""
    episodes: int = 10
    """Episodes (resets seed, seed + 1, ...)."""
    steps: int = 1000
    """Steps per episode (past the episode's limit: PenSpin's 250, a goal task's 75)."""
    seed: int = 0
    """Reset seed of episode 0."""
    video: Path | None = None
    """The mp4 of the first episode."""
    json: Path | None = None
    """Also write the report as JSON."""

    def __post_init__(self) -> None:
        check_number("episodes", self.episodes, 1, integer=True)
        check_number("steps", self.steps, 1, integer=True)
        check_number("seed", self.seed, 0, integer=True)


@dataclass(frozen=True, kw_only=True)
class ExportPolicyCommand:
    """`dexterous export-policy`."""

    run: Path
    """Run directory of `dexterous train`."""
    out: Path = option("FOLDER")
    """Policy folder to write (new, or a policy folder to replace)."""
    best: bool = False
    """Export the run's best evaluated policy (its best/ folder) instead of its latest."""


@dataclass(frozen=True, kw_only=True)
class CurvesCommand:
    """`dexterous curves`."""

    runs: tuple[Path, ...]
    """Run directories."""
    out: Path = option("PNG")
    """The PNG to write."""
    metric: str = "mean_return"
    """Evaluation field to plot: mean_return; TD3 also mean_in_play_steps (steps with the object
    in play), and with --lost-object mean_in_play_return (the reward it trains on); HER success_rate."""
