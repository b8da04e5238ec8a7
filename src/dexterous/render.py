"""Offscreen rendering of a scene from its default camera (headless: EGL, else OSMesa)."""

from __future__ import annotations

import mujoco
import numpy as np

from dexterous.scenes.spec import CameraView


class RenderError(RuntimeError):
    """No OpenGL context could be made for offscreen rendering."""


class SceneRenderer:
    """Renders RGB frames of one model from a free camera; the GL context is made lazily."""

    def __init__(self, model: mujoco.MjModel, view: CameraView, width: int = 480, height: int = 480):
        self._model = model
        self._size = (height, width)
        self._renderer: mujoco.Renderer | None = None
        self.camera = mujoco.MjvCamera()
        self.camera.type = mujoco.mjtCamera.mjCAMERA_FREE
        self.camera.lookat[:] = view.lookat
        self.camera.distance = view.distance
        self.camera.azimuth = view.azimuth
        self.camera.elevation = view.elevation

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
