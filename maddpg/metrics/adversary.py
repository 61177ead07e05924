"""Physical deception (Table 4 and Table 6b), per 25-step episode on simple_adversary_v3 (N = 2 or 4).

"At the goal" means: the Euclidean distance from the agent's centre to the goal landmark's centre is
strictly less than 2 x that agent's own size, the size read from the live world (mpe2 gives every agent
0.15, so the radius is 0.3). The factor 2 x agent size follows the success test of the reference ensemble
code (closest team member within 2 x agent size of the goal); the paper only says "within a small distance".
The goal is the landmark mpe2 stores as every agent's `goal_a`.

- agent_success_percent: % of episodes where, after the last step, the good agent nearest the goal is at
  the goal (one good agent on the goal is all the team needs; the others are decoys).
- adversary_success_percent: % of episodes where, after the last step, the adversary is at the goal.
- success_difference: agent_success_percent - adversary_success_percent (Table 4's third column).
- agent_goal_frames: the number of steps (of the episode's 25) after which the good agent nearest the goal
  (chosen anew each step) is at the goal, averaged over episodes.
- adversary_goal_frames: the number of steps after which the adversary is at the goal, averaged over
  episodes (Table 6b, "frames the adversary stays at the goal").
- agent_final_distance, adversary_final_distance (extras): the Euclidean distance to the goal after the last
  step of the nearest good agent and of the adversary, averaged over episodes.

The reset state (before the first step) is never counted: a frame is the world after a step.
"""

from __future__ import annotations

import numpy as np

from maddpg.metrics import EpisodeMetrics

GOAL_SIZE_FACTOR = 2.0


def goal_distances(world) -> tuple[float, float, float, float]:
    """(adversary distance, adversary size, nearest good agent's distance, that agent's size) to the goal.

    Raises:
        ValueError: the world does not hold exactly one adversary.
    """
    adversaries = [a for a in world.agents if a.adversary]
    good = [a for a in world.agents if not a.adversary]
    if len(adversaries) != 1:
        raise ValueError(f"physical deception has one adversary; this world has {len(adversaries)}")
    adversary = adversaries[0]
    goal = adversary.goal_a.state.p_pos
    good_distances = [float(np.linalg.norm(a.state.p_pos - goal)) for a in good]
    nearest = int(np.argmin(good_distances))
    return (
        float(np.linalg.norm(adversary.state.p_pos - goal)),
        float(adversary.size),
        good_distances[nearest],
        float(good[nearest].size),
    )


class AdversaryMetrics(EpisodeMetrics):
    """Table 4's and Table 6b's metrics; see the module docstring for the definitions."""

    names = (
        "agent_success_percent",
        "adversary_success_percent",
        "success_difference",
        "agent_goal_frames",
        "adversary_goal_frames",
        "agent_final_distance",
        "adversary_final_distance",
    )

    def __init__(self):
        self.agent_success, self.adversary_success = [], []
        self.agent_frames, self.adversary_frames = [], []
        self.agent_final, self.adversary_final = [], []
        self._agent_frames = self._adversary_frames = 0

    def start_episode(self, world) -> None:
        self._agent_frames = self._adversary_frames = 0

    def after_step(self, world) -> None:
        # Computed now: the evaluation loop passes the same live world object every step.
        adversary_distance, adversary_size, agent_distance, agent_size = goal_distances(world)
        self._adversary_frames += int(adversary_distance < GOAL_SIZE_FACTOR * adversary_size)
        self._agent_frames += int(agent_distance < GOAL_SIZE_FACTOR * agent_size)

    def end_episode(self, world) -> None:
        adversary_distance, adversary_size, agent_distance, agent_size = goal_distances(world)
        self.adversary_success.append(adversary_distance < GOAL_SIZE_FACTOR * adversary_size)
        self.agent_success.append(agent_distance < GOAL_SIZE_FACTOR * agent_size)
        self.adversary_final.append(adversary_distance)
        self.agent_final.append(agent_distance)
        self.adversary_frames.append(self._adversary_frames)
        self.agent_frames.append(self._agent_frames)

    def summary(self) -> dict[str, float]:
        agent = 100.0 * float(np.mean(self.agent_success))
        adversary = 100.0 * float(np.mean(self.adversary_success))
        return {
            "agent_success_percent": agent,
            "adversary_success_percent": adversary,
            "success_difference": agent - adversary,
            "agent_goal_frames": float(np.mean(self.agent_frames)),
            "adversary_goal_frames": float(np.mean(self.adversary_frames)),
            "agent_final_distance": float(np.mean(self.agent_final)),
            "adversary_final_distance": float(np.mean(self.adversary_final)),
        }
