"""dexterous: the paper's dexterous-manipulation tasks on mujoco, TOPDM, and TD3 from demos.

Importing the package registers every environment under the `dexterous/` namespace.
"""

import ctypes.util
import os


def _default_gl_backend() -> str:
    """Headless rendering: EGL where libEGL exists, else OSMesa where it exists, else EGL.

    MuJoCo reads MUJOCO_GL when it is imported, so this runs before the first import;
    a value the user set is left alone.
    """
    if ctypes.util.find_library("EGL") is None and ctypes.util.find_library("OSMesa") is not None:
        return "osmesa"
    return "egl"


os.environ.setdefault("MUJOCO_GL", _default_gl_backend())

from dexterous.envs.registry import env_ids, make, register_all  # noqa: E402

register_all()

__all__ = ["env_ids", "make"]
__version__ = "0.1.0"
