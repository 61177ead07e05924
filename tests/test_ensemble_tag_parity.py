"""The batched ensemble_tag (Table 6's predator-prey: simple_tag_v3, 4 predators, 1 prey, 1 obstacle) against mpe2.

ensemble_tag is envs.batched.tag.BatchedTag with num_predators=4, num_obstacles=1 and prey_accel=6 (mpe2's
prey has 4; envs.reference raises it after construction); everything else is PP1's, which
tests/test_tag_parity.py covers in depth. This file checks what the new counts and the faster prey could
break: the constants read back from a live mpe2 world, the reset's shapes and ranges, free-running (2 action
kinds x 2 dtypes) and teacher-forced (2 dtypes) episodes of 24 envs each (144 episodes), and TagMetrics.

Every compared episode starts from mpe2's reset with the prey moved next to 0..4 predators (touching, or
just outside the touch distance 0.125), the obstacle overlapping the prey in every third env and the prey
near or past the boundary in every other, so touches, boundary penalties and deep contacts are all
exercised: 71-81 touches and 305-440 boundary-penalised prey steps per configuration, counted on the port's
side of the very steps compared (asserted: >= 40 and >= 150).

Measured maxima: float64 1.2e-13 free running (velocities, one-hot actions), 9e-16 teacher forced;
tolerance 1e-12, as tag's. Float32 teacher forced 3.5e-6 (tolerance 1e-5, tag's). Float32 free running:
velocities 2.8e-4, positions 2.2e-5, rewards 2.6e-4 (tolerance 5e-4, tag's state tolerance). The deep
contacts amplify float32 rounding (tests/test_tag_parity.py explains how); the rewards then pick up the
prey's boundary penalty, whose slope is 10 per coordinate between 0.9 and 1 and up to 20 beyond: the 2.6e-4
is a prey at (0.94, -0.91) with position errors of 1.5e-5 and 1.1e-5, with all four predators and the
obstacle in contact. Touch events agree exactly (0 mismatches) in every dtype.
"""

import numpy as np
import pytest
import tensorflow as tf
from conftest import assert_parity_within

from envs.batched import make_batched_env, parity
from envs.batched.physics import WorldSpec
from envs.batched.tag import (
    AGENT_RANGE,
    OBSTACLE_COLOR,
    OBSTACLE_RANGE,
    PREDATOR_COLOR,
    PREY_COLOR,
    BatchedTag,
)
from envs.reference import make_reference_env, to_env_actions
from maddpg.metrics import scenario_metrics
from maddpg.metrics.tag import TagMetrics

SCENARIO = "ensemble_tag"
NUM_PREDATORS, PREY, OBSTACLE = 4, 4, 5  # entity indices: adversary_0..3, agent_0, landmark 0
NUM_ENVS = 24
F64_TOLERANCE = 1e-12
F32_STEP_TOLERANCE = 1e-5  # tests/test_tag_parity.py's float32 tolerances
F32_EPISODE_TOLERANCE = 5e-4  # tag's state tolerance; here the rewards need it too (module docstring)


class _RecordingPort:
    """Delegates to a port and keeps the rewards [B, N] of every step it takes (member 0)."""

    def __init__(self, port):
        self._port = port
        self.rewards = []

    def __getattr__(self, name):
        return getattr(self._port, name)

    def step(self, state, actions):
        state, rewards = self._port.step(state, actions)
        self.rewards.append(rewards.numpy()[0])
        return state, rewards


def _edit_worlds(envs, seed):
    """Moves each reset world's prey next to 0..4 predators (touching or within 0.01 of it), as parity's
    comparers then find them; in every third env the obstacle overlaps the prey, in every other the prey sits
    near or past the boundary (|coordinate| 0.95 or 1.05).
    """
    rng = np.random.default_rng(seed)
    for b, env in enumerate(envs):
        world = env.unwrapped.world
        prey = world.agents[PREY]
        if b % 2:
            prey.state.p_pos = rng.choice([0.95, 1.05], size=2) * rng.choice([-1.0, 1.0], size=2)
        for i in range(b % (NUM_PREDATORS + 1)):
            angle = rng.uniform(0, 2 * np.pi)
            distance = rng.choice([0.06, 0.1, 0.12, 0.13])  # the touch distance is 0.075 + 0.05 = 0.125
            world.agents[i].state.p_pos = prey.state.p_pos + distance * np.array([np.cos(angle), np.sin(angle)])
        if b % 3 == 0:
            world.landmarks[0].state.p_pos = prey.state.p_pos + np.array([0.2, 0.0])  # 0.05 deep (radii 0.2, 0.05)
    return envs


@pytest.fixture
def forced_touches(monkeypatch):
    """Makes parity's comparers start every episode from an edited world (see _edit_worlds)."""
    original = parity.mpe2_envs

    def edited(scenario, count, first_seed, dynamics="mpe2"):
        return _edit_worlds(original(scenario, count, first_seed, dynamics), seed=first_seed)

    monkeypatch.setattr(parity, "mpe2_envs", edited)


def _event_counts(rewards):
    """(predator-prey touches, prey boundary-penalised steps) implied by rewards [..., 5]."""
    touches = np.rint(rewards[..., 0] / 10.0)
    boundary = -rewards[..., PREY] - 10.0 * touches
    return int(touches.sum()), int(np.sum(boundary > 0))


# constants and reset ------------------------------------------------------------------------------------


def test_constants_match_a_live_mpe2_world():
    env = make_reference_env(SCENARIO)
    env.reset(seed=0)
    env.reset(seed=1)  # the prey's accel survives resets
    world = env.unwrapped.world
    port = make_batched_env(SCENARIO, tf.float64)
    assert isinstance(port, BatchedTag) and port.name == SCENARIO
    assert (port.num_predators, port.num_obstacles, port.prey_accel, port.prey_max_speed) == (4, 1, 6.0, 1.3)
    assert WorldSpec.from_mpe2_world(world) == port.spec
    assert port.spec.sensitivity[:PREY + 1] == (3.0,) * NUM_PREDATORS + (6.0,)
    assert tuple(env.possible_agents) == port.agents == tuple(f"adversary_{i}" for i in range(4)) + ("agent_0",)
    assert tuple(env.observation_space(a).shape[0] for a in port.agents) == port.observation_sizes == (16,) * 4 + (14,)
    assert tuple(env.action_space(a).shape[0] for a in port.agents) == port.action_sizes == (5,) * 5
    assert [a.adversary for a in world.agents] == [True] * 4 + [False]
    assert len(world.landmarks) == 1 and not world.landmarks[0].boundary
    assert {tuple(a.color) for a in world.agents[:PREY]} == {PREDATOR_COLOR}
    assert tuple(world.agents[PREY].color) == PREY_COLOR
    assert tuple(world.landmarks[0].color) == OBSTACLE_COLOR


def test_default_ports_keep_pp1_and_pp2_layout():
    """The generalised constructor still builds PP1/PP2 as before: names, counts and the class-level layout."""
    for scenario in ("tag_pp1", "tag_pp2"):
        port = make_batched_env(scenario)
        assert port.name == scenario and (port.num_predators, port.num_obstacles, port.prey_accel) == (3, 3, 4.0)
        assert (port.agents, port.observation_sizes, port.action_sizes) == (
            BatchedTag.agents, BatchedTag.observation_sizes, BatchedTag.action_sizes)
    assert BatchedTag(prey_max_speed=2.0).name == "tag_pp2"
    assert BatchedTag(num_predators=4, num_obstacles=1, prey_accel=6.0).name == SCENARIO


@pytest.mark.parametrize("dtype", [tf.float32, tf.float64])
def test_reset_draws(dtype):
    from maddpg.population_random import PopulationRandom

    port = make_batched_env(SCENARIO, dtype)
    state = port.reset(PopulationRandom([0, 1]), 300)
    assert state.positions.shape == (2, 300, 6, 2) and state.positions.dtype == dtype
    assert state.velocities.shape == (2, 300, 6, 2) and state.communication.shape == (2, 300, 5, 2)
    positions = np.abs(state.positions.numpy())
    agents, obstacle = positions[:, :, :OBSTACLE], positions[:, :, OBSTACLE:]
    assert agents.max() <= AGENT_RANGE and agents.max() > 0.98
    assert obstacle.max() <= OBSTACLE_RANGE and obstacle.max() > 0.85
    assert not np.allclose(positions[0], positions[1])  # independent members
    assert np.all(state.velocities.numpy() == 0) and np.all(state.communication.numpy() == 0)
    observations = port.observe(state)
    assert [o.shape for o in observations] == [(2, 300, n) for n in port.observation_sizes]
    rewards = port.rewards(state)
    assert rewards.shape == (2, 300, 5)


# free running and teacher forced, from worlds with forced touches -------------------------------------------


def _assert_events(port):
    """The compared steps (their rewards agreed with mpe2's) held touches and boundary penalties."""
    touches, boundary_steps = _event_counts(np.array(port.rewards))
    assert touches >= 40 and boundary_steps >= 150, (touches, boundary_steps)


@pytest.mark.parametrize("kind", ["soft", "one_hot"])
@pytest.mark.parametrize("dtype", [tf.float64, tf.float32])
def test_free_running_episodes_match_mpe2(forced_touches, kind, dtype):
    port = _RecordingPort(make_batched_env(SCENARIO, dtype))
    report = parity.free_running(port, SCENARIO, num_envs=NUM_ENVS, kind=kind)
    if dtype == tf.float64:
        assert_parity_within(report, F64_TOLERANCE)
    else:
        assert_parity_within(report, F32_EPISODE_TOLERANCE)
    _assert_events(port)


@pytest.mark.parametrize("dtype", [tf.float64, tf.float32])
def test_teacher_forced_steps_match_mpe2(forced_touches, dtype):
    port = _RecordingPort(make_batched_env(SCENARIO, dtype))
    report = parity.teacher_forced(port, SCENARIO, num_envs=NUM_ENVS)
    assert_parity_within(report, F64_TOLERANCE if dtype == tf.float64 else F32_STEP_TOLERANCE)
    _assert_events(port)


# metrics -----------------------------------------------------------------------------------------------


def test_tag_metrics_count_ensemble_tag_touches_as_mpe2_benchmark_data():
    """TagMetrics (registered for ensemble_tag) counts all 4 predators' touches: mpe2's benchmark_data, summed."""
    metrics = scenario_metrics(SCENARIO)
    assert isinstance(metrics, TagMetrics)
    env = make_reference_env(SCENARIO, benchmark_data=True)
    world = env.unwrapped.world
    rng = np.random.default_rng(0)
    benchmark_touches, predator_returns = [], []
    for episode in range(6):
        env.reset(seed=100 + episode)
        metrics.start_episode(world)
        touches = predator_return = 0.0
        while env.agents:
            prey = world.agents[PREY].state.p_pos
            actions = {}
            for agent in world.agents:  # predators push toward the prey, the prey moves at random
                if agent.adversary:
                    dx, dy = prey - agent.state.p_pos
                    action = np.array([0.0, max(-dx, 0), max(dx, 0), max(-dy, 0), max(dy, 0)])
                    actions[agent.name] = action / max(action.sum(), 1e-9)
                else:
                    actions[agent.name] = rng.dirichlet(np.ones(5))
            _, rewards, _, _, infos = env.step(to_env_actions(actions))
            metrics.after_step(world)
            touches += sum(infos[f"adversary_{i}"]["benchmark_data"] for i in range(NUM_PREDATORS))
            predator_return += rewards["adversary_0"]
        metrics.end_episode(world)
        benchmark_touches.append(touches)
        predator_returns.append(predator_return)
    summary = metrics.summary()
    assert np.sum(benchmark_touches) >= 30, benchmark_touches  # the chase makes contact
    assert summary["prey_touches_per_episode"] == np.mean(benchmark_touches)
    assert summary["prey_touches_per_episode"] == pytest.approx(np.mean(predator_returns) / 10, abs=1e-9)
