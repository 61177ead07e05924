"""Shared fixtures: tiny configs that keep every TensorFlow test to seconds."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import pytest  # noqa: E402


def tiny_config(**overrides):
    """A run of a few seconds: 2 seeds, 200 episodes of 50 envs, small nets and batches, no XLA."""
    from maddpg.config import TrainConfig

    fields = dict(
        experiment="test", seeds=(0, 1), episodes=200, num_envs=50, hidden_units=8, batch_size=32,
        warmup_transitions=500, log_every_episodes=50, checkpoint_every_episodes=100, eval_episodes=2,
        jit_compile=False,
    )
    fields.update(overrides)
    return TrainConfig(**fields)


@pytest.fixture
def make_config():
    return tiny_config


def record_episode(metrics, worlds_after_each_step):
    """Feeds a scenario's EpisodeMetrics one episode: the worlds as they stand after each step."""
    metrics.start_episode(worlds_after_each_step[0])
    for world in worlds_after_each_step:
        metrics.after_step(world)
    metrics.end_episode(worlds_after_each_step[-1])


def assert_parity_within(report, tolerance, steps=25):
    """A report of envs.batched.parity: every compared quantity within tolerance, no reward event differs."""
    for name in ("positions", "velocities", "communication", "rewards", "observations"):
        assert report[name] <= tolerance, (name, report)
    assert report["reward_event_mismatches"] == 0
    assert report["steps"] == steps
