"""Batched TensorFlow port of mpe2's simple_adversary_v3 (the paper's physical deception).

Entities in mpe2 order: adversary_0, agent_0..N-1 (the good agents), landmark 0..N-1. Every agent moves
(accel unset, so sensitivity 5) and is silent (dim_c = 2, utterances always zero). Nothing collides:
mpe2 sets `collide = False` on every agent and every landmark, so the world step has no contact forces.

One landmark, drawn uniformly at reset, is the goal; the good agents observe where it is, the adversary
does not. Rewards, each step (mpe2 hard-codes the shaped variant: `shaped_reward = True` and
`shaped_adv_reward = True` in the scenario, so no +5 proximity bonus is ever paid):

    adversary_0:  -|adversary - goal|       (dynamics "mpe2", mpe2 1.1.1: Euclidean)
                  -|adversary - goal|^2     (dynamics "paper", the 2017 env: squared)
    agent_i:      -min_j |agent_j - goal| + |adversary - goal|      (both; the same for every good agent)

mpe2 gives this scenario no local_ratio, so the rewards are the scenario's own, unblended.

Observations (no velocities anywhere):

    adversary_0:  landmarks - self (N x 2), other agents - self (N x 2, mpe2 agent order)      4N
    agent_i:      goal - self (2), landmarks - self (N x 2), other agents - self (N x 2)        4N + 2

Reset draws what mpe2's reset_world draws, in its order: the goal index, then every agent's position,
then every landmark's position, all uniform in [-1, 1]^2 (velocities and utterances zero). There is no
rejection sampling here, so the port's reset is the same distribution exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import tensorflow as tf

from envs.batched.physics import WorldSpec, check_dynamics, mpe2_world_arrays, step_world

# mpe2's make_world hard-codes these; the parity tests read them back from a live world (via WorldSpec).
AGENT_SIZE = 0.15
LANDMARK_SIZE = 0.08
DIM_C = 2
ADVERSARY = 0


class AdversaryState(NamedTuple):
    """State of P x B physical-deception worlds (N good agents, N landmarks).

    positions: [P, B, 2N + 1, 2] (adversary, agent_0..N-1, landmark 0..N-1); velocities: [P, B, 2N + 1, 2];
    communication: [P, B, N + 1, 2] (always zeros: every agent is silent); goal: [P, B] int32 landmark index.
    """

    positions: tf.Tensor
    velocities: tf.Tensor
    communication: tf.Tensor
    goal: tf.Tensor


class BatchedAdversary:
    """P populations x B envs of physical deception with `num_good` good agents, stepped as one tensor program."""

    def __init__(self, dtype: tf.DType = tf.float32, num_good: int = 2, dynamics: str = "mpe2"):
        """
        Args:
            dtype: float dtype of the state, rewards and observations.
            num_good: N, the number of good agents, which is also the number of landmarks (mpe2's `N`).
            dynamics: "paper" or "mpe2" (physics, and the adversary's reward: squared or Euclidean).
        """
        self.dtype = dtype
        self.dynamics = check_dynamics(dynamics)
        self.num_good = num_good
        self.num_agents = num_good + 1
        self.name = f"adversary_n{num_good}"
        self.agents = ("adversary_0",) + tuple(f"agent_{i}" for i in range(num_good))
        # paper role -> agent indices: the good agents v adversary_0
        self.teams = {"agents": tuple(range(1, num_good + 1)), "adversaries": (0,)}
        self.observation_sizes = (4 * num_good,) + (4 * num_good + 2,) * num_good
        self.action_sizes = (5,) * self.num_agents  # movement only: every agent is silent
        entities = self.num_agents + num_good
        self.spec = WorldSpec(
            num_agents=self.num_agents,
            size=(AGENT_SIZE,) * self.num_agents + (LANDMARK_SIZE,) * num_good,
            movable=(True,) * self.num_agents + (False,) * num_good,
            collide=(False,) * entities,
            sensitivity=(5.0,) * entities,
            max_speed=(None,) * entities,
            silent=(True,) * self.num_agents,
            dim_c=DIM_C,
        )

    def reset(self, rng, num_envs: int) -> AdversaryState:
        """Fresh worlds drawn as mpe2's reset_world draws them (goal landmark, agent positions, landmark positions).

        Args:
            rng: a population random source with `uniform(shape, minval, maxval, dtype)` and
                `integers(shape, maxval)` returning [P, *shape] (see maddpg.population_random).
            num_envs: B.
        """
        goal = rng.integers([num_envs], self.num_good)  # [P, B]
        # Agents first, then landmarks: the entity order is mpe2's draw order, so one draw covers both.
        positions = rng.uniform([num_envs, self.spec.num_entities, 2], -1.0, 1.0, self.dtype)  # [P, B, E, 2]
        zeros_comm = tf.zeros(tf.concat([tf.shape(goal), [self.num_agents, DIM_C]], axis=0), self.dtype)
        return AdversaryState(positions, tf.zeros_like(positions), zeros_comm, goal)

    def step(self, state: AdversaryState, actions: Sequence[tf.Tensor]):
        """Applies one joint action.

        Args:
            state: current worlds.
            actions: N + 1 soft movement vectors [P, B, 5], adversary first.

        Returns:
            (next state, rewards [P, B, N + 1]).
        """
        positions, velocities, communication = step_world(
            self.spec, state.positions, state.velocities, actions, self.dynamics
        )
        next_state = AdversaryState(positions, velocities, communication, state.goal)
        return next_state, self.rewards(next_state)

    def rewards(self, state: AdversaryState) -> tf.Tensor:
        """[P, B, N + 1]: the adversary's reward, then every good agent's (see the module docstring)."""
        distances = self._goal_distances(state)  # [P, B, N + 1]
        adversary_distance = distances[..., ADVERSARY]  # [P, B]
        nearest_good = tf.reduce_min(distances[..., 1:], axis=-1)  # [P, B]
        good_reward = adversary_distance - nearest_good  # [P, B], the same in both dynamics
        if self.dynamics == "paper":
            adversary_reward = self._paper_adversary_reward(state)
        else:
            adversary_reward = self._mpe2_adversary_reward(adversary_distance)
        return tf.stack([adversary_reward] + [good_reward] * self.num_good, axis=-1)

    @staticmethod
    def _mpe2_adversary_reward(adversary_distance: tf.Tensor) -> tf.Tensor:
        """[P, B]: mpe2 1.1.1, minus the Euclidean adversary-to-goal distance."""
        return -adversary_distance

    def _paper_adversary_reward(self, state: AdversaryState) -> tf.Tensor:
        """[P, B]: the 2017 env, minus the SQUARED adversary-to-goal distance."""
        delta = state.positions[..., ADVERSARY, :] - self._goal_positions(state)  # [P, B, 2]
        return -(tf.square(delta[..., 0]) + tf.square(delta[..., 1]))

    def goal_distance(self, state: AdversaryState) -> tf.Tensor:
        """[P, B] Euclidean distance from the good agent nearest the goal to the goal (the good team's term)."""
        return tf.reduce_min(self._goal_distances(state)[..., 1:], axis=-1)

    def observe(self, state: AdversaryState) -> list[tf.Tensor]:
        """[adversary [P, B, 4N], agent_i [P, B, 4N + 2] ...] in mpe2's layout (see the module docstring)."""
        n = self.num_agents
        agent_positions = state.positions[..., :n, :]  # [P, B, N + 1, 2]
        landmarks = state.positions[..., n:, :]  # [P, B, N, 2]
        goal_position = self._goal_positions(state)  # [P, B, 2]
        batch_shape = tf.shape(landmarks)[:-2]

        def flat(x, width):  # [P, B, K, 2] -> [P, B, 2K], entity by entity as mpe2 concatenates them
            return tf.reshape(x, tf.concat([batch_shape, [width]], axis=0))

        observations = []
        for i in range(n):
            own = agent_positions[..., i : i + 1, :]  # [P, B, 1, 2]
            landmarks_relative = flat(landmarks - own, 2 * self.num_good)  # [P, B, 2N]
            # Other agents in mpe2 order with self left out (static slices: i is a Python int).
            others = tf.concat([agent_positions[..., :i, :], agent_positions[..., i + 1 :, :]], axis=-2)
            others_relative = flat(others - own, 2 * self.num_good)  # [P, B, 2N]
            parts = [landmarks_relative, others_relative]
            if i != ADVERSARY:
                parts.insert(0, goal_position - own[..., 0, :])  # the goal's position is the good agents' secret
            observations.append(tf.concat(parts, axis=-1))
        return observations

    def _goal_positions(self, state: AdversaryState) -> tf.Tensor:
        landmarks = state.positions[..., self.num_agents :, :]  # [P, B, N, 2]
        return tf.gather(landmarks, state.goal, batch_dims=2)  # [P, B, 2]

    def _goal_distances(self, state: AdversaryState) -> tf.Tensor:
        """[P, B, N + 1] Euclidean distance of every agent to the goal, computed as mpe2 does (sqrt of sum of squares)."""
        agents = state.positions[..., : self.num_agents, :]  # [P, B, N + 1, 2]
        delta = agents - self._goal_positions(state)[..., None, :]  # [P, B, N + 1, 2]
        return tf.sqrt(tf.reduce_sum(tf.square(delta), axis=-1))

    def state_from_mpe2(self, worlds: Sequence[Sequence]) -> AdversaryState:
        """Copies live mpe2 worlds in, worlds[p][b] -> member p, env b (for teacher-forced parity checks)."""
        positions, velocities, communication = mpe2_world_arrays(worlds)
        # Every agent shares one goal_a object; its index among the landmarks is the goal.
        goal = np.array([[w.landmarks.index(w.agents[ADVERSARY].goal_a) for w in row] for row in worlds])
        return AdversaryState(
            tf.constant(positions, self.dtype),
            tf.constant(velocities, self.dtype),
            tf.constant(communication, self.dtype),
            tf.constant(goal, tf.int32),
        )
