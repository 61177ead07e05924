"""How an actor's output becomes an action, and how that action is differentiated: the three policy kinds.

The learner asks one `ActionPolicy` per agent for the action in each of the three places MADDPG needs one:

    acting (exploration)    a_i  = explore(mu_i(o_i), u)       stored in the replay buffer, sent to the env
    critic target           a'_j = target(mu'_j(o'_j), u)       inside y = r_i + gamma * Q'_i(x', a'_1..a'_N)
    actor loss              a_i  = differentiable(mu_i(o_i), u) inside -Q_i(x, a_1..a_i..a_N), gradient to theta_i

Every kind consumes the same uniform draws u [P, batch, A] from the caller's per-member stream, so the order
of random draws (and hence every other draw of a run) does not depend on the kind.

- `gumbel_softmax` (the paper code's, openai/maddpg's SoftCategoricalPd): the relaxed one-hot sample
  softmax((logits + g) / t) everywhere, g = -log(-log u); actor loss += logit_penalty * mean(logits^2).
- `straight_through` (STGS-1 of Tilbury, Christianos and Albrecht, "Revisiting the Gumbel-Softmax in
  MADDPG", 2023): the one-hot of that sample's argmax is sent, stored and used in targets; in the actor loss
  its forward value is the one-hot and its gradient the relaxed sample's. Same logit penalty.
- `deterministic` (the algorithm as the paper derives it, sec. 4.1: a_i = mu_i(o_i) on a continuous action
  space): mu_i = low + (high - low) * (tanh(x) + 1) / 2 inside the action Box; acting adds Gaussian noise
  N(0, (exploration_noise * (high - low))^2), drawn as the inverse normal CDF of u, then clips to the
  Box; targets and the actor loss use the noiseless mu (the deterministic policy gradient
  dQ/da * da/dtheta); no penalty.
"""

from __future__ import annotations

from typing import Protocol, Sequence

import numpy as np
import tensorflow as tf

from maddpg.gumbel import gumbel_softmax

POLICIES = ("gumbel_softmax", "straight_through", "deterministic")
DISCRETE_POLICIES = ("gumbel_softmax", "straight_through")  # act on a one-hot (or relaxed one-hot) vector

# Keeps ndtri(u) finite when a uniform draw is exactly 0 (float32 uniforms are never 1).
_MIN_UNIFORM = 1e-7


class ActionPolicy(Protocol):
    """One agent's way from actor outputs x [P, n, A] to actions [P, n, A], given uniforms u [P, n, A]."""

    def explore(self, outputs: tf.Tensor, uniform: tf.Tensor) -> tf.Tensor:
        """The action taken while training (with exploration)."""

    def target(self, outputs: tf.Tensor, uniform: tf.Tensor) -> tf.Tensor:
        """a'_j in a critic target, from a target actor's outputs."""

    def differentiable(self, outputs: tf.Tensor, uniform: tf.Tensor) -> tf.Tensor:
        """a_i in the actor loss: its gradient with respect to `outputs` drives the actor."""

    def penalty(self, outputs: tf.Tensor) -> tf.Tensor:
        """[P] a regulariser added to each member's actor loss."""


class GumbelSoftmaxPolicy:
    """The paper code's relaxed Gumbel-softmax sample everywhere, with its logit penalty."""

    def __init__(self, temperature: float, logit_penalty: float):
        self.temperature, self.logit_penalty = temperature, logit_penalty

    def explore(self, outputs, uniform):
        return gumbel_softmax(outputs, uniform, self.temperature)

    def target(self, outputs, uniform):
        return gumbel_softmax(outputs, uniform, self.temperature)

    def differentiable(self, outputs, uniform):
        return gumbel_softmax(outputs, uniform, self.temperature)

    def penalty(self, outputs):
        return self.logit_penalty * tf.reduce_mean(tf.square(outputs), axis=[1, 2])  # [P]


class StraightThroughPolicy(GumbelSoftmaxPolicy):
    """One-hot actions of the Gumbel-softmax sample; the actor's gradient is the relaxed sample's."""

    def _one_hot(self, soft: tf.Tensor) -> tf.Tensor:
        return tf.one_hot(tf.argmax(soft, axis=-1), tf.shape(soft)[-1], dtype=soft.dtype)

    def explore(self, outputs, uniform):
        return self._one_hot(gumbel_softmax(outputs, uniform, self.temperature))

    def target(self, outputs, uniform):
        return self.explore(outputs, uniform)

    def differentiable(self, outputs, uniform):
        soft = gumbel_softmax(outputs, uniform, self.temperature)  # [P, n, A]
        # Forward value: the one-hot; gradient: d soft / d outputs (the stop_gradient terms cancel in value).
        return soft + tf.stop_gradient(self._one_hot(soft) - soft)


class DeterministicPolicy:
    """a = mu(o) inside the Box [low, high]; Gaussian exploration noise while acting, clipped to the Box."""

    def __init__(self, low: Sequence[float], high: Sequence[float], exploration_noise: float):
        """Args:
        low, high: [A] the action Box's bounds (finite).
        exploration_noise: the noise's standard deviation as a fraction of each dimension's range.
        """
        self.low = tf.constant(np.asarray(low, dtype=np.float32))  # [A]
        self.high = tf.constant(np.asarray(high, dtype=np.float32))  # [A]
        self.noise_scale = tf.constant(float(exploration_noise) * (np.asarray(high, np.float32)
                                                                   - np.asarray(low, np.float32)))  # [A]

    def squash(self, outputs: tf.Tensor) -> tf.Tensor:
        """[..., A] mu: the outputs mapped into the Box by a scaled tanh."""
        return self.low + (self.high - self.low) * (tf.tanh(outputs) + 1.0) / 2.0

    def explore(self, outputs, uniform):
        uniform = tf.clip_by_value(tf.cast(uniform, outputs.dtype), _MIN_UNIFORM, 1.0 - _MIN_UNIFORM)
        noise = self.noise_scale * tf.math.ndtri(uniform)  # [P, n, A] standard normal draws, scaled
        return tf.clip_by_value(self.squash(outputs) + noise, self.low, self.high)

    def target(self, outputs, uniform):
        return self.squash(outputs)

    def differentiable(self, outputs, uniform):
        return self.squash(outputs)

    def penalty(self, outputs):
        return tf.zeros(tf.shape(outputs)[:1], dtype=outputs.dtype)  # [P]


def unit_bounds(action_sizes: Sequence[int]) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per agent ([A] zeros, [A] ones): the Box of mpe2's continuous actions, which every batched port reads."""
    return [(np.zeros(size, np.float32), np.ones(size, np.float32)) for size in action_sizes]


def action_policies_for(config, action_sizes: Sequence[int],
                        action_bounds: Sequence[tuple[np.ndarray, np.ndarray]] | None = None) -> list[ActionPolicy]:
    """One ActionPolicy per agent for config.policy; action_bounds (per agent (low [A], high [A]), default
    mpe2's [0, 1] Box) matter to `deterministic` only."""
    if config.policy == "gumbel_softmax":
        return [GumbelSoftmaxPolicy(config.gumbel_temperature, config.logit_penalty) for _ in action_sizes]
    if config.policy == "straight_through":
        return [StraightThroughPolicy(config.gumbel_temperature, config.logit_penalty) for _ in action_sizes]
    bounds = action_bounds if action_bounds is not None else unit_bounds(action_sizes)
    return [DeterministicPolicy(low, high, config.exploration_noise) for low, high in bounds]

