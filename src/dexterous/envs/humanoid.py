"""Humanoid (paper appendix C): gymnasium's Humanoid-v5, behind our snapshot protocol.

The model is gymnasium's own `humanoid.xml`, read from the installed gymnasium package at
run time, with one slot of MuJoCo userdata added. Dynamics, reward, observation, reset
noise and termination are Humanoid-v5's defaults (checked against it in
tests/test_humanoid.py):

- 5 substeps of 0.003 s (RK4) per step, ctrl = the action (bounds ±0.4), then
  mj_rnePostConstraint as gymnasium's MujocoEnv does, so that cfrc_ext is current;
- reward = 5·healthy + 1.25·Δx_com/dt − 0.1·Σctrl² − min(5e-7·Σcfrc_ext², 10);
  healthy = 1 < torso z < 2; the episode terminates when unhealthy;
- observation (348) = qpos[2:], qvel, cinert[1:], cvel[1:], qfrc_actuator[6:], cfrc_ext[1:];
- reset: qpos, qvel = initial + U(−0.01, 0.01) each.

Humanoid-v5 reads the centre of mass "before" a step from the derived fields the previous
step left behind (as mj_step leaves them: from the last RK4 stage, not the current
state), which no integration state can reproduce. We keep that x in userdata[0], which is
part of the integration state, so snapshots, batch rollouts and restores continue
exactly. Deliberate differences: actions are clipped to the bounds (v5 passes them on and
charges the control cost of the unclipped value), and the centre of mass is summed body by
body in a fixed order (v5 uses einsum; the two agree to the last bits, and ours is the same
for a batch of 1 and of N).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import gymnasium
import mujoco
import numpy as np

from dexterous.envs.base import StepOutcome, TaskEnv
from dexterous.scenes.spec import CameraView

EPISODE_STEPS = 1000
FRAME_SKIP = 5
"""Physics steps per environment step (v5's frame_skip)."""
RESET_NOISE = 1e-2
"""Half-width of the uniform noise added to the initial qpos and qvel."""
COM_X = 0
"""userdata slot holding the centre-of-mass x the next step's forward reward starts from."""
CAMERA = CameraView(lookat=(0.0, 0.0, 1.0), distance=4.0, azimuth=90.0, elevation=-20.0)


def humanoid_xml() -> Path:
    """gymnasium's humanoid.xml, inside the installed gymnasium package."""
    return Path(gymnasium.__file__).parent / "envs" / "mujoco" / "assets" / "humanoid.xml"


def humanoid_model() -> mujoco.MjModel:
    """gymnasium's Humanoid model with one userdata slot (which no physics reads)."""
    spec = mujoco.MjSpec.from_file(str(humanoid_xml()))
    spec.nuserdata = 1
    return spec.compile()


@dataclass(frozen=True)
class HumanoidReward:
    """Humanoid-v5's reward as named terms, with its default weights."""

    healthy_reward: float = 5.0
    """Paid at every step that ends healthy."""
    forward_weight: float = 1.25
    """Weight of the centre of mass' x velocity (m/s)."""
    ctrl_cost_weight: float = 0.1
    """Weight of Σ ctrl²."""
    contact_cost_weight: float = 5e-7
    """Weight of Σ cfrc_ext² (every body, all 6 components)."""
    contact_cost_max: float = 10.0
    """Upper clip of the contact cost."""
    healthy_z: tuple[float, float] = (1.0, 2.0)
    """Healthy while the torso's height is strictly inside this range (m)."""

    def healthy(self, qpos: np.ndarray) -> np.ndarray:
        """(N,) bool from qpos (N, nq): torso z strictly between the bounds."""
        z = qpos[:, 2]
        return (self.healthy_z[0] < z) & (z < self.healthy_z[1])

    def __call__(self, qpos: np.ndarray, ctrl: np.ndarray, cfrc_ext: np.ndarray, com_x_before: np.ndarray,
                 com_x_after: np.ndarray, dt: float) -> np.ndarray:
        """(N,) reward; sums run element by element in a fixed order (see module docstring)."""
        ctrl_sq = ctrl[:, 0] * ctrl[:, 0]
        for k in range(1, ctrl.shape[1]):
            ctrl_sq = ctrl_sq + ctrl[:, k] * ctrl[:, k]
        forces = cfrc_ext.reshape(cfrc_ext.shape[0], -1)
        force_sq = forces[:, 0] * forces[:, 0]
        for k in range(1, forces.shape[1]):
            force_sq = force_sq + forces[:, k] * forces[:, k]
        forward = self.forward_weight * ((com_x_after - com_x_before) / dt)
        alive = self.healthy(qpos) * self.healthy_reward
        contact_cost = np.minimum(self.contact_cost_weight * force_sq, self.contact_cost_max)
        return (forward + alive) - (self.ctrl_cost_weight * ctrl_sq + contact_cost)


def centre_of_mass_x(body_mass: np.ndarray, xipos: np.ndarray) -> np.ndarray:
    """(N,) x of the centre of mass from xipos (N, nbody, 3), summed body by body."""
    total = body_mass[0] * xipos[:, 0, 0]
    for b in range(1, body_mass.shape[0]):
        total = total + body_mass[b] * xipos[:, b, 0]
    return total / body_mass.sum()


class HumanoidEnv(TaskEnv):
    """Walk forward as fast as possible without falling (gymnasium Humanoid-v5)."""

    metadata = {"render_modes": ["rgb_array"], "render_fps": 67}
    outcome_fields = ("qpos", "ctrl", "xipos", "cfrc_ext", "userdata")
    post_constraint_forces = True
    has_success = False

    def __init__(self, reward: HumanoidReward = HumanoidReward(), render_mode: str | None = None,
                 width: int = 480, height: int = 480):
        model = humanoid_model()
        super().__init__(model, model.actuator_ctrlrange[:, 0], model.actuator_ctrlrange[:, 1], EPISODE_STEPS,
                         FRAME_SKIP, CAMERA, render_mode, width, height)
        self.reward = reward
        self.dt = model.opt.timestep * FRAME_SKIP
        obs_size = (model.nq - 2) + model.nv + 10 * (model.nbody - 1) + 6 * (model.nbody - 1) \
            + (model.nv - 6) + 6 * (model.nbody - 1)
        self.observation_space = gymnasium.spaces.Box(-np.inf, np.inf, (obs_size,), np.float64)

    def action_to_ctrl(self, action: np.ndarray, ctrl: np.ndarray) -> None:
        """ctrl = the action, clipped to the actuators' ctrlrange (v5's action space)."""
        ctrl[...] = np.clip(action, self.action_low, self.action_high)

    def _observe(self) -> np.ndarray:
        d = self.data
        return np.concatenate([d.qpos[2:], d.qvel, d.cinert[1:].ravel(), d.cvel[1:].ravel(),
                               d.qfrc_actuator[6:], d.cfrc_ext[1:].ravel()])

    def _reset_task(self) -> None:
        """v5's reset_model: uniform noise on qpos, then on qvel; the forward reward of the
        first step starts from the centre of mass of the reset state."""
        d, m = self.data, self.model
        d.qpos[:] = m.qpos0 + self.np_random.uniform(-RESET_NOISE, RESET_NOISE, m.nq)
        d.qvel[:] = self.np_random.uniform(-RESET_NOISE, RESET_NOISE, m.nv)
        mujoco.mj_forward(m, d)
        d.userdata[COM_X] = centre_of_mass_x(m.body_mass, d.xipos[None])[0]

    def step_outcome(self, fields: Mapping[str, np.ndarray], goal: np.ndarray) -> StepOutcome:
        """Reward and fall of the states just reached; moves the centre of mass x into
        userdata for the next step."""
        com_x = centre_of_mass_x(self.model.body_mass, fields["xipos"])
        userdata = fields["userdata"]
        reward = self.reward(fields["qpos"], fields["ctrl"], fields["cfrc_ext"], userdata[:, COM_X], com_x, self.dt)
        userdata[:, COM_X] = com_x
        terminated = ~self.reward.healthy(fields["qpos"])
        return StepOutcome(reward, np.zeros(reward.shape, dtype=bool), terminated)
