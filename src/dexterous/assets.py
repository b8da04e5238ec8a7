"""Where the Shadow hand model lives: gymnasium-robotics' installed asset files.

We read the hand (robot.xml, shared.xml, shared_asset.xml and their meshes/textures)
from the installed package at run time rather than copying it into this repository. The
package is located without importing it: importing gymnasium_robotics registers its own
environments and prints deprecation notices we have no use for.
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

HAND_FILES = ("robot.xml", "shared.xml", "shared_asset.xml")


class MissingAssetError(FileNotFoundError):
    """The Shadow hand asset files could not be found."""


@functools.cache
def assets_root() -> Path:
    """The `envs/assets` folder of the installed gymnasium-robotics package."""
    spec = importlib.util.find_spec("gymnasium_robotics")
    if spec is None or not spec.submodule_search_locations:
        raise MissingAssetError(
            "the Shadow hand model comes from the gymnasium-robotics package, which is not "
            "installed: run `pip install gymnasium-robotics==1.4.2` (or reinstall dexterous)"
        )
    root = Path(next(iter(spec.submodule_search_locations))) / "envs" / "assets"
    missing = [f for f in HAND_FILES if not (root / "hand" / f).is_file()]
    if missing or not (root / "stls" / "hand").is_dir():
        raise MissingAssetError(
            f"gymnasium-robotics at {root.parent.parent} lacks the hand asset files "
            f"{missing or ['stls/hand/']}: reinstall it with "
            "`pip install --force-reinstall gymnasium-robotics==1.4.2`"
        )
    return root


def hand_xml() -> str:
    """An MJCF document holding one Shadow hand (defaults, assets, tendons, actuators).

    Includes use absolute paths, so the string parses from anywhere with
    `mujoco.MjSpec.from_string`.
    """
    root = assets_root()
    hand = root / "hand"
    return (
        "<mujoco>"
        f'<compiler angle="radian" meshdir="{root / "stls" / "hand"}" '
        f'texturedir="{root / "textures"}"/>'
        f'<include file="{hand / "shared.xml"}"/>'
        f'<asset><include file="{hand / "shared_asset.xml"}"/></asset>'
        f'<worldbody><include file="{hand / "robot.xml"}"/></worldbody>'
        "</mujoco>"
    )
