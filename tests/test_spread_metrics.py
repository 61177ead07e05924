"""Table 2's metrics (cooperative navigation) on hand-built mpe2 states with known answers. No TensorFlow."""

import numpy as np
import pytest
from conftest import record_episode

from envs.reference import make_reference_env
from maddpg.metrics import scenario_metrics
from maddpg.metrics.spread import SpreadMetrics


def _world(n, agents, landmarks):
    """A reset spread world with agents and landmarks placed at the given positions."""
    env = make_reference_env(f"spread_n{n}")
    env.reset(seed=0)
    world = env.unwrapped.world
    for entity, position in zip(world.agents + world.landmarks, list(agents) + list(landmarks)):
        entity.state.p_pos = np.asarray(position, dtype=np.float64)
    return world


LANDMARKS_3 = [(-1.0, 0.0), (0.0, 0.0), (1.0, 0.0)]


def test_agents_on_the_landmarks_give_zero_distance_and_full_occupancy():
    metrics = scenario_metrics("spread_n3")
    assert isinstance(metrics, SpreadMetrics)
    record_episode(metrics, [_world(3, LANDMARKS_3, LANDMARKS_3)] * 25)
    summary = metrics.summary()
    assert {k: summary[k] for k in ("average_distance", "collisions_per_episode", "occupied_landmarks")} == {
        "average_distance": 0.0, "collisions_per_episode": 0.0, "occupied_landmarks": 3.0}


def test_distance_sums_each_landmarks_nearest_agent_without_assignment():
    # agent_0 is nearest to landmarks 0 (0.5 away) and 1 (0.5 away); agent_1 sits 0.3-0.4-0.5 from landmark 2.
    far = _world(3, [(-0.5, 0.0), (1.3, 0.4), (5.0, 5.0)], LANDMARKS_3)
    near = _world(3, LANDMARKS_3, LANDMARKS_3)
    metrics = SpreadMetrics()
    record_episode(metrics, [far, near])  # per-step sums 1.5 and 0 -> episode mean 0.75
    record_episode(metrics, [far])  # 1.5
    np.testing.assert_allclose(metrics.summary()["average_distance"], (0.75 + 1.5) / 2)


def test_collisions_count_distinct_pairs_per_step_never_self():
    # All three agents within 0.3 of each other: 3 pairs (self-contact would add 3 more).
    clump = _world(3, [(0.0, 0.0), (0.2, 0.0), (0.1, 0.15)], LANDMARKS_3)
    # Contact is strict at the sum of radii 0.3: 0.2999 touches, 0.3001 does not.
    one_pair = _world(3, [(0.0, 0.0), (0.2999, 0.0), (-0.3001, 0.0)], LANDMARKS_3)
    apart = _world(3, [(0.0, 0.0), (1.0, 0.0), (-1.0, 0.0)], LANDMARKS_3)
    metrics = SpreadMetrics()
    record_episode(metrics, [clump, clump, one_pair] + [apart] * 22)  # 3 + 3 + 1 = 7
    record_episode(metrics, [apart] * 25)  # 0
    assert metrics.summary()["collisions_per_episode"] == 3.5


def test_occupied_landmarks_threshold_is_a_tenth():
    inside = _world(3, [(-1.0, 0.099), (0.0, 0.101), (1.0, 0.0)], LANDMARKS_3)
    metrics = SpreadMetrics()
    record_episode(metrics, [inside, _world(3, LANDMARKS_3, LANDMARKS_3)])  # 2 then 3 -> 2.5
    assert metrics.summary()["occupied_landmarks"] == 2.5


def test_six_agents():
    landmarks = [(float(i), 0.0) for i in range(6)]
    agents = [(float(i), 0.2) for i in range(6)]  # each 0.2 above its landmark, neighbours 1 apart
    agents[5] = (4.1, 0.2)  # touches agent_4 (0.1 apart); landmark 5's nearest is agent_5, hypot(0.9, 0.2) away
    metrics = scenario_metrics("spread_n6")
    record_episode(metrics, [_world(6, agents, landmarks)])
    summary = metrics.summary()
    np.testing.assert_allclose(summary["average_distance"], 5 * 0.2 + np.hypot(0.9, 0.2))
    assert summary["collisions_per_episode"] == 1.0 and summary["occupied_landmarks"] == 0.0


@pytest.mark.parametrize("scenario", ["spread_n3", "spread_n6"])
def test_metrics_agree_with_mpe2_benchmark_data(scenario):
    """On random episodes, per step: distance = benchmark min_dists, pairs = half the summed per-agent
    benchmark collisions, occupied = benchmark occupied_landmarks."""
    env = make_reference_env(scenario, benchmark_data=True)
    world = env.unwrapped.world
    rng = np.random.default_rng(0)
    metrics = SpreadMetrics()
    distances, occupied, pairs = [], [], []  # per episode
    for episode in range(4):
        env.reset(seed=episode)
        for entity in world.entities:  # crowd everything into a small box so contacts and occupancy happen
            entity.state.p_pos = rng.uniform(-0.4, 0.4, 2)
        metrics.start_episode(world)
        step_distances, step_occupied, episode_pairs = [], [], 0
        while env.agents:
            actions = {a: rng.dirichlet(np.full(5, 0.3)).astype(np.float32) for a in env.agents}
            _, _, _, _, infos = env.step(actions)
            metrics.after_step(world)
            bench = [infos[a]["benchmark_data"] for a in env.possible_agents]  # (rew, collisions, min_dists, occ)
            step_distances.append(bench[0][2])
            step_occupied.append(bench[0][3])
            episode_pairs += sum(b[1] for b in bench) / 2
        metrics.end_episode(world)
        distances.append(np.mean(step_distances))
        occupied.append(np.mean(step_occupied))
        pairs.append(episode_pairs)
    summary = metrics.summary()
    np.testing.assert_allclose(summary["average_distance"], np.mean(distances), rtol=1e-12)
    assert summary["occupied_landmarks"] == np.mean(occupied) > 0
    assert summary["collisions_per_episode"] == np.mean(pairs) > 0


def test_collision_counts_agree_with_mpe2_benchmark_on_contacts():
    """A clump of 4 touching agents among 6: 6 pairs by us, 12 per-agent collisions by mpe2's benchmark."""
    env = make_reference_env("spread_n6", benchmark_data=True)
    env.reset(seed=1)
    world = env.unwrapped.world
    positions = [(0.0, 0.0), (0.1, 0.0), (0.0, 0.1), (0.1, 0.1), (2.0, 2.0), (-2.0, -2.0)]
    for agent, position in zip(world.agents, positions):
        agent.state.p_pos = np.asarray(position, dtype=np.float64)
        agent.state.p_vel = np.zeros(2)
    _, _, _, _, infos = env.step({a: np.eye(5, dtype=np.float32)[0] for a in env.agents})  # nobody moves yet
    metrics = SpreadMetrics()
    record_episode(metrics, [world])
    benchmark_collisions = sum(infos[a]["benchmark_data"][1] for a in env.possible_agents)
    assert benchmark_collisions == 12
    assert metrics.summary()["collisions_per_episode"] == benchmark_collisions / 2 == 6


def test_collision_alternatives_per_step_final_and_2017_self_count():
    """Pairs (0.2 apart < 0.3) on 5 of 25 steps, then three agents in one clump (3 pairs) on the last step."""
    metrics = SpreadMetrics()
    apart = _world(3, [(-0.6, 0.0), (0.0, 0.0), (0.6, 0.0)], LANDMARKS_3)
    one_pair = _world(3, [(-0.6, 0.0), (0.0, 0.0), (0.2, 0.0)], LANDMARKS_3)
    clump = _world(3, [(0.0, 0.0), (0.1, 0.0), (0.0, 0.1)], LANDMARKS_3)
    record_episode(metrics, [one_pair] * 5 + [apart] * 19 + [clump])
    summary = metrics.summary()
    assert summary["collisions_per_episode"] == 8  # 5 x 1 + 3
    assert summary["collisions_per_step"] == pytest.approx(8 / 25)
    assert summary["final_collisions"] == 3
    assert summary["collisions_2017_benchmark"] == 3 * 25 + 2 * 8  # self once per agent and step, pairs twice
    # Last step: landmark (-1, 0) is 1.0 from (0, 0); (0, 0) is 0; (1, 0) is 0.9 from (0.1, 0).
    assert summary["final_distance"] == pytest.approx(1.9)
