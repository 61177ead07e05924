"""Batched TensorFlow ports of the mpe2 scenarios: state tensors [P, B, ...], one graph for P x B worlds.

Every port follows one protocol (see speaker_listener.py for the first one):

    name, agents (mpe2 order), observation_sizes, action_sizes, spec (a physics.WorldSpec), dynamics
    reset(rng, num_envs) -> state        rng: maddpg.population_random.PopulationRandom; state: a NamedTuple
    step(state, actions) -> (state, rewards [P, B, N])      actions: per agent [P, B, A_i] soft vectors
    observe(state) -> per agent [P, B, O_i]
    state_from_mpe2(worlds) -> state     worlds[p][b]: live mpe2 worlds (for teacher-forced parity tests)
    goal_distance(state) -> [P, B]       optional: logged during training where a scenario has one goal
"""

from __future__ import annotations

import importlib

# scenario (envs.reference.SCENARIOS key) -> (module under envs.batched, class name, constructor kwargs)
_PORTS = {
    "speaker_listener": ("speaker_listener", "BatchedSpeakerListener", {}),
    "spread_n3": ("spread", "BatchedSpread", {"num_agents": 3}),
    "spread_n6": ("spread", "BatchedSpread", {"num_agents": 6}),
    "push": ("push", "BatchedPush", {}),
    "adversary_n2": ("adversary", "BatchedAdversary", {"num_good": 2}),
    "adversary_n4": ("adversary", "BatchedAdversary", {"num_good": 4}),
    "tag_pp1": ("tag", "BatchedTag", {"prey_max_speed": 1.3}),
    "tag_pp2": ("tag", "BatchedTag", {"prey_max_speed": 2.0}),
    "crypto": ("crypto", "BatchedCrypto", {}),
    # Table 6: 4 predators, 1 obstacle, prey accel 6 (mpe2's prey max_speed 1.3 kept).
    "ensemble_tag": ("tag", "BatchedTag", {"num_predators": 4, "num_obstacles": 1, "prey_accel": 6.0}),
}
BATCHED_SCENARIOS = tuple(_PORTS)


def make_batched_env(name: str, dtype=None, dynamics: str = "mpe2"):
    """The batched port of a paper scenario (see envs.reference.SCENARIOS for the names).

    Args:
        name: the scenario.
        dtype: the state's float dtype (default float32).
        dynamics: "paper" (the 2017 physics and rewards) or "mpe2" (as installed); see envs.batched.physics.

    Raises:
        ValueError: no batched port exists for `name`, or an unknown dynamics.
    """
    from envs.batched.physics import check_dynamics

    check_dynamics(dynamics)
    if name not in _PORTS:
        raise ValueError(f"no batched port of scenario {name!r}; ported: {', '.join(BATCHED_SCENARIOS)}")
    import tensorflow as tf

    module_name, class_name, kwargs = _PORTS[name]
    module = importlib.import_module(f"envs.batched.{module_name}")
    return getattr(module, class_name)(dtype=dtype or tf.float32, dynamics=dynamics, **kwargs)
