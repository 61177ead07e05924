"""The batched covert communication (simple_crypto_v3) against mpe2: constants, free-running and teacher-forced
steps, the all-zero-utterance reward rule, and reset draws.

Test-sized: 4 x 50 free-running episodes, 2 x 20 teacher-forced episodes, 2 x 20 zero-utterance episodes.
"""

import numpy as np
import pytest
import tensorflow as tf
from conftest import assert_parity_within
from gymnasium.utils import seeding
from pettingzoo.utils.env_logger import EnvLogger

from envs.batched.crypto import LANDMARK_COLORS, BatchedCrypto
from envs.batched.parity import (
    free_running,
    mpe2_arrays,
    mpe2_envs,
    mpe2_observations,
    random_actions,
    teacher_forced,
)
from envs.batched.physics import WorldSpec
from envs.reference import make_reference_env


def test_constants_match_a_live_mpe2_world():
    env = make_reference_env("crypto")
    for seed in range(8):
        env.reset(seed=seed)
        world = env.unwrapped.world
        assert WorldSpec.from_mpe2_world(world) == BatchedCrypto.spec
        # The candidate messages and keys: the landmark colours e_0, e_1 of R^4.
        assert tuple(tuple(l.color) for l in world.landmarks) == LANDMARK_COLORS
        assert all(a.goal_a is world.agents[0].goal_a for a in world.agents)  # one message for everybody
        assert any(world.agents[2].key is l.color for l in world.landmarks)  # the key is a landmark colour
        assert [a.speaker for a in world.agents] == [False, False, True]
        assert [a.adversary for a in world.agents] == [True, False, False]
    assert tuple(env.possible_agents) == BatchedCrypto.agents
    assert tuple(env.observation_space(a).shape[0] for a in BatchedCrypto.agents) == BatchedCrypto.observation_sizes
    # Immobile speakers: the continuous action is the 4-wide utterance only.
    assert tuple(env.action_space(a).shape[0] for a in BatchedCrypto.agents) == BatchedCrypto.action_sizes


def test_mpe2_reset_draws_goal_then_key_then_positions_from_the_seeded_np_random():
    """Replays reset_world's draws on the env's own generator, so the port's draw order is mpe2's."""
    env = make_reference_env("crypto")
    combos = set()
    for seed in range(12):
        env.reset(seed=seed)
        world = env.unwrapped.world
        np_random, _ = seeding.np_random(seed)
        goal, key = int(np_random.integers(2)), int(np_random.integers(2))
        assert world.landmarks.index(world.agents[0].goal_a) == goal
        assert np.array_equal(world.agents[2].key, world.landmarks[key].color)
        for entity in world.entities:  # eve, bob, alice, landmark 0, landmark 1
            np.testing.assert_array_equal(entity.state.p_pos, np_random.uniform(-1, 1, 2))
        combos.add((goal, key))
    assert combos == {(0, 0), (0, 1), (1, 0), (1, 1)}  # goal and key are drawn independently


@pytest.mark.parametrize("kind", ["soft", "one_hot"])
@pytest.mark.parametrize("dtype,tolerance", [(tf.float64, 1e-12), (tf.float32, 1e-5)])
def test_free_running_episodes_match_mpe2(kind, dtype, tolerance):
    """Measured: float64 4e-16, float32 3e-7 (rewards; positions 3e-8 are only the float32 copy of mpe2's)."""
    assert_parity_within(free_running(BatchedCrypto(dtype), "crypto", 50, kind), tolerance)


@pytest.mark.parametrize("dtype,tolerance", [(tf.float64, 1e-12), (tf.float32, 1e-5)])
def test_teacher_forced_steps_match_mpe2(dtype, tolerance):
    assert_parity_within(teacher_forced(BatchedCrypto(dtype), "crypto", 20), tolerance)


@pytest.mark.parametrize("dtype,tolerance", [(tf.float64, 1e-12), (tf.float32, 1e-5)])
def test_all_zero_utterances_score_zero_as_in_mpe2(dtype, tolerance):
    """mpe2 skips a listener whose utterance is exactly zero; the rule must fire on both sides, in both roles.

    Env b silences Eve if b % 4 in (0, 2) and Bob if b % 4 in (1, 2); b % 4 == 3 keeps both speaking.
    """
    num_envs = 20
    envs = mpe2_envs("crypto", num_envs, 9000)
    port = BatchedCrypto(dtype)
    np_dtype = np.float64 if dtype == tf.float64 else np.float32
    rng = np.random.default_rng(13)
    state = port.state_from_mpe2([[env.unwrapped.world for env in envs]])
    lane = np.arange(num_envs) % 4
    eve_silent, bob_silent = np.isin(lane, (0, 2)), np.isin(lane, (1, 2))
    for step in range(25):
        actions = random_actions(port, rng, num_envs, "soft" if step % 2 else "one_hot", np_dtype)
        actions[0][eve_silent] = 0.0
        actions[1][bob_silent] = 0.0
        state, rewards = port.step(state, [tf.constant(a[None]) for a in actions])
        EnvLogger.suppress_output()
        mpe2_rewards = []
        for b, env in enumerate(envs):
            _, reward, _, _, _ = env.step({agent: actions[i][b] for i, agent in enumerate(env.possible_agents)})
            mpe2_rewards.append([reward[agent] for agent in env.possible_agents])
        EnvLogger.unsuppress_output()
        mpe2_rewards = np.array(mpe2_rewards)
        ours = rewards.numpy()[0]
        np.testing.assert_allclose(ours, mpe2_rewards, rtol=0, atol=tolerance)
        _, _, communication = mpe2_arrays(envs)
        np.testing.assert_allclose(state.communication.numpy()[0], communication, rtol=0, atol=tolerance)
        for mine, theirs in zip(port.observe(state), mpe2_observations(envs)):
            np.testing.assert_allclose(mine.numpy()[0], theirs, rtol=0, atol=tolerance)
        # The rule really fired: a silent Eve scores exactly 0 (an all-zero utterance is 1 away from the message,
        # so without the rule she would get -1), and Alice and Bob then get exactly -err_bob.
        assert np.all(mpe2_rewards[eve_silent, 0] == 0) and np.all(ours[eve_silent, 0] == 0)
        message = np.eye(4)[state.goal.numpy()[0]]
        bob_error = np.sum((communication[:, 1] - message) ** 2, axis=-1)
        eve_error = np.sum((communication[:, 0] - message) ** 2, axis=-1)
        assert np.all(eve_error[eve_silent] == 1) and np.all(bob_error[bob_silent] == 1)
        np.testing.assert_allclose(mpe2_rewards[:, 0], -np.where(eve_silent, 0.0, eve_error), atol=1e-6)
        expected = np.where(eve_silent, 0.0, eve_error) - np.where(bob_silent, 0.0, bob_error)
        np.testing.assert_allclose(mpe2_rewards[:, 1], expected, atol=1e-6)
        np.testing.assert_allclose(mpe2_rewards[:, 2], expected, atol=1e-6)


def test_discrete_mpe2_actions_equal_one_hot_soft_actions():
    """mpe2's discrete mode (Discrete(4) per agent) says exactly what the port says for a one-hot vector."""
    from mpe2 import simple_crypto_v3

    discrete = simple_crypto_v3.parallel_env(continuous_actions=False)
    discrete.reset(seed=3)
    port = BatchedCrypto(tf.float64)
    state = port.state_from_mpe2([[discrete.unwrapped.world]])
    for words in [(0, 1, 2), (3, 3, 0), (1, 0, 3)]:
        _, reward, _, _, _ = discrete.step(dict(zip(port.agents, words)))
        state, rewards = port.step(state, [tf.constant(np.eye(4)[w][None, None]) for w in words])
        said = [a.state.c for a in discrete.unwrapped.world.agents]
        np.testing.assert_array_equal(state.communication.numpy()[0, 0], said)
        np.testing.assert_allclose(rewards.numpy()[0, 0], [reward[a] for a in port.agents], atol=1e-12)


def test_reset_draws_follow_mpe2s_reset_world():
    from maddpg.population_random import PopulationRandom

    port = BatchedCrypto()
    state = port.reset(PopulationRandom([0, 1]), 1000)
    assert state.positions.shape == (2, 1000, 5, 2) and state.communication.shape == (2, 1000, 3, 4)
    assert np.all(np.abs(state.positions.numpy()) <= 1.0)
    assert np.all(state.velocities.numpy() == 0) and np.all(state.communication.numpy() == 0)
    goal, key = state.goal.numpy(), state.key.numpy()
    # Goal and key: independent, each uniform over the 2 landmarks, so each (goal, key) pair has frequency 1/4.
    for g in (0, 1):
        for k in (0, 1):
            assert 0.2 < np.mean((goal == g) & (key == k)) < 0.3
    eve_obs, bob_obs, alice_obs = (o.numpy() for o in port.observe(state))
    assert eve_obs.shape == (2, 1000, 4) and bob_obs.shape == (2, 1000, 8) and alice_obs.shape == (2, 1000, 8)
    np.testing.assert_array_equal(alice_obs, np.concatenate([np.eye(4)[goal], np.eye(4)[key]], axis=-1))
    np.testing.assert_array_equal(bob_obs[..., :4], np.eye(4)[key])
    assert np.all(eve_obs == 0) and np.all(bob_obs[..., 4:] == 0)  # nobody has spoken yet


def test_step_compiles_with_xla():
    from maddpg.population_random import PopulationRandom

    port = BatchedCrypto()
    state = port.reset(PopulationRandom([0]), 8)
    actions = [tf.fill([1, 8, 4], 0.25), tf.zeros([1, 8, 4]), tf.one_hot(tf.fill([1, 8], 1), 4)]

    @tf.function(jit_compile=True)
    def step(state, actions):
        next_state, rewards = port.step(state, actions)
        return next_state, rewards, port.observe(next_state)

    compiled = step(state, actions)
    eager_state, eager_rewards = port.step(state, actions)
    np.testing.assert_allclose(compiled[0].communication.numpy(), eager_state.communication.numpy())
    np.testing.assert_allclose(compiled[1].numpy(), eager_rewards.numpy(), atol=1e-6)
