"""dexterous: the paper's dexterous-manipulation tasks on mujoco, TOPDM, and TD3 from demos.

Importing the package registers every environment under the `dexterous/` namespace.
"""

import os

# Headless offscreen rendering by default; must be decided before mujoco is imported.
os.environ.setdefault("MUJOCO_GL", "egl")

from dexterous.envs.registry import env_ids, make, register_all  # noqa: E402

register_all()

__all__ = ["env_ids", "make"]
__version__ = "0.1.0"
