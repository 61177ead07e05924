"""Batched TensorFlow port of mpe2's simple_spread_v3 (the paper's cooperative navigation).

Entities in mpe2 order: agent_0..N-1 (move, silent, radius 0.15, collide with each other), then
landmark 0..N-1 (immovable, radius 0.05, never collide). mpe2 still gives the world a 2-wide
communication channel, so every observation carries each other agent's (always zero) utterance.

Reward of agent i after a step, with
    G   = -sum over landmarks of the distance from the landmark to its nearest agent
    c_i = number of other agents j != i whose centre is closer than r_i + r_j = 0.3:

- dynamics "mpe2" (mpe2's SimpleEnv blends the scenario's global and per-agent reward with `local_ratio`):
      r_i = (1 - local_ratio) * G - local_ratio * c_i,
  local_ratio defaulting to envs.reference.SPREAD_LOCAL_RATIO[N] = 2 / (N + 2) (see the comment there);
- dynamics "paper" (the 2017 env: no blend, and agent i's contact test also matched i itself):
      r_i = G - (1 + c_i).

Reset draws every agent position, then every landmark position, uniform in [-1, 1]^2, in mpe2's order;
velocities and utterances start at zero. Nothing in reset needed approximating.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import tensorflow as tf

from envs.batched.physics import WorldSpec, check_dynamics, mpe2_world_arrays, step_world
from envs.reference import SPREAD_LOCAL_RATIO

# mpe2 hard-codes these in make_world / reset_world; the parity tests read them back from a live world.
AGENT_SIZE = 0.15
LANDMARK_SIZE = 0.05  # mpe2's Entity default, which make_world leaves as is
AGENT_COLOR = (0.35, 0.35, 0.85)
LANDMARK_COLOR = (0.25, 0.25, 0.25)
DIM_C = 2


class SpreadState(NamedTuple):
    """State of P x B spread worlds with N agents and N landmarks (E = 2N entities).

    positions: [P, B, E, 2] (agents, then landmarks); velocities: [P, B, E, 2];
    communication: [P, B, N, 2] (always zero: every agent is silent).
    """

    positions: tf.Tensor
    velocities: tf.Tensor
    communication: tf.Tensor


class BatchedSpread:
    """P populations x B envs of cooperative navigation with N agents, stepped as one tensor program."""

    def __init__(self, dtype: tf.DType = tf.float32, num_agents: int = 3, local_ratio: float | None = None,
                 dynamics: str = "mpe2"):
        """Builds the port for N agents and N landmarks.

        Args:
            dtype: float dtype of the state.
            num_agents: N (agents and landmarks).
            local_ratio: mpe2's blend weight of the per-agent collision reward; None takes the suite's
                choice, envs.reference.SPREAD_LOCAL_RATIO[N]. Unused in the paper dynamics (no blend).
            dynamics: "paper" or "mpe2" (physics, and which reward; see the module docstring).
        """
        self.dtype = dtype
        self.dynamics = check_dynamics(dynamics)
        self.num_agents = n = int(num_agents)
        self.local_ratio = float(SPREAD_LOCAL_RATIO[n] if local_ratio is None else local_ratio)
        # mpe2 multiplies by (1 - local_ratio) as a Python float; computing it the same way keeps float64 exact.
        self.global_ratio = 1 - self.local_ratio
        self.name = f"spread_n{n}"
        self.agents = tuple(f"agent_{i}" for i in range(n))
        self.teams = {"agents": tuple(range(n))}  # paper role -> agent indices: one cooperating team
        # own velocity, own position, N landmarks, N - 1 other agents, N - 1 utterances of width 2
        self.observation_sizes = (2 + 2 + 2 * n + 2 * (n - 1) + DIM_C * (n - 1),) * n
        self.action_sizes = (5,) * n
        self.spec = WorldSpec(
            num_agents=n,
            size=(AGENT_SIZE,) * n + (LANDMARK_SIZE,) * n,
            movable=(True,) * n + (False,) * n,
            collide=(True,) * n + (False,) * n,
            sensitivity=(5.0,) * (2 * n),
            max_speed=(None,) * (2 * n),
            silent=(True,) * n,
            dim_c=DIM_C,
        )

    def reset(self, rng, num_envs: int) -> SpreadState:
        """Fresh worlds drawn as mpe2's reset_world draws them (agent positions, then landmark positions).

        Args:
            rng: a population random source with `uniform(shape, minval, maxval, dtype)` returning
                [P, *shape] (see maddpg.population_random).
            num_envs: B.
        """
        positions = rng.uniform([num_envs, self.spec.num_entities, 2], -1.0, 1.0, self.dtype)  # [P, B, E, 2]
        shape = tf.concat([tf.shape(positions)[:2], [self.num_agents, DIM_C]], axis=0)
        communication = tf.zeros(shape, self.dtype)  # [P, B, N, 2]
        return SpreadState(positions, tf.zeros_like(positions), communication)

    def step(self, state: SpreadState, actions: Sequence[tf.Tensor]):
        """Applies one joint action.

        Args:
            state: current worlds.
            actions: N soft movement vectors [P, B, 5] (no-op, left, right, down, up).

        Returns:
            (next state, rewards [P, B, N]).
        """
        positions, velocities, communication = step_world(
            self.spec, state.positions, state.velocities, actions, self.dynamics
        )
        next_state = SpreadState(positions, velocities, communication)
        return next_state, self.rewards(next_state)

    def rewards(self, state: SpreadState) -> tf.Tensor:
        """[P, B, N]: each agent's reward in this port's dynamics (see the module docstring)."""
        if self.dynamics == "paper":
            return self._paper_rewards(state)
        return self._mpe2_rewards(state)

    def _mpe2_rewards(self, state: SpreadState) -> tf.Tensor:
        """[P, B, N]: (1 - local_ratio) * G + local_ratio * L_i (mpe2's blend)."""
        global_reward = -self.landmark_coverage(state)[..., None]  # [P, B, 1]
        local_reward = -self.collision_counts(state)  # [P, B, N]
        return global_reward * self.global_ratio + local_reward * self.local_ratio

    def _paper_rewards(self, state: SpreadState) -> tf.Tensor:
        """[P, B, N]: G - (1 + other agents touching i), unblended; the 2017 env counted i against itself."""
        global_reward = -self.landmark_coverage(state)[..., None]  # [P, B, 1]
        return global_reward - (self.collision_counts(state) + 1.0)

    def landmark_coverage(self, state: SpreadState) -> tf.Tensor:
        """[P, B]: sum over landmarks of the distance to the nearest agent (mpe2's min_dists, minus G)."""
        n = self.num_agents
        agents = state.positions[..., :n, :]  # [P, B, N, 2]
        total = None
        # Landmarks are summed one by one in mpe2's order, so float64 sums round exactly as mpe2's do.
        for landmark in range(n):
            delta = agents - state.positions[..., n + landmark : n + landmark + 1, :]  # [P, B, N, 2]
            nearest = tf.reduce_min(_norm(delta), axis=-1)  # [P, B]
            total = nearest if total is None else total + nearest
        return total

    def collision_counts(self, state: SpreadState) -> tf.Tensor:
        """[P, B, N] float: how many other agents each agent touches (centre distance < sum of radii)."""
        n = self.num_agents
        agents = state.positions[..., :n, :]  # [P, B, N, 2]
        distance = _norm(agents[..., :, None, :] - agents[..., None, :, :])  # [P, B, N, N]
        touching = tf.logical_and(distance < 2 * AGENT_SIZE, tf.constant(~np.eye(n, dtype=bool)))
        return tf.reduce_sum(tf.cast(touching, self.dtype), axis=-1)

    def observe(self, state: SpreadState) -> list[tf.Tensor]:
        """Per agent [P, B, O]: own velocity, own position, landmarks relative, other agents relative,
        other agents' utterances (zeros), in mpe2's order."""
        n = self.num_agents
        observations = []
        for i in range(n):
            own = state.positions[..., i, :]  # [P, B, 2]
            others = [j for j in range(n) if j != i]
            parts = [state.velocities[..., i, :], own]
            parts += [state.positions[..., n + l, :] - own for l in range(n)]
            parts += [state.positions[..., j, :] - own for j in others]
            parts += [state.communication[..., j, :] for j in others]
            observations.append(tf.concat(parts, axis=-1))  # [P, B, O]
        return observations

    def state_from_mpe2(self, worlds: Sequence[Sequence]) -> SpreadState:
        """Copies live mpe2 worlds in, worlds[p][b] -> member p, env b (for teacher-forced parity checks)."""
        positions, velocities, communication = mpe2_world_arrays(worlds)
        return SpreadState(
            tf.constant(positions, self.dtype),
            tf.constant(velocities, self.dtype),
            tf.constant(communication, self.dtype),
        )


def _norm(delta: tf.Tensor) -> tf.Tensor:
    """Euclidean norm over the last axis (of size 2) as mpe2 computes it: sqrt(dx^2 + dy^2)."""
    return tf.sqrt(tf.square(delta[..., 0]) + tf.square(delta[..., 1]))
