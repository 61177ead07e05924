"""Batched TensorFlow port of mpe2's simple_tag_v3 (the paper's predator-prey: PP1, PP2 and Table 6's ensemble_tag).

Entities in mpe2 order: adversary_0..K-1 (K predators, the paper's "agents"), agent_0 (prey, the paper's
"adversary"), landmark 0..L-1 (obstacles). PP1 and PP2 have K = L = 3 (the paper's N = L = 3; mpe2's default
is 2 obstacles); ensemble_tag (Table 6) has K = 4, L = 1. Everything collides with everything through mpe2's
soft contact force; obstacles are immovable. Predators: radius 0.075, accel 3, max_speed 1.0. Prey: radius
0.05, accel 4 (mpe2's default; ensemble_tag: 6), max_speed 1.3 (mpe2's default; PP1 and ensemble_tag) or 2.0
(PP2). Non-default prey values are set after construction, as envs.reference does. Nobody speaks (dim_c = 2,
all silent).

Rewards (mpe2's defaults: shaping off, no local/global blend), with a "touch" meaning a predator-prey pair
whose centres are closer than the sum of their radii (strictly, as mpe2's is_collision):
- every predator gets +10 per touch of *any* predator, i.e. all K get the team total;
- the prey gets -10 per touch, minus bound(|x|) + bound(|y|) of its own position, with
  bound(v) = 0 below 0.9, 10 (v - 0.9) below 1, then min(exp(2v - 2), 10).

Observations, as mpe2's full-observability path: [own velocity, own position, obstacles relative to self,
other agents relative to self (mpe2 order, self skipped), velocities of the other *good* agents only];
4 + 2L + 2K + 2 entries for a predator (the prey's velocity closes it: 18 for PP1/PP2, 16 for ensemble_tag),
4 + 2L + 2K for the prey (no other good agent: 16 for PP1/PP2, 14 for ensemble_tag).

Reset draws as mpe2's reset_world: every agent's position uniform in [-1, 1)^2 (agents in order), then every
obstacle's uniform in [-0.9, 0.9)^2; velocities and utterances zero. mpe2 does no rejection sampling here,
so agents may start overlapping each other or an obstacle, exactly as in mpe2.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import tensorflow as tf

from envs.batched.physics import WorldSpec, check_dynamics, mpe2_world_arrays, step_world

# Defaults of BatchedTag's constructor: the paper's PP1/PP2 (N = L = 3) with mpe2's prey accel. One prey always.
NUM_PREDATORS, NUM_PREY, NUM_OBSTACLES = 3, 1, 3
NUM_AGENTS = NUM_PREDATORS + NUM_PREY
PREDATOR_SIZE, PREY_SIZE, OBSTACLE_SIZE = 0.075, 0.05, 0.2
PREDATOR_ACCEL, PREY_ACCEL = 3.0, 4.0
PREDATOR_MAX_SPEED, PREY_MAX_SPEED = 1.0, 1.3
DIM_C = 2
TOUCH_REWARD = 10.0
# mpe2 hard-codes these in reset_world (rendering only); the parity tests read them back from a live world.
PREDATOR_COLOR, PREY_COLOR, OBSTACLE_COLOR = (0.85, 0.35, 0.35), (0.35, 0.85, 0.35), (0.25, 0.25, 0.25)
AGENT_RANGE, OBSTACLE_RANGE = 1.0, 0.9  # reset: uniform(-range, +range) per coordinate
# (num_predators, num_obstacles, prey_accel, prey_max_speed) -> envs.reference scenario name.
_SCENARIO_BY_SETUP = {
    (3, 3, 4.0, 1.3): "tag_pp1",  # mpe2's prey
    (3, 3, 4.0, 2.0): "tag_pp2",  # the paper's faster prey
    (3, 2, 4.0, 1.3): "tag_pp1_l2",  # PP1 with mpe2's default 2 obstacles (the obstacle-count study)
    (3, 3, 4.0, 1.0): "tag_pp_even",  # the prey no faster than the predators (the prey-speed study)
    (4, 1, 6.0, 1.3): "ensemble_tag",  # Table 6: N = 4, L = 1, prey accel 6 vs the predators' 3
}


def _agent_names(num_predators: int) -> tuple[str, ...]:
    """mpe2's agent order: adversary_0..K-1 (predators), then agent_0 (the prey)."""
    return tuple(f"adversary_{i}" for i in range(num_predators)) + tuple(f"agent_{i}" for i in range(NUM_PREY))


def _observation_sizes(num_predators: int, num_obstacles: int) -> tuple[int, ...]:
    """Per agent: own vel + own pos + obstacles + other agents + the other good agents' velocities."""
    num_agents = num_predators + NUM_PREY
    return tuple(
        2 + 2 + 2 * num_obstacles + 2 * (num_agents - 1) + 2 * (NUM_PREY - (0 if i < num_predators else 1))
        for i in range(num_agents)
    )


class TagState(NamedTuple):
    """State of P x B predator-prey worlds with K predators and L obstacles (K = L = 3 in PP1/PP2).

    positions: [P, B, K + 1 + L, 2] (adversary_0..K-1, agent_0, landmark 0..L-1); velocities: [P, B, K + 1 + L, 2]
    (zero for the immovable obstacles); communication: [P, B, K + 1, 2] (always zero: every agent is silent).
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
    """P populations x B envs of predator-prey (K predators, 1 prey, L obstacles), stepped as one tensor program.

    The class attributes `agents`, `observation_sizes` and `action_sizes` describe the default layout (PP1/PP2:
    3 predators, 3 obstacles); every instance sets its own for its counts.

    Args:
        dtype: float dtype of every state tensor.
        prey_max_speed: the prey's speed clamp (1.3 is mpe2's default, PP1 and ensemble_tag; 2.0 is PP2).
        num_predators: K, mpe2's num_adversaries (3 in PP1/PP2, 4 in ensemble_tag).
        num_obstacles: L, mpe2's num_obstacles (3 in PP1/PP2, 1 in ensemble_tag).
        prey_accel: the prey's accel, i.e. its force per unit of movement action (4.0 is mpe2's default;
            6.0 in ensemble_tag). The predators keep mpe2's 3.0.

    Raises:
        ValueError: num_predators < 1 or num_obstacles < 0.
    """

    agents = _agent_names(NUM_PREDATORS)
    observation_sizes = _observation_sizes(NUM_PREDATORS, NUM_OBSTACLES)
    action_sizes = (5,) * NUM_AGENTS

    def __init__(
        self,
        dtype: tf.DType = tf.float32,
        prey_max_speed: float = PREY_MAX_SPEED,
        *,
        num_predators: int = NUM_PREDATORS,
        num_obstacles: int = NUM_OBSTACLES,
        prey_accel: float = PREY_ACCEL,
        dynamics: str = "mpe2",
    ):
        if num_predators < 1 or num_obstacles < 0:
            raise ValueError(f"need num_predators >= 1 and num_obstacles >= 0, got {num_predators}, {num_obstacles}")
        self.dtype = dtype
        self.dynamics = check_dynamics(dynamics)
        self.prey_max_speed = float(prey_max_speed)
        self.prey_accel = float(prey_accel)
        self.num_predators = int(num_predators)
        self.num_obstacles = int(num_obstacles)
        self.num_agents = self.num_predators + NUM_PREY
        setup = (self.num_predators, self.num_obstacles, self.prey_accel, self.prey_max_speed)
        self.name = _SCENARIO_BY_SETUP.get(
            setup, f"tag_k{setup[0]}_l{setup[1]}_prey_accel_{setup[2]}_speed_{setup[3]}"
        )
        self.agents = _agent_names(self.num_predators)
        # paper role -> agent indices: mpe2's adversary_* (predators) are the paper's agents, its prey the adversary
        self.teams = {"agents": tuple(range(self.num_predators)), "adversaries": (self.num_predators,)}
        self.observation_sizes = _observation_sizes(self.num_predators, self.num_obstacles)
        self.action_sizes = (5,) * self.num_agents
        predators, agents, obstacles = self.num_predators, self.num_agents, self.num_obstacles
        self.spec = WorldSpec(
            num_agents=agents,
            size=(PREDATOR_SIZE,) * predators + (PREY_SIZE,) * NUM_PREY + (OBSTACLE_SIZE,) * obstacles,
            movable=(True,) * agents + (False,) * obstacles,
            collide=(True,) * (agents + obstacles),
            # Obstacles have no accel in mpe2, which WorldSpec reads as the default 5.0 (never used: immovable).
            sensitivity=(PREDATOR_ACCEL,) * predators + (self.prey_accel,) * NUM_PREY + (5.0,) * obstacles,
            max_speed=(PREDATOR_MAX_SPEED,) * predators + (self.prey_max_speed,) * NUM_PREY + (None,) * obstacles,
            silent=(True,) * agents,
            dim_c=DIM_C,
        )

    def reset(self, rng, num_envs: int) -> TagState:
        """Fresh worlds drawn as mpe2's reset_world draws them (agent positions first, then obstacles').

        Args:
            rng: a population random source with `uniform(shape, minval, maxval, dtype)` returning [P, *shape]
                (see maddpg.population_random).
            num_envs: B.

        Returns:
            positions [P, B, K + 1 + L, 2], zero velocities and zero communication [P, B, K + 1, 2].
        """
        agents = rng.uniform([num_envs, self.num_agents, 2], -AGENT_RANGE, AGENT_RANGE, self.dtype)  # [P, B, K+1, 2]
        obstacles = rng.uniform(
            [num_envs, self.num_obstacles, 2], -OBSTACLE_RANGE, OBSTACLE_RANGE, self.dtype
        )  # [P, B, L, 2]
        positions = tf.concat([agents, obstacles], axis=-2)  # [P, B, K + 1 + L, 2]
        communication = tf.zeros_like(agents[..., :DIM_C])  # [P, B, K + 1, 2]
        return TagState(positions, tf.zeros_like(positions), communication)

    def step(self, state: TagState, actions: Sequence[tf.Tensor]):
        """Applies one joint action.

        Args:
            state: current worlds.
            actions: per agent [P, B, 5] soft movement vectors (no-op, left, right, down, up).

        Returns:
            (next state, rewards [P, B, K + 1]).
        """
        positions, velocities, communication = step_world(
            self.spec, state.positions, state.velocities, actions, self.dynamics
        )
        next_state = TagState(positions, velocities, communication)
        return next_state, self.rewards(next_state)

    def touches(self, state: TagState) -> tf.Tensor:
        """[P, B, K, 1] bool: predator i's centre is closer to prey g's than the sum of their radii."""
        predators = state.positions[..., : self.num_predators, None, :]  # [P, B, K, 1, 2]
        prey = state.positions[..., None, self.num_predators : self.num_agents, :]  # [P, B, 1, 1, 2]
        # The same sqrt of the summed squares as mpe2's is_collision, so a touch is decided identically.
        distance = tf.sqrt(tf.reduce_sum(tf.square(predators - prey), axis=-1))  # [P, B, K, 1]
        return distance < PREDATOR_SIZE + PREY_SIZE

    def rewards(self, state: TagState) -> tf.Tensor:
        """[P, B, K + 1]: each predator +10 x all touches; the prey -10 x its touches minus its boundary penalty."""
        touches = tf.cast(self.touches(state), self.dtype)  # [P, B, K, 1]
        team_touches = tf.reduce_sum(touches, axis=[-2, -1])  # [P, B]
        predator_rewards = tf.repeat(
            (TOUCH_REWARD * team_touches)[..., None], self.num_predators, axis=-1
        )  # [P, B, K]
        prey_position = tf.abs(state.positions[..., self.num_predators : self.num_agents, :])  # [P, B, 1, 2]
        penalty = boundary_penalty(prey_position)  # [P, B, 1, 2]
        # mpe2 subtracts the collisions first, then bound(|x|), then bound(|y|); same order, same rounding.
        prey_rewards = -TOUCH_REWARD * tf.reduce_sum(touches, axis=-2) - penalty[..., 0] - penalty[..., 1]  # [P, B, 1]
        return tf.concat([predator_rewards, prey_rewards], axis=-1)

    def observe(self, state: TagState) -> list[tf.Tensor]:
        """Per agent [P, B, O_i]: own vel, own pos, obstacles, other agents (relative), other good agents' vel."""
        positions, velocities = state.positions, state.velocities
        obstacles = positions[..., self.num_agents :, :]  # [P, B, L, 2]
        batch_shape = tf.shape(positions)[:-2]
        observations = []
        for i in range(self.num_agents):
            own_position = positions[..., i : i + 1, :]  # [P, B, 1, 2]
            others = [j for j in range(self.num_agents) if j != i]
            good_others = [j for j in others if j >= self.num_predators]
            parts = [
                velocities[..., i : i + 1, :],
                own_position,
                obstacles - own_position,  # [P, B, L, 2]
                tf.gather(positions, others, axis=-2) - own_position,  # [P, B, K, 2]
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
