"""Relaxed Gumbel-softmax sampling, as openai/maddpg's SoftCategoricalPd.sample (temperature 1, no straight-through),
and the density of such a sample (for fitting the policy that drew it)."""

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


# A soft sample's coordinates can underflow to exactly 0 in float32; their log is clipped here.
_MIN_SAMPLE = 1e-30


def relaxed_log_density(logits: tf.Tensor, sample: tf.Tensor, temperature: float = 1.0) -> tf.Tensor:
    """Log density of a relaxed one-hot `sample` under the Gumbel-softmax (Concrete) distribution of `logits`.

    The density of y = softmax((logits + g) / t) on the simplex (Maddison et al. 2017, w.r.t. the first A - 1
    coordinates): (A-1)! t^(A-1) prod_k exp(l_k) y_k^(-t-1) / (sum_i exp(l_i) y_i^(-t))^A. It is unchanged
    by adding a constant to every logit, so log-softmax outputs serve as well as raw logits.

    Args:
        logits: [..., A] unnormalised log-probabilities (e.g. a log-softmax).
        sample: [..., A] a point on the simplex, e.g. a stored `gumbel_softmax` action.
        temperature: t, the temperature the sample was drawn at.

    Returns:
        [...] the log density, differentiable with respect to logits.
    """
    sample = tf.cast(sample, logits.dtype)
    size = tf.cast(tf.shape(sample)[-1], logits.dtype)
    log_sample = tf.math.log(tf.maximum(sample, _MIN_SAMPLE))  # [..., A]
    log_temperature = tf.math.log(tf.cast(temperature, logits.dtype))
    return (tf.math.lgamma(size) + (size - 1.0) * log_temperature
            + tf.reduce_sum(logits - (temperature + 1.0) * log_sample, axis=-1)
            - size * tf.reduce_logsumexp(logits - temperature * log_sample, axis=-1))
