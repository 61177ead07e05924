"""Batched TensorFlow port of mpe2's simple_push_v3 (the paper's keep-away).

Entities in mpe2 order: adversary_0, agent_0 (both movable, silent, size 0.05, collide), landmark 0, 1
(immobile, do not collide). The only colliding pair is the two agents, so the adversary can push agent_0
off the goal through the shared soft-contact physics.

Both agents share one goal landmark, drawn uniformly at reset; agent_0 observes it (its relative position
and its own colour, which mpe2 tints by the goal index), the adversary must infer it. Rewards, per step:

    agent_0:     -|agent_0 - goal|
    adversary_0:  |agent_0 - goal| - |adversary_0 - goal|

(Euclidean, as in the 2017 environment.) mpe2 gives the scenario dim_c = 2 although both agents are silent,
so the communication tensor is [P, B, 2, 2] of zeros. Reset draws, in mpe2's reset_world order: the goal
index, then each agent's position, then each landmark's position, all uniform in [-1, 1]^2; every draw is
reproduced in distribution (the numbers come from `rng`, not from mpe2's np_random).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import tensorflow as tf

from envs.batched.physics import WorldSpec, check_dynamics, mpe2_world_arrays, step_world

ADVERSARY, AGENT = 0, 1
NUM_AGENTS = 2
NUM_LANDMARKS = 2
# mpe2 builds the landmark colours as 0.1 everywhere plus 0.8 in channel i + 1, and agent_0's colour as
# 0.25 everywhere plus 0.5 in channel goal + 1; written with the same arithmetic so the floats are identical.
LANDMARK_COLORS = tuple(
    tuple(0.1 + 0.8 if c == i + 1 else 0.1 for c in range(3)) for i in range(NUM_LANDMARKS)
)
AGENT_COLORS = tuple(  # agent_0's colour, indexed by the goal landmark
    tuple(0.25 + 0.5 if c == g + 1 else 0.25 for c in range(3)) for g in range(NUM_LANDMARKS)
)


class PushState(NamedTuple):
    """State of P x B keep-away worlds.

    positions: [P, B, 4, 2] (adversary_0, agent_0, landmark 0, 1); velocities: [P, B, 4, 2];
    communication: [P, B, 2, 2] (always zeros: both agents are silent); goal: [P, B] int32 landmark index.
    """

    positions: tf.Tensor
    velocities: tf.Tensor
    communication: tf.Tensor
    goal: tf.Tensor


class BatchedPush:
    """P populations x B envs of keep-away, stepped as one tensor program."""

    name = "push"
    agents = ("adversary_0", "agent_0")
    teams = {"agents": (1,), "adversaries": (0,)}  # paper role -> agent indices (the paper's agent is agent_0)
    observation_sizes = (8, 19)
    action_sizes = (5, 5)
    spec = WorldSpec(
        num_agents=NUM_AGENTS,
        size=(0.05,) * 4,
        movable=(True, True, False, False),
        collide=(True, True, False, False),
        sensitivity=(5.0,) * 4,
        max_speed=(None,) * 4,
        silent=(True, True),
        dim_c=2,
    )

    def __init__(self, dtype: tf.DType = tf.float32, dynamics: str = "mpe2"):
        self.dtype = dtype
        self.dynamics = check_dynamics(dynamics)

    def reset(self, rng, num_envs: int) -> PushState:
        """Fresh worlds drawn as mpe2's reset_world draws them (goal index, agent positions, landmark positions).

        Args:
            rng: a population random source with `uniform(shape, minval, maxval, dtype)` and
                `integers(shape, maxval)` returning [P, *shape] (see maddpg.population_random).
            num_envs: B.
        """
        goal = rng.integers([num_envs], NUM_LANDMARKS)  # [P, B]
        # mpe2 draws adversary, agent, landmark 0, landmark 1 in turn: the entity order.
        positions = rng.uniform([num_envs, self.spec.num_entities, 2], -1.0, 1.0, self.dtype)  # [P, B, 4, 2]
        zeros_comm = tf.zeros(tf.concat([tf.shape(goal), [NUM_AGENTS, self.spec.dim_c]], axis=0), self.dtype)
        return PushState(positions, tf.zeros_like(positions), zeros_comm, goal)

    def step(self, state: PushState, actions: Sequence[tf.Tensor]):
        """Applies one joint action.

        Args:
            state: current worlds.
            actions: [adversary [P, B, 5], agent [P, B, 5]] soft movement vectors.

        Returns:
            (next state, rewards [P, B, 2]).
        """
        positions, velocities, communication = step_world(
            self.spec, state.positions, state.velocities, actions, self.dynamics
        )
        next_state = PushState(positions, velocities, communication, state.goal)
        return next_state, self.rewards(next_state)

    def rewards(self, state: PushState) -> tf.Tensor:
        """[P, B, 2]: agent_0 gets -d_agent; the adversary gets d_agent - d_adversary (distances to the goal)."""
        goal_position = self._goal_positions(state)  # [P, B, 2]
        agent_distance = self._distance(state.positions[..., AGENT, :], goal_position)  # [P, B]
        adversary_distance = self._distance(state.positions[..., ADVERSARY, :], goal_position)  # [P, B]
        return tf.stack([agent_distance - adversary_distance, -agent_distance], axis=-1)

    def goal_distance(self, state: PushState) -> tf.Tensor:
        """[P, B] Euclidean agent_0-to-goal distance."""
        return self._distance(state.positions[..., AGENT, :], self._goal_positions(state))

    def observe(self, state: PushState) -> list[tf.Tensor]:
        """[adversary [P, B, 8], agent_0 [P, B, 19]] in mpe2's layout.

        adversary: own velocity, landmarks relative to it, agent_0 relative to it.
        agent_0: own velocity, goal relative to it, own colour (tinted by the goal), landmarks relative to it,
        landmark colours, adversary relative to it.
        """
        batch_shape = tf.shape(state.goal)  # [2] = (P, B)
        landmarks = state.positions[..., NUM_AGENTS:, :]  # [P, B, 2, 2]
        observations = []
        for i in range(NUM_AGENTS):
            own = state.positions[..., i, :]  # [P, B, 2]
            relative_landmarks = tf.reshape(
                landmarks - own[..., None, :], tf.concat([batch_shape, [2 * NUM_LANDMARKS]], axis=0)
            )  # [P, B, 4]
            other = state.positions[..., 1 - i, :] - own  # [P, B, 2]
            if i == ADVERSARY:
                observations.append(tf.concat([state.velocities[..., i, :], relative_landmarks, other], axis=-1))
            else:
                own_color = tf.gather(tf.constant(AGENT_COLORS, self.dtype), state.goal)  # [P, B, 3]
                landmark_colors = tf.broadcast_to(
                    tf.constant(np.ravel(LANDMARK_COLORS), self.dtype),
                    tf.concat([batch_shape, [3 * NUM_LANDMARKS]], axis=0),
                )  # [P, B, 6]
                observations.append(
                    tf.concat(
                        [
                            state.velocities[..., i, :],
                            self._goal_positions(state) - own,
                            own_color,
                            relative_landmarks,
                            landmark_colors,
                            other,
                        ],
                        axis=-1,
                    )
                )
        return observations

    def _goal_positions(self, state: PushState) -> tf.Tensor:
        landmarks = state.positions[..., NUM_AGENTS:, :]  # [P, B, 2, 2]
        return tf.gather(landmarks, state.goal, batch_dims=2)  # [P, B, 2]

    @staticmethod
    def _distance(a: tf.Tensor, b: tf.Tensor) -> tf.Tensor:
        # mpe2 writes sqrt(sum(square(.))); tf.norm would round the same way but say it less plainly.
        return tf.sqrt(tf.reduce_sum(tf.square(a - b), axis=-1))

    def state_from_mpe2(self, worlds: Sequence[Sequence]) -> PushState:
        """Copies live mpe2 worlds in, worlds[p][b] -> member p, env b (for teacher-forced parity checks)."""
        positions, velocities, communication = mpe2_world_arrays(worlds)
        goal = np.array([[w.landmarks.index(w.agents[AGENT].goal_a) for w in row] for row in worlds])
        return PushState(
            tf.constant(positions, self.dtype),
            tf.constant(velocities, self.dtype),
            tf.constant(communication, self.dtype),
            tf.constant(goal, tf.int32),
        )
