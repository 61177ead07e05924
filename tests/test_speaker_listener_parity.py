"""The batched speaker-listener against mpe2: constants, teacher-forced steps and free-running episodes.

Test-sized (a few hundred episodes); benchmarks/parity.py runs 1000 per scenario and dynamics. The mpe2 side
(envs, actions, state and observation readers) is envs.batched.parity's, the same helpers every parity test
and the benchmark use.
"""

import numpy as np
import pytest
import tensorflow as tf

from envs.batched.parity import mpe2_arrays, mpe2_envs, mpe2_observations, random_actions
from envs.batched.physics import WorldSpec
from envs.batched.speaker_listener import LANDMARK_COLORS, BatchedSpeakerListener
from envs.reference import make_reference_env

AGENTS = ("speaker_0", "listener_0")


def test_constants_match_a_live_mpe2_world():
    env = make_reference_env("speaker_listener")
    env.reset(seed=0)
    world = env.unwrapped.world
    assert WorldSpec.from_mpe2_world(world) == BatchedSpeakerListener.spec
    assert tuple(tuple(l.color) for l in world.landmarks) == LANDMARK_COLORS
    assert tuple(env.possible_agents) == BatchedSpeakerListener.agents
    sizes = tuple(env.observation_space(a).shape[0] for a in AGENTS)
    assert sizes == BatchedSpeakerListener.observation_sizes
    assert tuple(env.action_space(a).shape[0] for a in AGENTS) == BatchedSpeakerListener.action_sizes


@pytest.mark.parametrize("kind", ["soft", "one_hot"])
@pytest.mark.parametrize("dtype,tolerance", [(tf.float64, 1e-12), (tf.float32, 1e-5)])
def test_free_running_episodes_match_mpe2(kind, dtype, tolerance):
    """Copy mpe2's reset state in once, then both run 25 steps on the same actions; compare every step."""
    num_envs = 50
    envs = mpe2_envs("speaker_listener", num_envs, first_seed=1000)
    port = BatchedSpeakerListener(dtype)
    state = port.state_from_mpe2([[env.unwrapped.world for env in envs]])
    np_dtype = np.float64 if dtype == tf.float64 else np.float32
    rng = np.random.default_rng(7)
    for _ in range(25):
        actions = random_actions(port, rng, num_envs, kind, np_dtype)
        state, rewards = port.step(state, [tf.constant(a[None]) for a in actions])
        mpe2_rewards = []
        for b, env in enumerate(envs):
            _, reward, _, truncations, _ = env.step({AGENTS[0]: actions[0][b], AGENTS[1]: actions[1][b]})
            mpe2_rewards.append([reward[a] for a in AGENTS])
        positions, velocities, communication = mpe2_arrays(envs)
        np.testing.assert_allclose(state.positions.numpy()[0], positions, rtol=0, atol=tolerance)
        np.testing.assert_allclose(state.velocities.numpy()[0], velocities, rtol=0, atol=tolerance)
        np.testing.assert_allclose(state.communication.numpy()[0], communication, rtol=0, atol=tolerance)
        np.testing.assert_allclose(rewards.numpy()[0], np.array(mpe2_rewards), rtol=0, atol=tolerance * 10)
        for ours, theirs in zip(port.observe(state), mpe2_observations(envs)):
            np.testing.assert_allclose(ours.numpy()[0], theirs, rtol=0, atol=tolerance * 10)
    assert all(truncations.values()), "mpe2 truncates after 25 steps"


@pytest.mark.parametrize("dtype,tolerance", [(tf.float64, 1e-12), (tf.float32, 1e-5)])
def test_teacher_forced_steps_match_mpe2(dtype, tolerance):
    """mpe2's state is copied in before every step, so errors cannot accumulate or hide."""
    num_envs = 40
    envs = mpe2_envs("speaker_listener", num_envs, first_seed=5000)
    port = BatchedSpeakerListener(dtype)
    np_dtype = np.float64 if dtype == tf.float64 else np.float32
    rng = np.random.default_rng(11)
    for step in range(25):
        state = port.state_from_mpe2([[env.unwrapped.world for env in envs]])
        actions = random_actions(port, rng, num_envs, "soft" if step % 2 else "one_hot", np_dtype)
        state, rewards = port.step(state, [tf.constant(a[None]) for a in actions])
        for b, env in enumerate(envs):
            env.step({AGENTS[0]: actions[0][b], AGENTS[1]: actions[1][b]})
        positions, velocities, _ = mpe2_arrays(envs)
        np.testing.assert_allclose(state.positions.numpy()[0], positions, rtol=0, atol=tolerance)
        np.testing.assert_allclose(state.velocities.numpy()[0], velocities, rtol=0, atol=tolerance)


def test_discrete_mpe2_actions_equal_one_hot_soft_actions():
    """mpe2's discrete mode and a one-hot soft vector move the listener identically (our port's reading)."""
    from mpe2 import simple_speaker_listener_v4

    discrete = simple_speaker_listener_v4.parallel_env(continuous_actions=False)
    discrete.reset(seed=3)
    port = BatchedSpeakerListener(tf.float64)
    state = port.state_from_mpe2([[discrete.unwrapped.world]])
    for move in [0, 1, 2, 3, 4, 2, 2, 4]:
        discrete.step({"speaker_0": 1, "listener_0": move})
        state, _ = port.step(state, [tf.constant(np.eye(3)[1][None, None]), tf.constant(np.eye(5)[move][None, None])])
        listener = discrete.unwrapped.world.agents[1]
        np.testing.assert_allclose(state.positions.numpy()[0, 0, 1], listener.state.p_pos, atol=1e-12)


def test_reset_draws_are_in_the_box_and_goal_is_a_landmark():
    from maddpg.population_random import PopulationRandom

    port = BatchedSpeakerListener()
    state = port.reset(PopulationRandom([0, 1]), 500)
    assert state.positions.shape == (2, 500, 5, 2)
    assert np.all(np.abs(state.positions.numpy()) <= 1.0)
    assert set(np.unique(state.goal.numpy())) == {0, 1, 2}
    assert np.all(state.velocities.numpy() == 0)
    speaker_obs, listener_obs = port.observe(state)
    assert speaker_obs.shape == (2, 500, 3) and listener_obs.shape == (2, 500, 11)
