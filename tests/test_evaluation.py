"""Table 1's metrics on hand-built mpe2 states, and the mpe2 evaluation loop."""

import numpy as np
import pytest
from conftest import record_episode

from envs.reference import make_reference_env
from maddpg.evaluation import evaluate_member, greedy_action, play_episodes, sample_soft_action
from maddpg.metrics import scenario_metrics
from maddpg.metrics.speaker_listener import SpeakerListenerMetrics
from maddpg.stats import mean_and_ci


def _world_with_listener_at(offset):
    env = make_reference_env("speaker_listener")
    env.reset(seed=0)
    world = env.unwrapped.world
    goal = world.agents[0].goal_b
    world.agents[1].state.p_pos = goal.state.p_pos + np.asarray(offset, dtype=float)
    return world


def test_listener_on_the_goal_counts_as_reached_and_distance_zero():
    metrics = scenario_metrics("speaker_listener")
    world = _world_with_listener_at([0.0, 0.0])
    record_episode(metrics, [world] * 25)
    summary = metrics.summary()
    assert summary["target_reach_percent"] == 100.0 and summary["mean_squared_distance"] == 0.0


def test_reach_threshold_is_twice_the_listener_size():
    metrics = SpeakerListenerMetrics()
    inside, outside = _world_with_listener_at([0.149, 0.0]), _world_with_listener_at([0.0, 0.151])
    assert inside.agents[1].size == 0.075
    record_episode(metrics, [_world_with_listener_at([1.0, 0.0]), inside])
    record_episode(metrics, [_world_with_listener_at([0.0, 0.0]), outside])
    summary = metrics.summary()
    assert summary["target_reach_percent"] == 50.0
    # average distance: mean over steps of squared distance, then over episodes.
    np.testing.assert_allclose(summary["mean_squared_distance"], ((1 + 0.149**2) / 2 + 0.151**2 / 2) / 2)
    np.testing.assert_allclose(summary["final_distance"], (0.149 + 0.151) / 2)


def test_evaluation_is_deterministic_and_in_range():
    rng = np.random.default_rng(0)
    networks = [[(rng.normal(size=(o, 4)), np.zeros(4)), (rng.normal(size=(4, a)), np.zeros(a))]
                for o, a in ((3, 3), (11, 5))]
    first = evaluate_member("speaker_listener", networks, seed=3, episodes=3)
    assert first == evaluate_member("speaker_listener", networks, seed=3, episodes=3)
    assert 0 <= first["target_reach_percent"] <= 100 and first["mean_squared_distance"] > 0
    assert first["mean_episode_reward"] == pytest.approx(-2 * 25 * first["mean_squared_distance"], rel=1e-6)
    assert first["agents_episode_reward"] == first["mean_episode_reward"]  # one team holds both agents


def test_greedy_evaluation_sends_the_argmax_and_keeps_the_episodes():
    np.testing.assert_array_equal(greedy_action(np.array([0.1, 2.0, -1.0, 2.0])), [0, 1, 0, 0])
    rng = np.random.default_rng(0)
    networks = [[(rng.normal(size=(o, 4)), np.zeros(4)), (rng.normal(size=(4, a)), np.zeros(a))]
                for o, a in ((3, 3), (11, 5))]
    sent = []

    class Recorder:  # an env wrapper that records what the loop sends
        def __init__(self, env):
            self.env, self.unwrapped, self.possible_agents = env, env.unwrapped, env.possible_agents

        def __getattr__(self, name):
            return getattr(self.env, name)

        def step(self, actions):
            sent.append(actions)
            return self.env.step(actions)

    list(play_episodes(Recorder(make_reference_env("speaker_listener")), networks, seed=3, episodes=1, greedy=True))
    assert sent and all(set(np.unique(a)) <= {0.0, 1.0} and a.sum() == 1 for step in sent for a in step.values())
    greedy = evaluate_member("speaker_listener", networks, seed=3, episodes=3, greedy=True)
    assert greedy == evaluate_member("speaker_listener", networks, seed=3, episodes=3, greedy=True)
    assert greedy != evaluate_member("speaker_listener", networks, seed=3, episodes=3)


def test_soft_action_sample_is_on_the_simplex():
    action = sample_soft_action(np.array([1.0, -2.0, 0.5]), np.random.default_rng(1))
    assert action.shape == (3,) and np.all(action >= 0) and action.sum() == pytest.approx(1.0)


def test_mean_and_ci():
    mean, low, high, n = mean_and_ci([1.0, 2.0, 3.0, 4.0])
    assert mean == 2.5 and n == 4 and 1.0 <= low < 2.5 < high <= 4.0
    assert mean_and_ci([1.0, 2.0, 3.0, 4.0]) == (mean, low, high, n)  # fixed random state
    assert mean_and_ci([2.0, 2.0]) == (2.0, 2.0, 2.0, 2)
    single = mean_and_ci([5.0])
    assert single[0] == 5.0 and np.isnan(single[1]) and single[3] == 1
