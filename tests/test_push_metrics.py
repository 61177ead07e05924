"""Keep-away metrics (Table 6a) on hand-built mpe2 states with known answers."""

import numpy as np
import pytest

from envs.reference import make_reference_env
from maddpg.metrics import scenario_metrics
from maddpg.metrics.push import PushMetrics


def _world(seed=0):
    env = make_reference_env("push")
    env.reset(seed=seed)
    return env.unwrapped.world


def _place(world, adversary_offset, agent_offset):
    """Puts each agent at the goal's centre plus an offset."""
    goal = world.agents[1].goal_a.state.p_pos
    world.agents[0].state.p_pos = goal + np.asarray(adversary_offset, dtype=float)
    world.agents[1].state.p_pos = goal + np.asarray(agent_offset, dtype=float)


def _episode(metrics, world, offsets):
    """One episode whose step t leaves the agents at offsets[t] = (adversary offset, agent offset)."""
    metrics.start_episode(world)
    for adversary_offset, agent_offset in offsets:
        _place(world, adversary_offset, agent_offset)
        metrics.after_step(world)
    metrics.end_episode(world)


def test_registered_and_named():
    metrics = scenario_metrics("push")
    assert isinstance(metrics, PushMetrics)
    assert metrics.names[:3] == ("adversary_goal_frames", "agent_goal_frames", "agent_final_distance")


def test_frames_count_steps_within_twice_the_size():
    world = _world()
    assert world.agents[0].size == world.agents[1].size == 0.05  # threshold 0.1
    metrics = PushMetrics()
    # 25 steps: the adversary holds the goal in 10 of them (0.099 inside, 0.101 outside), agent_0 in 3.
    offsets = [([0.0, 0.099], [0.5, 0.0])] * 10 + [([0.101, 0.0], [0.0, 0.06])] * 3
    offsets += [([0.3, 0.3], [0.07, 0.08])] * 12  # |(0.07, 0.08)| = 0.1063: outside
    _episode(metrics, world, offsets)
    # Second episode: the adversary never holds it, agent_0 sits on the goal throughout.
    _episode(metrics, world, [([1.0, 0.0], [0.0, 0.0])] * 25)
    summary = metrics.summary()
    assert set(summary) == set(PushMetrics.names)
    assert summary["adversary_goal_frames"] == pytest.approx((10 + 0) / 2)
    assert summary["agent_goal_frames"] == pytest.approx((3 + 25) / 2)
    np.testing.assert_allclose(summary["agent_final_distance"], (np.hypot(0.07, 0.08) + 0.0) / 2)


def test_goal_is_the_shared_goal_landmark_not_the_other_one():
    world = _world()
    goal = world.agents[1].goal_a
    other = next(l for l in world.landmarks if l is not goal)
    metrics = PushMetrics()
    metrics.start_episode(world)
    world.agents[0].state.p_pos = other.state.p_pos.copy()  # on the wrong landmark: not holding
    world.agents[1].state.p_pos = other.state.p_pos + np.array([0.01, 0.0])
    metrics.after_step(world)
    metrics.end_episode(world)
    summary = metrics.summary()
    assert summary["adversary_goal_frames"] == 0 and summary["agent_goal_frames"] == 0
    expected = np.linalg.norm(other.state.p_pos + np.array([0.01, 0.0]) - goal.state.p_pos)
    assert summary["agent_final_distance"] == pytest.approx(expected)


def test_threshold_follows_the_world_size():
    world = _world()
    world.agents[0].size = 0.2  # threshold 0.4 for the adversary only
    metrics = PushMetrics()
    _episode(metrics, world, [([0.3, 0.0], [0.3, 0.0])])
    summary = metrics.summary()
    assert summary["adversary_goal_frames"] == 1 and summary["agent_goal_frames"] == 0


def test_nearest_landmark_and_closer_than_the_agent_alternatives():
    world = _world()
    goal = world.agents[1].goal_a
    other = next(lm for lm in world.landmarks if lm is not goal)
    goal.state.p_pos = np.array([0.0, 0.0])
    other.state.p_pos = np.array([1.0, 0.0])
    metrics = PushMetrics()
    # 4 steps: adversary at 0.4 from the goal (0.6 from the other), agent at 0.2: nearest yes, closer no.
    # 3 steps: adversary at 0.3, agent at 0.5: nearest yes, closer yes.
    # 18 steps: adversary at x = 0.6 (nearer the other landmark), agent at 0.7: nearest no, closer yes.
    _episode(metrics, world, [((0.4, 0.0), (0.0, 0.2))] * 4 + [((0.3, 0.0), (-0.5, 0.0))] * 3
             + [((0.6, 0.0), (0.0, -0.7))] * 18)
    summary = metrics.summary()
    assert summary["adversary_goal_frames_nearest"] == 7
    assert summary["adversary_closer_frames"] == 21
    assert summary["adversary_goal_frames"] == 0  # never within 0.1
