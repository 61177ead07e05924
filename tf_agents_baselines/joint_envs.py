"""Batched joint environments the baselines train on: B worlds, every agent's time steps as [B, ...] tensors.

Two implementations of one protocol (`agents`, `time_step_specs`, `action_specs`, `episode_length`,
`reset() -> [TimeStep per agent]`, `step([actions [B] int32 per agent]) -> [TimeStep per agent]`,
`goal_distance() -> [B]`):

- `Mpe2JointEnv` ("mpe2"): B mpe2 parallel envs through `pettingzoo_agents.BatchedParallelEnvAgents`,
  stepped in Python (the reference environment itself; slower than the port: docs/baselines.md has the rates).
- `PortJointEnv` ("batched_port", the default): the repository's batched TensorFlow port of the same scenario
  (envs/batched, the env MADDPG trains on), P = 1 population x B worlds, stepped inside a tf.function. It
  matches the reference env of the same dynamics step for step (README "Parity with mpe2"); the discrete
  choice a is sent as the one-hot vector e_a, which is how mpe2 interprets its discrete actions (see
  pettingzoo_agents).

Both are built in the run's dynamics ("paper": the 2017 physics and rewards the paper ran on; "mpe2": as
installed; the train_env name "mpe2" says which implementation steps, not which physics), the port through
make_batched_env(dynamics=...), the mpe2 envs through make_reference_env(dynamics=...), so either kind trains
on the physics the policy is evaluated on.

All B worlds start and end their 25-step episodes together, so step types are the same across the batch:
FIRST after reset, MID, LAST (discount 1: mpe2 truncates, nothing terminates) at the 25th step. Every trained
policy is evaluated on mpe2 itself in the same dynamics (tf_agents_baselines.evaluation), whichever env it trained on.
"""

from __future__ import annotations

import numpy as np

from tf_agents_baselines.process import require_legacy_keras

require_legacy_keras()

import tensorflow as tf  # noqa: E402
from tf_agents.specs import tensor_spec  # noqa: E402
from tf_agents.trajectories import time_step as ts  # noqa: E402

TRAIN_ENVS = ("batched_port", "mpe2")


def _time_step(step_type: int, rewards: tf.Tensor, observation: tf.Tensor) -> ts.TimeStep:
    """A batched TimeStep: step_type [B] int32, reward [B], discount [B] = 1, observation [B, O]."""
    batch = tf.shape(observation)[0]
    return ts.TimeStep(tf.fill([batch], tf.constant(step_type, tf.int32)), tf.cast(rewards, tf.float32),
                       tf.ones([batch], tf.float32), tf.cast(observation, tf.float32))


class PortJointEnv:
    """The batched TF port of an mpe2 scenario (P = 1, B worlds) as per-agent batched tf-agents time steps."""

    def __init__(self, scenario: str, num_envs: int, seed: int, episode_length: int = 25, *, dynamics: str):
        from envs.batched import make_batched_env
        from maddpg.population_random import PopulationRandom

        self.port = make_batched_env(scenario, dynamics=dynamics)
        self.dynamics = dynamics
        self.agents = tuple(self.port.agents)
        self.num_envs = num_envs
        self.episode_length = episode_length
        self.random = PopulationRandom([seed], name="train_env_random")
        self.time_step_specs = [
            ts.time_step_spec(tf.TensorSpec([size], tf.float32, name="observation"))
            for size in self.port.observation_sizes
        ]
        self.action_specs = [tensor_spec.BoundedTensorSpec((), tf.int32, 0, size - 1, name="action")
                             for size in self.port.action_sizes]
        self._state = None
        self._steps = 0
        self._reset_fn = tf.function(self._reset_graph)
        self._step_fn = tf.function(self._step_graph)

    def _reset_graph(self):
        state = self.port.reset(self.random, self.num_envs)  # tensors [1, B, ...]
        return state, [observation[0] for observation in self.port.observe(state)]

    def _step_graph(self, state, actions):
        soft = [tf.one_hot(action, size)[tf.newaxis] for action, size in zip(actions, self.port.action_sizes)]
        state, rewards = self.port.step(state, soft)  # rewards [1, B, N]
        observations = [observation[0] for observation in self.port.observe(state)]
        return state, rewards[0], observations

    def reset(self) -> list[ts.TimeStep]:
        self._state, observations = self._reset_fn()
        self._steps = 0
        zeros = tf.zeros([self.num_envs], tf.float32)
        return [_time_step(ts.StepType.FIRST, zeros, observation) for observation in observations]

    def step(self, actions) -> list[ts.TimeStep]:
        """actions: [B] int32 per agent. Returns MID time steps, LAST on the episode_length-th step."""
        if self._state is None or self._steps >= self.episode_length:
            raise RuntimeError("reset() before stepping a finished episode")
        self._state, rewards, observations = self._step_fn(self._state, list(actions))
        self._steps += 1
        step_type = ts.StepType.LAST if self._steps == self.episode_length else ts.StepType.MID
        return [_time_step(step_type, rewards[:, i], observation) for i, observation in enumerate(observations)]

    def goal_distance(self) -> np.ndarray:
        """[B] Euclidean listener-to-goal distance now."""
        return self.port.goal_distance(self._state).numpy()[0]


class Mpe2JointEnv:
    """B mpe2 parallel envs (envs.reference.make_reference_env) as per-agent batched tf-agents time steps."""

    def __init__(self, scenario: str, num_envs: int, seed: int, episode_length: int = 25, *, dynamics: str):
        from tf_agents_baselines.pettingzoo_agents import BatchedParallelEnvAgents
        from envs.reference import make_reference_env

        self.envs = BatchedParallelEnvAgents(
            [make_reference_env(scenario, dynamics=dynamics, max_cycles=episode_length) for _ in range(num_envs)])
        self.dynamics = dynamics
        self.agents = self.envs.agents
        self.num_envs = num_envs
        self.episode_length = episode_length
        self.rng = np.random.default_rng([int(seed), 7])
        self.time_step_specs = [tensor_spec.from_spec(self.envs.time_step_spec(agent)) for agent in self.agents]
        self.action_specs = [tensor_spec.from_spec(self.envs.action_specs[agent]) for agent in self.agents]

    def reset(self) -> list[ts.TimeStep]:
        seeds = self.rng.integers(2**31 - 1, size=self.num_envs)
        return self._to_tensors(self.envs.reset(seeds))

    def step(self, actions) -> list[ts.TimeStep]:
        steps = self.envs.step({agent: np.asarray(action) for agent, action in zip(self.agents, actions)})
        return self._to_tensors(steps)

    def goal_distance(self) -> np.ndarray:
        from maddpg.metrics.speaker_listener import listener_goal_distance

        return np.array([listener_goal_distance(world) for world in self.envs.worlds()])

    def _to_tensors(self, steps) -> list[ts.TimeStep]:
        return [tf.nest.map_structure(tf.convert_to_tensor, steps[agent]) for agent in self.agents]


def make_joint_env(kind: str, scenario: str, num_envs: int, seed: int, episode_length: int = 25, *, dynamics: str):
    """The training env named `kind` (one of TRAIN_ENVS) in `dynamics` ("paper" or "mpe2").

    dynamics has no default (the env factories default to mpe2): a caller that forgets it fails here instead
    of silently training on the other physics.
    """
    if kind == "batched_port":
        return PortJointEnv(scenario, num_envs, seed, episode_length, dynamics=dynamics)
    if kind == "mpe2":
        return Mpe2JointEnv(scenario, num_envs, seed, episode_length, dynamics=dynamics)
    raise ValueError(f"unknown training env {kind!r}; choose from {', '.join(TRAIN_ENVS)}")
