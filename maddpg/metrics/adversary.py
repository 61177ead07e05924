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

Alternatives under two other readings of "at the goal", each with the five names above suffixed
(agent_success_percent_nearest, ..., adversary_goal_frames_landmark_radius):

- _nearest: the agent's centre is strictly closer to the goal landmark's centre than to every other
  landmark's centre (no threshold; ties miss); for the good team, at least one good agent is so.
- _landmark_radius: within 2 x the goal landmark's size (2 x 0.08 = 0.16), strictly, mpe2's own proximity
  test in this scenario (its unshaped reward); for the good team, the good agent nearest the goal.

Tables 4 and 6b show the agent-size reading (benchmarks/metric_calibration.py, results/metric_calibration.md:
under the nearest reading random agents outscore the paper's trained ones).

The reset state (before the first step) is never counted: a frame is the world after a step.
"""

from __future__ import annotations

import numpy as np

from maddpg.metrics import EpisodeMetrics

GOAL_SIZE_FACTOR = 2.0
# mpe2's own proximity test in this scenario (its unshaped reward): within 2 x the goal landmark's size.
LANDMARK_SIZE_FACTOR = 2.0


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


def goal_is_nearest_landmark(agent, world) -> bool:
    """Whether `agent` is now strictly closer to the goal landmark than to every other landmark."""
    goal = agent.goal_a
    goal_distance = np.linalg.norm(agent.state.p_pos - goal.state.p_pos)
    return bool(all(goal_distance < np.linalg.norm(agent.state.p_pos - lm.state.p_pos)
                    for lm in world.landmarks if lm is not goal))


def _at_goal_readings(world) -> dict[str, tuple[bool, bool]]:
    """{reading: (some good agent at the goal, adversary at the goal)} for the three candidate readings."""
    adversary_distance, adversary_size, agent_distance, agent_size = goal_distances(world)
    adversary = next(a for a in world.agents if a.adversary)
    good = [a for a in world.agents if not a.adversary]
    landmark_radius = LANDMARK_SIZE_FACTOR * adversary.goal_a.size
    return {
        "agent_size": (agent_distance < GOAL_SIZE_FACTOR * agent_size,
                       adversary_distance < GOAL_SIZE_FACTOR * adversary_size),
        "nearest": (any(goal_is_nearest_landmark(a, world) for a in good),
                    goal_is_nearest_landmark(adversary, world)),
        "landmark_size": (agent_distance < landmark_radius, adversary_distance < landmark_radius),
    }


_SUFFIX = {"agent_size": "", "nearest": "_nearest", "landmark_size": "_landmark_radius"}


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
    ) + tuple(f"{stem}{_SUFFIX[r]}" for r in ("nearest", "landmark_size")
              for stem in ("agent_success_percent", "adversary_success_percent", "success_difference",
                           "agent_goal_frames", "adversary_goal_frames"))
    # (the names per reading, in that order; the first block is the agent-size reading)

    def __init__(self):
        self.success = {r: ([], []) for r in _SUFFIX}  # reading -> (agent successes, adversary successes)
        self.frames = {r: ([], []) for r in _SUFFIX}
        self.agent_final, self.adversary_final = [], []
        self._frames = {r: [0, 0] for r in _SUFFIX}

    def start_episode(self, world) -> None:
        self._frames = {r: [0, 0] for r in _SUFFIX}

    def after_step(self, world) -> None:
        # Computed now: the evaluation loop passes the same live world object every step.
        for reading, (agent_at, adversary_at) in _at_goal_readings(world).items():
            self._frames[reading][0] += int(agent_at)
            self._frames[reading][1] += int(adversary_at)

    def end_episode(self, world) -> None:
        adversary_distance, _, agent_distance, _ = goal_distances(world)
        for reading, (agent_at, adversary_at) in _at_goal_readings(world).items():
            self.success[reading][0].append(agent_at)
            self.success[reading][1].append(adversary_at)
            self.frames[reading][0].append(self._frames[reading][0])
            self.frames[reading][1].append(self._frames[reading][1])
        self.adversary_final.append(adversary_distance)
        self.agent_final.append(agent_distance)

    def summary(self) -> dict[str, float]:
        out = {}
        for reading, suffix in _SUFFIX.items():
            agent = 100.0 * float(np.mean(self.success[reading][0]))
            adversary = 100.0 * float(np.mean(self.success[reading][1]))
            out[f"agent_success_percent{suffix}"] = agent
            out[f"adversary_success_percent{suffix}"] = adversary
            out[f"success_difference{suffix}"] = agent - adversary
            out[f"agent_goal_frames{suffix}"] = float(np.mean(self.frames[reading][0]))
            out[f"adversary_goal_frames{suffix}"] = float(np.mean(self.frames[reading][1]))
        out["agent_final_distance"] = float(np.mean(self.agent_final))
        out["adversary_final_distance"] = float(np.mean(self.adversary_final))
        return {name: out[name] for name in self.names}
