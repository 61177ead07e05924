"""Cooperative navigation (Table 2), per 25-step episode on simple_spread_v3 with N agents and N landmarks.

Every quantity is read from the world after each env.step (the states mpe2's `benchmark_data` sees), so
an episode contributes 25 per-step values; the reset state is not counted.

- average_distance: per step, the sum over landmarks of the Euclidean distance from the landmark to its
  nearest agent (mpe2's benchmark `min_dists`, i.e. minus the scenario's global reward); the mean over
  the episode's steps, averaged over episodes. Several landmarks may share one nearest agent (no
  assignment), as in the reference benchmark.
- collisions_per_episode: the number of (step, unordered pair of distinct agents) in contact, summed over
  the episode's steps and averaged over episodes. Contact is mpe2's `is_collision`: centre distance
  strictly below the sum of the two radii (0.15 + 0.15 = 0.3). An agent is never counted against itself:
  the 2017 benchmark did count self-contact (>= 25 per agent per episode), which the paper's 0.209 for
  N=3 rules out as what Table 2 reports. A pair touching on 3 consecutive steps counts 3. mpe2's
  per-agent benchmark `collisions` counts each pair once for each of its two agents, i.e. twice.
- collisions_per_step (alternative): the number of touching pairs of distinct agents (the same contact test)
  after each step, averaged over the episode's steps, then over episodes (collisions_per_episode / 25 for a
  25-step episode).
- final_collisions (alternative): the number of touching pairs of distinct agents after the last step,
  averaged over episodes.
- collisions_2017_benchmark (alternative): the 2017 benchmark's count summed over agents and steps: each
  agent counts every agent it touches, itself included, so a step adds N + 2 x (touching pairs) and an
  episode at least 25 N. Kept to show what the self-count does: it only adds a constant.
- final_distance (alternative): the sum over landmarks of the distance to the nearest agent after the last
  step, averaged over episodes.
- occupied_landmarks (extra): per step, the number of landmarks whose nearest agent's centre is within
  0.1 (strictly) of the landmark's centre, mpe2's benchmark `occupied_landmarks` threshold (and its
  CAPTURE_RADIUS for terminate_on_success); the mean over the episode's steps, averaged over episodes.

Table 2 shows average_distance and collisions_per_episode; benchmarks/metric_calibration.py found no reading
that scripted policies single out (results/metric_calibration.md), so the original two stay.
"""

from __future__ import annotations

import numpy as np

from maddpg.metrics import EpisodeMetrics

OCCUPIED_RADIUS = 0.1


def _agent_and_landmark_positions(world) -> tuple[np.ndarray, np.ndarray]:
    """([N, 2] agent positions, [L, 2] landmark positions) of a live mpe2 world."""
    agents = np.array([agent.state.p_pos for agent in world.agents], dtype=np.float64)
    landmarks = np.array([landmark.state.p_pos for landmark in world.landmarks], dtype=np.float64)
    return agents, landmarks


def nearest_agent_distances(world) -> np.ndarray:
    """[L]: the Euclidean distance from each landmark to its nearest agent."""
    agents, landmarks = _agent_and_landmark_positions(world)
    distances = np.sqrt(np.sum(np.square(agents[None, :, :] - landmarks[:, None, :]), axis=-1))  # [L, N]
    return distances.min(axis=1)


def touching_pairs(world) -> int:
    """The number of unordered pairs of distinct agents whose centres are closer than the sum of radii."""
    agents, _ = _agent_and_landmark_positions(world)
    sizes = np.array([agent.size for agent in world.agents], dtype=np.float64)
    distances = np.sqrt(np.sum(np.square(agents[:, None, :] - agents[None, :, :]), axis=-1))  # [N, N]
    touching = distances < sizes[:, None] + sizes[None, :]
    return int(np.triu(touching, k=1).sum())  # upper triangle: each pair once, never an agent with itself


class SpreadMetrics(EpisodeMetrics):
    """Table 2's metrics; see the module docstring for the definitions."""

    names = ("average_distance", "collisions_per_episode", "occupied_landmarks", "final_distance",
             "collisions_per_step", "final_collisions", "collisions_2017_benchmark")

    def __init__(self):
        self.distances, self.collisions, self.occupied = [], [], []
        self.final_distances, self.pairs_per_step, self.final_pairs, self.benchmark_2017 = [], [], [], []
        self._step_distances: list[float] = []
        self._step_occupied: list[int] = []
        self._step_pairs: list[int] = []

    def start_episode(self, world) -> None:
        self._step_distances, self._step_occupied, self._step_pairs = [], [], []

    def after_step(self, world) -> None:
        nearest = nearest_agent_distances(world)
        self._step_distances.append(float(nearest.sum()))
        self._step_occupied.append(int(np.sum(nearest < OCCUPIED_RADIUS)))
        self._step_pairs.append(touching_pairs(world))

    def end_episode(self, world) -> None:
        self.distances.append(float(np.mean(self._step_distances)))
        self.occupied.append(float(np.mean(self._step_occupied)))
        self.collisions.append(sum(self._step_pairs))
        self.final_distances.append(self._step_distances[-1])
        self.pairs_per_step.append(float(np.mean(self._step_pairs)))
        self.final_pairs.append(self._step_pairs[-1])
        # The 2017 benchmark: each agent counts every agent it touches, itself included (1 per step).
        self.benchmark_2017.append(len(world.agents) * len(self._step_pairs) + 2 * sum(self._step_pairs))

    def summary(self) -> dict[str, float]:
        return {
            "average_distance": float(np.mean(self.distances)),
            "collisions_per_episode": float(np.mean(self.collisions)),
            "occupied_landmarks": float(np.mean(self.occupied)),
            "final_distance": float(np.mean(self.final_distances)),
            "collisions_per_step": float(np.mean(self.pairs_per_step)),
            "final_collisions": float(np.mean(self.final_pairs)),
            "collisions_2017_benchmark": float(np.mean(self.benchmark_2017)),
        }
