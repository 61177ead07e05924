"""Shared test set-up: tiny configs that keep every TensorFlow test to seconds, and the end-to-end files first."""

import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import pytest  # noqa: E402

# Scheduling under pytest-xdist (setup.cfg: -n 2).
# Files whose tests share a module fixture that trains or runs a script: each file goes to one worker, so the
# fixture is made once rather than once per worker, and no worker waits on another's.
SHARED_FIXTURE_FILES = (
    "test_cooperative_communication_cli.py", "test_training.py", "test_independent_baselines.py",
    "test_evaluate_cli.py", "test_pettingzoo_loop.py", "test_damaged_files.py",
)
# Files of end-to-end tests (a script's smoke run, the Ray driver, a module fixture that trains: tens of seconds
# a test), longest first. They are collected before the others, so the workers take them first and the run does
# not end with one worker alone on a long test. (The files above, as whole units, are handed out first.)
END_TO_END_FILES = (
    "test_paper_driver.py", "test_policy_ensembles.py", "test_paper_time.py", "test_experiment_scripts.py",
    *SHARED_FIXTURE_FILES,
)


def pytest_collection_modifyitems(items):
    def rank(item):
        name = item.path.name
        return END_TO_END_FILES.index(name) if name in END_TO_END_FILES else len(END_TO_END_FILES)

    items.sort(key=rank)  # stable: the other files keep their order


@pytest.hookimpl(optionalhook=True)  # a hook of pytest-xdist, absent under -p no:xdist
def pytest_xdist_make_scheduler(config, log):
    """xdist's default (--dist load: each test to the next free worker) except that a SHARED_FIXTURE_FILES
    file is one unit. xdist's own --dist loadgroup with xdist_group marks would say the same, but under the
    pinned pytest 9.2 it silently stops grouping (pytest-xdist issue #1386: it renames node ids through a field
    pytest no longer reads)."""
    if config.getvalue("dist") != "load":
        return None  # a --dist given on the command line is kept
    from xdist.scheduler import LoadScopeScheduling

    class SharedFixtureFilesTogether(LoadScopeScheduling):
        # A scope is what one worker runs as a unit: the whole file, or the test alone. Units with more tests
        # are handed out first (xdist's ordering of scopes), then single tests in collection order.
        def _split_scope(self, nodeid):
            path = nodeid.split("::", 1)[0]
            return path if Path(path).name in SHARED_FIXTURE_FILES else nodeid

    return SharedFixtureFilesTogether(config, log)


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
