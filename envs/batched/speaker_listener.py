"""Batched TensorFlow port of mpe2's simple_speaker_listener_v4 (the paper's cooperative communication).

Entities in mpe2 order: speaker_0 (immobile, speaks 3), listener_0 (moves, silent), landmark 0..2.
Neither agents nor landmarks collide. Every agent receives -|listener - goal landmark|^2 each step, in
both dynamics (the 2017 env did not sum it over the two agents either; only the 2018-07 original does).
"""

from __future__ import annotations

from typing import NamedTuple, Sequence

import numpy as np
import tensorflow as tf

from envs.batched.physics import WorldSpec, check_dynamics, mpe2_world_arrays, step_world

# mpe2 hard-codes these in reset_world; the parity tests read them back from a live world.
LANDMARK_COLORS = ((0.65, 0.15, 0.15), (0.15, 0.65, 0.15), (0.15, 0.15, 0.65))
NUM_LANDMARKS = 3
SPEAKER, LISTENER = 0, 1


class SpeakerListenerState(NamedTuple):
    """State of P x B speaker-listener worlds.

    positions: [P, B, 5, 2] (speaker, listener, landmark 0..2); velocities: [P, B, 5, 2];
    communication: [P, B, 2, 3] (the utterance each agent made on the last step); goal: [P, B] int32 landmark index.
    """

    positions: tf.Tensor
    velocities: tf.Tensor
    communication: tf.Tensor
    goal: tf.Tensor


class BatchedSpeakerListener:
    """P populations x B envs of speaker-listener, stepped as one tensor program."""

    name = "speaker_listener"
    agents = ("speaker_0", "listener_0")
    teams = {"agents": (SPEAKER, LISTENER)}  # paper role -> agent indices: one cooperating team
    observation_sizes = (3, 11)
    action_sizes = (3, 5)
    spec = WorldSpec(
        num_agents=2,
        size=(0.075, 0.075, 0.04, 0.04, 0.04),
        movable=(False, True, False, False, False),
        collide=(False,) * 5,
        sensitivity=(5.0,) * 5,
        max_speed=(None,) * 5,
        silent=(False, True),
        dim_c=3,
    )

    def __init__(self, dtype: tf.DType = tf.float32, dynamics: str = "mpe2"):
        self.dtype = dtype
        self.dynamics = check_dynamics(dynamics)

    def reset(self, rng, num_envs: int) -> SpeakerListenerState:
        """Fresh worlds drawn as mpe2's reset_world draws them (goal landmark, then agent, then landmark positions).

        Args:
            rng: a population random source with `uniform(shape, minval, maxval, dtype)` and
                `integers(shape, maxval)` returning [P, *shape] (see maddpg.population_random).
            num_envs: B.
        """
        goal = rng.integers([num_envs], NUM_LANDMARKS)  # [P, B]
        positions = rng.uniform([num_envs, self.spec.num_entities, 2], -1.0, 1.0, self.dtype)  # [P, B, 5, 2]
        zeros_comm = tf.zeros(tf.concat([tf.shape(goal), [2, self.spec.dim_c]], axis=0), self.dtype)
        return SpeakerListenerState(positions, tf.zeros_like(positions), zeros_comm, goal)

    def step(self, state: SpeakerListenerState, actions: Sequence[tf.Tensor]):
        """Applies one joint action.

        Args:
            state: current worlds.
            actions: [speaker [P, B, 3], listener [P, B, 5]] soft action vectors.

        Returns:
            (next state, rewards [P, B, 2]).
        """
        positions, velocities, communication = step_world(
            self.spec, state.positions, state.velocities, actions, self.dynamics
        )
        next_state = SpeakerListenerState(positions, velocities, communication, state.goal)
        return next_state, self.rewards(next_state)

    def rewards(self, state: SpeakerListenerState) -> tf.Tensor:
        """[P, B, 2]: both agents get minus the squared listener-to-goal distance."""
        goal_position = self._goal_positions(state)  # [P, B, 2]
        distance2 = tf.reduce_sum(tf.square(state.positions[..., LISTENER, :] - goal_position), axis=-1)
        return tf.stack([-distance2, -distance2], axis=-1)

    def goal_distance(self, state: SpeakerListenerState) -> tf.Tensor:
        """[P, B] Euclidean listener-to-goal distance."""
        return tf.norm(state.positions[..., LISTENER, :] - self._goal_positions(state), axis=-1)

    def observe(self, state: SpeakerListenerState) -> list[tf.Tensor]:
        """[speaker [P, B, 3] goal colour, listener [P, B, 11] (velocity, landmarks relative, speaker's utterance)]."""
        colors = tf.constant(LANDMARK_COLORS, dtype=self.dtype)
        speaker_obs = tf.gather(colors, state.goal)  # [P, B, 3]
        listener_pos = state.positions[..., LISTENER : LISTENER + 1, :]  # [P, B, 1, 2]
        relative = state.positions[..., 2:, :] - listener_pos  # [P, B, 3, 2]
        batch_shape = tf.shape(relative)[:-2]
        listener_obs = tf.concat(
            [
                state.velocities[..., LISTENER, :],
                tf.reshape(relative, tf.concat([batch_shape, [2 * NUM_LANDMARKS]], axis=0)),
                state.communication[..., SPEAKER, :],
            ],
            axis=-1,
        )
        return [speaker_obs, listener_obs]

    def _goal_positions(self, state: SpeakerListenerState) -> tf.Tensor:
        landmarks = state.positions[..., 2:, :]  # [P, B, 3, 2]
        return tf.gather(landmarks, state.goal, batch_dims=2)  # [P, B, 2]

    def state_from_mpe2(self, worlds: Sequence[Sequence]) -> SpeakerListenerState:
        """Copies live mpe2 worlds in, worlds[p][b] -> member p, env b (for teacher-forced parity checks)."""
        positions, velocities, communication = mpe2_world_arrays(worlds)
        goal = np.array([[w.landmarks.index(w.agents[SPEAKER].goal_b) for w in row] for row in worlds])
        return SpeakerListenerState(
            tf.constant(positions, self.dtype),
            tf.constant(velocities, self.dtype),
            tf.constant(communication, self.dtype),
            tf.constant(goal, tf.int32),
        )
