"""Keep-away (Table 6a, "frames the adversary holds the goal"), per 25-step episode on simple_push_v3.

Both agents share one goal landmark (`agent.goal_a`, the landmark agent_0 observes).

- adversary_goal_frames: the number of steps (of the episode's 25) after which adversary_0's centre is within
  2 x its own size (2 x 0.05 = 0.1) of the goal landmark's centre, strictly closer; averaged over episodes.
  The paper does not define "holds the goal"; the factor 2 x size follows the success test of the reference
  ensemble code (closest agent within 2 x agent size of the goal), and counting steps after each env.step
  matches "frames" (the reset state, before any action, is not counted).
- agent_goal_frames: the same count for agent_0 (2 x agent_0's size), averaged over episodes.
- agent_final_distance: agent_0's Euclidean distance to the goal's centre after the last step, averaged over
  episodes (minus agent_0's last-step reward).
- adversary_goal_frames_nearest (alternative): the number of steps after which adversary_0's centre is
  strictly closer to the goal landmark than to the other landmark; averaged over episodes.
- adversary_closer_frames (alternative): the number of steps after which adversary_0 is strictly closer
  (Euclidean, centre to centre) to the goal than agent_0 is; averaged over episodes.

Table 6a shows adversary_goal_frames (benchmarks/metric_calibration.py, results/metric_calibration.md): under
the nearest-landmark reading a random adversary already outscores the paper's trained ones; the
closer-than-the-agent reading is consistent with the paper too and is the kept alternative.

Sizes are read from the world, so a changed scenario size changes the threshold with it.
"""

from __future__ import annotations

import numpy as np

from maddpg.metrics import EpisodeMetrics

HOLD_SIZE_FACTOR = 2.0


def _goal_distance(agent) -> float:
    return float(np.linalg.norm(agent.state.p_pos - agent.goal_a.state.p_pos))


def _goal_is_nearest_landmark(agent, world) -> bool:
    goal_distance = _goal_distance(agent)
    return all(goal_distance < np.linalg.norm(agent.state.p_pos - lm.state.p_pos)
               for lm in world.landmarks if lm is not agent.goal_a)


def _holds_goal(agent) -> bool:
    return _goal_distance(agent) < HOLD_SIZE_FACTOR * agent.size


class PushMetrics(EpisodeMetrics):
    """Table 6a's metric and two companions; see the module docstring for the definitions."""

    names = ("adversary_goal_frames", "agent_goal_frames", "agent_final_distance",
             "adversary_goal_frames_nearest", "adversary_closer_frames")

    def __init__(self):
        self.adversary_frames: list[int] = []
        self.agent_frames: list[int] = []
        self.final_distances: list[float] = []
        self.nearest_frames: list[int] = []
        self.closer_frames: list[int] = []
        self._adversary_count = self._agent_count = self._nearest_count = self._closer_count = 0

    def start_episode(self, world) -> None:
        self._adversary_count = self._agent_count = self._nearest_count = self._closer_count = 0

    def after_step(self, world) -> None:
        adversary, agent = _roles(world)
        self._adversary_count += _holds_goal(adversary)
        self._agent_count += _holds_goal(agent)
        self._nearest_count += _goal_is_nearest_landmark(adversary, world)
        self._closer_count += _goal_distance(adversary) < _goal_distance(agent)

    def end_episode(self, world) -> None:
        self.adversary_frames.append(self._adversary_count)
        self.agent_frames.append(self._agent_count)
        self.final_distances.append(_goal_distance(_roles(world)[1]))
        self.nearest_frames.append(self._nearest_count)
        self.closer_frames.append(self._closer_count)

    def summary(self) -> dict[str, float]:
        return {
            "adversary_goal_frames": float(np.mean(self.adversary_frames)),
            "agent_goal_frames": float(np.mean(self.agent_frames)),
            "agent_final_distance": float(np.mean(self.final_distances)),
            "adversary_goal_frames_nearest": float(np.mean(self.nearest_frames)),
            "adversary_closer_frames": float(np.mean(self.closer_frames)),
        }


def _roles(world):
    """(adversary_0, agent_0), found by role rather than position in the list."""
    adversary = next(a for a in world.agents if a.adversary)
    agent = next(a for a in world.agents if not a.adversary)
    return adversary, agent
