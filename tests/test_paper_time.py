"""benchmarks.paper_time --measure and what the paper driver reads of it: no timing is asserted, only structure,
the scaling arithmetic on hand-made figures, the load marks under a faked load, and the driver's use of a
measured file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from maddpg.config import TrainConfig
from maddpg.results import UsageError
from reproduction import paper


def _planned(name: str, seeds: int = 3, episodes: int = 25_000, seconds: float = 100.0) -> paper.PlannedRun:
    experiment, folder = name.split("/")
    config = TrainConfig(experiment=experiment, seeds=tuple(range(seeds)), episodes=episodes)
    return paper.PlannedRun(experiment, folder, "maddpg", Path("/nowhere") / experiment / folder, config,
                            seconds=seconds)


def test_driver_estimates_take_the_measured_seconds_of_runs_of_the_same_name_seeds_and_episodes(tmp_path):
    plan = [_planned("a/run1"), _planned("a/run2"), _planned("b/run3", seeds=10), _planned("b/run4")]
    measured = tmp_path / "measured.json"
    measured.write_text(json.dumps({"driver_estimates": {
        "a/run1": {"seconds": 42.5, "seeds": 3, "episodes": 25_000},
        "a/run2": {"seconds": 7.0, "seeds": 3, "episodes": 60_000},  # another length: not this run
        "b/run3": {"seconds": 9.0, "seeds": 3, "episodes": 25_000},  # other seeds: not this run
    }}))
    assert paper.measured_estimates(plan, measured) == 1
    assert [run.seconds for run in plan] == [42.5, 100.0, 100.0, 100.0]
    assert paper.measured_estimates(plan, tmp_path / "absent.json") == 0  # no file: the calibration stays


def test_a_damaged_measurement_file_is_refused_with_its_name(tmp_path):
    damaged = tmp_path / "measured.json"
    damaged.write_text("{not json")
    with pytest.raises(UsageError, match="measured.json"):
        paper.measured_estimates([_planned("a/run1")], damaged)
