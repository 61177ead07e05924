"""What the `paper` dynamics changes, pinned on hand-built states, in the batched ports and the reference envs.

Each difference between the 2017 particle envs (openai/multiagent-particle-envs at commit 214a041) and mpe2
1.1.1 is checked where both implementations live: the integration order (from rest, a full +x action moves
an agent in the same step under "paper", not under "mpe2"), the action sign, spread's 2017 reward
(self-counted contacts, no blend) and the physical-deception adversary's squared reward.
"""

import numpy as np
import pytest
import tensorflow as tf

from envs.batched import make_batched_env
from envs.batched.physics import check_dynamics
from envs.reference import SPREAD_LOCAL_RATIO, make_reference_env, to_env_actions
from maddpg.config import TrainConfig

NO_OP = [1.0, 0.0, 0.0, 0.0, 0.0]
# The movement entry that pushes +x: a[1] in the 2017 env (u_x = a1 - a2), a[2] in mpe2 (u_x = a2 - a1).
PLUS_X = {"paper": [0.0, 1.0, 0.0, 0.0, 0.0], "mpe2": [0.0, 0.0, 1.0, 0.0, 0.0]}
LISTENER = 1


def _reference(scenario, dynamics, seed=0):
    env = make_reference_env(scenario, dynamics=dynamics)
    env.reset(seed=seed)
    return env


def _port_step(scenario, dynamics, env, actions):
    """One float64 port step from the reference env's current state; returns (state, rewards [N])."""
    port = make_batched_env(scenario, tf.float64, dynamics=dynamics)
    state = port.state_from_mpe2([[env.unwrapped.world]])
    state, rewards = port.step(state, [tf.constant(np.asarray(a, np.float64)[None, None]) for a in actions])
    return state, rewards.numpy()[0, 0]


def _listener_from_rest(dynamics, action):
    """Listener x displacement after one step from rest with `action`: (reference, port)."""
    env = _reference("speaker_listener", dynamics)
    listener = env.unwrapped.world.agents[LISTENER]
    listener.state.p_vel = np.zeros(2)
    start = listener.state.p_pos.copy()
    actions = [[1.0, 0.0, 0.0], action]
    state, _ = _port_step("speaker_listener", dynamics, env, actions)
    env.step(to_env_actions(dict(zip(env.possible_agents, actions))))
    reference_moved = listener.state.p_pos - start
    port_moved = state.positions.numpy()[0, 0, LISTENER] - start
    return reference_moved, port_moved


def test_from_rest_a_full_plus_x_action_moves_the_listener_in_the_same_step_only_in_paper():
    # dt 0.1, accel 5: the velocity becomes 0.5 in that step, and the 2017 order moves with it: 0.05.
    for moved in _listener_from_rest("paper", PLUS_X["paper"]):
        np.testing.assert_allclose(moved, [0.05, 0.0], atol=1e-12)
    for moved in _listener_from_rest("mpe2", PLUS_X["mpe2"]):
        np.testing.assert_allclose(moved, [0.0, 0.0], atol=0.0)


def test_the_action_sign_is_mirrored_between_the_two_dynamics():
    # The entry that pushes +x in one dynamics pushes -x in the other (a relabelling of entries 1<->2).
    for moved in _listener_from_rest("paper", PLUS_X["mpe2"]):
        np.testing.assert_allclose(moved, [-0.05, 0.0], atol=1e-12)


def _spread_state(env):
    """Agents of N=3 spread placed by hand: 0 and 1 touch (0.25 apart < 0.3), 2 is alone; landmarks fixed."""
    world = env.unwrapped.world
    for agent, position in zip(world.agents, ([0.0, 0.0], [0.25, 0.0], [0.9, 0.9])):
        agent.state.p_pos = np.array(position)
        agent.state.p_vel = np.zeros(2)
    for landmark, position in zip(world.landmarks, ([0.0, 0.5], [0.5, -0.5], [-0.5, -0.5])):
        landmark.state.p_pos = np.array(position)
    return world


def _spread_coverage(world):
    """G's magnitude: sum over landmarks of the distance to the nearest agent, after the (still) step."""
    agents = np.array([a.state.p_pos for a in world.agents])
    return sum(np.min(np.linalg.norm(agents - l.state.p_pos, axis=1)) for l in world.landmarks)


@pytest.mark.parametrize("dynamics", ["paper", "mpe2"])
def test_spread_reward_on_a_state_with_one_contact(dynamics):
    env = _reference("spread_n3", dynamics)
    world = _spread_state(env)
    # Agents 0 and 1 push into each other: under the 2017 order the contact force (about 100 x the 0.05
    # overlap) would otherwise separate them within the step; with full action forces against it they stay.
    minus_x = PLUS_X["mpe2" if dynamics == "paper" else "paper"]
    actions = [PLUS_X[dynamics], minus_x, NO_OP]
    _, port_rewards = _port_step("spread_n3", dynamics, env, actions)
    _, rewards, _, _, _ = env.step(to_env_actions(dict(zip(env.possible_agents, actions))))
    assert np.linalg.norm(world.agents[0].state.p_pos - world.agents[1].state.p_pos) < 0.3
    coverage = _spread_coverage(world)
    contacts = np.array([1.0, 1.0, 0.0])  # other agents within 0.3 of each agent
    if dynamics == "paper":
        # 2017: every agent pays its own "contact" too, and the global term is not blended.
        expected = -coverage - (contacts + 1.0)
    else:
        ratio = SPREAD_LOCAL_RATIO[3]
        expected = -coverage * (1 - ratio) - contacts * ratio
    np.testing.assert_allclose([rewards[a] for a in env.possible_agents], expected, atol=1e-12)
    np.testing.assert_allclose(port_rewards, expected, atol=1e-12)


@pytest.mark.parametrize("dynamics", ["paper", "mpe2"])
def test_adversary_reward_is_squared_in_paper_and_euclidean_in_mpe2(dynamics):
    env = _reference("adversary_n2", dynamics)
    world = env.unwrapped.world
    adversary = world.agents[0]
    goal = adversary.goal_a
    for agent in world.agents:
        agent.state.p_vel = np.zeros(2)
    adversary.state.p_pos = goal.state.p_pos + np.array([0.3, 0.4])  # 0.5 from the goal
    actions = [NO_OP] * 3
    _, port_rewards = _port_step("adversary_n2", dynamics, env, actions)
    _, rewards, _, _, _ = env.step(to_env_actions(dict(zip(env.possible_agents, actions))))
    expected = -0.25 if dynamics == "paper" else -0.5
    assert rewards["adversary_0"] == pytest.approx(expected, abs=1e-12)
    assert port_rewards[0] == pytest.approx(expected, abs=1e-12)
    # The good agents' reward is the same formula in both: it still uses the adversary's plain distance.
    nearest = min(np.linalg.norm(a.state.p_pos - goal.state.p_pos) for a in world.agents[1:])
    assert rewards["agent_0"] == pytest.approx(0.5 - nearest, abs=1e-12)
    assert port_rewards[1] == pytest.approx(0.5 - nearest, abs=1e-12)


def test_unknown_dynamics_is_refused_everywhere():
    with pytest.raises(ValueError, match="unknown dynamics 'gym'; choose from paper, mpe2"):
        check_dynamics("gym")
    with pytest.raises(ValueError, match="unknown dynamics 'gym'"):
        make_batched_env("speaker_listener", dynamics="gym")
    with pytest.raises(ValueError, match="unknown dynamics 'gym'"):
        make_reference_env("speaker_listener", dynamics="gym")
    with pytest.raises(ValueError, match="unknown dynamics 'gym'"):
        TrainConfig(dynamics="gym")


def test_a_config_written_before_the_dynamics_field_reads_as_mpe2():
    data = TrainConfig().to_json()
    assert data.pop("dynamics") == "paper"  # the reproduction default
    assert TrainConfig.from_json(data).dynamics == "mpe2"


def test_the_paper_adapter_stays_on_its_own_env():
    # Overrides live on the instance: a plain mpe2 env built afterwards in the same process is untouched.
    paper = _reference("speaker_listener", "paper")
    plain = _reference("speaker_listener", "mpe2")
    assert "integrate_state" in vars(paper.unwrapped.world)
    assert "integrate_state" not in vars(plain.unwrapped.world)
    assert "_set_action" not in vars(plain.unwrapped)
