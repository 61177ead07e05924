"""Relaxed Gumbel-softmax sampling, as openai/maddpg's SoftCategoricalPd.sample (temperature 1, no straight-through)."""

from __future__ import annotations

import tensorflow as tf

# Keeps log(-log(u)) finite when a uniform draw is exactly 0.
_MIN_UNIFORM = 1e-20


def gumbel_softmax(logits: tf.Tensor, uniform_noise: tf.Tensor, temperature: float = 1.0) -> tf.Tensor:
    """A relaxed one-hot sample softmax((logits + g) / temperature), g = -log(-log(u)).

    The noise is passed in (rather than drawn here) so that every draw comes from the caller's
    per-member generator and stays reproducible.

    Args:
        logits: [..., A] unnormalised log-probabilities.
        uniform_noise: [..., A] uniform draws in [0, 1).
        temperature: softmax temperature (the reference code uses 1).

    Returns:
        [..., A] a point on the simplex, differentiable with respect to logits.
    """
    uniform_noise = tf.maximum(tf.cast(uniform_noise, logits.dtype), _MIN_UNIFORM)
    gumbel = -tf.math.log(-tf.math.log(uniform_noise))
    return tf.nn.softmax((logits + gumbel) / temperature, axis=-1)
