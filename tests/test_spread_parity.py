"""The batched cooperative navigation (spread, N = 3 and 6) against mpe2: constants, free-running episodes,
teacher-forced steps, collision reward events and reset draws.

Spread is the first scenario with agent-agent soft contacts, so these tests are also the first check of
physics.contact_forces against mpe2's `World.get_collision_force`.

Budget per scenario: 4 x 40 free-running episodes + 2 x 20 teacher-forced ones.

Why float32 needs a looser tolerance here than elsewhere: while two agents overlap, the soft contact acts
as a spring of stiffness contact_force = 100 (softplus slope 1 once the penetration exceeds the 1e-3
margin). For the normal separation d of a touching pair, mpe2's explicit step (position with the old
velocity, then velocity) maps a perturbation (dd, dv) by [[1, dt], [-2 * 100 * dt / mass, 1 - damping]]
= [[1, 0.1], [-20, 0.75]], whose eigenvalues have modulus sqrt(0.75 + 2) = 1.66: every step in contact
multiplies an existing error by up to ~1.7 (more in clumps of 3+ agents, common with N = 6). Float32
positions near 1 are rounded to ~6e-8, so a few contact steps turn rounding into 1e-5 .. 1e-4. It is
rounding, not a port error: the same program in float64 matches mpe2 to <= 4.3e-13 on the same episodes
(mpe2's own float64 rounding grows by the same ~1e3 factor), and envs whose agents never touch keep
float32 errors below 1e-6 (test_float32_errors_grow_only_through_contacts).
"""

import numpy as np
import pytest
import tensorflow as tf

from envs.batched import parity
from envs.batched.physics import WorldSpec
from envs.batched.spread import (
    AGENT_COLOR,
    AGENT_SIZE,
    LANDMARK_COLOR,
    LANDMARK_SIZE,
    BatchedSpread,
)
from envs.reference import SPREAD_LOCAL_RATIO, make_reference_env

SCENARIOS = {"spread_n3": 3, "spread_n6": 6}
FREE_RUNNING_ENVS = 40
TEACHER_FORCED_ENVS = 20

# Largest free-running float32 errors measured on these seeds, N=3 / N=6: positions 1.6e-6 / 8.5e-5,
# velocities and observations 7.5e-6 / 2.0e-4, rewards 1.6e-6 / 3.6e-5 (with 50 envs instead of 40,
# 2.2e-5 / 1.4e-4 for velocities). The growth comes from contacts (module docstring) and is chaotic in the
# rounding, so the tolerances leave 2.5-7x room for another CPU's rounding.
FLOAT32_FREE_RUNNING_TOLERANCE = {"spread_n3": 5e-5, "spread_n6": 5e-4}
# Teacher-forced float32 steps cannot accumulate, but one contact step already scales position rounding
# (up to ~1.2e-7 per coordinate) by dt x contact_force = 10 per touching pair: measured 6e-7 (N=3) and
# 2.3e-6 (N=6) of velocity, so the usual float32 tolerance of 1e-5.
FLOAT32_TEACHER_FORCED_TOLERANCE = 1e-5
# One step differs from mpe2 by at most 1 ulp (8.9e-16, teacher forced): physics.contact_forces sums the pair
# terms in another order and uses tf's softplus for np.logaddexp. Contacts grow that to 1.7e-15 (N=3) and
# 4.3e-13 (N=6, one-hot) in free-running episodes (module docstring).
FLOAT64_TOLERANCE = 1e-12


def _errors_within(report, tolerance):
    # parity.EVENT_GAP (0.5) is larger than one spread collision penalty (local_ratio = 0.4 for N=3, 0.25 for
    # N=6), so reward_event_mismatches alone would miss a disagreeing contact; the rewards tolerance (far
    # below 0.25) catches it.
    assert report["reward_event_mismatches"] == 0, report
    for name in ("positions", "velocities", "communication", "rewards", "observations"):
        assert report[name] <= tolerance, (name, report)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_constants_match_a_live_mpe2_world(scenario):
    n = SCENARIOS[scenario]
    env = make_reference_env(scenario)
    env.reset(seed=0)
    world = env.unwrapped.world
    port = BatchedSpread(num_agents=n)
    assert WorldSpec.from_mpe2_world(world) == port.spec
    assert port.name == scenario
    assert tuple(env.possible_agents) == port.agents
    assert tuple(env.observation_space(a).shape[0] for a in port.agents) == port.observation_sizes
    assert tuple(env.action_space(a).shape[0] for a in port.agents) == port.action_sizes
    assert port.local_ratio == env.unwrapped.local_ratio == SPREAD_LOCAL_RATIO[n]
    assert all(a.size == AGENT_SIZE and tuple(a.color) == AGENT_COLOR for a in world.agents)
    assert all(l.size == LANDMARK_SIZE and tuple(l.color) == LANDMARK_COLOR for l in world.landmarks)
    # Every agent is silent, yet the world keeps a 2-wide channel that observations carry (as zeros).
    assert world.dim_c == port.spec.dim_c == 2 and all(a.silent for a in world.agents)


@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize("kind", ["soft", "one_hot"])
@pytest.mark.parametrize("dtype", [tf.float64, tf.float32])
def test_free_running_episodes_match_mpe2(scenario, kind, dtype):
    """mpe2's reset state is copied in once, then both run 25 steps on the same actions."""
    port = BatchedSpread(dtype, SCENARIOS[scenario])
    report = parity.free_running(port, scenario, FREE_RUNNING_ENVS, kind)
    tolerance = FLOAT64_TOLERANCE if dtype == tf.float64 else FLOAT32_FREE_RUNNING_TOLERANCE[scenario]
    _errors_within(report, tolerance)
    assert report["steps"] == 25


@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize("dtype,tolerance", [(tf.float64, FLOAT64_TOLERANCE),
                                             (tf.float32, FLOAT32_TEACHER_FORCED_TOLERANCE)])
def test_teacher_forced_steps_match_mpe2(scenario, dtype, tolerance):
    """mpe2's state is copied in before every step, so errors cannot accumulate or hide."""
    port = BatchedSpread(dtype, SCENARIOS[scenario])
    _errors_within(parity.teacher_forced(port, scenario, TEACHER_FORCED_ENVS), tolerance)


def test_float32_errors_grow_only_through_contacts():
    """Envs in which no two agents ever touch keep float32 errors at rounding level (see the docstring)."""
    scenario, num_envs = "spread_n3", 30
    envs = parity.mpe2_envs(scenario, num_envs, first_seed=1000)
    port = BatchedSpread(tf.float32, 3)
    state = port.state_from_mpe2([[env.unwrapped.world for env in envs]])
    rng = np.random.default_rng(7)
    touched = np.zeros(num_envs, dtype=bool)
    error = np.zeros(num_envs)
    for _ in range(25):
        actions = parity.random_actions(port, rng, num_envs, "soft", np.float32)
        state, _ = port.step(state, [tf.constant(a[None]) for a in actions])
        for b, env in enumerate(envs):
            env.step({agent: actions[i][b] for i, agent in enumerate(port.agents)})
        positions, velocities, _ = parity.mpe2_arrays(envs)
        touched |= np.array([any(env.unwrapped.scenario.is_collision(a, o) for a in env.unwrapped.world.agents
                                 for o in env.unwrapped.world.agents if a is not o) for env in envs])
        ours = np.concatenate([state.positions.numpy()[0], state.velocities.numpy()[0]], axis=1)
        error = np.maximum(error, np.abs(ours - np.concatenate([positions, velocities], axis=1)).max(axis=(1, 2)))
    assert 0 < touched.sum() < num_envs, "needs envs with and without contacts"
    assert error[~touched].max() < 1e-6
    assert error[touched].max() > 1e-6  # the looser float32 tolerance is needed, and only for these


@pytest.mark.parametrize("dtype", [tf.float64, tf.float32])
def test_collision_penalties_happen_and_agree(dtype):
    """Agents placed in and just out of contact: mpe2 and the port pay the same penalties.

    With zero velocities mpe2 moves nobody during the step (positions advance with the old velocity), so
    the contacts after the step are the placed ones. Relative to agent_0: agent_1 0.2 away (touch),
    agent_2 0.2999 away (touch, just inside 2 x 0.15), agent_3 0.3001 away (just outside), agent_4 0.25
    from agent_3 (touch), agent_5 far from everyone.
    """
    scenario, n = "spread_n6", 6
    offsets = [(0.0, 0.0), (0.2, 0.0), (0.0, 0.2999), (-0.3001, 0.0), (-0.3001, -0.25), (3.0, 3.0)]
    env = make_reference_env(scenario)
    env.reset(seed=3)
    world = env.unwrapped.world
    origin = world.agents[0].state.p_pos.copy()
    for agent, offset in zip(world.agents, offsets):
        agent.state.p_pos = origin + np.asarray(offset)
        agent.state.p_vel = np.zeros(2)
    expected = np.array([1 + 1, 1, 1, 1, 1, 0])  # touched others per agent (never itself)
    mpe2_counts = [sum(env.unwrapped.scenario.is_collision(a, o) and a is not o for o in world.agents)
                   for a in world.agents]
    assert mpe2_counts == expected.tolist()

    port = BatchedSpread(dtype, n)
    state = port.state_from_mpe2([[world]])
    np.testing.assert_array_equal(port.collision_counts(state).numpy()[0, 0], expected)
    no_op = np.eye(5, dtype=np.float32)[0]
    state, rewards = port.step(state, [tf.constant(no_op[None, None], dtype)] * n)
    _, mpe2_rewards, _, _, _ = env.step({agent: no_op for agent in port.agents})
    mpe2_rewards = np.array([mpe2_rewards[a] for a in port.agents])
    np.testing.assert_array_equal(port.collision_counts(state).numpy()[0, 0], expected)
    tolerance = FLOAT64_TOLERANCE if dtype == tf.float64 else 1e-5
    np.testing.assert_allclose(rewards.numpy()[0, 0], mpe2_rewards, rtol=0, atol=tolerance)
    # All agents share the global part, so mpe2's reward differences are local_ratio x the count differences.
    np.testing.assert_allclose(mpe2_rewards - mpe2_rewards[5], -port.local_ratio * expected, rtol=0, atol=1e-12)
    # Contact forces pushed the touching agents apart (and nobody else): velocities agree too.
    _, velocities, _ = parity.mpe2_arrays([env])
    np.testing.assert_allclose(state.velocities.numpy()[0], velocities, rtol=0, atol=tolerance)
    moved = np.abs(velocities[0, :n]).max(axis=-1) > 0
    assert moved.tolist() == (expected > 0).tolist()


def test_collision_events_occur_in_free_running_comparisons():
    """The free-running seeds above really compare collision penalties: their soft-action episodes (the
    same seeds and actions, rounded to float32 here) hold ~100 agent-steps that pay one."""
    scenario, num_envs = "spread_n3", FREE_RUNNING_ENVS
    envs = parity.mpe2_envs(scenario, num_envs, first_seed=1000)
    port = BatchedSpread(tf.float64, 3)
    rng = np.random.default_rng(7)
    events = 0
    for _ in range(25):
        actions = parity.random_actions(port, rng, num_envs, "soft", np.float64)
        for b, env in enumerate(envs):
            env.step({agent: actions[i][b].astype(np.float32) for i, agent in enumerate(port.agents)})
        events += sum(env.unwrapped.scenario.is_collision(a, o) for env in envs
                      for a in env.unwrapped.world.agents for o in env.unwrapped.world.agents if a is not o)
    assert events >= 50


@pytest.mark.parametrize("n", [3, 6])
def test_reset_draws_are_uniform_in_the_box_and_at_rest(n):
    from maddpg.population_random import PopulationRandom

    port = BatchedSpread(tf.float64, n)
    num_envs = 2000
    state = port.reset(PopulationRandom([0, 1]), num_envs)
    positions = state.positions.numpy()
    assert positions.shape == (2, num_envs, 2 * n, 2)
    assert state.velocities.shape == (2, num_envs, 2 * n, 2) and np.all(state.velocities.numpy() == 0)
    assert state.communication.shape == (2, num_envs, n, 2) and np.all(state.communication.numpy() == 0)
    assert np.all(np.abs(positions) <= 1.0)
    # Every coordinate of every entity (agents and landmarks alike) is uniform on [-1, 1]: mean 0, var 1/3.
    np.testing.assert_allclose(positions.mean(axis=1), 0.0, atol=0.08)
    np.testing.assert_allclose(positions.var(axis=1), 1 / 3, atol=0.04)
    assert not np.allclose(positions[0], positions[1]), "population members draw independently"
    observations = port.observe(state)
    assert [o.shape for o in observations] == [(2, num_envs, port.observation_sizes[0])] * n
    assert port.step(state, [tf.zeros((2, num_envs, 5), tf.float64)] * n)[1].shape == (2, num_envs, n)


def test_runs_under_xla_like_eager():
    """reset + step + observe compile with XLA (static shapes); the steps agree with eager execution."""
    from maddpg.population_random import PopulationRandom

    port = BatchedSpread(tf.float64, 3)
    actions = [tf.constant(np.random.default_rng(i).dirichlet(np.ones(5), size=(2, 16))) for i in range(3)]

    def two_steps(state):
        state, rewards = port.step(state, actions)
        state, more_rewards = port.step(state, actions)
        return state, rewards + more_rewards, port.observe(state)

    def reset_and_step(rng):
        start = port.reset(rng, 16)
        return start, two_steps(start)

    start, compiled = tf.function(reset_and_step, jit_compile=True)(PopulationRandom([5, 6]))
    assert start.positions.shape == (2, 16, 6, 2) and np.all(np.abs(start.positions.numpy()) <= 1.0)
    for c, e in zip(tf.nest.flatten(compiled), tf.nest.flatten(two_steps(start))):
        np.testing.assert_allclose(c.numpy(), e.numpy(), rtol=0, atol=1e-12)
