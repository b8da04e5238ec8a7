"""Offscreen rendering of a scene from its default camera (headless: EGL, else OSMesa)."""

from __future__ import annotations

import os
import sys
import weakref
from typing import Any

import mujoco
import numpy as np

from dexterous.scenes.spec import CameraView


class RenderError(RuntimeError):
    """No OpenGL context could be made for offscreen rendering."""


class SceneRenderer:
    """Renders RGB frames of one model from a free camera; the GL context is made lazily.

    It pickles without its GL context (which belongs to the process) and camera (an
    MjvCamera does not pickle): both are made again where it is unpickled.
    """

    def __init__(self, model: mujoco.MjModel, view: CameraView, width: int = 480, height: int = 480):
        self._model = model
        self._view = view
        self._size = (height, width)
        self._renderer: mujoco.Renderer | None = None
        self.camera = mujoco.MjvCamera()
        self.camera.type = mujoco.mjtCamera.mjCAMERA_FREE
        self.camera.lookat[:] = view.lookat
        self.camera.distance = view.distance
        self.camera.azimuth = view.azimuth
        self.camera.elevation = view.elevation
        _RENDERERS.add(self)

    def __getstate__(self) -> dict[str, Any]:
        return {"model": self._model, "view": self._view, "size": self._size}

    def __setstate__(self, state: dict[str, Any]) -> None:
        height, width = state["size"]
        self.__init__(state["model"], state["view"], width, height)

    def render(self, data: mujoco.MjData) -> np.ndarray:
        """An (H, W, 3) uint8 image of `data` (forward kinematics must be current)."""
        if self._renderer is None:
            try:
                self._renderer = mujoco.Renderer(self._model, *self._size)
            except Exception as err:  # the GL backends raise a variety of types
                raise RenderError(
                    f"could not create an offscreen OpenGL context ({err}); set MUJOCO_GL=egl "
                    "(needs libEGL, e.g. `apt-get install libegl1`) or MUJOCO_GL=osmesa "
                    "(`apt-get install libosmesa6`) before importing dexterous"
                ) from err
        self._renderer.update_scene(data, camera=self.camera)
        return self._renderer.render()

    def close(self) -> None:
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None


_RENDERERS: weakref.WeakSet[SceneRenderer] = weakref.WeakSet()
"""Every live SceneRenderer, for the fork hook below."""


def _release_gl_before_fork() -> None:
    """Free our GL contexts and mujoco's EGL display before the process forks.

    A forked child cannot make a GL context while it inherits an initialised EGL display
    (it hangs: gymnasium's AsyncVectorEnv workers rendering after the parent rendered).
    Our renderers make their contexts again at their next render, in parent and child.
    Nothing is done in a process that holds no context of ours; where it holds one, a
    mujoco.Renderer made outside dexterous loses the shared EGL display too (close it
    before forking).
    """
    holding = [renderer for renderer in _RENDERERS if renderer._renderer is not None]
    for renderer in holding:
        renderer.close()
    egl = sys.modules.get("mujoco.egl")
    if holding and egl is not None:
        egl._terminate_display()  # mujoco's own at-exit release; the next context initialises it again


os.register_at_fork(before=_release_gl_before_fork)
