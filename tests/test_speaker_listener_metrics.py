"""Table 1's metrics (cooperative communication) on hand-built mpe2 states with known answers. No TensorFlow."""

import numpy as np
import pytest
from conftest import record_episode

from envs.reference import make_reference_env
from maddpg.metrics import scenario_metrics
from maddpg.metrics.speaker_listener import SpeakerListenerMetrics, listener_nearest_is_goal


def _world(listener_at, landmarks=((0.0, 0.0), (1.0, 0.0), (0.0, 1.0)), goal=0):
    """A reset speaker-listener world: landmarks placed by hand, landmark `goal` made the goal."""
    env = make_reference_env("speaker_listener")
    env.reset(seed=0)
    world = env.unwrapped.world
    for landmark, position in zip(world.landmarks, landmarks):
        landmark.state.p_pos = np.asarray(position, dtype=float)
    world.agents[0].goal_b = world.landmarks[goal]
    world.agents[1].state.p_pos = np.asarray(listener_at, dtype=float)
    return world


def test_registered_with_the_chosen_and_the_old_names():
    metrics = scenario_metrics("speaker_listener")
    assert isinstance(metrics, SpeakerListenerMetrics)
    assert metrics.names[:2] == ("target_reach_nearest_percent", "final_squared_distance")
    assert {"target_reach_percent", "mean_squared_distance", "final_distance"} <= set(metrics.names)


def test_nearest_reach_needs_no_radius_and_a_tie_misses():
    assert listener_nearest_is_goal(_world((0.45, 0.0)))  # 0.45 from the goal, 0.55 from (1, 0)
    assert not listener_nearest_is_goal(_world((0.6, 0.0)))
    assert not listener_nearest_is_goal(_world((0.5, 0.0)))  # equidistant from (0, 0) and (1, 0)
    assert listener_nearest_is_goal(_world((0.6, 0.0), goal=1))


def test_final_step_readings_against_the_per_step_average():
    metrics = SpeakerListenerMetrics()
    # Episode 1: 24 steps at (0.0, 0.8) (nearer (0, 1)), last step at (0.3, 0.4): 0.5 from the goal, nearest
    # to it (0.81 from (1, 0), 0.67 from (0, 1)), outside 0.15.
    record_episode(metrics, [_world((0.0, 0.8))] * 24 + [_world((0.3, 0.4))])
    # Episode 2: 25 steps at (0.1, 0.0): 0.1 from the goal, inside 0.15.
    record_episode(metrics, [_world((0.1, 0.0))] * 25)
    summary = metrics.summary()
    assert summary["target_reach_nearest_percent"] == 100.0
    assert summary["final_squared_distance"] == pytest.approx((0.25 + 0.01) / 2)
    assert summary["target_reach_percent"] == 50.0
    assert summary["mean_squared_distance"] == pytest.approx(((24 * 0.64 + 0.25) / 25 + 0.01) / 2)
    assert summary["final_distance"] == pytest.approx((0.5 + 0.1) / 2)
