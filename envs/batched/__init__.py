"""Batched TensorFlow ports of the mpe2 scenarios: state tensors [P, B, ...], one graph for P x B worlds.

Every port satisfies :class:`BatchedEnv` (tests/test_batched_protocol.py holds each registered one to it);
which port a scenario has is the scenario registry's (envs.registry, PortSpec).
"""

from __future__ import annotations

import importlib
from typing import Any, Mapping, Protocol, Sequence, runtime_checkable

from envs.registry import SCENARIOS, scenario_spec

BATCHED_SCENARIOS = tuple(SCENARIOS)  # every registered scenario has a port


@runtime_checkable
class BatchedEnv(Protocol):
    """What the training loop and the parity tests ask of a batched port (see speaker_listener.py, the first).

    P populations x B envs each, stepped as one tensor program; every tensor is [P, B, ...].

    Attributes:
        name: its registry key, e.g. "spread_n3".
        agents: agent names in mpe2 order (the order of every per-agent sequence below).
        observation_sizes, action_sizes: per agent O_i and A_i.
        spec: the world's physics.WorldSpec (entity sizes, movability, ...).
        dynamics: "paper" or "mpe2" (envs.batched.physics).
        teams: paper role ("agents", then "adversaries" where there are any) -> agent indices into `agents`.
    """

    name: str
    agents: Sequence[str]
    observation_sizes: Sequence[int]
    action_sizes: Sequence[int]
    spec: Any
    dynamics: str
    teams: Mapping[str, tuple[int, ...]]

    def reset(self, rng, num_envs: int) -> Any:
        """Fresh worlds: a state NamedTuple of [P, B, ...] tensors (rng: maddpg.population_random.PopulationRandom)."""

    def step(self, state, actions: Sequence[Any]) -> tuple[Any, Any]:
        """(next state, rewards [P, B, N]) for per-agent soft actions [P, B, A_i]."""

    def observe(self, state) -> list[Any]:
        """Per agent observations [P, B, O_i]."""

    def state_from_mpe2(self, worlds) -> Any:
        """The state of live mpe2 worlds, worlds[p][b] (for the teacher-forced parity tests)."""


# Optional beyond the protocol: goal_distance(state) -> [P, B], logged during training where a scenario has one goal.


def make_batched_env(name: str, dtype=None, dynamics: str = "mpe2"):
    """The batched port of a paper scenario, as the registry (envs.registry.SCENARIOS) names it.

    Args:
        name: the scenario.
        dtype: the state's float dtype (default float32).
        dynamics: "paper" (the 2017 physics and rewards) or "mpe2" (as installed); see envs.batched.physics.

    Raises:
        ValueError: no batched port exists for `name`, or an unknown dynamics.
    """
    from envs.batched.physics import check_dynamics

    check_dynamics(dynamics)
    if name not in BATCHED_SCENARIOS:
        raise ValueError(f"no batched port of scenario {name!r}; ported: {', '.join(BATCHED_SCENARIOS)}")
    import tensorflow as tf

    port = scenario_spec(name).port
    module = importlib.import_module(f"envs.batched.{port.module}")
    return getattr(module, port.class_name)(dtype=dtype or tf.float32, dynamics=dynamics, **port.kwargs)
