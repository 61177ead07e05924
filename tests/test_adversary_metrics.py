"""Table 4 / Table 6b metrics of physical deception on hand-built mpe2 states with known answers."""

import numpy as np
import pytest
from conftest import record_episode

from envs.reference import make_reference_env
from maddpg.metrics import scenario_metrics
from maddpg.metrics.adversary import AdversaryMetrics

FAR = [0.9, 0.0]


def _world(scenario="adversary_n2", adversary=FAR, good=None, seed=0):
    """A reset world with each agent placed at goal + offset (good: one offset per good agent, default FAR)."""
    env = make_reference_env(scenario)
    env.reset(seed=seed)
    world = env.unwrapped.world
    goal = world.agents[0].goal_a.state.p_pos
    num_good = len(world.agents) - 1
    good = good if good is not None else [FAR] * num_good
    for agent, offset in zip(world.agents, [adversary] + list(good)):
        agent.state.p_pos = goal + np.asarray(offset, dtype=float)
    return world


def test_registered_for_both_variants_with_the_fixed_names():
    for scenario in ("adversary_n2", "adversary_n4"):
        metrics = scenario_metrics(scenario)
        assert isinstance(metrics, AdversaryMetrics)
        for name in ("agent_success_percent", "adversary_success_percent", "success_difference",
                     "adversary_goal_frames", "agent_goal_frames"):
            assert name in metrics.names


def test_thresholds_are_twice_each_agents_own_size():
    world = _world()
    assert {a.size for a in world.agents} == {0.15}
    metrics = AdversaryMetrics()
    # Episode 1: adversary just inside 0.3, good agents just outside. Episode 2: the reverse.
    record_episode(metrics, [_world(adversary=[0.0, 0.299], good=[[0.301, 0.0], [0.0, -0.301]])])
    record_episode(metrics, [_world(adversary=[-0.301, 0.0], good=[FAR, [0.2, 0.2]])])
    summary = metrics.summary()
    assert summary["agent_success_percent"] == 50.0 and summary["adversary_success_percent"] == 50.0
    assert summary["success_difference"] == 0.0
    np.testing.assert_allclose(summary["adversary_final_distance"], (0.299 + 0.301) / 2)
    np.testing.assert_allclose(summary["agent_final_distance"], (0.301 + np.hypot(0.2, 0.2)) / 2)


def test_sizes_are_read_from_the_world():
    """Doubling an agent's size doubles its radius: nothing is hard-coded."""
    inside_only_if_bigger = _world(adversary=[0.45, 0.0], good=[FAR, [0.0, 0.45]])
    metrics = AdversaryMetrics()
    record_episode(metrics, [inside_only_if_bigger])
    for agent in inside_only_if_bigger.agents:
        agent.size = 0.3
    record_episode(metrics, [inside_only_if_bigger])
    summary = metrics.summary()
    assert summary["agent_success_percent"] == 50.0 and summary["adversary_success_percent"] == 50.0


def test_the_nearest_good_agent_counts_and_is_chosen_each_step():
    """N=4: whichever good agent is nearest is the one tested; the others are decoys."""
    on_goal_third = _world("adversary_n4", good=[FAR, FAR, [0.1, 0.0], [0.5, 0.5]])
    on_goal_first = _world("adversary_n4", good=[[0.0, -0.2], FAR, [0.4, 0.0], FAR])
    nobody = _world("adversary_n4", good=[[0.0, 0.35], FAR, [0.31, 0.0], FAR])
    metrics = AdversaryMetrics()
    record_episode(metrics, [on_goal_third] * 10 + [nobody] * 5 + [on_goal_first] * 10)
    summary = metrics.summary()
    assert summary["agent_goal_frames"] == 20.0 and summary["agent_success_percent"] == 100.0
    assert summary["adversary_goal_frames"] == 0.0 and summary["adversary_success_percent"] == 0.0
    assert summary["success_difference"] == 100.0
    np.testing.assert_allclose(summary["agent_final_distance"], 0.2)


def test_goal_frames_count_steps_at_the_goal_and_average_over_episodes():
    """Table 6b: frames after which the adversary is within 2 x its size of the goal, over 25 steps."""
    at_goal = _world(adversary=[0.05, -0.1], good=[[0.0, 0.25], FAR])
    away = _world(adversary=[0.0, 0.5], good=[FAR, FAR])
    metrics = AdversaryMetrics()
    record_episode(metrics, [away] * 18 + [at_goal] * 7)  # adversary 7 frames, ends at the goal
    record_episode(metrics, [at_goal] * 3 + [away] * 22)  # 3 frames, ends away
    summary = metrics.summary()
    assert summary["adversary_goal_frames"] == 5.0 and summary["agent_goal_frames"] == 5.0
    assert summary["adversary_success_percent"] == 50.0 and summary["agent_success_percent"] == 50.0


def test_reset_state_is_not_a_frame():
    """start_episode sees the reset world; only worlds after steps count."""
    metrics = AdversaryMetrics()
    metrics.start_episode(_world(adversary=[0.0, 0.0], good=[[0.0, 0.0], FAR]))
    away = _world()
    for _ in range(25):
        metrics.after_step(away)
    metrics.end_episode(away)
    summary = metrics.summary()
    assert summary["adversary_goal_frames"] == 0.0 and summary["agent_goal_frames"] == 0.0


def test_goal_is_the_worlds_goal_landmark_not_another():
    world = _world()
    other = next(l for l in world.landmarks if l is not world.agents[0].goal_a)
    world.agents[0].state.p_pos = other.state.p_pos.copy()
    world.agents[1].state.p_pos = other.state.p_pos.copy()
    goal_gap = np.linalg.norm(other.state.p_pos - world.agents[0].goal_a.state.p_pos)
    metrics = AdversaryMetrics()
    record_episode(metrics, [world])
    summary = metrics.summary()
    assert summary["adversary_success_percent"] == (100.0 if goal_gap < 0.3 else 0.0)
    np.testing.assert_allclose(summary["adversary_final_distance"], goal_gap)


def test_no_tensorflow_import():
    import subprocess
    import sys

    code = "import sys, maddpg.metrics.adversary; sys.exit('tensorflow' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


@pytest.mark.parametrize("scenario", ["adversary_n2", "adversary_n4"])
def test_random_episode_counts_are_in_range(scenario):
    env = make_reference_env(scenario)
    metrics = scenario_metrics(scenario)
    rng = np.random.default_rng(0)
    for episode in range(3):
        env.reset(seed=episode)
        world = env.unwrapped.world
        metrics.start_episode(world)
        while env.agents:
            env.step({a: rng.random(5).astype(np.float32) for a in env.agents})
            metrics.after_step(world)
        metrics.end_episode(world)
    summary = metrics.summary()
    assert set(summary) == set(metrics.names)
    assert 0 <= summary["agent_goal_frames"] <= 25 and 0 <= summary["adversary_goal_frames"] <= 25
    assert summary["success_difference"] == summary["agent_success_percent"] - summary["adversary_success_percent"]


def _place_landmarks(world, positions):
    """Moves the goal landmark to positions[0] and the others to positions[1:], in landmark order."""
    goal = world.agents[0].goal_a
    others = [lm for lm in world.landmarks if lm is not goal]
    for landmark, position in zip([goal] + others, positions):
        landmark.state.p_pos = np.asarray(position, dtype=float)


def test_nearest_landmark_and_landmark_radius_readings():
    """Goal at the origin, the other landmark at (1, 0); offsets are from the goal."""
    metrics = AdversaryMetrics()
    # Episode 1, every step: adversary 0.2 from the goal (nearest yes, 0.16 no, 0.3 yes); good agents at
    # x = 0.45 (nearest yes, both radii no) and x = 0.9 (nearest no).
    world = _world(adversary=[0.2, 0.0], good=[[0.45, 0.0], [0.9, 0.0]])
    _place_landmarks(world, [[0.0, 0.0], [1.0, 0.0]])
    for agent, x in zip(world.agents, [0.2, 0.45, 0.9]):
        agent.state.p_pos = np.array([x, 0.0])
    record_episode(metrics, [world] * 25)
    # Episode 2, every step: adversary at x = 0.55 (nearer the other landmark); a good agent 0.1 from the goal.
    world2 = _world(adversary=[0.0, 0.0], good=[[0.0, 0.0], [0.0, 0.0]])
    _place_landmarks(world2, [[0.0, 0.0], [1.0, 0.0]])
    for agent, x in zip(world2.agents, [0.55, 0.1, 0.9]):
        agent.state.p_pos = np.array([x, 0.0])
    record_episode(metrics, [world2] * 25)
    summary = metrics.summary()
    assert summary["agent_success_percent_nearest"] == 100.0
    assert summary["adversary_success_percent_nearest"] == 50.0
    assert summary["success_difference_nearest"] == 50.0
    assert summary["adversary_goal_frames_nearest"] == 12.5
    assert summary["agent_goal_frames_nearest"] == 25.0
    assert summary["agent_success_percent_landmark_radius"] == 50.0  # 0.1 < 0.16 in episode 2 only
    assert summary["adversary_success_percent_landmark_radius"] == 0.0  # 0.2 and 0.55, both >= 0.16
    assert summary["agent_goal_frames_landmark_radius"] == 12.5
    # The agent-size reading (0.3) is unchanged: adversary inside in episode 1; a good agent in episode 2.
    assert summary["adversary_success_percent"] == 50.0
    assert summary["agent_success_percent"] == 50.0
