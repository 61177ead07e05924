"""The learner's pieces against values computed by hand, and which variables each update may touch."""

import numpy as np
import pytest
import tensorflow as tf

from maddpg.gumbel import gumbel_softmax
from maddpg.learner import Learner, clip_by_member_norm, critic_input, soft_update
from maddpg.population_random import PopulationRandom
from maddpg.replay import ReplayBuffer

OBS, ACT = (2, 3), (2, 2)  # a tiny two-agent problem


def _constant_learner(make_config, kinds=("maddpg", "maddpg"), **overrides):
    """Every weight 0.1 and every bias 0 (targets 0.2), so outputs can be worked out by hand."""
    learner = Learner(make_config(critic_kinds=kinds, hidden_units=2, seeds=(0,), **overrides), OBS, ACT)
    for networks, value in ((learner.actors + learner.critics, 0.1), (learner.target_actors + learner.target_critics, 0.2)):
        for network in networks:
            for variable in network.trainable_variables:
                variable.assign(tf.fill(variable.shape, value) if "kernel" in variable.name else tf.zeros(variable.shape))
    return learner


def test_gumbel_softmax_lies_on_the_simplex_and_passes_gradients():
    logits = tf.Variable(tf.random.normal([4, 1000, 5], seed=1))
    noise = tf.random.uniform([4, 1000, 5], seed=2)
    with tf.GradientTape() as tape:
        sample = gumbel_softmax(logits, noise)
        objective = tf.reduce_sum(sample[..., 0])
    np.testing.assert_allclose(tf.reduce_sum(sample, -1).numpy(), 1.0, atol=1e-6)
    assert np.all(sample.numpy() >= 0)
    gradient = tape.gradient(objective, logits).numpy()
    assert np.all(np.isfinite(gradient)) and np.abs(gradient).max() > 1e-3


def test_gumbel_softmax_follows_the_policy():
    """The argmax of the relaxed sample is a categorical sample of softmax(logits)."""
    logits = tf.math.log(tf.constant([[0.7, 0.2, 0.1]]))
    noise = tf.random.uniform([20000, 3], seed=3)
    choices = tf.argmax(gumbel_softmax(tf.tile(logits, [20000, 1]), noise), axis=-1).numpy()
    np.testing.assert_allclose(np.bincount(choices, minlength=3) / 20000, [0.7, 0.2, 0.1], atol=0.015)


def test_critic_target_matches_hand_computation(make_config):
    learner = _constant_learner(make_config, gamma=0.9)
    # One sample: next observations o'_0 = [1, 1], o'_1 = [1, 0, 1]; target actions a'_0 = [0.5, 0.5], a'_1 = [1, 0].
    next_obs = [tf.constant([[[1.0, 1.0]]]), tf.constant([[[1.0, 0.0, 1.0]]])]
    target_actions = [tf.constant([[[0.5, 0.5]]]), tf.constant([[[1.0, 0.0]]])]
    rewards = tf.constant([[[-1.0, 2.0]]])
    # maddpg target critic input sums to 2 + 2 + 1 + 1 = 6; each hidden unit of layer 1: 0.2 * 6 = 1.2;
    # layer 2: 0.2 * (1.2 + 1.2) = 0.48; output: 0.2 * (0.48 + 0.48) = 0.192.
    y0 = learner.critic_target(0, rewards, next_obs, target_actions).numpy()
    np.testing.assert_allclose(y0, [[[-1.0 + 0.9 * 0.192]]], rtol=1e-6)
    y1 = learner.critic_target(1, rewards, next_obs, target_actions).numpy()
    np.testing.assert_allclose(y1, [[[2.0 + 0.9 * 0.192]]], rtol=1e-6)


def test_critic_and_actor_losses_match_hand_computation(make_config):
    learner = _constant_learner(make_config, kinds=("ddpg", "maddpg"), logit_penalty=1e-3)
    obs = [tf.constant([[[1.0, 2.0]]]), tf.constant([[[0.0, 0.0, 1.0]]])]
    actions = [tf.constant([[[1.0, 0.0]]]), tf.constant([[[0.0, 1.0]]])]
    # ddpg critic of agent 0 sees o_0 and a_0 only: input sum 4 -> 0.4 per unit -> 0.08 -> q = 0.016.
    loss = learner.critic_loss(0, obs, actions, tf.constant([[[1.0]]])).numpy()
    np.testing.assert_allclose(loss, [(0.016 - 1.0) ** 2], rtol=1e-5)
    # Agent 0's actor: logits = 0.1 * 2 * (0.1 * 2 * (0.1 * 3)) = 0.012 for both actions, so its relaxed
    # sample with equal noise is [0.5, 0.5]; the critic input sum is 3 + 1 = 4 again -> q = 0.016.
    actor = learner.actor_loss(0, obs, actions, tf.fill([1, 1, 2], 0.5)).numpy()
    np.testing.assert_allclose(actor, [-0.016 + 1e-3 * 0.012**2], rtol=1e-5)


def test_soft_update_matches_hand_computation():
    target, online = tf.Variable([1.0, 2.0]), tf.Variable([3.0, -2.0])
    soft_update([target], [online], tau=0.01)
    np.testing.assert_allclose(target.numpy(), [0.99 * 1 + 0.01 * 3, 0.99 * 2 + 0.01 * -2], rtol=1e-7)


def test_clip_is_per_member_and_per_variable():
    gradient = tf.constant([[[3.0, 4.0]], [[0.3, 0.4]]])  # member norms 5 and 0.5
    clipped = clip_by_member_norm(gradient, 0.5).numpy()
    np.testing.assert_allclose(clipped[0], tf.clip_by_norm(gradient[0], 0.5).numpy(), rtol=1e-6)
    np.testing.assert_allclose(clipped[1], gradient[1].numpy(), rtol=1e-6)


def test_ddpg_critic_ignores_other_agents(make_config):
    learner = Learner(make_config(critic_kinds=("ddpg", "maddpg"), seeds=(0,)), OBS, ACT)
    rng = np.random.default_rng(0)
    obs = [tf.constant(rng.normal(size=(1, 8, s)), tf.float32) for s in OBS]
    actions = [tf.constant(rng.random((1, 8, s)), tf.float32) for s in ACT]
    changed_obs = [obs[0], obs[1] + 5.0]
    changed_actions = [actions[0], 1.0 - actions[1]]

    def q(agent, o, a):
        return learner.critics[agent](critic_input(learner.config.critic_kinds[agent], agent, o, a)).numpy()

    np.testing.assert_array_equal(q(0, obs, actions), q(0, changed_obs, changed_actions))
    assert np.abs(q(1, obs, actions) - q(1, changed_obs, changed_actions)).max() > 1e-4  # maddpg sees them


@pytest.mark.parametrize("agent", [0, 1])
def test_an_agents_update_changes_only_its_own_networks(make_config, agent):
    config = make_config(seeds=(0, 1))
    learner = Learner(config, OBS, ACT)
    rng = PopulationRandom(config.seeds)
    buffer = ReplayBuffer(2, 100, OBS, ACT, write_block=50)
    for _ in range(2):
        buffer.add([rng.uniform([50, s]) for s in OBS], [rng.uniform([50, s]) for s in ACT],
                   rng.uniform([50, 2]), [rng.uniform([50, s]) for s in OBS])
    networks = {"actor": learner.actors, "critic": learner.critics,
                "target_actor": learner.target_actors, "target_critic": learner.target_critics}
    before = {(k, i): [v.numpy().copy() for v in nets[i].trainable_variables] for k, nets in networks.items() for i in (0, 1)}
    learner.update_agent(agent, buffer, rng)
    for (kind, i), values in before.items():
        after = [v.numpy() for v in networks[kind][i].trainable_variables]
        changed = any(not np.array_equal(a, b) for a, b in zip(values, after))
        assert changed == (i == agent), f"{kind} {i} changed={changed} after updating agent {agent}"


@pytest.mark.parametrize("copy", [False, True])
def test_targets_start_from_own_init_unless_copied(make_config, copy):
    learner = Learner(make_config(copy_targets_at_start=copy, seeds=(0,)), OBS, ACT)
    for online, target in zip(learner.actors + learner.critics, learner.target_actors + learner.target_critics):
        same = all(np.array_equal(o.numpy(), t.numpy())
                   for o, t in zip(online.trainable_variables, target.trainable_variables))
        assert same == copy
