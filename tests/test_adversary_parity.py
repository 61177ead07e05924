"""The batched physical deception (simple_adversary_v3, N = 2 and 4) against mpe2.

Constants, free-running and teacher-forced episodes through envs.batched.parity (25 envs per configuration:
4 free-running + 2 teacher-forced configurations = 150 episodes per scenario), the reward's discrete
structure on hand-placed worlds, and the reset distribution.

Nothing collides in this scenario and every agent is silent, so float64 runs are bit-identical to mpe2
(measured: every error exactly 0); float32 errors are rounding only (measured <= 6e-7).
"""

import numpy as np
import pytest
import tensorflow as tf
from conftest import assert_parity_within

from envs.batched import make_batched_env
from envs.batched.adversary import AGENT_SIZE, LANDMARK_SIZE, BatchedAdversary
from envs.batched.parity import (
    free_running,
    mpe2_envs,
    mpe2_observations,
    teacher_forced,
)
from envs.batched.physics import WorldSpec, contact_forces
from envs.reference import make_reference_env

SCENARIOS = {"adversary_n2": 2, "adversary_n4": 4}
TOLERANCES = [(tf.float64, 1e-12), (tf.float32, 1e-5)]


@pytest.mark.parametrize("scenario,num_good", SCENARIOS.items())
def test_constants_match_a_live_mpe2_world(scenario, num_good):
    env = make_reference_env(scenario)
    env.reset(seed=0)
    world = env.unwrapped.world
    port = make_batched_env(scenario, tf.float64)
    assert isinstance(port, BatchedAdversary) and port.num_good == num_good and port.name == scenario
    assert WorldSpec.from_mpe2_world(world) == port.spec
    assert {a.size for a in world.agents} == {AGENT_SIZE} and {l.size for l in world.landmarks} == {LANDMARK_SIZE}
    assert len(world.landmarks) == num_good
    assert tuple(env.possible_agents) == port.agents
    assert tuple(env.observation_space(a).shape[0] for a in port.agents) == port.observation_sizes
    assert tuple(env.action_space(a).shape[0] for a in port.agents) == port.action_sizes
    # Nothing collides, so the shared physics adds no contact force at all.
    assert not any(e.collide for e in world.entities)
    assert contact_forces(port.spec, tf.zeros([1, 1, port.spec.num_entities, 2], tf.float64)) is None
    # mpe2 gives this scenario no local_ratio: the rewards are the scenario's own.
    assert env.unwrapped.local_ratio is None


@pytest.mark.parametrize("scenario,num_good", SCENARIOS.items())
@pytest.mark.parametrize("kind", ["soft", "one_hot"])
@pytest.mark.parametrize("dtype,tolerance", TOLERANCES)
def test_free_running_episodes_match_mpe2(scenario, num_good, kind, dtype, tolerance):
    """mpe2's reset state copied in once, then 25 steps of both on the same actions, compared every step."""
    errors = free_running(BatchedAdversary(dtype, num_good=num_good), scenario, num_envs=25, kind=kind)
    assert_parity_within(errors, tolerance)


@pytest.mark.parametrize("scenario,num_good", SCENARIOS.items())
@pytest.mark.parametrize("dtype,tolerance", TOLERANCES)
def test_teacher_forced_steps_match_mpe2(scenario, num_good, dtype, tolerance):
    """mpe2's state copied in before every step, so errors cannot accumulate or hide."""
    errors = teacher_forced(BatchedAdversary(dtype, num_good=num_good), scenario, num_envs=25)
    assert_parity_within(errors, tolerance)


@pytest.mark.parametrize("scenario,num_good", SCENARIOS.items())
def test_reward_structure_is_exercised_and_matches_mpe2(scenario, num_good):
    """The rewards' discrete parts on hand-placed worlds: every goal index, every good agent in turn the nearest,
    and agents inside 2 x goal size of the goal, where mpe2's unused unshaped variant would pay +5 (it does not).

    The shaped rewards have no event terms, so "events" here are the switch of the minimum and the goal choice.
    """
    num_envs = 4 * num_good * num_good
    envs = mpe2_envs(scenario, num_envs, first_seed=300)
    rng = np.random.default_rng(5)
    nearest, goals = [], []
    for b, env in enumerate(envs):
        world = env.unwrapped.world
        goal_index = b % num_good
        nearest_good = (b // num_good) % num_good
        goal = world.landmarks[goal_index]
        for agent in world.agents:
            agent.goal_a = goal
        # The chosen good agent sits within 2 x landmark size of the goal (mpe2's unshaped bonus radius),
        # every other good agent farther; on every other world the adversary also sits on the goal.
        for j, agent in enumerate(world.agents[1:]):
            radius = rng.uniform(0.0, 2 * LANDMARK_SIZE) if j == nearest_good else rng.uniform(0.2, 1.0)
            angle = rng.uniform(0, 2 * np.pi)
            agent.state.p_pos = goal.state.p_pos + radius * np.array([np.cos(angle), np.sin(angle)])
        if b % 2:
            world.agents[0].state.p_pos = goal.state.p_pos + rng.uniform(-0.05, 0.05, 2)
        nearest.append(nearest_good)
        goals.append(goal_index)
    port = BatchedAdversary(tf.float64, num_good=num_good)
    state = port.state_from_mpe2([[env.unwrapped.world for env in envs]])
    assert state.goal.numpy()[0].tolist() == goals
    noop = np.eye(5)[0]
    state, rewards = port.step(state, [tf.constant(np.tile(noop, (1, num_envs, 1)))] * (num_good + 1))
    mpe2_rewards = []
    for env in envs:
        _, reward, _, _, _ = env.step({a: noop.astype(np.float32) for a in port.agents})
        mpe2_rewards.append([reward[a] for a in port.agents])
    mpe2_rewards = np.array(mpe2_rewards)
    np.testing.assert_array_equal(rewards.numpy()[0], mpe2_rewards)
    # Closed form of the shaped rewards (no +5 anywhere), from mpe2's own positions.
    for b, env in enumerate(envs):
        world = env.unwrapped.world
        distances = [np.linalg.norm(a.state.p_pos - world.landmarks[goals[b]].state.p_pos) for a in world.agents]
        assert int(np.argmin(distances[1:])) == nearest[b] and min(distances[1:]) < 2 * LANDMARK_SIZE
        np.testing.assert_allclose(mpe2_rewards[b], [-distances[0]] + [distances[0] - min(distances[1:])] * num_good,
                                   rtol=0, atol=1e-12)
    assert set(goals) == set(range(num_good)) and set(nearest) == set(range(num_good))
    for ours, theirs in zip(port.observe(state), mpe2_observations(envs)):
        np.testing.assert_array_equal(ours.numpy()[0], theirs)


def test_good_agents_see_the_goal_first_and_the_adversary_does_not():
    """mpe2's layouts spelled out on one world (the parity runs compare whole vectors; this names the slots)."""
    env = make_reference_env("adversary_n2")
    env.reset(seed=9)
    world = env.unwrapped.world
    port = BatchedAdversary(tf.float64, num_good=2)
    observations = [o.numpy()[0, 0] for o in port.observe(port.state_from_mpe2([[world]]))]
    adv, a0, a1 = (a.state.p_pos for a in world.agents)
    l0, l1 = (l.state.p_pos for l in world.landmarks)
    goal = world.agents[0].goal_a.state.p_pos
    np.testing.assert_array_equal(observations[0], np.concatenate([l0 - adv, l1 - adv, a0 - adv, a1 - adv]))
    np.testing.assert_array_equal(observations[1], np.concatenate([goal - a0, l0 - a0, l1 - a0, adv - a0, a1 - a0]))
    np.testing.assert_array_equal(observations[2], np.concatenate([goal - a1, l0 - a1, l1 - a1, adv - a1, a0 - a1]))


@pytest.mark.parametrize("num_good", [2, 4])
def test_reset_draws_match_mpe2_structure(num_good):
    from maddpg.population_random import PopulationRandom

    port = BatchedAdversary(num_good=num_good)
    num_envs, entities = 400, 2 * num_good + 1
    state = port.reset(PopulationRandom([0, 1]), num_envs)
    positions = state.positions.numpy()
    assert positions.shape == (2, num_envs, entities, 2)
    assert np.all(np.abs(positions) <= 1.0)
    # Uniform on the square for agents and landmarks alike: roughly zero mean, each quadrant about a quarter.
    assert np.all(np.abs(positions.mean(axis=(0, 1))) < 0.1)
    assert np.all(np.abs(np.mean(positions > 0, axis=(0, 1)) - 0.5) < 0.06)
    assert not np.array_equal(positions[0], positions[1]), "members draw independently"
    assert np.all(state.velocities.numpy() == 0)
    assert state.communication.shape == (2, num_envs, num_good + 1, 2) and np.all(state.communication.numpy() == 0)
    goal = state.goal.numpy()
    assert state.goal.dtype == tf.int32 and goal.shape == (2, num_envs)
    counts = np.bincount(goal.ravel(), minlength=num_good)
    assert len(counts) == num_good and np.all(np.abs(counts / goal.size - 1 / num_good) < 0.06)
    observations = port.observe(state)
    assert tuple(o.shape[-1] for o in observations) == port.observation_sizes
    assert all(o.shape[:2] == (2, num_envs) for o in observations)


def test_episode_under_xla_equals_eager():
    """reset, step and observe compile as one XLA program with a static-shape while-loop state."""
    from maddpg.population_random import PopulationRandom

    port = BatchedAdversary(tf.float32, num_good=4)
    actions = [tf.nn.softmax(tf.ones([2, 8, 5]) * tf.range(5, dtype=tf.float32) * (i + 1) * 0.3) for i in range(5)]

    def episode(state):
        def body(t, state, total):
            state, rewards = port.step(state, actions)
            return t + 1, state, total + rewards

        _, state, total = tf.while_loop(lambda t, *_: t < 25, body, (tf.constant(0), state, tf.zeros([2, 8, 5])))
        return total, port.observe(state)

    def reset(rng):
        return port.reset(rng, 8)

    # XLA's random bits differ from the eager kernel's (same seeds, other numbers), so reset is compiled, not compared.
    compiled_reset = tf.function(reset, jit_compile=True)(PopulationRandom([3, 4]))
    assert compiled_reset.positions.shape == (2, 8, 9, 2)
    start = port.reset(PopulationRandom([3, 4]), 8)
    eager_total, eager_obs = episode(start)
    xla_total, xla_obs = tf.function(episode, jit_compile=True)(start)
    np.testing.assert_allclose(xla_total.numpy(), eager_total.numpy(), rtol=1e-5, atol=1e-5)
    for x, e in zip(xla_obs, eager_obs):
        np.testing.assert_allclose(x.numpy(), e.numpy(), rtol=1e-5, atol=1e-5)
