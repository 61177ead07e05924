"""Evaluation's numpy actors against the TF networks and sampler they stand in for, on the same weights and noise.

maddpg.evaluation runs the trained actors as numpy MLPs with its own Gumbel-softmax sampler (TF-free worker
processes); a difference between the two would make every evaluated number describe a policy other than the
one trained.
"""

import numpy as np
import pytest
import tensorflow as tf
from conftest import tiny_config

from maddpg.evaluation import actor_logits, member_networks, sample_soft_action
from maddpg.gumbel import gumbel_softmax
from maddpg.learner import Learner, actor_weights
from maddpg.population_random import PopulationRandom

OBSERVATION_SIZES, ACTION_SIZES = (3, 11), (3, 5)  # speaker-listener
SEEDS, ROWS = (0, 1), 40


def _learner(**overrides) -> Learner:
    """A learner whose actors have non-zero biases too (they start at zero), so both parts of each layer count."""
    learner = Learner(tiny_config(seeds=SEEDS, hidden_units=16, **overrides), OBSERVATION_SIZES, ACTION_SIZES)
    rng = np.random.default_rng(7)
    for actor in learner.actors:
        for layer in actor.hidden + [actor.out]:
            layer.bias.assign(rng.normal(0.0, 0.3, layer.bias.shape).astype(np.float32))
    return learner


def _observations(seed: int = 3):
    """Per agent [P, ROWS, O_i] float32, spread wide enough that some ReLUs are off and some on."""
    rng = np.random.default_rng(seed)
    return [rng.normal(0.0, 2.0, (len(SEEDS), ROWS, size)).astype(np.float32) for size in OBSERVATION_SIZES]


def _uniforms(seed: int = 5):
    """Per agent [P, ROWS, A_i] float32 uniforms, with the edge cases 0 (clamped) and the largest below 1."""
    rng = np.random.default_rng(seed)
    noise = [rng.random((len(SEEDS), ROWS, size)).astype(np.float32) for size in ACTION_SIZES]
    for agent_noise in noise:
        agent_noise[0, 0, 0] = 0.0
        agent_noise[1, 1, -1] = np.nextafter(np.float32(1.0), np.float32(0.0))
    return noise


def test_numpy_actor_logits_equal_the_tf_network():
    learner, observations = _learner(), _observations()
    weights = actor_weights(learner)
    for p in range(len(SEEDS)):
        networks = member_networks(weights, p)
        for i, actor in enumerate(learner.actors):
            expected = actor(tf.constant(observations[i])).numpy()[p]  # [ROWS, A_i]
            for row in range(ROWS):
                np.testing.assert_allclose(actor_logits(networks[i], observations[i][p, row]), expected[row],
                                           rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("temperature", [1.0, 0.5])
def test_numpy_sampler_equals_the_tf_gumbel_softmax_on_the_same_noise(temperature):
    learner, observations, noise = _learner(), _observations(), _uniforms()
    for i, actor in enumerate(learner.actors):
        logits = actor(tf.constant(observations[i])).numpy()  # [P, ROWS, A_i]
        expected = gumbel_softmax(tf.constant(logits), tf.constant(noise[i]), temperature).numpy()
        for p in range(len(SEEDS)):
            for row in range(ROWS):
                sample = sample_soft_action(logits[p, row], None, temperature, uniform=noise[i][p, row])
                np.testing.assert_allclose(sample, expected[p, row], rtol=1e-5, atol=1e-6)


def test_numpy_actor_and_sampler_reproduce_learner_act():
    """The whole acting path: numpy logits and sampler, fed the uniforms Learner.act draws (one [P, B, A_i]
    draw per agent, in agent order), give the actions training sends to the env."""
    learner, observations = _learner(), _observations()
    actions = learner.act([tf.constant(o) for o in observations], PopulationRandom(SEEDS))
    replay = PopulationRandom(SEEDS)
    noise = [replay.uniform([ROWS, size]).numpy() for size in ACTION_SIZES]  # the draws act() made
    weights = actor_weights(learner)
    for p in range(len(SEEDS)):
        networks = member_networks(weights, p)
        for i in range(len(ACTION_SIZES)):
            for row in range(ROWS):
                logits = actor_logits(networks[i], observations[i][p, row])
                sample = sample_soft_action(logits, None, uniform=noise[i][p, row])
                np.testing.assert_allclose(sample, actions[i].numpy()[p, row], rtol=1e-5, atol=1e-6)


def test_passing_the_uniforms_in_changes_nothing_of_evaluation_draws():
    """Without `uniform`, the sampler draws rng.random(logits.shape): the same numbers as before the seam."""
    logits = np.array([0.3, -1.2, 2.0, 0.0, 0.7])
    rng = np.random.default_rng(11)
    drawn = [sample_soft_action(logits, rng) for _ in range(3)]
    replay = np.random.default_rng(11)
    given = [sample_soft_action(logits, None, uniform=replay.random(logits.shape)) for _ in range(3)]
    np.testing.assert_array_equal(np.array(drawn), np.array(given))
