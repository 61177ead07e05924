"""Batched TensorFlow port of mpe2's simple_crypto_v3 (the paper's covert communication).

Entities in mpe2 order: eve_0, bob_0, alice_0 (all immobile, none collides, all speak dim_c = 4), then
landmark 0, 1 (immobile, never observed). Nobody moves, so each agent's continuous action is just its 4-wide
utterance, copied into `communication` by the shared physics; positions are drawn (mpe2 draws them) but
never change and never enter an observation or a reward.

The two landmarks' colours are the candidate messages and keys: landmark i's colour is the one-hot vector
e_i of R^4, so both come from {e_0, e_1}. mpe2's reset_world draws, from the env's seeded np_random, in
this order: the goal landmark (uniform over 2), then the key landmark (uniform over 2, independently), then
the 3 agent positions and 2 landmark positions, uniform in [-1, 1]^2. "The message" is the goal landmark's
colour, `agent.goal_a.color` (one goal shared by all three agents) = one_hot(goal, 4); the key is
`alice_0.key` = one_hot(key, 4). Observations (only Alice, the one speaker, is ever heard):

    eve_0:   Alice's utterance                          [4]
    bob_0:   key, Alice's utterance                     [8]
    alice_0: message, key                               [8]

Rewards, with err_X = |c_X - message|^2 the squared error of X's utterance, counted only when X said
something (mpe2 skips an utterance that is exactly all zeros, i.e. it scores 0 then):

    eve_0:            -err_eve
    bob_0, alice_0:    err_eve - err_bob
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import tensorflow as tf

from envs.batched.physics import WorldSpec, check_dynamics, mpe2_world_arrays, step_world

EVE, BOB, ALICE = 0, 1, 2
NUM_AGENTS = 3
NUM_LANDMARKS = 2
DIM_C = 4
# Landmark i's colour: mpe2 builds zeros(dim_c) and adds 1 at i. These are the candidate messages and keys.
LANDMARK_COLORS = tuple(tuple(1.0 if c == i else 0.0 for c in range(DIM_C)) for i in range(NUM_LANDMARKS))


class CryptoState(NamedTuple):
    """State of P x B covert-communication worlds.

    positions: [P, B, 5, 2] (eve, bob, alice, landmark 0, 1; fixed after reset); velocities: [P, B, 5, 2] (zeros);
    communication: [P, B, 3, 4] (each agent's last utterance); goal: [P, B] int32 index of the message landmark;
    key: [P, B] int32 index of the key landmark.
    """

    positions: tf.Tensor
    velocities: tf.Tensor
    communication: tf.Tensor
    goal: tf.Tensor
    key: tf.Tensor


class BatchedCrypto:
    """P populations x B envs of covert communication, stepped as one tensor program."""

    name = "crypto"
    agents = ("eve_0", "bob_0", "alice_0")
    teams = {"agents": (2, 1), "adversaries": (0,)}  # paper role -> agent indices: Alice and Bob v Eve
    observation_sizes = (4, 8, 8)
    action_sizes = (4, 4, 4)
    spec = WorldSpec(
        num_agents=NUM_AGENTS,
        size=(0.05,) * 5,
        movable=(False,) * 5,
        collide=(False,) * 5,
        sensitivity=(5.0,) * 5,
        max_speed=(None,) * 5,
        silent=(False, False, False),
        dim_c=DIM_C,
    )

    def __init__(self, dtype: tf.DType = tf.float32, dynamics: str = "mpe2"):
        # Every crypto agent is immobile: the dynamics only names which reference env to compare with.
        self.dtype = dtype
        self.dynamics = check_dynamics(dynamics)

    def reset(self, rng, num_envs: int) -> CryptoState:
        """Fresh worlds drawn as mpe2's reset_world draws them (goal, key, then positions), every draw uniform.

        Args:
            rng: a population random source with `uniform(shape, minval, maxval, dtype)` and
                `integers(shape, maxval)` returning [P, *shape] (see maddpg.population_random).
            num_envs: B.
        """
        goal = rng.integers([num_envs], NUM_LANDMARKS)  # [P, B]
        key = rng.integers([num_envs], NUM_LANDMARKS)  # [P, B], independent of the goal
        positions = rng.uniform([num_envs, self.spec.num_entities, 2], -1.0, 1.0, self.dtype)  # [P, B, 5, 2]
        zeros_comm = tf.zeros(tf.concat([tf.shape(goal), [NUM_AGENTS, DIM_C]], axis=0), self.dtype)
        return CryptoState(positions, tf.zeros_like(positions), zeros_comm, goal, key)

    def step(self, state: CryptoState, actions: Sequence[tf.Tensor]):
        """Applies one joint action.

        Args:
            state: current worlds.
            actions: [eve, bob, alice], each [P, B, 4], the utterance (soft or one-hot).

        Returns:
            (next state, rewards [P, B, 3]).
        """
        positions, velocities, communication = step_world(
            self.spec, state.positions, state.velocities, actions, self.dynamics
        )
        next_state = CryptoState(positions, velocities, communication, state.goal, state.key)
        return next_state, self.rewards(next_state)

    def message(self, state: CryptoState) -> tf.Tensor:
        """[P, B, 4] the true message: the goal landmark's colour, one_hot(goal)."""
        return tf.one_hot(state.goal, DIM_C, dtype=self.dtype)

    def rewards(self, state: CryptoState) -> tf.Tensor:
        """[P, B, 3]: eve -err_eve; bob and alice err_eve - err_bob (an all-zero utterance scores 0)."""
        message = self.message(state)[..., None, :]  # [P, B, 1, 4]
        error = tf.reduce_sum(tf.square(state.communication - message), axis=-1)  # [P, B, 3]
        # mpe2 skips a listener whose utterance is exactly zero (e.g. one that never spoke).
        said_something = tf.reduce_any(tf.not_equal(state.communication, 0.0), axis=-1)  # [P, B, 3]
        error = tf.where(said_something, error, tf.zeros_like(error))
        eve_error, bob_error = error[..., EVE], error[..., BOB]  # [P, B]
        good = eve_error - bob_error
        return tf.stack([-eve_error, good, good], axis=-1)

    def observe(self, state: CryptoState) -> list[tf.Tensor]:
        """[eve [P, B, 4], bob [P, B, 8], alice [P, B, 8]] in mpe2's layout (see the module docstring)."""
        alice_says = state.communication[..., ALICE, :]  # [P, B, 4]
        key = tf.one_hot(state.key, DIM_C, dtype=self.dtype)  # [P, B, 4]
        return [
            alice_says,
            tf.concat([key, alice_says], axis=-1),
            tf.concat([self.message(state), key], axis=-1),
        ]

    def state_from_mpe2(self, worlds: Sequence[Sequence]) -> CryptoState:
        """Copies live mpe2 worlds in, worlds[p][b] -> member p, env b (for teacher-forced parity checks)."""
        positions, velocities, communication = mpe2_world_arrays(worlds)
        goal = np.array([[w.landmarks.index(w.agents[ALICE].goal_a) for w in row] for row in worlds])
        key = np.array([[_key_index(w) for w in row] for row in worlds])
        return CryptoState(
            tf.constant(positions, self.dtype),
            tf.constant(velocities, self.dtype),
            tf.constant(communication, self.dtype),
            tf.constant(goal, tf.int32),
            tf.constant(key, tf.int32),
        )


def _key_index(world) -> int:
    """The landmark whose colour mpe2 handed to Alice as the key (the two colours differ)."""
    key = world.agents[ALICE].key
    return next(i for i, landmark in enumerate(world.landmarks) if np.array_equal(landmark.color, key))
