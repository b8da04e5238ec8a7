"""Still images of the two-hand families after reset, for the docs and a quick visual check."""

from __future__ import annotations

from pathlib import Path

import imageio.v3 as iio

from dexterous.catalog import TWO_HAND_FAMILIES
from dexterous.envs.two_hands import TwoHandEnv
from dexterous.scenes.spec import ObjectShape

GALLERY: tuple[tuple[str, ObjectShape], ...] = (
    ("HandOver", "block"),
    ("CatchUnderarm", "egg"),
    ("CatchUnderarmHard", "pen"),
    ("CatchOverarm", "block"),
    ("TwoObject", "egg"),
)
"""One (family, object) per picture; the objects vary so that the gallery shows all three."""


def render_gallery(out_dir: Path, width: int = 480, height: int = 360, seed: int = 0) -> list[Path]:
    """Write one PNG per two-hand family (named like the environment) into out_dir."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for family, shape in GALLERY:
        env = TwoHandEnv(family, shape, render_mode="rgb_array", width=width, height=height)
        try:
            env.reset(seed=seed)
            path = out_dir / f"{TWO_HAND_FAMILIES[family].name(shape)}.png"
            iio.imwrite(path, env.render())
        finally:
            env.close()
        written.append(path)
    return written
