"""The batched keep-away (simple_push_v3) against mpe2: constants, free-running and teacher-forced steps,
agent-agent contacts, and reset draws.

Test-sized: 4 x 50 free-running episodes, 2 x 20 teacher-forced episodes, 2 x 2 x 20 contact episodes.
"""

import dataclasses

import numpy as np
import pytest
import tensorflow as tf
from conftest import assert_parity_within
from gymnasium.utils import seeding

from envs.batched.parity import (
    free_running,
    mpe2_arrays,
    mpe2_envs,
    mpe2_observations,
    random_actions,
    step_reference_envs,
    teacher_forced,
)
from envs.batched.physics import WorldSpec, contact_forces, step_world
from envs.batched.push import AGENT_COLORS, LANDMARK_COLORS, BatchedPush
from envs.reference import make_reference_env


def _np_dtype(dtype):
    return np.float64 if dtype == tf.float64 else np.float32


def test_constants_match_a_live_mpe2_world():
    for seed in (0, 1, 2, 3):  # both goal indices occur among these seeds
        env = make_reference_env("push")
        env.reset(seed=seed)
        world = env.unwrapped.world
        assert WorldSpec.from_mpe2_world(world) == BatchedPush.spec
        assert tuple(tuple(l.color) for l in world.landmarks) == LANDMARK_COLORS
        goal = world.landmarks.index(world.agents[1].goal_a)
        assert world.agents[0].goal_a is world.agents[1].goal_a  # one goal shared by both agents
        assert tuple(world.agents[1].color) == AGENT_COLORS[goal]
    assert tuple(env.possible_agents) == BatchedPush.agents
    assert tuple(env.observation_space(a).shape[0] for a in BatchedPush.agents) == BatchedPush.observation_sizes
    assert tuple(env.action_space(a).shape[0] for a in BatchedPush.agents) == BatchedPush.action_sizes
    # Only the two agents collide with each other: the adversary pushes agent_0, landmarks are untouchable.
    assert BatchedPush.spec.collide == (True, True, False, False)


def test_mpe2_reset_draws_goal_then_positions_from_the_seeded_np_random():
    """Replays reset_world's draws on the env's own generator, so the port's draw order is mpe2's."""
    env = make_reference_env("push")
    goals = set()
    for seed in range(8):
        env.reset(seed=seed)
        world = env.unwrapped.world
        np_random, _ = seeding.np_random(seed)
        goal = int(np_random.integers(2))
        assert world.landmarks.index(world.agents[1].goal_a) == goal
        for entity in world.entities:  # adversary_0, agent_0, landmark 0, landmark 1
            np.testing.assert_array_equal(entity.state.p_pos, np_random.uniform(-1, 1, 2))
        goals.add(goal)
    assert goals == {0, 1}


@pytest.mark.parametrize("kind", ["soft", "one_hot"])
@pytest.mark.parametrize("dtype,tolerance", [(tf.float64, 1e-12), (tf.float32, 1e-5)])
def test_free_running_episodes_match_mpe2(kind, dtype, tolerance):
    """mpe2's reset state copied in once, then 25 steps of both on the same actions (measured: float64 2e-16,
    float32 2e-6; these random starts bring the agents into contact only now and then, see the contact tests)."""
    assert_parity_within(free_running(BatchedPush(dtype), "push", 50, kind), tolerance)


@pytest.mark.parametrize("dtype,tolerance", [(tf.float64, 1e-12), (tf.float32, 1e-5)])
def test_teacher_forced_steps_match_mpe2(dtype, tolerance):
    assert_parity_within(teacher_forced(BatchedPush(dtype), "push", 20), tolerance)


def _envs_in_contact(count, first_seed, rng):
    """mpe2 envs with agent_0 moved to overlap the adversary (centres 0.06..0.099 apart; contact below 0.1)."""
    envs = mpe2_envs("push", count, first_seed)
    for env in envs:
        adversary, agent = env.unwrapped.world.agents
        angle, gap = rng.uniform(0, 2 * np.pi), rng.uniform(0.06, 0.099)
        agent.state.p_pos = adversary.state.p_pos + gap * np.array([np.cos(angle), np.sin(angle)])
        adversary.state.p_vel = rng.uniform(-0.5, 0.5, 2)
    return envs


def _step_both(port, state, envs, actions):
    state, rewards = port.step(state, [tf.constant(a[None]) for a in actions])
    return state, rewards, step_reference_envs(envs, actions)


@pytest.mark.parametrize("dtype,tolerance", [(tf.float64, 1e-12), (tf.float32, 1e-5)])
def test_contact_steps_match_mpe2_and_really_push(dtype, tolerance):
    """Teacher-forced steps from overlapping agents: the contact force is large and mpe2 agrees with it."""
    rng = np.random.default_rng(3)
    envs = _envs_in_contact(20, 7000, rng)
    port = BatchedPush(dtype)
    state = port.state_from_mpe2([[env.unwrapped.world for env in envs]])
    # Every env is in contact: the force on each agent is at least contact_force * (0.1 - 0.099).
    force = contact_forces(port.spec, state.positions).numpy()[0]  # [B, 4, 2]
    assert np.all(np.linalg.norm(force[:, :2], axis=-1) > 0.09)
    np.testing.assert_allclose(force[:, 0], -force[:, 1], atol=1e-12)  # equal and opposite
    actions = random_actions(port, rng, 20, "soft", _np_dtype(dtype))
    no_contact = dataclasses.replace(port.spec, collide=(False,) * 4)
    batched_actions = [tf.constant(a[None]) for a in actions]
    _, free_velocities, _ = step_world(no_contact, state.positions, state.velocities, batched_actions, port.dynamics)
    state, rewards, mpe2_rewards = _step_both(port, state, envs, actions)
    positions, velocities, _ = mpe2_arrays(envs)
    np.testing.assert_allclose(state.positions.numpy()[0], positions, rtol=0, atol=tolerance)
    np.testing.assert_allclose(state.velocities.numpy()[0], velocities, rtol=0, atol=tolerance)
    np.testing.assert_allclose(rewards.numpy()[0], mpe2_rewards, rtol=0, atol=tolerance)
    # The contact really changed both agents' velocities (by dt * force >= 0.009), in mpe2 as in the port.
    assert np.all(np.abs(velocities[:, :2] - free_velocities.numpy()[0, :, :2]).max(axis=-1) > 0.005)


# Free-running from overlapping agents. float64 stays at 1e-15, but float32 needs 1e-3 (measured 3e-4): in deep
# contact the soft contact force grows by contact_force = 100 per unit of overlap, so a position error e becomes a
# velocity error of dt * 100 * e = 10 e per contact step (20 e in the relative velocity), which then feeds the
# positions. float32 rounding (~1e-7 per step) thus grows to ~1e-5 in positions after a few deep-contact steps and
# to ~1e-4 in velocities at the next one. Teacher-forced contact steps (above) stay at 1e-5, so this is mpe2's
# stiff explicit integration amplifying rounding, not a port difference.
@pytest.mark.parametrize("kind", ["soft", "one_hot"])
@pytest.mark.parametrize("dtype,tolerance", [(tf.float64, 1e-12), (tf.float32, 1e-3)])
def test_free_running_from_contact_matches_mpe2(kind, dtype, tolerance):
    rng = np.random.default_rng(5)
    envs = _envs_in_contact(20, 3000, rng)
    port = BatchedPush(dtype)
    state = port.state_from_mpe2([[env.unwrapped.world for env in envs]])
    contact_steps = 0
    for _ in range(25):
        force = contact_forces(port.spec, state.positions).numpy()[0]
        contact_steps += int(np.sum(np.linalg.norm(force[:, 0], axis=-1) > 0.1))
        actions = random_actions(port, rng, 20, kind, _np_dtype(dtype))
        state, rewards, mpe2_rewards = _step_both(port, state, envs, actions)
        positions, velocities, _ = mpe2_arrays(envs)
        np.testing.assert_allclose(state.positions.numpy()[0], positions, rtol=0, atol=tolerance)
        np.testing.assert_allclose(state.velocities.numpy()[0], velocities, rtol=0, atol=tolerance)
        np.testing.assert_allclose(rewards.numpy()[0], mpe2_rewards, rtol=0, atol=tolerance)
        for ours, theirs in zip(port.observe(state), mpe2_observations(envs)):
            np.testing.assert_allclose(ours.numpy()[0], theirs, rtol=0, atol=tolerance)
    assert contact_steps >= 40  # contacts are the rule here, not the exception


def test_reset_draws_follow_mpe2s_reset_world():
    from maddpg.population_random import PopulationRandom

    port = BatchedPush()
    state = port.reset(PopulationRandom([0, 1]), 500)
    assert state.positions.shape == (2, 500, 4, 2) and state.goal.shape == (2, 500)
    positions = state.positions.numpy()
    assert np.all(np.abs(positions) <= 1.0) and positions.min() < -0.99 and positions.max() > 0.99
    assert set(np.unique(state.goal.numpy())) == {0, 1}
    assert 0.4 < state.goal.numpy().mean() < 0.6
    assert np.all(state.velocities.numpy() == 0) and np.all(state.communication.numpy() == 0)
    assert state.communication.shape == (2, 500, 2, 2)
    adversary_obs, agent_obs = port.observe(state)
    assert adversary_obs.shape == (2, 500, 8) and agent_obs.shape == (2, 500, 19)
    # agent_0's colour (observation entries 4:7) tells the goal; the adversary's observation does not.
    np.testing.assert_allclose(agent_obs.numpy()[..., 4:7], np.array(AGENT_COLORS)[state.goal.numpy()], atol=1e-7)


def test_step_compiles_with_xla():
    from maddpg.population_random import PopulationRandom

    port = BatchedPush()
    state = port.reset(PopulationRandom([0]), 8)
    actions = [tf.fill([1, 8, 5], 0.2), tf.one_hot(tf.fill([1, 8], 2), 5)]

    @tf.function(jit_compile=True)
    def step(state, actions):
        next_state, rewards = port.step(state, actions)
        return next_state, rewards, port.observe(next_state)

    compiled = step(state, actions)
    eager_state, eager_rewards = port.step(state, actions)
    np.testing.assert_allclose(compiled[0].positions.numpy(), eager_state.positions.numpy(), atol=1e-6)
    np.testing.assert_allclose(compiled[1].numpy(), eager_rewards.numpy(), atol=1e-6)
