"""Keras networks with a population axis: P independent MLPs evaluated as one einsum per layer.

A population dense layer holds kernel [P, in, out] and bias [P, out] and maps [P, B, in] -> [P, B, out].
Each member's weights are initialised from its own seed (Glorot-uniform kernels, zero biases, as
tf.contrib.layers.fully_connected in the reference code), so member p of a stack starts exactly as a
run with that seed alone would.
"""

from __future__ import annotations

import zlib
from typing import Sequence

import keras
import numpy as np
import tensorflow as tf


def member_glorot_uniform(seeds: Sequence[int], salt: str, fan_in: int, fan_out: int) -> np.ndarray:
    """[P, fan_in, fan_out] Glorot-uniform kernels, member p drawn from (seeds[p], salt) alone."""
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    salt_key = zlib.crc32(salt.encode())  # a stable (unlike hash()) integer per layer name
    return np.stack(
        [np.random.default_rng([int(seed), salt_key]).uniform(-limit, limit, (fan_in, fan_out)) for seed in seeds]
    )


class PopulationDense(keras.layers.Layer):
    """Dense layer over a population: y[p] = x[p] @ kernel[p] + bias[p]."""

    def __init__(self, seeds: Sequence[int], units: int, salt: str, activation=None, **kwargs):
        super().__init__(**kwargs)
        self.seeds = tuple(int(s) for s in seeds)
        self.units = units
        self.salt = salt
        self.activation = keras.activations.get(activation)

    def build(self, input_shape):
        fan_in = int(input_shape[-1])
        initial_kernel = member_glorot_uniform(self.seeds, self.salt, fan_in, self.units)
        self.kernel = self.add_weight(
            name="kernel",
            shape=(len(self.seeds), fan_in, self.units),
            initializer=lambda shape, dtype=None: tf.constant(initial_kernel, dtype=dtype),
        )
        self.bias = self.add_weight(name="bias", shape=(len(self.seeds), self.units), initializer="zeros")

    def call(self, inputs):  # inputs [P, B, in]
        outputs = tf.einsum("pbi,pio->pbo", inputs, self.kernel) + self.bias[:, None, :]  # [P, B, out]
        return self.activation(outputs)


class PopulationMLP(keras.Model):
    """The paper's network: two ReLU hidden layers then a linear output, for every population member."""

    def __init__(self, seeds: Sequence[int], hidden_units: int, output_units: int, name: str, **kwargs):
        super().__init__(name=name, **kwargs)
        self.hidden = [
            PopulationDense(seeds, hidden_units, f"{name}/hidden{i}", activation="relu", name=f"hidden{i}")
            for i in range(2)
        ]
        self.out = PopulationDense(seeds, output_units, f"{name}/out", name="out")

    def call(self, inputs):  # [P, B, in] -> [P, B, out]
        x = inputs
        for layer in self.hidden:
            x = layer(x)
        return self.out(x)


def build_network(network: PopulationMLP, input_size: int, dtype=tf.float32) -> PopulationMLP:
    """Creates the network's variables by calling it once on zeros [P, 1, input_size]."""
    population = len(network.out.seeds)
    network(tf.zeros([population, 1, input_size], dtype))
    return network
