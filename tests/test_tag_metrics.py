"""Table 3's metrics on hand-built mpe2 predator-prey states, and against mpe2's own benchmark data."""

import numpy as np
import pytest
from conftest import record_episode

from envs.reference import make_reference_env, to_env_actions
from maddpg.metrics import scenario_metrics
from maddpg.metrics.tag import TagMetrics, prey_outside_box, prey_touch_counts

PREDATORS, PREY = (0, 1, 2), 3


def _world(prey_at=(0.0, 0.0), predator_offsets=((0.5, 0.5), (0.5, -0.5), (-0.5, 0.5)), scenario="tag_pp1"):
    """A reset tag world with the prey at `prey_at` and predator i at prey + predator_offsets[i]."""
    env = make_reference_env(scenario)
    env.reset(seed=0)
    world = env.unwrapped.world
    world.agents[PREY].state.p_pos = np.asarray(prey_at, dtype=float)
    for i, offset in zip(PREDATORS, predator_offsets):
        world.agents[i].state.p_pos = world.agents[PREY].state.p_pos + np.asarray(offset, dtype=float)
    return world


def test_registered_for_both_variants():
    for scenario in ("tag_pp1", "tag_pp2"):
        metrics = scenario_metrics(scenario)
        assert isinstance(metrics, TagMetrics) and "prey_touches_per_episode" in metrics.names


def test_no_contact_no_touches():
    metrics = TagMetrics()
    record_episode(metrics, [_world()] * 25)
    assert metrics.summary() == dict.fromkeys(TagMetrics.names, 0.0)


def test_touch_threshold_is_the_sum_of_radii_strictly():
    world = _world()
    assert world.agents[0].size + world.agents[PREY].size == 0.125
    near = _world(predator_offsets=((0.1249, 0.0), (0.0, -0.1251), (0.5, 0.5)))
    assert prey_touch_counts(near) == [1]  # 0.1249 touches, 0.1251 does not
    # Centre distances of exactly 0.125 (binary-exact offsets from the origin) and 0.0625.
    exact = _world(predator_offsets=((0.125, 0.0), (0.0, 0.0625), (0.5, 0.5)))
    assert prey_touch_counts(exact) == [1]  # 0.125 is not a touch (strict), 0.0625 is


def test_touches_sum_predators_and_steps_and_average_over_episodes():
    metrics = TagMetrics()
    two = _world(predator_offsets=((0.1, 0.0), (0.0, -0.05), (0.5, 0.5)))  # 2 predators touching
    three = _world(predator_offsets=((0.1, 0.0), (0.0, -0.05), (-0.02, 0.03)))  # all 3
    none = _world()
    # Episode 1: 3 steps with 2 touches, 2 with 3, 20 with none -> 12 touches, 5 caught steps.
    record_episode(metrics, [two] * 3 + [three] * 2 + [none] * 20)
    # Episode 2: 25 steps with none.
    record_episode(metrics, [none] * 25)
    summary = metrics.summary()
    assert summary["prey_touches_per_episode"] == 6.0
    assert summary["prey_caught_steps"] == 2.5
    # The alternatives: (12 / 25 + 0) / 2 per step, 6 / 3 per predator, 1 of 2 episodes with a touch.
    assert summary["prey_touches_per_step"] == pytest.approx(0.24)
    assert summary["prey_touches_per_predator"] == pytest.approx(2.0)
    assert summary["prey_caught_percent"] == 50.0


def test_boundary_steps_count_a_prey_outside_the_unit_box_strictly():
    assert not prey_outside_box(_world(prey_at=(1.0, -1.0)))
    assert prey_outside_box(_world(prey_at=(1.01, 0.0)))
    assert prey_outside_box(_world(prey_at=(0.0, -1.2)))
    metrics = TagMetrics()
    # Predators far away; the prey's position is what matters.
    steps = ([_world(prey_at=(0.99, 0.99))] * 10 + [_world(prey_at=(-1.5, 0.3))] * 4
             + [_world(prey_at=(0.2, 3.0))] * 3 + [_world(prey_at=(0.0, 0.0))] * 8)
    record_episode(metrics, steps)
    record_episode(metrics, [_world(prey_at=(0.0, 0.0))] * 25)
    assert metrics.summary()["prey_boundary_steps"] == 3.5


def _chasing_actions(world, rng):
    """Predators push toward the prey, the prey moves at random: soft [no-op, left, right, down, up] vectors."""
    actions = {}
    prey = world.agents[PREY].state.p_pos
    for agent in world.agents:
        if agent.adversary:
            direction = prey - agent.state.p_pos
            action = np.array([0.0, max(-direction[0], 0), max(direction[0], 0), max(-direction[1], 0),
                               max(direction[1], 0)])
            action = action / max(action.sum(), 1e-9)
        else:
            action = rng.dirichlet(np.ones(5))
        actions[agent.name] = action
    return actions


@pytest.mark.parametrize("scenario", ["tag_pp1", "tag_pp2"])
def test_touches_equal_mpe2_benchmark_data_and_predator_returns(scenario):
    """Summed over predators and steps, mpe2's benchmark_data is our touch count; a predator's return is 10x it."""
    env = make_reference_env(scenario, benchmark_data=True)
    world = env.unwrapped.world
    rng = np.random.default_rng(0)
    metrics = TagMetrics()
    benchmark_touches, predator_returns = [], []
    for episode in range(8):
        env.reset(seed=100 + episode)
        metrics.start_episode(world)
        touches = predator_return = 0.0
        while env.agents:
            _, rewards, _, _, infos = env.step(to_env_actions(_chasing_actions(world, rng)))
            metrics.after_step(world)
            touches += sum(infos[f"adversary_{i}"]["benchmark_data"] for i in PREDATORS)
            predator_return += rewards["adversary_0"]
        metrics.end_episode(world)
        benchmark_touches.append(touches)
        predator_returns.append(predator_return)
    summary = metrics.summary()
    assert np.sum(benchmark_touches) >= 10  # the chase makes contact: the comparison is not vacuous
    assert summary["prey_touches_per_episode"] == np.mean(benchmark_touches)
    assert summary["prey_touches_per_episode"] == pytest.approx(np.mean(predator_returns) / 10, abs=1e-9)
    assert summary["prey_caught_steps"] <= summary["prey_touches_per_episode"]
