"""Inferring other agents' policies (paper sec. 4.2): approximations converge, critic targets never read the
other agents' true actors, and the KL of Fig. 7 is logged."""

import numpy as np
import pytest
import pandas as pd
import tensorflow as tf
from conftest import tiny_config

from maddpg.config import TrainConfig
from maddpg.gumbel import gumbel_softmax, relaxed_log_density
from maddpg.learner import Learner
from maddpg.population_random import PopulationRandom
from maddpg.replay import ReplayBuffer
from maddpg.run import train

OBSERVATION_SIZES, ACTION_SIZES = (3, 11), (3, 5)


def _learner_and_buffer(policy_inference, **overrides):
    config = tiny_config(policy_inference=policy_inference, **overrides)
    learner = Learner(config, OBSERVATION_SIZES, ACTION_SIZES)
    buffer = ReplayBuffer(config.population, 4096, OBSERVATION_SIZES, ACTION_SIZES, write_block=config.update_every)
    return config, learner, buffer


def _add_transitions(learner, buffer, rng, count, population):
    """count transitions per member: random observations, each agent acting as in training, by a relaxed
    Gumbel-softmax sample of its (fixed) true actor."""
    observations = [rng.normal(size=(population, count, size)).astype(np.float32) for size in OBSERVATION_SIZES]
    actions = []
    for actor, obs in zip(learner.actors, observations):
        logits = actor(tf.constant(obs))  # [P, count, A]
        noise = rng.random(logits.shape).astype(np.float32)
        actions.append(gumbel_softmax(logits, noise).numpy())
    rewards = np.zeros((population, count, 2), np.float32)
    buffer.add(observations, actions, rewards, observations)


@pytest.mark.parametrize("likelihood", ["argmax"])  # relaxed: its density is tested against two references below
def test_approximation_of_a_fixed_policy_converges_to_it(likelihood):
    """Trained on fresh relaxed draws of a fixed, confident policy, mu_hat's KL from it falls near zero."""
    config, learner, buffer = _learner_and_buffer(True, update_every=512, inference_samples=512, hidden_units=16,
                                                  learning_rate=0.01, inference_likelihood=likelihood)
    for actor in learner.actors:  # confident policies, as trained ones are: fitting the soft samples fails there
        actor.out.kernel.assign(actor.out.kernel * 4.0)
    rng = np.random.default_rng(0)
    step = tf.function(learner.update_approximations)
    kls, forward_kls = [], []
    for _ in range(300):
        _add_transitions(learner, buffer, rng, 512, config.population)
        _, kl, forward = step(buffer)  # [P, N], measured before the step
        kls.append(kl.numpy())
        forward_kls.append(forward.numpy())
    for measured in (kls, forward_kls):  # KL(mu_hat || mu), then KL(mu || mu_hat)
        first, last = measured[0], np.mean(measured[-20:], axis=0)
        assert (first > 0.01).all(), first  # two independently initialised networks start apart
        # Measured 0.005-0.085 from 0.35-1.3 (argmax; relaxed a little lower); fitting the soft vectors as
        # targets instead ends at 0.021-0.116.
        assert (last < 0.1).all() and (last < first / 5).all(), (first, last)


def _variables_read(function):
    return {v.ref() for v in tf.function(function).get_concrete_function().variables}


def _refs(keras_variables):
    """tf.Variable references of Keras 3 variables (what a concrete function lists as its variables)."""
    return {v.value.ref() for v in keras_variables}


def test_inferred_critic_targets_never_read_the_other_agents_true_actors():
    for inference in (False, True):
        config, learner, buffer = _learner_and_buffer(inference)
        _add_transitions(learner, buffer, np.random.default_rng(1), config.update_every, config.population)
        rng = PopulationRandom(config.seeds)
        for agent, other in ((0, 1), (1, 0)):
            read = _variables_read(lambda agent=agent: learner.update_agent(agent, buffer, rng))
            true_policy = _refs(learner.actors[other].weights + learner.target_actors[other].weights)
            if inference:
                assert not read & true_policy, f"agent {agent}'s update reads agent {other}'s true actor"
                approximation = _refs(learner.target_approximations[agent][other].weights)
                assert approximation <= read
            else:  # the control: plain MADDPG does read the other agent's target actor
                assert _refs(learner.target_actors[other].weights) <= read


def test_inference_run_logs_kl_and_resumes_its_approximations(tmp_path):
    config = tiny_config(policy_inference=True, episodes=200, warmup_transitions=500, update_every=50)
    train(config, tmp_path / "run", progress=False)
    metrics = pd.read_csv(tmp_path / "run" / "metrics.csv")
    for metric in ("policy_kl", "policy_kl_forward"):
        kl = metrics[metrics.metric == metric]
        assert set(kl.role) == {"speaker_0", "listener_0"} and set(kl.seed) == {0, 1}
        assert (kl.value >= 0).all() and np.isfinite(kl.value).all()
    # A resumed run restores the approximations and their targets too (listed in network_weights).
    trainer = train(config, tmp_path / "run", progress=False)
    names = set(trainer.learner.network_weights)
    assert {"approx_0_of_1", "target_approx_0_of_1", "approx_1_of_0", "target_approx_1_of_0"} <= names


def test_approximations_take_their_own_learning_rate_when_given():
    for rate, expected in ((0.0, 0.01), (1e-3, 1e-3)):
        _, learner, _ = _learner_and_buffer(True, learning_rate=0.01, inference_learning_rate=rate)
        assert float(learner.approximation_optimizers[0][1].learning_rate) == pytest.approx(expected)
        assert float(learner.actor_optimizers[0].learning_rate) == pytest.approx(0.01)


def test_relaxed_log_density_is_the_logistic_density_for_two_actions():
    """With A = 2, t * logit(y_1) - (l_1 - l_2) is a standard logistic variable: the density in closed form."""
    rng = np.random.default_rng(3)
    for temperature in (1.0, 0.5):
        logits = rng.normal(size=(500, 2))
        sample = gumbel_softmax(tf.constant(logits), tf.constant(rng.random((500, 2))), temperature).numpy()
        x = temperature * np.log(sample[:, 0] / sample[:, 1]) - (logits[:, 0] - logits[:, 1])
        expected = -x - 2 * np.log1p(np.exp(-x)) + np.log(temperature / (sample[:, 0] * sample[:, 1]))
        ours = relaxed_log_density(tf.constant(logits), tf.constant(sample), temperature).numpy()
        np.testing.assert_allclose(ours, expected, atol=1e-9)
        shifted = relaxed_log_density(tf.constant(logits + 3.0), tf.constant(sample), temperature).numpy()
        np.testing.assert_allclose(shifted, ours, atol=1e-9)  # a log-softmax serves as well as raw logits


def test_unknown_inference_likelihood_is_refused():
    with pytest.raises(ValueError, match="unknown inference_likelihood 'soft'"):
        TrainConfig(inference_likelihood="soft")


def test_relaxed_log_density_matches_tensorflow_probability():
    """Against tfp's RelaxedOneHotCategorical (installed with the baselines, as in CI) at A = 5."""
    tfp = pytest.importorskip("tensorflow_probability")
    rng = np.random.default_rng(4)
    for temperature in (1.0, 0.5):
        logits = rng.normal(size=(300, 5))
        sample = gumbel_softmax(tf.constant(logits), tf.constant(rng.random((300, 5))), temperature).numpy()
        expected = tfp.distributions.RelaxedOneHotCategorical(temperature, logits=logits).log_prob(sample).numpy()
        ours = relaxed_log_density(tf.constant(logits), tf.constant(sample), temperature).numpy()
        np.testing.assert_allclose(ours, expected, atol=1e-9)
