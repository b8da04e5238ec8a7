"""Goal-based hand environments: objects must reach goal poses (gymnasium GoalEnv API)."""

from __future__ import annotations

from abc import abstractmethod

import gymnasium
import numpy as np

from dexterous.envs.base import HandEnv
from dexterous.envs.rewards import POSE, GoalReward
from dexterous.scenes.spec import Scene


class GoalHandEnv(HandEnv):
    """A hand scene whose goal is one pose (position + quaternion) per object.

    Observations are the usual dict of `observation`, `achieved_goal` (the objects' poses)
    and `desired_goal`; `compute_reward` is vectorised over leading axes.
    """

    def __init__(self, scene: Scene, episode_steps: int, reward: GoalReward, **kwargs):
        self.goal_size = POSE * len(scene.objects)
        super().__init__(scene, episode_steps, **kwargs)
        self.reward_fn = reward
        self.dense_reward = not reward.sparse
        self._object_qpos = np.concatenate([o.qpos for o in self.indices.objects])
        obs_size = self._flat_observation().shape[0]
        box = lambda n: gymnasium.spaces.Box(-np.inf, np.inf, (n,), np.float64)  # noqa: E731
        self.observation_space = gymnasium.spaces.Dict(
            observation=box(obs_size), achieved_goal=box(self.goal_size), desired_goal=box(self.goal_size)
        )

    @abstractmethod
    def _flat_observation(self) -> np.ndarray:
        """The `observation` entry: task-specific, fresh array."""

    def achieved_goal(self, qpos: np.ndarray) -> np.ndarray:
        """(..., 7K) object poses from (..., nq) positions."""
        return qpos[..., self._object_qpos]

    def goal_errors(self) -> tuple[float, float]:
        """How far the objects are from their goal now: the largest position (m) and the
        largest rotation (rad) distance over objects, the two that success bounds."""
        d_pos, d_rot = zip(*self.object_goal_errors())
        return max(d_pos), max(d_rot)

    def object_goal_errors(self) -> tuple[tuple[float, float], ...]:
        """Each object's position (m) and rotation (rad) distance from its goal now, in the
        goal's order: on a two-object task, which of the two the largest errors belong to
        (one egg caught and the other dropped, or both near)."""
        d_pos, d_rot = self.reward_fn.distances(self.achieved_goal(self.data.qpos), self.goal)
        return tuple((float(p), float(r)) for p, r in zip(d_pos, d_rot))

    def set_goal(self, goal: np.ndarray) -> None:
        """Adopt a goal and move the ghosts there (mocap poses are part of the state)."""
        self.goal = np.array(goal, dtype=np.float64)
        poses = self.goal.reshape(-1, POSE)
        for obj, pose in zip(self.indices.objects, poses):
            if obj.mocap >= 0:
                self.data.mocap_pos[obj.mocap] = pose[:3]
                self.data.mocap_quat[obj.mocap] = pose[3:]

    def _observe(self) -> dict[str, np.ndarray]:
        return {
            "observation": self._flat_observation(),
            "achieved_goal": self.achieved_goal(self.data.qpos),
            "desired_goal": self.goal.copy(),
        }

    def reward_success(self, qpos, qvel, goal):
        achieved = self.achieved_goal(qpos)
        return self.reward_fn.reward(achieved, goal), self.reward_fn.success(achieved, goal)

    def compute_reward(self, achieved_goal: np.ndarray, desired_goal: np.ndarray, info=None) -> np.ndarray:
        """Reward of (..., 7K) achieved vs desired goals, as `step` pays it (HER relabelling)."""
        return self.reward_fn.reward(np.asarray(achieved_goal), np.asarray(desired_goal))

    def compute_terminated(self, achieved_goal, desired_goal, info=None):
        """Nothing terminates an episode in this suite (SPEC §1)."""
        return np.zeros(np.shape(achieved_goal)[:-1], dtype=bool)

    def compute_truncated(self, achieved_goal, desired_goal, info=None):
        return np.zeros(np.shape(achieved_goal)[:-1], dtype=bool)
