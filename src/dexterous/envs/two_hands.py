"""The two-hand goal tasks of SPEC §2: hand an object over, or throw and catch it.

One class serves all five families; they differ only in their `TwoHandLayout` data
(dexterous.scenes.two_hands). Goal positions are drawn in the target box farther from the
object, so every goal asks for the object to cross to the other hand.
"""

from __future__ import annotations

from collections.abc import Sequence

import mujoco
import numpy as np

from dexterous.envs.goal import GoalHandEnv
from dexterous.envs.rewards import GoalReward
from dexterous.envs.rotations import quat_multiply, random_rotation
from dexterous.scenes.spec import ObjectShape
from dexterous.scenes.two_hands import LAYOUTS, Box, HeldStart

EPISODE_STEPS = 75
LOST_BELOW_GOAL = 0.2
"""An object whose centre is this far (m) below its goal has fallen past the receiving hand
(whose target box holds the goal) and is out of play."""
WARMUP_STEPS = 10
"""Zero-action steps after the random rotation, letting the object come to rest (0.4 s)."""


def goal_boxes(boxes: Sequence[Box], first_object: np.ndarray) -> tuple[Box, ...]:
    """The boxes in object order: object 1's goal box is the one whose centre is farther
    from object 1; a second object gets the other box (the goals swap sides)."""
    near, far = sorted(boxes, key=lambda box: float(np.sum((box.centre - first_object) ** 2)))
    return far, near


def sample_goal(rng: np.random.Generator, boxes: Sequence[Box], positions: np.ndarray) -> np.ndarray:
    """A (7K,) goal for K objects at positions (K, 3): per object a position uniform in its
    box (see goal_boxes) and a random orientation (random_rotation, also for pens)."""
    poses = []
    for box, _ in zip(goal_boxes(boxes, positions[0]), positions):
        poses += [rng.uniform(box.low, box.high), random_rotation(rng)]
    return np.concatenate(poses)


class TwoHandEnv(GoalHandEnv):
    """Move one object (two for TwoObject) between two Shadow hands to goal poses.

    Actions (SPEC §2 order, kept for compatibility): [0:20] hand 1 fingers and wrist,
    [20:40] hand 2, then for movable bases [40:46] hand-2 base and [46:52] hand-1 base
    (Tx, Ty, Tz, Rx, Ry, Rz each).

    Reset: the model's initial state, a random rotation of eggs and blocks (pens keep
    theirs), 10 zero-action steps, then the goal. The overarm family instead starts from
    its fixed wound-back grip at time 0; from there a zero action throws the object, as
    the base servos swing hand 2 back upright. Episodes last 75 steps and never terminate;
    SPEC §2 gives the two-hand tasks no drop rule, so the dense reward never zeroes.
    """

    def __init__(self, family: str, shape: ObjectShape, sparse: bool = False, **kwargs):
        if family not in LAYOUTS:
            raise ValueError(f"unknown two-hand family {family!r}: choose one of {sorted(LAYOUTS)}")
        self.layout = LAYOUTS[family]
        self.shape = shape
        reward = GoalReward(pos_weight=self.layout.pos_weight, rot_weight=self.layout.rot_weight, sparse=sparse)
        super().__init__(self.layout.scene(shape), EPISODE_STEPS, reward, **kwargs)

    def _action_layout(self) -> np.ndarray:
        hand1, hand2 = self.indices.hands
        return np.concatenate([hand1.fingers, hand2.fingers, hand2.base, hand1.base])

    def object_lost(self, qpos: np.ndarray, goal: np.ndarray) -> np.ndarray:
        """Any object more than LOST_BELOW_GOAL below its goal: dropped, or on the floor."""
        heights = qpos[:, [obj.qpos[2] for obj in self.indices.objects]]
        return np.any(heights < goal[:, 2::7] - LOST_BELOW_GOAL, axis=1)

    def _flat_observation(self) -> np.ndarray:
        """Per hand qpos then qvel (base first), then per object pose (7) and velocity (6)."""
        qpos, qvel = self.data.qpos, self.data.qvel
        parts = []
        for hand in self.indices.hands:
            parts += [qpos[hand.qpos], qvel[hand.qvel]]
        for obj in self.indices.objects:
            parts += [qpos[obj.qpos], qvel[obj.qvel]]
        return np.concatenate(parts)

    def _reset_task(self) -> None:
        if self.layout.held_start is not None:
            self._apply_held_start(self.layout.held_start)
        else:
            if self.shape != "pen":
                for obj in self.indices.objects:
                    quat = obj.qpos[3:]
                    self.data.qpos[quat] = quat_multiply(self.data.qpos[quat], random_rotation(self.np_random))
            mujoco.mj_forward(self.model, self.data)
            self.settle(WARMUP_STEPS)
        positions = np.array([self.data.qpos[obj.qpos[:3]] for obj in self.indices.objects])
        self.set_goal(sample_goal(self.np_random, self.layout.boxes, positions))

    def _apply_held_start(self, start: HeldStart) -> None:
        for name, value in start.joints.items():
            self.data.qpos[self.model.joint(name).qposadr[0]] = value
        for obj in self.indices.objects:
            self.data.qpos[obj.qpos[3:]] = start.object_quat[self.shape]
