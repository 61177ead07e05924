"""Batched TensorFlow port of mpe2's simple_tag_v3 (the paper's predator-prey, PP1 and PP2).

Entities in mpe2 order: adversary_0..2 (predators, the paper's "agents"), agent_0 (prey, the paper's
"adversary"), landmark 0..2 (obstacles; the paper's L = 3, mpe2's default is 2). Everything collides with
everything through mpe2's soft contact force; obstacles are immovable. Predators: radius 0.075, accel 3,
max_speed 1.0. Prey: radius 0.05, accel 4, max_speed 1.3 (mpe2's default, PP1) or 2.0 (PP2, set after
construction as envs.reference does; accel stays 4). Nobody speaks (dim_c = 2, all silent).

Rewards (mpe2's defaults: shaping off, no local/global blend), with a "touch" meaning a predator-prey pair
whose centres are closer than the sum of their radii (strictly, as mpe2's is_collision):
- every predator gets +10 per touch of *any* predator, i.e. all three get the team total;
- the prey gets -10 per touch, minus bound(|x|) + bound(|y|) of its own position, with
  bound(v) = 0 below 0.9, 10 (v - 0.9) below 1, then min(exp(2v - 2), 10).

Observations, as mpe2's full-observability path: [own velocity, own position, obstacles relative to self,
other agents relative to self (mpe2 order, self skipped), velocities of the other *good* agents only];
18 entries for a predator (the prey's velocity closes it), 16 for the prey (no other good agent).

Reset draws as mpe2's reset_world: every agent's position uniform in [-1, 1)^2 (agents in order), then every
obstacle's uniform in [-0.9, 0.9)^2; velocities and utterances zero. mpe2 does no rejection sampling here,
so agents may start overlapping each other or an obstacle, exactly as in mpe2.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import tensorflow as tf

from envs.batched.physics import WorldSpec, mpe2_world_arrays, step_world

NUM_PREDATORS, NUM_PREY, NUM_OBSTACLES = 3, 1, 3
NUM_AGENTS = NUM_PREDATORS + NUM_PREY
PREDATOR_SIZE, PREY_SIZE, OBSTACLE_SIZE = 0.075, 0.05, 0.2
PREDATOR_ACCEL, PREY_ACCEL = 3.0, 4.0
PREDATOR_MAX_SPEED = 1.0
DIM_C = 2
TOUCH_REWARD = 10.0
# mpe2 hard-codes these in reset_world (rendering only); the parity tests read them back from a live world.
PREDATOR_COLOR, PREY_COLOR, OBSTACLE_COLOR = (0.85, 0.35, 0.35), (0.35, 0.85, 0.35), (0.25, 0.25, 0.25)
AGENT_RANGE, OBSTACLE_RANGE = 1.0, 0.9  # reset: uniform(-range, +range) per coordinate
# mpe2's default (PP1) and the paper's PP2 prey speeds, for the scenario names.
_SCENARIO_BY_PREY_SPEED = {1.3: "tag_pp1", 2.0: "tag_pp2"}


class TagState(NamedTuple):
    """State of P x B predator-prey worlds.

    positions: [P, B, 7, 2] (adversary_0..2, agent_0, landmark 0..2); velocities: [P, B, 7, 2] (zero for the
    immovable obstacles); communication: [P, B, 4, 2] (always zero: every agent is silent).
    """

    positions: tf.Tensor
    velocities: tf.Tensor
    communication: tf.Tensor


def boundary_penalty(x: tf.Tensor) -> tf.Tensor:
    """mpe2 simple_tag's bound(): 0 below 0.9, 10 (x - 0.9) below 1, then min(exp(2x - 2), 10); x >= 0."""
    # tf.where evaluates every branch; exp overflows to inf far out, which the minimum turns back into 10.
    return tf.where(
        x < 0.9,
        tf.zeros_like(x),
        tf.where(x < 1.0, (x - 0.9) * 10.0, tf.minimum(tf.exp(2.0 * x - 2.0), 10.0)),
    )


class BatchedTag:
    """P populations x B envs of predator-prey (3 predators, 1 prey, 3 obstacles), stepped as one tensor program.

    Args:
        dtype: float dtype of every state tensor.
        prey_max_speed: the prey's speed clamp (1.3 is mpe2's default, PP1; 2.0 is the paper's PP2).
    """

    agents = tuple(f"adversary_{i}" for i in range(NUM_PREDATORS)) + tuple(f"agent_{i}" for i in range(NUM_PREY))
    # own vel + own pos + obstacles + other agents + the other good agents' velocities
    observation_sizes = tuple(
        2 + 2 + 2 * NUM_OBSTACLES + 2 * (NUM_AGENTS - 1) + 2 * (NUM_PREY - (0 if i < NUM_PREDATORS else 1))
        for i in range(NUM_AGENTS)
    )
    action_sizes = (5,) * NUM_AGENTS

    def __init__(self, dtype: tf.DType = tf.float32, prey_max_speed: float = 1.3):
        self.dtype = dtype
        self.prey_max_speed = float(prey_max_speed)
        self.name = _SCENARIO_BY_PREY_SPEED.get(self.prey_max_speed, f"tag_prey_speed_{self.prey_max_speed}")
        self.spec = WorldSpec(
            num_agents=NUM_AGENTS,
            size=(PREDATOR_SIZE,) * NUM_PREDATORS + (PREY_SIZE,) * NUM_PREY + (OBSTACLE_SIZE,) * NUM_OBSTACLES,
            movable=(True,) * NUM_AGENTS + (False,) * NUM_OBSTACLES,
            collide=(True,) * (NUM_AGENTS + NUM_OBSTACLES),
            # Obstacles have no accel in mpe2, which WorldSpec reads as the default 5.0 (never used: immovable).
            sensitivity=(PREDATOR_ACCEL,) * NUM_PREDATORS + (PREY_ACCEL,) * NUM_PREY + (5.0,) * NUM_OBSTACLES,
            max_speed=(PREDATOR_MAX_SPEED,) * NUM_PREDATORS + (self.prey_max_speed,) * NUM_PREY
            + (None,) * NUM_OBSTACLES,
            silent=(True,) * NUM_AGENTS,
            dim_c=DIM_C,
        )

    def reset(self, rng, num_envs: int) -> TagState:
        """Fresh worlds drawn as mpe2's reset_world draws them (agent positions first, then obstacles').

        Args:
            rng: a population random source with `uniform(shape, minval, maxval, dtype)` returning [P, *shape]
                (see maddpg.population_random).
            num_envs: B.
        """
        agents = rng.uniform([num_envs, NUM_AGENTS, 2], -AGENT_RANGE, AGENT_RANGE, self.dtype)  # [P, B, 4, 2]
        obstacles = rng.uniform([num_envs, NUM_OBSTACLES, 2], -OBSTACLE_RANGE, OBSTACLE_RANGE, self.dtype)
        positions = tf.concat([agents, obstacles], axis=-2)  # [P, B, 7, 2]
        communication = tf.zeros_like(agents[..., :DIM_C])  # [P, B, 4, 2]
        return TagState(positions, tf.zeros_like(positions), communication)

    def step(self, state: TagState, actions: Sequence[tf.Tensor]):
        """Applies one joint action.

        Args:
            state: current worlds.
            actions: per agent [P, B, 5] soft movement vectors (no-op, left, right, down, up).

        Returns:
            (next state, rewards [P, B, 4]).
        """
        positions, velocities, communication = step_world(self.spec, state.positions, state.velocities, actions)
        next_state = TagState(positions, velocities, communication)
        return next_state, self.rewards(next_state)

    def touches(self, state: TagState) -> tf.Tensor:
        """[P, B, 3, 1] bool: predator i's centre is closer to prey g's than the sum of their radii."""
        predators = state.positions[..., :NUM_PREDATORS, None, :]  # [P, B, 3, 1, 2]
        prey = state.positions[..., None, NUM_PREDATORS:NUM_AGENTS, :]  # [P, B, 1, 1, 2]
        # The same sqrt of the summed squares as mpe2's is_collision, so a touch is decided identically.
        distance = tf.sqrt(tf.reduce_sum(tf.square(predators - prey), axis=-1))  # [P, B, 3, 1]
        return distance < PREDATOR_SIZE + PREY_SIZE

    def rewards(self, state: TagState) -> tf.Tensor:
        """[P, B, 4]: each predator +10 x all touches; the prey -10 x its touches minus its boundary penalty."""
        touches = tf.cast(self.touches(state), self.dtype)  # [P, B, 3, 1]
        team_touches = tf.reduce_sum(touches, axis=[-2, -1])  # [P, B]
        predator_rewards = tf.repeat((TOUCH_REWARD * team_touches)[..., None], NUM_PREDATORS, axis=-1)  # [P, B, 3]
        prey_position = tf.abs(state.positions[..., NUM_PREDATORS:NUM_AGENTS, :])  # [P, B, 1, 2]
        penalty = boundary_penalty(prey_position)  # [P, B, 1, 2]
        # mpe2 subtracts the collisions first, then bound(|x|), then bound(|y|); same order, same rounding.
        prey_rewards = -TOUCH_REWARD * tf.reduce_sum(touches, axis=-2) - penalty[..., 0] - penalty[..., 1]  # [P, B, 1]
        return tf.concat([predator_rewards, prey_rewards], axis=-1)

    def observe(self, state: TagState) -> list[tf.Tensor]:
        """Per agent [P, B, O_i]: own vel, own pos, obstacles, other agents (relative), other good agents' vel."""
        positions, velocities = state.positions, state.velocities
        obstacles = positions[..., NUM_AGENTS:, :]  # [P, B, 3, 2]
        batch_shape = tf.shape(positions)[:-2]
        observations = []
        for i in range(NUM_AGENTS):
            own_position = positions[..., i : i + 1, :]  # [P, B, 1, 2]
            others = [j for j in range(NUM_AGENTS) if j != i]
            good_others = [j for j in others if j >= NUM_PREDATORS]
            parts = [
                velocities[..., i : i + 1, :],
                own_position,
                obstacles - own_position,  # [P, B, 3, 2]
                tf.gather(positions, others, axis=-2) - own_position,  # [P, B, 3, 2]
            ]
            if good_others:
                parts.append(tf.gather(velocities, good_others, axis=-2))  # [P, B, G, 2]
            stacked = tf.concat(parts, axis=-2)  # [P, B, O_i / 2, 2]
            observations.append(tf.reshape(stacked, tf.concat([batch_shape, [self.observation_sizes[i]]], axis=0)))
        return observations

    def state_from_mpe2(self, worlds: Sequence[Sequence]) -> TagState:
        """Copies live mpe2 worlds in, worlds[p][b] -> member p, env b (for teacher-forced parity checks)."""
        positions, velocities, communication = mpe2_world_arrays(worlds)
        return TagState(
            tf.constant(positions, self.dtype),
            tf.constant(velocities, self.dtype),
            tf.constant(communication, self.dtype),
        )
