"""Particle-world physics shared by every batched scenario, step for step as mpe2's `core.World.step`.

State tensors carry a population axis P (independent seeds) and an env axis B in front of the entity axis E
(agents first, then landmarks, in mpe2's `world.entities` order):

    positions, velocities   [P, B, E, 2]
    communication           [P, B, N, C]   (one utterance per agent; zeros for silent agents)

A scenario describes its entities once in a `WorldSpec` (static Python values); `step_world` then applies
actions, soft contact forces, integration with speed clamps, and the communication update.

Two dynamics, the only place either is written down for the ports (read from openai/multiagent-particle-envs
at the end of 2017, commit 214a041, and from mpe2 1.1.1; the order changed in PettingZoo in 2023):
- "paper": the particle envs of 2017 the paper ran on. A soft movement vector a (no-op, then four
  directions) becomes the force u = (a[1] - a[2], a[3] - a[4]) * accel, and integration updates the
  velocity first (damp, add force, clamp speed), then moves with the NEW velocity.
- "mpe2": mpe2 as installed (since 2023): u = (a[2] - a[1], a[4] - a[3]) * accel, and the position moves
  with the OLD velocity before the velocity update.
The two action signs are a relabelling (swap entries 1<->2 and 3<->4); the integration order is not: from
rest, a full action moves an agent dt^2 * accel in the same step under "paper" and not at all under "mpe2".
"""

from __future__ import annotations

import dataclasses
from typing import Sequence

import numpy as np
import tensorflow as tf

DYNAMICS = ("paper", "mpe2")


def check_dynamics(dynamics: str) -> str:
    """Returns `dynamics` if it is one of DYNAMICS.

    Raises:
        ValueError: naming the valid values.
    """
    if dynamics not in DYNAMICS:
        raise ValueError(f"unknown dynamics {dynamics!r}; choose from {', '.join(DYNAMICS)}")
    return dynamics


@dataclasses.dataclass(frozen=True)
class WorldSpec:
    """Static description of a particle world (one entry per entity, agents first, then landmarks).

    Attributes:
        num_agents: N, the number of agents (the first N entities).
        size: radius of each entity [E].
        movable: whether each entity integrates its velocity [E].
        collide: whether each entity takes part in soft contacts [E].
        sensitivity: force per unit of movement action (mpe2's `accel`, default 5.0) [E] (agents only).
        max_speed: speed clamp, or None for none [E].
        silent: whether each agent's utterance is forced to zeros [N].
        dim_c: width of the communication channel C.
        dt, damping, contact_force, contact_margin, mass: mpe2's world constants.
    """

    num_agents: int
    size: tuple[float, ...]
    movable: tuple[bool, ...]
    collide: tuple[bool, ...]
    sensitivity: tuple[float, ...]
    max_speed: tuple[float | None, ...]
    silent: tuple[bool, ...]
    dim_c: int
    dt: float = 0.1
    damping: float = 0.25
    contact_force: float = 100.0
    contact_margin: float = 1e-3
    mass: float = 1.0

    @property
    def num_entities(self) -> int:
        return len(self.size)

    @classmethod
    def from_mpe2_world(cls, world) -> "WorldSpec":
        """Reads every constant from a live mpe2 world (used by the parity tests to check our constants)."""
        entities = world.entities
        return cls(
            num_agents=len(world.agents),
            size=tuple(float(e.size) for e in entities),
            movable=tuple(bool(e.movable) for e in entities),
            collide=tuple(bool(e.collide) for e in entities),
            sensitivity=tuple(5.0 if getattr(e, "accel", None) is None else float(e.accel) for e in entities),
            max_speed=tuple(None if e.max_speed is None else float(e.max_speed) for e in entities),
            silent=tuple(bool(a.silent) for a in world.agents),
            dim_c=int(world.dim_c),
            dt=float(world.dt),
            damping=float(world.damping),
            contact_force=float(world.contact_force),
            contact_margin=float(world.contact_margin),
            mass=float(entities[0].mass),
        )


def movement_force(move_action: tf.Tensor, sensitivity: float, dynamics: str) -> tf.Tensor:
    """The force of a continuous movement action.

    paper: u = (a[1] - a[2], a[3] - a[4]) * sensitivity; mpe2: u = (a[2] - a[1], a[4] - a[3]) * sensitivity.

    Args:
        move_action: [..., 5] soft vector (no-op, then the four directions).
        sensitivity: the agent's accel (5.0 where the scenario leaves it unset).
        dynamics: "paper" or "mpe2".

    Returns:
        [..., 2] force.
    """
    positive_x, negative_x, positive_y, negative_y = (1, 2, 3, 4) if dynamics == "paper" else (2, 1, 4, 3)
    force_x = move_action[..., positive_x] - move_action[..., negative_x]
    force_y = move_action[..., positive_y] - move_action[..., negative_y]
    return tf.stack([force_x, force_y], axis=-1) * sensitivity


def contact_forces(spec: WorldSpec, positions: tf.Tensor) -> tf.Tensor | None:
    """Soft contact forces between every colliding pair, or None when the world has no colliding pair.

    force on a from b = contact_force * (p_a - p_b) / |p_a - p_b| * k * log(1 + exp(-(d - r_a - r_b) / k))

    Args:
        spec: the world.
        positions: [P, B, E, 2].

    Returns:
        [P, B, E, 2] sum of contact forces on each movable entity (zero on immovable ones).
    """
    collide = np.asarray(spec.collide)
    pair_mask = np.logical_and(collide[:, None], collide[None, :])
    np.fill_diagonal(pair_mask, False)
    if not pair_mask.any():
        return None
    dtype = positions.dtype
    delta = positions[..., :, None, :] - positions[..., None, :, :]  # [P, B, E, E, 2], p_a - p_b
    distance = tf.sqrt(tf.reduce_sum(tf.square(delta), axis=-1))  # [P, B, E, E]
    pair_mask_t = tf.constant(pair_mask)
    # The diagonal (and non-colliding pairs) would divide by zero; give them a harmless distance, masked below.
    safe_distance = tf.where(pair_mask_t, distance, tf.ones_like(distance))
    size = np.asarray(spec.size)
    min_distance = tf.constant(size[:, None] + size[None, :], dtype=dtype)  # [E, E]
    k = spec.contact_margin
    penetration = tf.math.softplus(-(safe_distance - min_distance) / k) * k  # logaddexp(0, x) == softplus(x)
    magnitude = tf.where(pair_mask_t, spec.contact_force * penetration / safe_distance, tf.zeros_like(distance))
    force = tf.reduce_sum(delta * magnitude[..., None], axis=-2)  # [P, B, E, 2]
    movable = tf.constant(np.asarray(spec.movable, dtype=np.float64), dtype=dtype)[:, None]
    return force * movable


def integrate(spec: WorldSpec, positions: tf.Tensor, velocities: tf.Tensor, forces: tf.Tensor, dynamics: str):
    """One step of dt: damp, add force, clamp speed; move with the new velocity (paper) or the old one (mpe2).

    Args:
        spec: the world.
        positions, velocities, forces: [P, B, E, 2].
        dynamics: "paper" or "mpe2".

    Returns:
        (positions, velocities) after one step of dt, each [P, B, E, 2]; immovable entities unchanged.
    """
    dtype = positions.dtype
    movable = tf.constant(np.asarray(spec.movable))[:, None]  # [E, 1]
    new_velocities = velocities * (1.0 - spec.damping) + (forces / spec.mass) * spec.dt
    if any(m is not None for m in spec.max_speed):
        max_speed = tf.constant([np.inf if m is None else m for m in spec.max_speed], dtype=dtype)[:, None]
        speed = tf.sqrt(tf.square(new_velocities[..., 0:1]) + tf.square(new_velocities[..., 1:2]))  # [P, B, E, 1]
        clamped = new_velocities / tf.where(speed > 0, speed, tf.ones_like(speed)) * max_speed
        new_velocities = tf.where(speed > max_speed, clamped, new_velocities)
    new_positions = positions + (new_velocities if dynamics == "paper" else velocities) * spec.dt
    return (
        tf.where(movable, new_positions, positions),
        tf.where(movable, new_velocities, velocities),
    )


def step_world(spec: WorldSpec, positions: tf.Tensor, velocities: tf.Tensor, actions: Sequence[tf.Tensor],
               dynamics: str):
    """One world step for a batch of worlds, in the given dynamics.

    Args:
        spec: the world.
        positions, velocities: [P, B, E, 2].
        actions: one soft action vector per agent, [P, B, A_i], laid out as mpe2's continuous mode expects:
            5 movement entries if the agent is movable, then dim_c entries if it is not silent.
        dynamics: "paper" or "mpe2" (the action sign and the integration order, see the module docstring).

    Returns:
        (positions, velocities, communication) with communication [P, B, N, C].
    """
    dtype = positions.dtype
    zeros_force = tf.zeros_like(positions[..., 0, :])  # [P, B, 2]
    zeros_comm = tf.zeros(tf.concat([tf.shape(positions)[:2], [spec.dim_c]], axis=0), dtype=dtype)
    agent_forces, utterances = [], []
    for i, action in enumerate(actions):
        action = tf.cast(action, dtype)
        if spec.movable[i]:
            agent_forces.append(movement_force(action[..., :5], spec.sensitivity[i], dynamics))
            action = action[..., 5:]
        else:
            agent_forces.append(zeros_force)
        utterances.append(zeros_comm if spec.silent[i] else action[..., : spec.dim_c])
    num_landmarks = spec.num_entities - spec.num_agents
    forces = tf.stack(agent_forces + [zeros_force] * num_landmarks, axis=-2)  # [P, B, E, 2]
    contact = contact_forces(spec, positions)
    if contact is not None:
        forces = forces + contact
    positions, velocities = integrate(spec, positions, velocities, forces, dynamics)
    communication = tf.stack(utterances, axis=-2)  # [P, B, N, C]
    return positions, velocities, communication


def mpe2_world_arrays(worlds: Sequence[Sequence]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Positions [P, B, E, 2], velocities [P, B, E, 2] and utterances [P, B, N, C] of live mpe2 worlds.

    worlds[p][b] becomes member p, env b; every port's `state_from_mpe2` starts from these (parity tests).
    """
    positions = np.array([[[e.state.p_pos for e in w.entities] for w in row] for row in worlds])
    velocities = np.array([[[e.state.p_vel for e in w.entities] for w in row] for row in worlds])
    communication = np.array([[[a.state.c for a in w.agents] for w in row] for row in worlds])
    return positions, velocities, communication
