"""Cooperative communication (Table 1), per 25-step episode on simple_speaker_listener_v4.

Chosen readings (the ones Table 1 shows; benchmarks/metric_calibration.py measures why, results/metric_calibration.md):

- target_reach_nearest_percent: the percentage of episodes whose last step ends with the listener's centre
  strictly closer (Euclidean) to the goal landmark's centre than to each of the other landmarks' centres;
  no distance threshold. A tie counts as a miss. A listener parked at the landmarks' centre, the DDPG
  failure mode the paper describes, scores about 1/3 under this reading, which is what the paper prints for
  DDPG (32.0%); a radius test gives such a listener almost nothing.
- final_squared_distance: the squared Euclidean listener-to-goal distance after the last step (minus the
  last step's reward), averaged over episodes.

Alternatives, kept computed (committed results use them):

- mean_squared_distance: (called average_distance in evaluation.csv files written before 2026-12-01; renamed
  because it holds a squared distance) the mean over the 25 steps of the squared Euclidean listener-to-goal distance, i.e.
  minus the per-step reward, which is exactly the value openai/maddpg's benchmark mode records for this
  scenario (`benchmark_data` returns the reward). Averaged over episodes.
- target_reach_percent: the percentage of episodes whose last step ends with the listener within
  2 x its own size (2 x 0.075 = 0.15, strictly) of the goal landmark's centre; the factor 2 follows the
  success test of the reference ensemble code (closest agent within 2 x agent size of the goal).
- final_distance: the Euclidean listener-to-goal distance after the last step, averaged over episodes.

Only states after an env.step count; the reset state does not.
"""

from __future__ import annotations

import numpy as np

from maddpg.metrics import EpisodeMetrics

REACH_SIZE_FACTOR = 2.0


def listener_goal_distance(world) -> float:
    """The Euclidean listener-to-goal distance in the world's current state."""
    speaker = world.agents[0]
    return float(np.linalg.norm(speaker.goal_a.state.p_pos - speaker.goal_b.state.p_pos))


def listener_nearest_is_goal(world) -> bool:
    """Whether the listener is now strictly closer to the goal landmark than to every other landmark."""
    speaker = world.agents[0]
    listener, goal = speaker.goal_a, speaker.goal_b
    goal_distance = np.linalg.norm(listener.state.p_pos - goal.state.p_pos)
    others = [np.linalg.norm(listener.state.p_pos - lm.state.p_pos) for lm in world.landmarks if lm is not goal]
    return bool(all(goal_distance < d for d in others))


class SpeakerListenerMetrics(EpisodeMetrics):
    """Table 1's metrics; see the module docstring for the definitions."""

    names = ("target_reach_nearest_percent", "final_squared_distance",
             "target_reach_percent", "mean_squared_distance", "final_distance")

    def __init__(self):
        self.squared_distances, self.final_distances, self.reached = [], [], []
        self.reached_nearest: list[bool] = []
        self._step_distances: list[float] = []

    def start_episode(self, world) -> None:
        self._step_distances = []

    def after_step(self, world) -> None:
        self._step_distances.append(listener_goal_distance(world))

    def end_episode(self, world) -> None:
        distances = np.asarray(self._step_distances)
        self.squared_distances.append(np.mean(distances**2))
        self.final_distances.append(distances[-1])
        self.reached.append(distances[-1] < REACH_SIZE_FACTOR * world.agents[1].size)
        self.reached_nearest.append(listener_nearest_is_goal(world))

    def summary(self) -> dict[str, float]:
        final = np.asarray(self.final_distances)
        return {
            "target_reach_nearest_percent": 100.0 * float(np.mean(self.reached_nearest)),
            "final_squared_distance": float(np.mean(final**2)),
            "target_reach_percent": 100.0 * float(np.mean(self.reached)),
            "mean_squared_distance": float(np.mean(self.squared_distances)),
            "final_distance": float(np.mean(final)),
        }
