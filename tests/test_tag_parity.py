"""The batched predator-prey (simple_tag_v3, 3 predators, 1 prey, 3 obstacles) against mpe2.

Per variant (PP1: prey max_speed 1.3, PP2: 2.0): 4 x 40 free-running episodes + 2 x 20 teacher-forced ones
(200 episodes), plus edited worlds that force touches, boundary penalties and deep soft contacts.

Float64 differences stay below 2e-13 everywhere (tolerance 1e-12). Float32 single steps from mpe2's state stay
below 1e-5 (tolerance): 1.4e-6 teacher forced, 9e-6 in the edited worlds, whose prey may sit at |x| = 4
(float32 spacing 5e-7 there) with a predator 0.05 from its centre. Float32 *free-running* episodes need more,
and this is why: an overlap is a stiff, laterally unstable spring for mpe2's explicit integrator. The soft
contact pushes along the centre line with |F| ~ 100 x overlap, so a sideways position error e turns the force
by e / d (d = centre distance): a lateral gain of |F| / d, ~250 per unit when the fast prey dives 0.18 deep
into an obstacle (|F| ~ 18, d ~ 0.07). One step then maps (e, de/dt) -> (e + dt de/dt, 0.75 de/dt + dt 250 e),
whose largest eigenvalue is ~2.5 (more as d shrinks): a float32 rounding (~1e-7) grew 2.5 to 5 fold per step
of deep contact in the runs measured. In the float32 episodes tested here (seed 1004: the prey bouncing
between two obstacles) velocities reach 4.2e-4 and positions 9.2e-5; rewards 2.5e-5 (the prey's boundary
penalty has slope up to 20). The episode tolerances are the tightest round values above those; the same
mechanism lifts float64 free-running velocities to 1.3e-13.
Touch events still agree exactly (0 mismatches).
"""

import numpy as np
import pytest
import tensorflow as tf

from envs.batched import parity
from envs.batched.physics import WorldSpec, contact_forces
from envs.batched.tag import (
    AGENT_RANGE,
    OBSTACLE_COLOR,
    OBSTACLE_RANGE,
    PREDATOR_COLOR,
    PREY_COLOR,
    BatchedTag,
)
from envs.reference import make_reference_env

VARIANTS = [("tag_pp1", 1.3), ("tag_pp2", 2.0)]
F64_TOLERANCE = 1e-12
F32_STEP_TOLERANCE = 1e-5  # one step from mpe2's state: every quantity
F32_EPISODE_STATE_TOLERANCE = 5e-4  # free-running: positions, velocities, observations (module docstring)
F32_EPISODE_REWARD_TOLERANCE = 1e-4
PREDATORS, PREY, OBSTACLES = [0, 1, 2], 3, [4, 5, 6]


def _tolerances(dtype, free_running=False):
    """(state tolerance, reward tolerance)."""
    if dtype == tf.float64:
        return F64_TOLERANCE, F64_TOLERANCE
    if free_running:
        return F32_EPISODE_STATE_TOLERANCE, F32_EPISODE_REWARD_TOLERANCE
    return F32_STEP_TOLERANCE, F32_STEP_TOLERANCE


def _assert_within(errors, dtype, free_running):
    state_tolerance, reward_tolerance = _tolerances(dtype, free_running)
    for name in ("positions", "velocities", "communication", "observations"):
        assert errors[name] <= state_tolerance, (name, errors)
    assert errors["rewards"] <= reward_tolerance, errors
    assert errors["reward_event_mismatches"] == 0, errors
    assert errors["steps"] == 25


def _mpe2_rewards_now(envs):
    """[B, 4] mpe2's scenario rewards of the worlds' current states (what a step would report)."""
    return np.array([[env.unwrapped.scenario.reward(a, env.unwrapped.world) for a in env.unwrapped.world.agents]
                     for env in envs])


def _event_counts(rewards):
    """(predator-prey touches, prey boundary-penalised steps) implied by rewards [..., 4]."""
    touches = np.rint(rewards[..., 0] / 10.0)
    boundary = -rewards[..., PREY] - 10.0 * touches
    return int(touches.sum()), int(np.sum(boundary > 0))


# (a) constants -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("scenario,prey_speed", VARIANTS)
def test_constants_match_a_live_mpe2_world(scenario, prey_speed):
    env = make_reference_env(scenario)
    env.reset(seed=0)
    world = env.unwrapped.world
    port = BatchedTag(prey_max_speed=prey_speed)
    assert port.name == scenario
    assert WorldSpec.from_mpe2_world(world) == port.spec
    assert tuple(env.possible_agents) == BatchedTag.agents
    assert tuple(env.observation_space(a).shape[0] for a in env.possible_agents) == BatchedTag.observation_sizes
    assert tuple(env.action_space(a).shape[0] for a in env.possible_agents) == BatchedTag.action_sizes
    assert [a.adversary for a in world.agents] == [True, True, True, False]
    assert all(not landmark.boundary for landmark in world.landmarks)
    assert {tuple(a.color) for a in world.agents[:3]} == {PREDATOR_COLOR}
    assert tuple(world.agents[3].color) == PREY_COLOR
    assert {tuple(landmark.color) for landmark in world.landmarks} == {OBSTACLE_COLOR}


def test_mpe2_reset_ranges():
    """Agents start in [-1, 1]^2 and obstacles in [-0.9, 0.9]^2 in mpe2 (what our reset draws)."""
    env = make_reference_env("tag_pp1")
    agents, obstacles = [], []
    for seed in range(150):
        env.reset(seed=seed)
        world = env.unwrapped.world
        agents.append([a.state.p_pos for a in world.agents])
        obstacles.append([landmark.state.p_pos for landmark in world.landmarks])
        assert all(np.all(e.state.p_vel == 0) for e in world.entities)
    agents, obstacles = np.abs(np.array(agents)), np.abs(np.array(obstacles))
    assert agents.max() <= AGENT_RANGE and agents.max() > 0.98
    assert obstacles.max() <= OBSTACLE_RANGE and obstacles.max() > 0.88


# (b) free running, (c) teacher forced ------------------------------------------------------------------


@pytest.mark.parametrize("scenario,prey_speed", VARIANTS)
@pytest.mark.parametrize("kind", ["soft", "one_hot"])
@pytest.mark.parametrize("dtype", [tf.float64, tf.float32])
def test_free_running_episodes_match_mpe2(scenario, prey_speed, kind, dtype):
    errors = parity.free_running(BatchedTag(dtype, prey_speed), scenario, num_envs=40, kind=kind)
    _assert_within(errors, dtype, free_running=True)


@pytest.mark.parametrize("scenario,prey_speed", VARIANTS)
@pytest.mark.parametrize("dtype", [tf.float64, tf.float32])
def test_teacher_forced_steps_match_mpe2(scenario, prey_speed, dtype):
    errors = parity.teacher_forced(BatchedTag(dtype, prey_speed), scenario, num_envs=20)
    _assert_within(errors, dtype, free_running=False)


@pytest.mark.parametrize("scenario,prey_speed", VARIANTS)
def test_free_running_episodes_contain_reward_events(scenario, prey_speed):
    """The soft-action episodes compared above (same seeds) contain touches and boundary penalties.

    Counted on the port's side: the comparison showed its rewards within 1e-12 of mpe2's at every step.
    """
    port = BatchedTag(tf.float64, prey_speed)
    envs = parity.mpe2_envs(scenario, 40, first_seed=1000)
    state = port.state_from_mpe2([[env.unwrapped.world for env in envs]])
    rng = np.random.default_rng(7)
    touches = boundary_steps = 0
    for _ in range(25):
        actions = parity.random_actions(port, rng, 40, "soft", np.float64)
        state, rewards = port.step(state, [tf.constant(a[None]) for a in actions])
        t, b = _event_counts(rewards.numpy()[0])
        touches, boundary_steps = touches + t, boundary_steps + b
    assert touches >= 5 and boundary_steps >= 20, (touches, boundary_steps)


# (d) reward events and contacts forced by editing mpe2's state -------------------------------------------


def _edited_envs(scenario, count, seed, near_threshold):
    """mpe2 envs whose prey sits near or beyond the boundary with 0..3 predators touching or nearly so.

    near_threshold: predator-prey centre distances within 1e-9 of the touch distance 0.125 (float64 only);
    otherwise at least 1e-3 away from it.
    """
    rng = np.random.default_rng(seed)
    envs = parity.mpe2_envs(scenario, count, first_seed=seed)
    coordinates = [0.0, 0.5, 0.9, 0.93, 0.999, 1.0, 1.001, 1.2, 1.9, 2.2, 4.0]
    offsets = [0.125 - 1e-9, 0.125 + 1e-9, 0.125] if near_threshold else [0.05, 0.1, 0.124, 0.126, 0.2]
    for b, env in enumerate(envs):
        world = env.unwrapped.world
        prey = world.agents[PREY]
        prey.state.p_pos = rng.choice(coordinates, size=2) * rng.choice([-1.0, 1.0], size=2)
        prey.state.p_vel = rng.normal(size=2) * 0.5
        for i in PREDATORS[: b % 4]:
            angle = rng.uniform(0, 2 * np.pi)
            world.agents[i].state.p_pos = prey.state.p_pos + rng.choice(offsets) * np.array([np.cos(angle),
                                                                                              np.sin(angle)])
            world.agents[i].state.p_vel = rng.normal(size=2) * 0.5
    return envs


@pytest.mark.parametrize("dtype", [tf.float64, tf.float32])
def test_reward_events_on_edited_worlds(dtype):
    """Touches at or beside the threshold and boundary penalties: the same rewards as mpe2's scenario."""
    port = BatchedTag(dtype)
    envs = _edited_envs("tag_pp1", 60, seed=300, near_threshold=dtype == tf.float64)
    theirs = _mpe2_rewards_now(envs)
    ours = port.rewards(port.state_from_mpe2([[env.unwrapped.world for env in envs]])).numpy()[0]
    _, reward_tolerance = _tolerances(dtype)
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=reward_tolerance)
    assert _event_counts(ours) == _event_counts(theirs)
    touches, boundary_steps = _event_counts(theirs)
    assert touches >= 20 and boundary_steps >= 30, (touches, boundary_steps)
    # Both sides of the touch distance were exercised: some predators placed within 1e-9 of it did not touch.
    distances = np.array([[np.linalg.norm(env.unwrapped.world.agents[i].state.p_pos
                                          - env.unwrapped.world.agents[PREY].state.p_pos) for i in PREDATORS]
                          for env in envs[: 60]])
    near = np.abs(distances - 0.125) < 1.5e-3
    assert np.any(near & (distances < 0.125)) and np.any(near & (distances >= 0.125))


@pytest.mark.parametrize("scenario,prey_speed", VARIANTS)
@pytest.mark.parametrize("dtype", [tf.float64, tf.float32])
def test_stepped_reward_events_on_edited_worlds(scenario, prey_speed, dtype):
    """Teacher-forced steps from edited worlds: touches and boundary penalties after real steps agree."""
    port = BatchedTag(dtype, prey_speed)
    envs = _edited_envs(scenario, 40, seed=400, near_threshold=False)
    np_dtype = np.float64 if dtype == tf.float64 else np.float32
    rng = np.random.default_rng(5)
    state_tolerance, reward_tolerance = _tolerances(dtype)
    totals = np.zeros(2, dtype=int)
    for step in range(3):
        state = port.state_from_mpe2([[env.unwrapped.world for env in envs]])
        actions = parity.random_actions(port, rng, 40, "soft" if step % 2 else "one_hot", np_dtype)
        state, rewards = port.step(state, [tf.constant(a[None]) for a in actions])
        theirs = parity.step_reference_envs(envs, actions)
        positions, velocities, _ = parity.mpe2_arrays(envs)
        np.testing.assert_allclose(state.positions.numpy()[0], positions, rtol=0, atol=state_tolerance)
        np.testing.assert_allclose(state.velocities.numpy()[0], velocities, rtol=0, atol=state_tolerance)
        np.testing.assert_allclose(rewards.numpy()[0], theirs, rtol=0, atol=reward_tolerance)
        assert _event_counts(rewards.numpy()[0]) == _event_counts(theirs)
        totals += _event_counts(theirs)
    assert totals[0] >= 20 and totals[1] >= 30, totals


def _crowded_envs(count, seed):
    """mpe2 envs with every entity (obstacles too) in a 0.6 x 0.6 box: many deep, multi-body overlaps."""
    rng = np.random.default_rng(seed)
    envs = parity.mpe2_envs("tag_pp2", count, first_seed=seed)
    for env in envs:
        for entity in env.unwrapped.world.entities:
            entity.state.p_pos = rng.uniform(-0.3, 0.3, size=2)
            if entity.movable:
                entity.state.p_vel = rng.normal(size=2)
    return envs


def test_contact_forces_equal_mpe2s_in_crowded_worlds():
    """physics.contact_forces against mpe2's pairwise get_collision_force sums, entity by entity."""
    envs = _crowded_envs(30, seed=600)
    port = BatchedTag(tf.float64, 2.0)
    positions, _, _ = parity.mpe2_arrays(envs)
    ours = contact_forces(port.spec, tf.constant(positions[None])).numpy()[0]  # [B, 7, 2]
    theirs = np.zeros_like(positions)
    for b, env in enumerate(envs):
        forces = env.unwrapped.world.apply_environment_force([None] * 7)
        for e, force in enumerate(forces):
            if force is not None:
                theirs[b, e] = force
    assert np.all(theirs[:, OBSTACLES] == 0) and np.all(ours[:, OBSTACLES] == 0)
    assert np.max(np.abs(theirs)) > 20  # deep overlaps: forces far beyond the actions' 3 or 4
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-12)


@pytest.mark.parametrize("dtype", [tf.float64, tf.float32])
def test_crowded_worlds_step_like_mpe2(dtype):
    """Teacher-forced steps through deep multi-body contacts, speed clamps included."""
    envs = _crowded_envs(30, seed=700)
    port = BatchedTag(dtype, 2.0)
    np_dtype = np.float64 if dtype == tf.float64 else np.float32
    rng = np.random.default_rng(3)
    state_tolerance, reward_tolerance = _tolerances(dtype)
    clamped = 0
    for step in range(3):
        state = port.state_from_mpe2([[env.unwrapped.world for env in envs]])
        actions = parity.random_actions(port, rng, 30, "soft" if step % 2 else "one_hot", np_dtype)
        state, rewards = port.step(state, [tf.constant(a[None]) for a in actions])
        theirs = parity.step_reference_envs(envs, actions)
        positions, velocities, _ = parity.mpe2_arrays(envs)
        np.testing.assert_allclose(state.positions.numpy()[0], positions, rtol=0, atol=state_tolerance)
        np.testing.assert_allclose(state.velocities.numpy()[0], velocities, rtol=0, atol=state_tolerance)
        np.testing.assert_allclose(rewards.numpy()[0], theirs, rtol=0, atol=reward_tolerance)
        speeds = np.linalg.norm(velocities[:, :4], axis=-1)
        clamped += int(np.sum(np.isclose(speeds, [1.0, 1.0, 1.0, 2.0])))
    assert clamped > 20  # the contacts push many agents to their speed limits


def test_discrete_mpe2_actions_equal_one_hot_soft_actions():
    """mpe2's discrete mode and one-hot soft vectors move every agent identically."""
    from mpe2 import simple_tag_v3

    discrete = simple_tag_v3.parallel_env(num_good=1, num_adversaries=3, num_obstacles=3, continuous_actions=False)
    discrete.reset(seed=3)
    port = BatchedTag(tf.float64)
    state = port.state_from_mpe2([[discrete.unwrapped.world]])
    rng = np.random.default_rng(0)
    for _ in range(10):
        moves = rng.integers(5, size=4)
        discrete.step(dict(zip(port.agents, moves.tolist())))
        state, _ = port.step(state, [tf.constant(np.eye(5)[m][None, None]) for m in moves])
        positions, velocities, _ = parity.mpe2_arrays([discrete])
        np.testing.assert_allclose(state.positions.numpy()[0], positions, rtol=0, atol=1e-12)
        np.testing.assert_allclose(state.velocities.numpy()[0], velocities, rtol=0, atol=1e-12)


# (e) reset ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [tf.float32, tf.float64])
def test_reset_draws(dtype):
    from maddpg.population_random import PopulationRandom

    port = BatchedTag(dtype, 2.0)
    state = port.reset(PopulationRandom([0, 1]), 500)
    assert state.positions.shape == (2, 500, 7, 2) and state.positions.dtype == dtype
    assert state.velocities.shape == (2, 500, 7, 2) and state.communication.shape == (2, 500, 4, 2)
    positions = state.positions.numpy()
    agents, obstacles = np.abs(positions[:, :, :4]), np.abs(positions[:, :, 4:])
    assert agents.max() <= AGENT_RANGE and agents.max() > 0.99
    assert obstacles.max() <= OBSTACLE_RANGE and obstacles.max() > 0.89
    # Uniform: a quarter of the draws in each quadrant of the range, every entity and coordinate alike.
    np.testing.assert_allclose(np.mean(agents < 0.5, axis=(0, 1)), 0.5, atol=0.05)
    np.testing.assert_allclose(np.mean(obstacles < 0.45, axis=(0, 1)), 0.5, atol=0.05)
    np.testing.assert_allclose(np.mean(positions > 0, axis=(0, 1)), 0.5, atol=0.05)
    assert not np.allclose(positions[0], positions[1])  # independent members
    assert np.all(state.velocities.numpy() == 0) and np.all(state.communication.numpy() == 0)
    again = port.reset(PopulationRandom([0, 1]), 500)
    np.testing.assert_array_equal(again.positions.numpy(), positions)
    observations = port.observe(state)
    assert [o.shape for o in observations] == [(2, 500, n) for n in BatchedTag.observation_sizes]
