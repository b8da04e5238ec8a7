"""The environment template every dexterous task shares.

`step` is a short template over named hooks (Gymnasium-Robotics' robot_env pattern):
action → ctrl, 20 physics steps, observe, reward/success. Reward and success are one
batched pure function of the state (`reward_success`) so that the BatchEvaluator scores
N rollouts with exactly the code that pays the agent.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Any

import gymnasium
import mujoco
import numpy as np

from dexterous.render import SceneRenderer
from dexterous.scenes.builder import build_model
from dexterous.scenes.indices import SceneIndices, scene_indices
from dexterous.scenes.spec import Scene
from dexterous.sim.snapshot import STATE_SPEC, Snapshot, SnapshotError

SUBSTEPS = 20
"""Physics steps (of 0.002 s) per environment step, with the control held (dt = 0.04 s)."""


class HandEnv(gymnasium.Env):
    """A Shadow-hand scene with absolute position control and exact snapshots.

    Subclasses provide the scene, the action layout (which actuators, in which order), the
    observation, the reset and the batched reward.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 25}

    def __init__(self, scene: Scene, episode_steps: int, render_mode: str | None = None,
                 width: int = 480, height: int = 480):
        if render_mode not in (None, *self.metadata["render_modes"]):
            raise ValueError(f"render_mode must be None or 'rgb_array', got {render_mode!r}")
        self.scene = scene
        self.episode_steps = episode_steps
        self.render_mode = render_mode
        self.model = build_model(scene)
        self.data = mujoco.MjData(self.model)
        self.indices: SceneIndices = scene_indices(self.model, scene)
        self.actuators = self._action_layout()
        ctrl_range = self.model.actuator_ctrlrange[self.actuators]
        self._ctrl_centre = (ctrl_range[:, 1] + ctrl_range[:, 0]) / 2.0
        self._ctrl_half = (ctrl_range[:, 1] - ctrl_range[:, 0]) / 2.0
        n_act = len(self.actuators)
        self.action_space = gymnasium.spaces.Box(-1.0, 1.0, (n_act,), np.float32)
        self.state_size = mujoco.mj_stateSize(self.model, STATE_SPEC)
        self.goal = np.zeros(self.goal_size)
        self.prev_action = np.zeros(n_act)
        self.steps = 0
        self._renderer = SceneRenderer(self.model, scene.camera, width, height)

    # ----- hooks -------------------------------------------------------------------------
    goal_size: int = 0
    """Length of the goal vector kept in snapshots."""

    @abstractmethod
    def _action_layout(self) -> np.ndarray:
        """Actuator ids in action order."""

    @abstractmethod
    def _observe(self) -> Any:
        """The observation of the current state (fresh arrays, no shared memory)."""

    @abstractmethod
    def _reset_task(self) -> None:
        """Put the world into a random start state and pick the goal, using self.np_random."""

    @abstractmethod
    def reward_success(self, qpos: np.ndarray, qvel: np.ndarray, goal: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Batched reward (N,) float64 and success (N,) bool from (N, nq), (N, nv), (N, G)."""

    # ----- the shared machinery ----------------------------------------------------------
    @property
    def env_id(self) -> str:
        return self.spec.id if self.spec is not None else type(self).__name__

    def action_to_ctrl(self, action: np.ndarray, ctrl: np.ndarray) -> None:
        """Write ctrl (..., nu) for actions (..., A): clip, then centre + a·half-range."""
        ctrl[..., self.actuators] = self._ctrl_centre + np.clip(action, -1.0, 1.0) * self._ctrl_half

    def validate_action(self, action: Any) -> np.ndarray:
        action = np.asarray(action, dtype=np.float64)
        if action.shape != self.action_space.shape:
            raise ValueError(f"action must have shape {self.action_space.shape} for {self.env_id}, got {action.shape}")
        if not np.all(np.isfinite(action)):
            raise ValueError(f"action contains NaN or inf at indices {np.flatnonzero(~np.isfinite(action)).tolist()}")
        return action

    def _simulate(self, action: np.ndarray) -> None:
        self.action_to_ctrl(action, self.data.ctrl)
        mujoco.mj_step(self.model, self.data, nstep=SUBSTEPS)

    def step(self, action: Any):
        action = self.validate_action(action)
        self._simulate(action)
        self.steps += 1
        self.prev_action = np.clip(action, -1.0, 1.0)
        reward, success = self.reward_success(self.data.qpos[None], self.data.qvel[None], self.goal[None])
        info = {"is_success": bool(success[0])}
        return self._observe(), float(reward[0]), False, self.steps >= self.episode_steps, info

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        mujoco.mj_resetData(self.model, self.data)
        self._reset_task()
        self.steps = 0
        self.prev_action = np.zeros_like(self.prev_action)
        mujoco.mj_forward(self.model, self.data)
        return self._observe(), {"is_success": False}

    def settle(self, steps: int = 10) -> None:
        """Take zero-action steps, as the original resets do to let objects come to rest."""
        for _ in range(steps):
            self._simulate(np.zeros(self.action_space.shape))

    def snapshot(self) -> Snapshot:
        """Everything that determines the future; see dexterous.sim.snapshot."""
        state = np.empty(self.state_size)
        mujoco.mj_getState(self.model, self.data, state, STATE_SPEC)
        return Snapshot(env_id=self.env_id, state=state, goal=self.goal, step=self.steps,
                        prev_action=self.prev_action, rng_state=self.np_random.bit_generator.state)

    def check_snapshot(self, snap: Snapshot) -> None:
        """Raise SnapshotError unless `snap` was taken from this kind of environment."""
        if not isinstance(snap, Snapshot):
            raise SnapshotError(f"expected a dexterous Snapshot, got {type(snap).__name__}")
        if snap.env_id != self.env_id:
            raise SnapshotError(f"snapshot was taken from {snap.env_id}, cannot restore it into {self.env_id}")
        if snap.state.shape != (self.state_size,) or snap.goal.shape != self.goal.shape \
                or snap.prev_action.shape != self.prev_action.shape:
            raise SnapshotError(
                f"snapshot shapes (state {snap.state.shape}, goal {snap.goal.shape}, action "
                f"{snap.prev_action.shape}) do not fit {self.env_id} (state ({self.state_size},), "
                f"goal {self.goal.shape}, action {self.prev_action.shape}): was the model changed?"
            )

    def restore(self, snap: Snapshot) -> Any:
        """Return to the exact state of `snap`; returns the observation there."""
        self.check_snapshot(snap)
        mujoco.mj_setState(self.model, self.data, snap.state, STATE_SPEC)
        mujoco.mj_forward(self.model, self.data)
        self.goal = snap.goal.copy()
        self.steps = snap.step
        self.prev_action = snap.prev_action.copy()
        if snap.rng_state is not None:
            self.np_random.bit_generator.state = snap.rng_state
        return self._observe()

    def render(self) -> np.ndarray | None:
        if self.render_mode != "rgb_array":
            return None
        mujoco.mj_forward(self.model, self.data)  # derived fields lag the state by a substep
        return self._renderer.render(self.data)

    def close(self) -> None:
        self._renderer.close()
