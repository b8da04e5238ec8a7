"""HandManipulate{Block,Pen}Full, the paper's variants (SPEC §3).

Differences from gymnasium-robotics' stock tasks, as the paper ran them: 75 steps; dense
reward exp(−(20·d_pos + d_rot)), 0 while the object is dropped; 0.01 m / 0.1 rad success
for both objects (the stock pen uses 0.05 m); the full xyz target rotation, also for pens.
"""

from __future__ import annotations

from dataclasses import dataclass

import mujoco
import numpy as np

from dexterous.envs.goal import GoalHandEnv
from dexterous.envs.rewards import GoalReward
from dexterous.envs.rotations import quat_multiply, random_rotation
from dexterous.scenes.single_hand import single_hand_scene
from dexterous.scenes.spec import ObjectShape


@dataclass(frozen=True)
class ManipulateTask:
    """What differs between the block and the pen task."""

    shape: ObjectShape
    """The object in hand."""
    drop_height: float
    """Below this height the object counts as dropped and the dense reward is 0 (m)."""
    random_start_rotation: bool
    """Rotate the object randomly at reset (block yes, pen no)."""
    position_noise: float = 0.005
    """Std of the Gaussian start-position noise (m)."""
    goal_offset_low: tuple[float, float, float] = (-0.04, -0.06, 0.0)
    """Lower corner of the goal's offset from the settled start position (m)."""
    goal_offset_high: tuple[float, float, float] = (0.04, 0.02, 0.06)
    """Upper corner of that offset (m)."""
    palm_height: float = 0.04
    """A reset is kept only if the object is above this height after settling (on the palm)."""


TASKS = {
    "block": ManipulateTask("block", drop_height=0.13, random_start_rotation=True),
    "pen": ManipulateTask("pen", drop_height=0.0, random_start_rotation=False),
}

EPISODE_STEPS = 75


class ManipulateEnv(GoalHandEnv):
    """Reorient and move an object in one hand to a full 6-D goal pose."""

    def __init__(self, shape: ObjectShape, sparse: bool = False, **kwargs):
        if shape not in TASKS:
            raise ValueError(f"unknown object {shape!r}: choose one of {sorted(TASKS)}")
        self.task = TASKS[shape]
        reward = GoalReward(pos_weight=20.0, rot_weight=1.0, sparse=sparse, drop_height=self.task.drop_height)
        super().__init__(single_hand_scene(shape), EPISODE_STEPS, reward, **kwargs)

    def _action_layout(self) -> np.ndarray:
        return self.indices.hands[0].fingers

    def object_lost(self, qpos: np.ndarray, goal: np.ndarray) -> np.ndarray:
        """Dropped: below the task's drop height, where the dense reward is 0 too."""
        return qpos[:, self.indices.objects[0].qpos[2]] < self.task.drop_height

    def _flat_observation(self) -> np.ndarray:
        """Hand joint positions (24) and velocities (24), object velocity (6) and pose (7)."""
        (hand,), (obj,) = self.indices.hands, self.indices.objects
        qpos, qvel = self.data.qpos, self.data.qvel
        return np.concatenate([qpos[hand.qpos], qvel[hand.qvel], qvel[obj.qvel], qpos[obj.qpos]])

    def _reset_task(self) -> None:
        rng = self.np_random
        obj = self.indices.objects[0]
        while True:  # retried until the object rests on the palm, as the stock reset
            mujoco.mj_resetData(self.model, self.data)
            pose = self.data.qpos[obj.qpos]
            if self.task.random_start_rotation:
                pose[3:] = quat_multiply(pose[3:], random_rotation(rng))
            pose[:3] += rng.normal(scale=self.task.position_noise, size=3)
            pose[3:] /= np.linalg.norm(pose[3:])
            self.data.qpos[obj.qpos] = pose
            mujoco.mj_forward(self.model, self.data)
            self.settle()
            if self.data.qpos[obj.qpos[2]] > self.task.palm_height:
                break
        offset = rng.uniform(self.task.goal_offset_low, self.task.goal_offset_high)
        position = self.data.qpos[obj.qpos[:3]] + offset
        self.set_goal(np.concatenate([position, random_rotation(rng)]))
