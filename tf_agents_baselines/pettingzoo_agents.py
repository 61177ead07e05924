"""A PettingZoo parallel env as one tf-agents environment per agent, stepped together.

`ParallelEnvAgents` wraps one `pettingzoo.ParallelEnv` whose agents stay for the whole episode. Each agent
gets its own tf-agents `PyEnvironment` (`AgentEnvironment`, in `environments[agent]`) with its own specs:

- observation: ArraySpec float32 [O_i] (the agent's own observation, as the env gives it);
- action: BoundedArraySpec int32 [] in [0, n_i - 1]: a discrete choice. A `Discrete(n)` action space receives
  the integer as it is. A `Box(0, 1, (n,))` space (mpe2 built with continuous_actions=True, as
  envs.reference.make_reference_env builds every paper scenario) receives the one-hot float32 vector of the
  choice: in mpe2 that is exactly the discrete action (movement u = (a[2] - a[1], a[4] - a[3]) times the
  sensitivity; communication c = the vector itself), so both spaces give the same episode;
- reward: ArraySpec float32 [] (the agent's own reward); discount: BoundedArraySpec float32 [] in [0, 1].

Time steps follow tf-agents: `reset` gives every agent StepType.FIRST (reward 0, discount 1); each `step`
gives MID until the episode ends, then LAST: with discount 0 if the env terminated the agent, discount 1 if
it truncated the episode (mpe2 truncates after max_cycles = 25 steps, so the 25th step is LAST with
discount 1: a time limit, not a terminal state). After LAST the next `step` call resets, as a tf-agents
environment does.

The agents act simultaneously, so one joint action is needed per step: step them together with
`ParallelEnvAgents.step({agent: action})`. Each `AgentEnvironment` carries its agent's specs and
`current_time_step()`; its own `step`/`reset` are refused with a message saying so (stepping one agent
alone has no meaning in a parallel env).
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from tf_agents_baselines.process import require_legacy_keras

require_legacy_keras()

from tf_agents.environments import py_environment  # noqa: E402
from tf_agents.specs import array_spec  # noqa: E402
from tf_agents.trajectories import time_step as ts  # noqa: E402


def _action_size_and_kind(space) -> tuple[int, str]:
    """(number of choices, "discrete" | "one_hot") of a gymnasium action space."""
    from gymnasium import spaces

    if isinstance(space, spaces.Discrete):
        if int(space.start) != 0:
            raise ValueError(f"Discrete action spaces must start at 0, got start={space.start}")
        return int(space.n), "discrete"
    if isinstance(space, spaces.Box) and len(space.shape) == 1 and np.all(space.low == 0) and np.all(space.high == 1):
        return int(space.shape[0]), "one_hot"
    raise ValueError(f"unsupported action space {space}: need Discrete(n) or Box(0, 1, (n,))")


class AgentEnvironment(py_environment.PyEnvironment):
    """One agent's view of a `ParallelEnvAgents`: its specs and its current time step (see the module doc)."""

    def __init__(self, joint: "ParallelEnvAgents", agent: str):
        super().__init__(handle_auto_reset=False)
        self._joint = joint
        self.agent = agent

    def observation_spec(self) -> array_spec.ArraySpec:
        return self._joint.observation_specs[self.agent]

    def action_spec(self) -> array_spec.BoundedArraySpec:
        return self._joint.action_specs[self.agent]

    def reward_spec(self) -> array_spec.ArraySpec:
        return array_spec.ArraySpec((), np.float32, name="reward")

    def discount_spec(self) -> array_spec.BoundedArraySpec:
        return array_spec.BoundedArraySpec((), np.float32, minimum=0.0, maximum=1.0, name="discount")

    def current_time_step(self) -> ts.TimeStep:
        return self._joint.current_time_steps()[self.agent]

    def _reset(self):
        raise RuntimeError(f"{self.agent}'s environment is one agent of a parallel env: reset all agents "
                           "together with ParallelEnvAgents.reset()")

    def _step(self, action):
        raise RuntimeError(f"{self.agent}'s environment is one agent of a parallel env: step all agents "
                           "together with ParallelEnvAgents.step({agent: action})")


class ParallelEnvAgents:
    """One tf-agents environment per agent of a PettingZoo parallel env (see the module docstring).

    Attributes:
        env: the wrapped parallel env.
        agents: its agents, in the env's order (possible_agents).
        environments: agent -> AgentEnvironment (specs, current time step).
        observation_specs, action_specs: agent -> tf-agents array spec.
        episode_steps: steps taken in the current episode.
    """

    def __init__(self, env):
        self.env = env
        self.agents = tuple(env.possible_agents)
        self.observation_specs, self.action_specs, self._action_kinds = {}, {}, {}
        for agent in self.agents:
            shape = env.observation_space(agent).shape
            self.observation_specs[agent] = array_spec.ArraySpec(shape, np.float32, name="observation")
            size, kind = _action_size_and_kind(env.action_space(agent))
            self.action_specs[agent] = array_spec.BoundedArraySpec((), np.int32, minimum=0, maximum=size - 1,
                                                                   name="action")
            self._action_kinds[agent] = kind
        self.environments = {agent: AgentEnvironment(self, agent) for agent in self.agents}
        self._time_steps: dict[str, ts.TimeStep] | None = None
        self.episode_steps = 0

    def time_step_spec(self, agent: str) -> ts.TimeStep:
        """The agent's tf-agents TimeStep spec (what its tf-agents agent is built with)."""
        return self.environments[agent].time_step_spec()

    def current_time_steps(self) -> dict[str, ts.TimeStep]:
        if self._time_steps is None:
            raise RuntimeError("call reset() first")
        return self._time_steps

    def reset(self, seed: int | None = None) -> dict[str, ts.TimeStep]:
        """Resets the env; every agent's time step is FIRST with reward 0 and discount 1."""
        observations, _ = self.env.reset(seed=seed)
        self.episode_steps = 0
        self._time_steps = {agent: ts.restart(self._observation(observations, agent)) for agent in self.agents}
        return self._time_steps

    def step(self, actions: Mapping[str, Any]) -> dict[str, ts.TimeStep]:
        """Applies one joint action ({agent: int choice}); resets instead if the last step ended the episode.

        Returns:
            agent -> its TimeStep: MID, or LAST when the env terminated (discount 0) or truncated
            (discount 1) the agent.
        """
        if self._time_steps is None or any(step.is_last() for step in self._time_steps.values()):
            return self.reset()
        missing = [agent for agent in self.agents if agent not in actions]
        if missing:
            raise ValueError(f"no action for {missing}; a parallel env needs one action per agent")
        env_actions = {agent: self._env_action(agent, actions[agent]) for agent in self.agents}
        observations, rewards, terminations, truncations, _ = self.env.step(env_actions)
        if set(observations) != set(self.agents) and (set(observations) or not all(truncations.values())):
            raise RuntimeError(f"the env's agents changed mid-episode ({sorted(observations)}); "
                               "only a fixed agent set is supported")
        self.episode_steps += 1
        time_steps = {}
        for agent in self.agents:
            observation = self._observation(observations, agent)
            reward = np.float32(rewards[agent])
            if terminations[agent]:
                time_steps[agent] = ts.termination(observation, reward)
            elif truncations[agent]:
                time_steps[agent] = ts.truncation(observation, reward, discount=np.float32(1.0))
            else:
                time_steps[agent] = ts.transition(observation, reward, discount=np.float32(1.0))
        self._time_steps = time_steps
        return time_steps

    def _observation(self, observations: Mapping[str, np.ndarray], agent: str) -> np.ndarray:
        return np.asarray(observations[agent], dtype=np.float32)

    def _env_action(self, agent: str, choice) -> Any:
        choice = int(np.asarray(choice))
        spec = self.action_specs[agent]
        if not 0 <= choice <= spec.maximum:
            raise ValueError(f"action {choice} of {agent} is outside [0, {spec.maximum}]")
        if self._action_kinds[agent] == "discrete":
            return choice
        one_hot = np.zeros(spec.maximum + 1, dtype=np.float32)
        one_hot[choice] = 1.0
        return one_hot

    def close(self) -> None:
        self.env.close()


class BatchedParallelEnvAgents:
    """B copies of a PettingZoo parallel env stepped in lockstep; time steps batched per agent ([B, ...]).

    Every copy runs 25-step (max_cycles) episodes, so the copies start and end their episodes together.
    """

    def __init__(self, envs):
        self.members = [ParallelEnvAgents(env) for env in envs]
        first = self.members[0]
        self.agents = first.agents
        self.observation_specs, self.action_specs = first.observation_specs, first.action_specs
        self.batch_size = len(self.members)

    def time_step_spec(self, agent: str) -> ts.TimeStep:
        return self.members[0].time_step_spec(agent)

    def reset(self, seeds) -> dict[str, ts.TimeStep]:
        """Resets copy b with seeds[b]; agent -> TimeStep with [B, ...] arrays."""
        return self._stack([member.reset(int(seed)) for member, seed in zip(self.members, seeds)])

    def step(self, actions: Mapping[str, np.ndarray]) -> dict[str, ts.TimeStep]:
        """actions: agent -> [B] int choices; returns agent -> TimeStep with [B, ...] arrays."""
        return self._stack([member.step({agent: actions[agent][b] for agent in self.agents})
                            for b, member in enumerate(self.members)])

    def worlds(self) -> list:
        """The mpe2 worlds of the copies (for metrics that read the world state)."""
        return [member.env.unwrapped.world for member in self.members]

    def _stack(self, per_member: list[dict[str, ts.TimeStep]]) -> dict[str, ts.TimeStep]:
        return {agent: ts.TimeStep(*(np.stack(parts) for parts in zip(*(steps[agent] for steps in per_member))))
                for agent in self.agents}

    def close(self) -> None:
        for member in self.members:
            member.close()
