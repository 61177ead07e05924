"""The paper's table metrics, one module per scenario family, computed on live mpe2 worlds.

TensorFlow-free on purpose: evaluation runs them in worker processes that never load TensorFlow.

Every scenario's metrics follow one protocol (`EpisodeMetrics`): the evaluation loop calls
`start_episode(world)` after each reset, `after_step(world)` after each env.step, `end_episode(world)` after
the last step, and finally `summary()` for {metric name: value averaged over the episodes}. The episode
returns (all agents, and each paper team) are added by the loop itself (maddpg.evaluation), not here.

Each metric's definition, threshold included, is written once in its module's docstring and repeated in the
README; a changed definition gets a new metric name. Which class serves which scenario is the scenario
registry's (envs.registry.ScenarioSpec.metrics, a dotted name resolved here).
"""

from __future__ import annotations

import importlib

class EpisodeMetrics:
    """Accumulates one scenario's table metrics over evaluation episodes (see the package docstring)."""

    names: tuple[str, ...] = ()

    def start_episode(self, world) -> None:
        """Called once after each env.reset, with the fresh mpe2 world."""

    def after_step(self, world) -> None:
        """Called after every env.step, with the world in its new state."""

    def end_episode(self, world) -> None:
        """Called once after the episode's last step."""

    def summary(self) -> dict[str, float]:
        """{name: value} for every name in `names`, averaged over the recorded episodes."""
        raise NotImplementedError


def scenario_metrics(scenario: str) -> EpisodeMetrics:
    """A fresh metrics accumulator for a scenario.

    Raises:
        ValueError: no metrics are defined for `scenario`.
    """
    from envs.registry import SCENARIOS

    if scenario not in SCENARIOS or not SCENARIOS[scenario].metrics:
        have = [name for name, spec in SCENARIOS.items() if spec.metrics]
        raise ValueError(f"no evaluation metrics for scenario {scenario!r}; have: {', '.join(have)}")
    module_name, _, class_name = SCENARIOS[scenario].metrics.rpartition(".")
    return getattr(importlib.import_module(module_name), class_name)()


def is_collision(entity_a, entity_b) -> bool:
    """mpe2's contact test: centres closer than the sum of the two radii (strictly)."""
    import numpy as np

    distance = np.linalg.norm(entity_a.state.p_pos - entity_b.state.p_pos)
    return bool(distance < entity_a.size + entity_b.size)
