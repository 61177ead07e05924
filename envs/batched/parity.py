"""Step-for-step comparison of a batched port against its reference env (used by the parity tests and
benchmarks/parity.py). The reference is mpe2 in the port's dynamics (envs.reference.make_reference_env).

Two checks, on the same actions for both sides:
- free running: mpe2's reset state is copied into the port once, then both run a whole episode;
- teacher forced: mpe2's state is copied in before every step, so errors cannot accumulate or hide.
Each returns the largest absolute difference of every compared quantity (positions, velocities,
communication, rewards, observations) and the number of reward *events* that disagree: an agent-step where
the two rewards differ by more than `EVENT_GAP` (a collision bonus, a boundary penalty) counts as one.

mpe2 observations are read in float64 straight from the scenario (mpe2's observe() rounds to float32).
A port's state must carry `positions` [P, B, E, 2], `velocities` [P, B, E, 2] and `communication`
[P, B, N, C] fields; everything else about it is its own business.
"""

from __future__ import annotations

from unittest import mock

import numpy as np
import tensorflow as tf
from pettingzoo.utils.env_logger import EnvLogger

from envs.reference import make_reference_env

EVENT_GAP = 0.1  # below every event reward: a spread collision costs local_ratio (0.25 at N=6), tag touches 10


def mpe2_envs(scenario: str, count: int, first_seed: int, dynamics: str = "mpe2"):
    """`count` reset reference envs of a scenario in a dynamics, seeds first_seed, first_seed + 1, ..."""
    envs = []
    for i in range(count):
        env = make_reference_env(scenario, dynamics=dynamics)
        env.reset(seed=first_seed + i)
        envs.append(env)
    return envs


def random_actions(port, rng: np.random.Generator, count: int, kind: str, np_dtype) -> list[np.ndarray]:
    """Per agent [count, A_i]: soft Gumbel-softmax samples ("soft") or one-hot vectors ("one_hot").

    A one-hot action is one-hot within each part of the agent's action: the 5 movement entries (if it
    moves) and the dim_c communication entries (if it speaks).
    """
    actions = []
    for i, size in enumerate(port.action_sizes):
        if kind == "soft":
            z = rng.normal(size=(count, size)) * 2.0 - np.log(-np.log(rng.random((count, size))))
            action = np.exp(z - z.max(-1, keepdims=True))
            action /= action.sum(-1, keepdims=True)
        else:
            parts = ([5] if port.spec.movable[i] else []) + ([] if port.spec.silent[i] else [port.spec.dim_c])
            parts = parts or [size]
            action = np.concatenate([np.eye(width)[rng.integers(width, size=count)] for width in parts], axis=-1)
        actions.append(action.astype(np_dtype))
    return actions


def mpe2_arrays(envs):
    """(positions [B, E, 2], velocities [B, E, 2], communication [B, N, C]) of live mpe2 envs."""
    worlds = [env.unwrapped.world for env in envs]
    return (
        np.array([[e.state.p_pos for e in w.entities] for w in worlds]),
        np.array([[e.state.p_vel for e in w.entities] for w in worlds]),
        np.array([[a.state.c for a in w.agents] for w in worlds]),
    )


def mpe2_observations(envs) -> list[np.ndarray]:
    """Per agent [B, O_i] float64 observations straight from the scenario."""
    num_agents = len(envs[0].unwrapped.world.agents)
    return [
        np.array([env.unwrapped.scenario.observation(env.unwrapped.world.agents[i], env.unwrapped.world)
                  for env in envs])
        for i in range(num_agents)
    ]


def step_reference_envs(envs, actions) -> np.ndarray:
    """Steps every reference env with its row of the actions; returns rewards [B, N] in mpe2 agent order."""
    # float64 actions (the float64 comparisons) are exact for mpe2's physics, but pettingzoo's clip wrapper
    # formats a warning for each (its Box is float32) and keeps every message in a list: silenced here
    # (the values are in [0, 1], so its clipping changes nothing).
    rewards = []
    with mock.patch.object(EnvLogger, "warn_action_out_of_bound", lambda **_: None):
        for b, env in enumerate(envs):
            agents = env.possible_agents
            _, reward, _, _, _ = env.step({agent: actions[i][b] for i, agent in enumerate(agents)})
            rewards.append([reward[a] for a in agents])
    return np.array(rewards, dtype=np.float64)


class _Errors:
    def __init__(self):
        self.values = dict.fromkeys(("positions", "velocities", "communication", "rewards", "observations"), 0.0)
        self.reward_event_mismatches = 0
        self.steps = 0

    def update(self, name: str, ours, theirs) -> None:
        ours, theirs = np.asarray(ours, dtype=np.float64), np.asarray(theirs, dtype=np.float64)
        if ours.shape != theirs.shape:
            raise AssertionError(f"{name}: shape {ours.shape} differs from mpe2's {theirs.shape}")
        if ours.size:
            self.values[name] = max(self.values[name], float(np.max(np.abs(ours - theirs))))

    def report(self) -> dict:
        return {**self.values, "reward_event_mismatches": self.reward_event_mismatches, "steps": self.steps}


def _compare(errors: _Errors, port, state, rewards, envs, mpe2_rewards, with_observations: bool) -> None:
    positions, velocities, communication = mpe2_arrays(envs)
    errors.update("positions", state.positions.numpy()[0], positions)
    errors.update("velocities", state.velocities.numpy()[0], velocities)
    errors.update("communication", state.communication.numpy()[0], communication)
    ours_rewards = rewards.numpy()[0]
    errors.update("rewards", ours_rewards, mpe2_rewards)
    errors.reward_event_mismatches += int(np.sum(np.abs(ours_rewards - mpe2_rewards) > EVENT_GAP))
    if with_observations:
        for ours, theirs in zip(port.observe(state), mpe2_observations(envs)):
            errors.update("observations", ours.numpy()[0], theirs)
    errors.steps += 1


def free_running(port, scenario: str, num_envs: int, kind: str, first_seed: int = 1000, action_seed: int = 7,
                 steps: int = 25) -> dict:
    """Copies the reference's reset state in once, then runs `steps` steps of both (the reference env in the
    port's dynamics); returns the largest differences."""
    envs = mpe2_envs(scenario, num_envs, first_seed, port.dynamics)
    np_dtype = np.float64 if port.dtype == tf.float64 else np.float32
    state = port.state_from_mpe2([[env.unwrapped.world for env in envs]])
    errors = _Errors()
    for ours, theirs in zip(port.observe(state), mpe2_observations(envs)):
        errors.update("observations", ours.numpy()[0], theirs)
    rng = np.random.default_rng(action_seed)
    for _ in range(steps):
        actions = random_actions(port, rng, num_envs, kind, np_dtype)
        state, rewards = port.step(state, [tf.constant(a[None]) for a in actions])
        _compare(errors, port, state, rewards, envs, step_reference_envs(envs, actions), with_observations=True)
    return errors.report()


def teacher_forced(port, scenario: str, num_envs: int, first_seed: int = 5000, action_seed: int = 11,
                   steps: int = 25) -> dict:
    """Copies the reference's state in before every step (alternating soft and one-hot actions), the reference
    env in the port's dynamics; returns the largest differences."""
    envs = mpe2_envs(scenario, num_envs, first_seed, port.dynamics)
    np_dtype = np.float64 if port.dtype == tf.float64 else np.float32
    rng = np.random.default_rng(action_seed)
    errors = _Errors()
    for step in range(steps):
        state = port.state_from_mpe2([[env.unwrapped.world for env in envs]])
        actions = random_actions(port, rng, num_envs, "soft" if step % 2 else "one_hot", np_dtype)
        state, rewards = port.step(state, [tf.constant(a[None]) for a in actions])
        _compare(errors, port, state, rewards, envs, step_reference_envs(envs, actions), with_observations=True)
    return errors.report()
