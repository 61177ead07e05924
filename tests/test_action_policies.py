"""The three policy kinds (maddpg/action_policies.py), checked by hand on tiny inputs and tiny nets."""

import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from maddpg.action_policies import DeterministicPolicy, GumbelSoftmaxPolicy, StraightThroughPolicy
from maddpg.config import TrainConfig
from maddpg.evaluation import evaluation_action
from maddpg.gumbel import gumbel_softmax
from maddpg.learner import Learner
from maddpg.replay import ReplayBuffer

LOGITS = tf.constant([[[0.3, -1.2, 2.0, 0.1, -0.4], [1.5, 0.2, -0.7, 0.0, 0.9]]])  # [P=1, n=2, A=5]
UNIFORM = tf.constant([[[0.11, 0.52, 0.93, 0.37, 0.68], [0.81, 0.05, 0.44, 0.29, 0.99]]])


def test_straight_through_sends_the_one_hot_of_the_relaxed_sample():
    policy = StraightThroughPolicy(temperature=1.0, logit_penalty=1e-3)
    soft = gumbel_softmax(LOGITS, UNIFORM).numpy()
    expected = np.eye(5)[np.argmax(soft, axis=-1)]  # [1, 2, 5]
    for action in (policy.explore(LOGITS, UNIFORM), policy.target(LOGITS, UNIFORM),
                   policy.differentiable(LOGITS, UNIFORM)):
        np.testing.assert_array_equal(action.numpy(), expected)


def test_straight_through_gradient_is_the_relaxed_samples():
    weights = tf.constant([[[0.5, -1.0, 2.0, 0.25, 1.5]]])  # a linear "critic" on the action
    gradients = []
    for policy in (StraightThroughPolicy(1.0, 0.0), GumbelSoftmaxPolicy(1.0, 0.0)):
        with tf.GradientTape() as tape:
            tape.watch(LOGITS)
            value = tf.reduce_sum(weights * policy.differentiable(LOGITS, UNIFORM))
        gradients.append(tape.gradient(value, LOGITS).numpy())
    np.testing.assert_allclose(gradients[0], gradients[1], rtol=1e-6)
    assert np.abs(gradients[0]).max() > 1e-3  # a gradient flows at all


def test_gumbel_softmax_policy_is_the_relaxed_sample_everywhere():
    policy = GumbelSoftmaxPolicy(temperature=1.0, logit_penalty=1e-3)
    soft = gumbel_softmax(LOGITS, UNIFORM).numpy()
    for action in (policy.explore(LOGITS, UNIFORM), policy.target(LOGITS, UNIFORM),
                   policy.differentiable(LOGITS, UNIFORM)):
        np.testing.assert_allclose(action.numpy(), soft, rtol=1e-6)
    np.testing.assert_allclose(policy.penalty(LOGITS).numpy(), [1e-3 * np.mean(LOGITS.numpy() ** 2)], rtol=1e-6)


def test_deterministic_maps_outputs_into_the_box_and_adds_clipped_gaussian_noise_only_while_acting():
    low, high = np.array([-2.0, 0.0, 0.0, 0.0, 0.0]), np.array([2.0, 1.0, 1.0, 1.0, 0.5])
    policy = DeterministicPolicy(low, high, exploration_noise=0.1)
    x = LOGITS.numpy()
    mu = low + (high - low) * (np.tanh(x) + 1) / 2  # by hand
    np.testing.assert_allclose(policy.target(LOGITS, UNIFORM).numpy(), mu, rtol=1e-6)
    np.testing.assert_allclose(policy.differentiable(LOGITS, UNIFORM).numpy(), mu, rtol=1e-6)
    from scipy.stats import norm

    noisy = np.clip(mu + 0.1 * (high - low) * norm.ppf(UNIFORM.numpy()), low, high)
    np.testing.assert_allclose(policy.explore(LOGITS, UNIFORM).numpy(), noisy, rtol=1e-5, atol=1e-6)
    assert np.abs(noisy - mu).max() > 0.01  # the noise is there
    many = policy.explore(tf.zeros([1, 20000, 5]), tf.random.stateless_uniform([1, 20000, 5], seed=[1, 2])).numpy()
    assert (many >= low).all() and (many <= high).all()
    # mu(0) is the Box's centre, 5 standard deviations from either bound: the clip leaves the std 0.1 of the range.
    np.testing.assert_allclose(many.std(axis=(0, 1)) / (high - low), 0.1, rtol=0.05)
    np.testing.assert_array_equal(policy.penalty(LOGITS).numpy(), [0.0])


def _tiny_learner(policy: str, critic_kind: str = "ddpg"):
    config = TrainConfig(scenario="speaker_listener", critic_kinds=(critic_kind, critic_kind), seeds=(0,),
                         hidden_units=4, batch_size=3, policy=policy)
    return config, Learner(config, observation_sizes=[3, 2], action_sizes=[2, 5])


def test_the_deterministic_actor_follows_dq_da_times_dmu_dtheta():
    config, learner = _tiny_learner("deterministic", "maddpg")
    rng = np.random.default_rng(0)
    observations = [tf.constant(rng.normal(size=[1, 3, size]), tf.float32) for size in (3, 2)]
    actions = [tf.constant(rng.random([1, 3, size]), tf.float32) for size in (2, 5)]
    agent, actor = 1, learner.actors[1]
    with tf.GradientTape() as tape:
        loss = learner.actor_loss(agent, observations, actions, tf.zeros([1, 3, 5]))
    gradient = tape.gradient(loss, actor.trainable_variables)
    # By the chain rule, in two separate steps: dQ/da at a = mu(o), then pushed back through mu.
    mu = learner.action_policies[agent].squash(actor(observations[agent]))  # [1, 3, 5]
    with tf.GradientTape() as tape:
        tape.watch(mu)
        q = tf.reduce_mean(learner.critics[agent](tf.concat(observations + [actions[0], mu], axis=-1)))
    dq_da = tape.gradient(q, mu)  # [1, 3, 5]: d mean(Q) / d a_i
    with tf.GradientTape() as tape:
        mu_again = learner.action_policies[agent].squash(actor(observations[agent]))
    expected = tape.gradient(mu_again, actor.trainable_variables, output_gradients=-dq_da)
    for got, want in zip(gradient, expected):
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5, atol=1e-7)
    assert max(float(tf.reduce_max(tf.abs(g))) for g in gradient) > 0


def test_deterministic_critic_targets_use_the_noiseless_target_actions():
    config, learner = _tiny_learner("deterministic")
    buffer = ReplayBuffer(capacity=8, observation_sizes=[3, 2], action_sizes=[2, 5], population=1, write_block=4)
    rng = np.random.default_rng(1)
    for _ in range(2):
        buffer.add([tf.constant(rng.normal(size=[1, 4, s]), tf.float32) for s in (3, 2)],
                   [tf.constant(rng.random([1, 4, s]), tf.float32) for s in (2, 5)],
                   tf.constant(rng.normal(size=[1, 4, 2]), tf.float32),
                   [tf.constant(rng.normal(size=[1, 4, s]), tf.float32) for s in (3, 2)])
    indices = tf.constant([[0, 3, 5]])
    _, _, rewards, next_observations = buffer.sample(indices)
    expected = [learner.action_policies[j].squash(learner.target_actors[j](next_observations[j])) for j in range(2)]
    target_from_noise = []
    for noise in (0.1, 0.9):  # whatever the uniforms, a'_j is mu'_j(o'_j)
        uniforms = [tf.fill([1, 3, s], noise) for s in (2, 5)]
        actions = learner._target_actions([learner.target_actors[j](next_observations[j]) for j in range(2)], uniforms)
        for got, want in zip(actions, expected):
            np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)
        target_from_noise.append(learner.critic_target(0, rewards, next_observations, actions).numpy())
    np.testing.assert_array_equal(target_from_noise[0], target_from_noise[1])


@pytest.mark.parametrize("policy", ["straight_through", "deterministic"])
def test_a_training_iteration_runs_and_stores_actions_of_the_policys_kind(policy):
    from envs.batched.speaker_listener import BatchedSpeakerListener
    from maddpg.training import Trainer

    config = TrainConfig(seeds=(0, 1), episodes=200, num_envs=100, batch_size=64, warmup_transitions=1000,
                         log_every_episodes=100, checkpoint_every_episodes=100, hidden_units=8, policy=policy)
    trainer = Trainer(config, BatchedSpeakerListener(dynamics="paper"))
    outputs = trainer.iteration()
    assert int(outputs["num_updates"]) > 0
    _, actions, _, _ = trainer.buffer.sample(tf.constant([[0, 1, 2, 3], [0, 1, 2, 3]]))
    listener = actions[1].numpy()  # [P, 4, 5]
    assert ((listener >= 0) & (listener <= 1)).all()
    if policy == "straight_through":
        np.testing.assert_array_equal(listener.sum(axis=-1), 1.0)
        assert set(np.unique(listener)) == {0.0, 1.0}
    else:
        assert not np.allclose(listener.sum(axis=-1), 1.0)  # not a point of the simplex
    assert np.isfinite(outputs["critic_loss_sum"].numpy()).all()


def test_evaluation_actions_of_each_kind():
    logits = np.array([0.3, -1.2, 2.0, 0.1, -0.4])
    np.testing.assert_allclose(evaluation_action("deterministic", logits, None), (np.tanh(logits) + 1) / 2)
    greedy = evaluation_action("straight_through", logits, np.random.default_rng(0), greedy=True)
    np.testing.assert_array_equal(greedy, np.eye(5)[2])
    sampled = evaluation_action("straight_through", logits, np.random.default_rng(0))
    soft = evaluation_action("gumbel_softmax", logits, np.random.default_rng(0))
    np.testing.assert_array_equal(sampled, np.eye(5)[np.argmax(soft)])  # the same draw, sent as its one-hot


def test_bad_policy_values_are_refused():
    with pytest.raises(ValueError, match="unknown policy 'foo'"):
        TrainConfig(policy="foo")
    with pytest.raises(ValueError, match="policy_inference .* needs a Gumbel policy"):
        TrainConfig(policy="deterministic", policy_inference=True)
    with pytest.raises(ValueError, match="exploration_noise"):
        dataclasses.replace(TrainConfig(), exploration_noise=float("inf"))
