"""The paper's scenarios as mpe2 PettingZoo parallel environments (the reference implementation), in two dynamics.

Every experiment of Lowe et al. (2017) maps to one entry of the scenario registry (envs.registry.SCENARIOS:
mpe2 module, arguments, agents, teams); :func:`make_reference_env` builds it with continuous (soft-vector)
actions, which is how openai/maddpg fed its Gumbel-softmax samples to the 2017 environments. Differences
between mpe2 and the 2017 environments that a constructor argument or a post-construction tweak can undo
are undone in both dynamics (spread's ``local_ratio``, predator-prey's landmark count, PP2 prey speed and
ensemble_tag's prey accel).

Two dynamics (read from openai/multiagent-particle-envs at the end of 2017, commit 214a041, and from mpe2
1.1.1; the batched ports in envs.batched follow the same two):
- ``"mpe2"``: mpe2 exactly as installed (beyond the tweaks above).
- ``"paper"``: the 2017 particle envs the paper ran on. :func:`use_paper_dynamics` is the one adapter that
  makes an mpe2 env behave so, by overriding three things on the env instance the factory built: the world's
  integration (velocity first, then position with the new velocity), the continuous-action mapping
  (u = (a1 - a2, a3 - a4) x accel instead of mpe2's (a2 - a1, a4 - a3)) and the two rewards that changed
  since 2017 (spread: every agent gets the global distance term minus one per agent within 0.3, itself
  included, unblended; physical deception: the adversary gets minus its SQUARED distance to the goal).
  Everything else is mpe2's. The overrides live on the instance, so every process that builds its env
  through this factory (evaluation workers included) gets the same dynamics; nothing global is patched.

Teams are named in the *paper's* roles (see envs.registry): for predator-prey, mpe2's ``adversary_*`` are
the paper's agents (predators) and mpe2's ``agent_0`` its adversary (prey).
"""

from __future__ import annotations

import importlib
import types
from collections.abc import Mapping
from typing import Any

import numpy as np

# SCENARIOS, ScenarioSpec and SPREAD_LOCAL_RATIO are the registry's, kept importable from here for the code
# that read them here before the registry existed (the spread port, maddpg.training).
from envs.registry import SCENARIOS, SPREAD_LOCAL_RATIO, ScenarioSpec, scenario_spec  # noqa: F401

DYNAMICS = ("paper", "mpe2")  # the same names as envs.batched.physics.DYNAMICS (which needs TensorFlow)

def check_dynamics(dynamics: str) -> str:
    """Returns `dynamics` if it is one of DYNAMICS; ValueError naming the valid values otherwise."""
    if dynamics not in DYNAMICS:
        raise ValueError(f"unknown dynamics {dynamics!r}; choose from {', '.join(DYNAMICS)}")
    return dynamics


def make_reference_env(
    name: str,
    *,
    dynamics: str = "mpe2",
    max_cycles: int = 25,
    render_mode: str | None = None,
    benchmark_data: bool = False,
):
    """Builds the mpe2 parallel environment for one paper scenario.

    Actions are continuous (``Box(0, 1)`` soft vectors; pass them through :func:`to_env_actions`).
    ``dynamic_rescaling=True`` because it only affects rendering: the camera zooms to fit the
    entities, and with rescaling the drawn radii zoom with it, so contacts look like contacts;
    without it circles keep their pixel size while distances shrink on screen.

    Call ``reset(seed=...)`` before use: the constructor already ran one *unseeded* reset.

    Args:
        name: A key of envs.registry.SCENARIOS.
        dynamics: ``"mpe2"`` (as installed) or ``"paper"`` (the 2017 envs; see :func:`use_paper_dynamics`).
        max_cycles: Steps per episode; the env truncates (never terminates) after this many.
        render_mode: ``None``, ``"human"`` or ``"rgb_array"``.
        benchmark_data: If True, each step's infos carry mpe2's per-agent ``"benchmark_data"``.

    Returns:
        A PettingZoo ``ParallelEnv`` whose ``possible_agents`` equal ``SCENARIOS[name].agents``.

    Raises:
        ValueError: If ``name`` is not a known scenario, or ``dynamics`` is unknown.
        RuntimeError: If mpe2's agent order differs from the spec's.
    """
    check_dynamics(dynamics)
    spec = scenario_spec(name)
    module = importlib.import_module(f"mpe2.{spec.module}")
    env = module.parallel_env(
        **spec.kwargs,
        max_cycles=max_cycles,
        continuous_actions=True,
        render_mode=render_mode,
        dynamic_rescaling=True,
        benchmark_data=benchmark_data,
    )
    if tuple(env.possible_agents) != spec.agents:
        raise RuntimeError(
            f"mpe2 {spec.module} agents {env.possible_agents} differ from the spec's {spec.agents}"
        )
    # simple_tag sets max_speed and accel in make_world only (reset_world rescales both just in curriculum
    # mode, which is off), and the env reads agent.accel afresh on every step, so these changes hold for
    # every later reset and step.
    if spec.prey_max_speed is not None or spec.prey_accel is not None:
        for agent in env.unwrapped.world.agents:
            if not agent.adversary:
                if spec.prey_max_speed is not None:
                    agent.max_speed = spec.prey_max_speed
                if spec.prey_accel is not None:
                    agent.accel = spec.prey_accel
    if dynamics == "paper":
        use_paper_dynamics(env, spec.module)
    return env


def use_paper_dynamics(env, module: str) -> None:
    """Makes a freshly built mpe2 env step as the 2017 env did (see the module docstring).

    Overrides, on this env's own objects: world.integrate_state, the env's _set_action, and for spread and
    physical deception the scenario's reward. mpe2 keeps the same world and scenario objects across
    resets (reset_world only moves entities), so the overrides hold for the env's whole life.

    Args:
        env: an mpe2 env (AEC or parallel) built with continuous_actions=True.
        module: its mpe2 module name, e.g. "simple_spread_v3" (picks the reward override, if any).

    Raises:
        ValueError: the env is not an mpe2 particle env with continuous actions.
    """
    raw_env = env.unwrapped
    if not hasattr(raw_env, "world") or not hasattr(raw_env, "_set_action"):
        raise ValueError(f"the paper dynamics apply to mpe2 particle envs only, not {type(raw_env).__name__}")
    if not raw_env.continuous_actions:
        raise ValueError("the paper dynamics are defined for continuous (soft-vector) actions only")
    raw_env.world.integrate_state = types.MethodType(_integrate_state_2017, raw_env.world)
    mpe2_set_action = raw_env._set_action  # bound to raw_env

    def set_action_2017(action, agent, action_space, time=None):
        mpe2_set_action(action, agent, action_space, time)
        if agent.movable:
            # mpe2 computed u = (a2 - a1, a4 - a3) * accel; negating gives 2017's (a1 - a2, a3 - a4) * accel
            # exactly (IEEE subtraction is sign-symmetric).
            agent.action.u = -agent.action.u

    raw_env._set_action = set_action_2017
    reward_override = _PAPER_REWARDS.get(module)
    if reward_override is not None:
        reward_override(raw_env)


def _integrate_state_2017(world, p_force) -> None:
    """The 2017 order: v <- v (1 - damping) + F / m dt, clamped to max_speed; then p <- p + v dt (new v)."""
    for i, entity in enumerate(world.entities):
        if not entity.movable:
            continue
        velocity = entity.state.p_vel * (1 - world.damping)
        if p_force[i] is not None:
            velocity = velocity + (p_force[i] / entity.mass) * world.dt
        if entity.max_speed is not None:
            speed = np.sqrt(np.square(velocity[0]) + np.square(velocity[1]))
            if speed > entity.max_speed:
                velocity = velocity / speed * entity.max_speed
        entity.state.p_vel = velocity
        entity.state.p_pos = entity.state.p_pos + velocity * world.dt


def _use_2017_spread_reward(raw_env) -> None:
    """Spread, 2017: r_i = -(sum over landmarks of the nearest agent's distance) - (agents touching i, i
    included), with no local_ratio blend."""
    scenario = raw_env.scenario

    def reward_2017(agent, world) -> float:
        reward = 0.0
        for landmark in world.landmarks:
            reward -= min(float(np.sqrt(np.sum(np.square(other.state.p_pos - landmark.state.p_pos))))
                          for other in world.agents)
        if agent.collide:
            reward -= sum(1.0 for other in world.agents if scenario.is_collision(other, agent))  # self too
        return reward

    scenario.reward = reward_2017
    raw_env.local_ratio = None  # SimpleEnv then pays scenario.reward alone


def _use_2017_adversary_reward(raw_env) -> None:
    """Physical deception, 2017: the adversary's reward is minus its squared distance to the goal."""

    def adversary_reward_2017(agent, world) -> float:
        return -float(np.sum(np.square(agent.state.p_pos - agent.goal_a.state.p_pos)))

    raw_env.scenario.adversary_reward = adversary_reward_2017


# mpe2 module -> the override of the rewards that changed since 2017 (the other scenarios' are the same).
_PAPER_REWARDS = {"simple_spread_v3": _use_2017_spread_reward, "simple_adversary_v3": _use_2017_adversary_reward}


def to_env_actions(actions: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Converts per-agent soft action vectors to what mpe2 accepts without complaint.

    mpe2's ``Box(0, 1)`` spaces are float32, and PettingZoo's clip wrapper logs an out-of-bounds
    warning (then clips) for any action the space does not contain, float64 included.

    Args:
        actions: Agent name -> action vector (numpy array, list, or tensor); values are not clipped.

    Returns:
        Agent name -> contiguous float32 numpy array.
    """
    return {agent: np.ascontiguousarray(a, dtype=np.float32) for agent, a in actions.items()}
