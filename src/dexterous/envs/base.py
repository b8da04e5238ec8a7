"""The environment templates every dexterous task shares.

`TaskEnv` is the machinery any MuJoCo task needs to be planned on: exact snapshots, action
checks, rendering, and `step` as a short template over named hooks (Gymnasium-Robotics'
robot_env pattern): action → ctrl, physics substeps, observe, outcome. The outcome
(reward, success, termination) is one batched function of named MjData fields
(`step_outcome`), so that the BatchEvaluator scores N rollouts with exactly the code that
pays the agent. `HandEnv` adds the Shadow-hand specifics: scenes built from hand assets,
absolute position control in [−1, 1] and a goal.
"""

from __future__ import annotations

import dataclasses
from abc import ABCMeta, abstractmethod
from collections.abc import Mapping
from typing import Any, NamedTuple

import gymnasium
import mujoco
import numpy as np
from gymnasium.envs.registration import EnvSpec

from dexterous.envs.registry import resolve_alias
from dexterous.render import SceneRenderer
from dexterous.scenes.builder import build_model
from dexterous.scenes.indices import SceneIndices, scene_indices
from dexterous.scenes.spec import CameraView, Scene
from dexterous.contracts.divergence import SimulationDivergedError, clear_divergence, divergence
from dexterous.contracts.snapshot import STATE_SPEC, Snapshot, SnapshotError

SUBSTEPS = 20
"""Physics steps (of 0.002 s) per hand-environment step, with the control held (dt = 0.04 s)."""


class StepOutcome(NamedTuple):
    """What one step pays, for a batch of N states: reward (N,) float64, success (N,) bool,
    terminated (N,) bool (the episode ended at this step; its later rewards do not count)."""

    reward: np.ndarray
    success: np.ndarray
    terminated: np.ndarray


class TaskEnv(gymnasium.Env, metaclass=ABCMeta):
    """A MuJoCo task with exact snapshots and a batched step outcome.

    Subclasses provide the action → ctrl map, the observation, the reset and the batched
    `step_outcome`; everything the BatchEvaluator needs is declared here. ABCMeta makes the
    hooks binding: a subclass that misses one cannot be instantiated (gymnasium.Env alone
    would let it through until the hook is first called).
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 25}
    _spec: EnvSpec | None = None

    goal_size: int = 0
    """Length of the goal vector kept in snapshots."""
    outcome_fields: tuple[str, ...] = ("qpos", "qvel")
    """MjData fields, batched as (N, …), that `step_outcome` reads."""
    has_success: bool = True
    """False for tasks without a goal (PenSpin, Humanoid), whose is_success is always False
    and must not be reported as a 0% success rate."""
    dense_reward: bool = True
    """False for the Sparse twins (reward success − 1 per step): planners score rollouts by
    the dense reward plus a success bonus (SPEC §4), so they refuse these."""
    post_constraint_forces: bool = False
    """Run mj_rnePostConstraint after each step (cfrc_ext, cacc, cfrc_int): mj_step only
    computes them when a sensor needs them, and some tasks read them."""

    def __init__(self, model: mujoco.MjModel, action_low: np.ndarray, action_high: np.ndarray,
                 episode_steps: int, substeps: int, camera: CameraView, render_mode: str | None = None,
                 width: int = 480, height: int = 480):
        if render_mode not in (None, *self.metadata["render_modes"]):
            raise ValueError(f"render_mode must be None or 'rgb_array', got {render_mode!r}")
        self.model = model
        self.data = mujoco.MjData(model)
        self.episode_steps = episode_steps
        self.substeps = substeps
        self.render_mode = render_mode
        self.action_low = np.asarray(action_low, dtype=np.float64)
        self.action_high = np.asarray(action_high, dtype=np.float64)
        self.action_space = gymnasium.spaces.Box(self.action_low.astype(np.float32),
                                                 self.action_high.astype(np.float32), dtype=np.float32)
        self.state_size = mujoco.mj_stateSize(model, STATE_SPEC)
        self.goal = np.zeros(self.goal_size)
        self.prev_action = np.zeros(self.action_low.shape)
        self.steps = 0
        self._diverged: str | None = None
        self._renderer = SceneRenderer(model, camera, width, height)

    # ----- hooks -------------------------------------------------------------------------
    @abstractmethod
    def action_to_ctrl(self, action: np.ndarray, ctrl: np.ndarray) -> None:
        """Write ctrl (..., nu) for actions (..., A), clipping them to the action bounds."""

    @abstractmethod
    def _observe(self) -> Any:
        """The observation of the current state (fresh arrays, no shared memory)."""

    @abstractmethod
    def _reset_task(self) -> None:
        """Put the world into a random start state and pick the goal, using self.np_random."""

    @abstractmethod
    def step_outcome(self, fields: Mapping[str, np.ndarray], goal: np.ndarray) -> StepOutcome:
        """Batched outcome of the states just reached, from `outcome_fields` (N, …) and
        goals (N, G). It may write state fields it was given (userdata): both callers
        pass live views, so what a task carries between steps lands in its snapshots."""

    def object_lost(self, qpos: np.ndarray, goal: np.ndarray) -> np.ndarray:
        """(N,) bool: whether the states (N, nq) with goals (N, G) have lost their object out
        of play, beyond where the hands can work with it again.

        Only TOPDM+'s objective and TD3's optional in-play training reward read it, never
        the task's reward, which stays the paper's. Tasks without an object to lose
        (Humanoid: its fall terminates) never lose one.
        """
        return np.zeros(qpos.shape[0], dtype=bool)

    def object_lost_now(self) -> bool:
        """`object_lost` of the current state: what a wrapper or a probe asks after a step."""
        return bool(self.object_lost(self.data.qpos[None].copy(), np.asarray(self.goal)[None])[0])

    def rest_offset(self, qpos: np.ndarray) -> np.ndarray:
        """(N,) distance (m) of the object from where the hand holds it at rest, for planners
        that keep it there (TOPDM+ on PenSpin); 0 for tasks without such a pose."""
        return np.zeros(qpos.shape[0])

    # ----- the shared machinery ----------------------------------------------------------
    @property
    def spec(self) -> EnvSpec | None:
        """The spec `gymnasium.make` gave, with max_episode_steps = episode_steps: the
        environment truncates its episodes itself (see dexterous.envs.registry)."""
        return self._spec

    @spec.setter
    def spec(self, spec: EnvSpec | None) -> None:
        self._spec = None if spec is None else dataclasses.replace(spec, max_episode_steps=self.episode_steps)

    @property
    def env_id(self) -> str:
        """The canonical id, also where an alias made the environment: its snapshots fit the canonical one."""
        return resolve_alias(self.spec.id) if self.spec is not None else type(self).__name__

    def validate_action(self, action: Any) -> np.ndarray:
        action = np.asarray(action, dtype=np.float64)
        if action.shape != self.action_space.shape:
            raise ValueError(f"action must have shape {self.action_space.shape} for {self.env_id}, got {action.shape}")
        if not np.all(np.isfinite(action)):
            raise ValueError(f"action contains NaN or inf at indices {np.flatnonzero(~np.isfinite(action)).tolist()}")
        return action

    def _simulate(self, action: np.ndarray) -> None:
        """Advance one environment step; raise SimulationDivergedError if the physics diverged.

        MuJoCo answers a diverged state by resetting the simulation to the model's default
        pose and carrying on, which would hand the agent an episode that silently jumped to
        another state. We raise instead, and keep raising until reset() or restore(): no
        reward of such an episode is meaningful, and gymnasium has no finite reward that
        could stand for "diverged" (the batch evaluator scores it −inf).
        """
        if self._diverged is not None:
            raise SimulationDivergedError(self._diverged)
        self.action_to_ctrl(action, self.data.ctrl)
        clear_divergence(self.data)  # see dexterous.contracts.divergence
        mujoco.mj_step(self.model, self.data, nstep=self.substeps)
        if self.post_constraint_forces:
            mujoco.mj_rnePostConstraint(self.model, self.data)
        bad = divergence(self.data)
        if bad is not None:
            self._diverged = (
                f"{self.env_id} diverged at step {self.steps + 1}: MuJoCo found a bad {bad} and reset "
                "the simulation to the model's default pose; call reset() or restore() a snapshot "
                "before stepping again"
            )
            raise SimulationDivergedError(self._diverged)

    def step(self, action: Any):
        """Gymnasium's step; raises SimulationDivergedError when the physics diverges."""
        action = self.validate_action(action)
        self._simulate(action)
        self.steps += 1
        self.prev_action = np.clip(action, self.action_low, self.action_high)
        fields = {name: getattr(self.data, name)[None] for name in self.outcome_fields}
        outcome = self.step_outcome(fields, self.goal[None])
        info = {"is_success": bool(outcome.success[0])}
        return (self._observe(), float(outcome.reward[0]), bool(outcome.terminated[0]),
                self.steps >= self.episode_steps, info)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        mujoco.mj_resetData(self.model, self.data)
        self._diverged = None
        self._reset_task()
        self.steps = 0
        self.prev_action = np.zeros_like(self.prev_action)
        mujoco.mj_forward(self.model, self.data)
        return self._observe(), {"is_success": False}

    def snapshot(self) -> Snapshot:
        """Everything that determines the future; see dexterous.contracts.snapshot."""
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
        """Return to the exact state of `snap`; returns the observation there.

        Derived fields (and the post-constraint forces, where the task uses them) are
        recomputed at the restored state; the future depends only on the state.
        """
        self.check_snapshot(snap)
        mujoco.mj_setState(self.model, self.data, snap.state, STATE_SPEC)
        self._diverged = None
        mujoco.mj_forward(self.model, self.data)
        if self.post_constraint_forces:
            mujoco.mj_rnePostConstraint(self.model, self.data)
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


class HandEnv(TaskEnv):
    """A Shadow-hand scene with absolute position control and exact snapshots.

    Subclasses provide the scene, the action layout (which actuators, in which order), the
    observation, the reset and the batched reward.
    """

    def __init__(self, scene: Scene, episode_steps: int, render_mode: str | None = None,
                 width: int = 480, height: int = 480):
        self.scene = scene
        model = build_model(scene)
        self.indices: SceneIndices = scene_indices(model, scene)
        self.actuators = self._action_layout()
        ctrl_range = model.actuator_ctrlrange[self.actuators]
        self._ctrl_centre = (ctrl_range[:, 1] + ctrl_range[:, 0]) / 2.0
        self._ctrl_half = (ctrl_range[:, 1] - ctrl_range[:, 0]) / 2.0
        n_act = len(self.actuators)
        super().__init__(model, np.full(n_act, -1.0), np.full(n_act, 1.0), episode_steps, SUBSTEPS,
                         scene.camera, render_mode, width, height)

    # ----- hooks -------------------------------------------------------------------------
    @abstractmethod
    def _action_layout(self) -> np.ndarray:
        """Actuator ids in action order."""

    @abstractmethod
    def reward_success(self, qpos: np.ndarray, qvel: np.ndarray, goal: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Batched reward (N,) float64 and success (N,) bool from (N, nq), (N, nv), (N, G)."""

    # ----- the hand machinery ------------------------------------------------------------
    def action_to_ctrl(self, action: np.ndarray, ctrl: np.ndarray) -> None:
        """Write ctrl (..., nu) for actions (..., A): clip, then centre + a·half-range."""
        ctrl[..., self.actuators] = self._ctrl_centre + np.clip(action, -1.0, 1.0) * self._ctrl_half

    def step_outcome(self, fields: Mapping[str, np.ndarray], goal: np.ndarray) -> StepOutcome:
        """Hand tasks never end early: the outcome is their reward and success."""
        reward, success = self.reward_success(fields["qpos"], fields["qvel"], goal)
        return StepOutcome(reward, success, np.zeros(reward.shape, dtype=bool))

    def settle(self, steps: int = 10) -> None:
        """Take zero-action steps, as the original resets do to let objects come to rest."""
        for _ in range(steps):
            self._simulate(np.zeros(self.action_space.shape))
