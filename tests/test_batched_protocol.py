"""Every registered batched port satisfies envs.batched.BatchedEnv, and agrees with the scenario registry.

The protocol check is structural (runtime_checkable: the attributes and methods exist); a tiny reset / step /
observe on P = 2 seeds x B = 3 envs checks the shapes the protocol promises. The numbers themselves are the
parity tests' business.
"""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from envs.batched import BATCHED_SCENARIOS, BatchedEnv, make_batched_env
from envs.registry import SCENARIOS, TEAM_ROLES, scenario_teams, team_indices, team_of_agent
from maddpg.population_random import PopulationRandom

POPULATION, NUM_ENVS = 2, 3


def test_every_registered_scenario_has_a_port():
    assert set(BATCHED_SCENARIOS) == set(SCENARIOS)


@pytest.mark.parametrize("scenario", BATCHED_SCENARIOS)
@pytest.mark.parametrize("dynamics", ["paper", "mpe2"])
def test_port_satisfies_the_protocol(scenario, dynamics):
    port = make_batched_env(scenario, dynamics=dynamics)
    assert isinstance(port, BatchedEnv)
    assert port.name == scenario and port.dynamics == dynamics
    spec = SCENARIOS[scenario]
    assert tuple(port.agents) == spec.agents
    assert len(port.observation_sizes) == len(port.action_sizes) == len(port.agents) == port.spec.num_agents

    state = port.reset(PopulationRandom(range(POPULATION)), NUM_ENVS)
    actions = [tf.fill([POPULATION, NUM_ENVS, size], 1.0 / size) for size in port.action_sizes]  # [P, B, A_i]
    next_state, rewards = port.step(state, actions)
    assert tuple(rewards.shape) == (POPULATION, NUM_ENVS, len(port.agents))  # [P, B, N]
    assert type(next_state) is type(state)
    for observation, size in zip(port.observe(next_state), port.observation_sizes):
        assert tuple(observation.shape) == (POPULATION, NUM_ENVS, size)  # [P, B, O_i]
        assert np.all(np.isfinite(observation.numpy()))


@pytest.mark.parametrize("scenario", BATCHED_SCENARIOS)
def test_port_teams_are_the_registry_teams(scenario):
    """env.teams: paper role -> agent indices, "agents" first, the same teams the registry names."""
    port = make_batched_env(scenario)
    spec = SCENARIOS[scenario]
    assert list(port.teams) == [role for role in TEAM_ROLES if role in spec.teams]
    assert {role: tuple(port.agents[i] for i in members) for role, members in port.teams.items()} == spec.teams
    assert dict(port.teams) == scenario_teams(scenario) == team_indices(spec.agents, spec.teams)
    # The teams partition the agents.
    assert sorted(i for members in port.teams.values() for i in members) == list(range(len(port.agents)))


def test_team_of_agent():
    port = make_batched_env("tag_pp1")  # adversary_0..2 (the paper's agents) then agent_0 (its adversary)
    assert team_of_agent(port.teams, len(port.agents)) == (0, 0, 0, 1)
    assert team_of_agent(scenario_teams("crypto"), 3) == (1, 0, 0)  # eve_0, bob_0, alice_0
    assert team_of_agent(scenario_teams("speaker_listener"), 2) == (0, 0)


def test_unknown_scenario_is_refused():
    with pytest.raises(ValueError, match="no batched port"):
        make_batched_env("simple_world_comm")
