"""Predator-prey, per 25-step episode on simple_tag_v3: Table 3 (PP1, PP2: 3 predators, 1 prey, 3 obstacles) and
Table 6 (ensemble_tag: 4 predators, 1 prey, 1 obstacle). Nothing below depends on the counts.

A "touch" is a predator-prey pair in contact by mpe2's own test (`Scenario.is_collision`): the distance
between their centres is strictly less than the sum of their radii, read from the world (0.075 + 0.05 =
0.125). Predators are mpe2's `adversary_*` (agent.adversary is True), the prey is mpe2's `agent_0`.
A step is counted on the world after each env.step; the reset state, before any action, is not.

- prey_touches_per_episode: the number of predators touching the prey, summed over the 25 steps, averaged
  over episodes. It is what openai/maddpg's benchmark mode records for this scenario (each predator's
  `benchmark_data` is its number of touches; summed over predators and steps), and it equals 1/10 of a
  predator's episode return (each predator is paid +10 per touch by any predator). A predator that stays in
  contact for 5 steps counts 5; two predators touching at once count 2.
- prey_touches_per_step (alternative, Table 6c): the number of predators touching the prey after a step,
  averaged over the episode's steps, then over episodes (prey_touches_per_episode / 25 for 25 steps).
- prey_touches_per_predator (alternative): prey_touches_per_episode divided by the number of predators.
- prey_caught_percent (alternative): the percentage of episodes with at least one touch at any step.
- prey_caught_steps (extra): the number of steps after which at least one predator touches the prey,
  averaged over episodes (bounded by 25, unlike the touch count).
- prey_boundary_steps (extra): the number of steps after which the prey's centre is outside the unit box
  (|x| > 1 or |y| > 1, strictly), averaged over episodes. Beyond 1, mpe2's boundary penalty on the prey
  is min(exp(2|x| - 2), 10) per coordinate (it starts, smaller, at 0.9); a prey that learned to flee off
  the map shows up here.

Tables 3 and 6c show prey_touches_per_episode; benchmarks/metric_calibration.py measured the alternatives
on scripted predators and prey (results/metric_calibration.md).
"""

from __future__ import annotations

import numpy as np

from maddpg.metrics import EpisodeMetrics

BOX_HALF_WIDTH = 1.0


def prey_touch_counts(world) -> list[int]:
    """For each prey (mpe2 good agent), the number of predators touching it now, in mpe2 agent order."""
    predators = [a for a in world.agents if a.adversary]
    counts = []
    for prey in (a for a in world.agents if not a.adversary):
        count = 0
        for predator in predators:
            # mpe2's is_collision, operation for operation, so a contact is decided exactly as mpe2 decides it.
            delta = prey.state.p_pos - predator.state.p_pos
            count += int(np.sqrt(np.sum(np.square(delta))) < prey.size + predator.size)
        counts.append(count)
    return counts


def prey_outside_box(world) -> bool:
    """Whether any prey's centre is outside the unit box (|x| or |y| strictly greater than 1)."""
    return any(np.any(np.abs(a.state.p_pos) > BOX_HALF_WIDTH) for a in world.agents if not a.adversary)


class TagMetrics(EpisodeMetrics):
    """Table 3's (and Table 6's PP) metric and two extras; see the module docstring for the definitions."""

    names = ("prey_touches_per_episode", "prey_caught_steps", "prey_boundary_steps", "prey_touches_per_step",
             "prey_touches_per_predator", "prey_caught_percent")

    def __init__(self):
        self.touches: list[int] = []
        self.caught_steps: list[int] = []
        self.boundary_steps: list[int] = []
        self.touches_per_step: list[float] = []
        self.touches_per_predator: list[float] = []
        self._touches = self._caught = self._boundary = self._steps = 0

    def start_episode(self, world) -> None:
        self._touches = self._caught = self._boundary = self._steps = 0

    def after_step(self, world) -> None:
        counts = prey_touch_counts(world)
        self._touches += sum(counts)
        self._caught += int(any(counts))
        self._boundary += int(prey_outside_box(world))
        self._steps += 1

    def end_episode(self, world) -> None:
        self.touches.append(self._touches)
        self.caught_steps.append(self._caught)
        self.boundary_steps.append(self._boundary)
        self.touches_per_step.append(self._touches / self._steps)
        self.touches_per_predator.append(self._touches / sum(1 for a in world.agents if a.adversary))

    def summary(self) -> dict[str, float]:
        return {
            "prey_touches_per_episode": float(np.mean(self.touches)),
            "prey_caught_steps": float(np.mean(self.caught_steps)),
            "prey_boundary_steps": float(np.mean(self.boundary_steps)),
            "prey_touches_per_step": float(np.mean(self.touches_per_step)),
            "prey_touches_per_predator": float(np.mean(self.touches_per_predator)),
            "prey_caught_percent": 100.0 * float(np.mean(np.asarray(self.caught_steps) > 0)),
        }
