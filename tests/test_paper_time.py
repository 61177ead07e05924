"""benchmarks.paper_time --measure and what the paper driver reads of it: no timing is asserted, only structure,
the scaling arithmetic on hand-made figures, the load marks under a faked load, and the driver's use of a
measured file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from benchmarks import paper_measure, paper_time
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


# ------------------------------------------------------------------------------------------------------------
# The scaling arithmetic, on hand-made segments


def _segment(**overrides) -> dict:
    """A MADDPG segment's record: iterations of 100 episodes, 10 warm-up ones (the first 30 s: tracing and
    compile), a part-way updating one, then 4 at 2 s."""
    times = [(30.1, 0)] + [(0.1, 0)] * 9 + [(1.7, 20)] + [(2.0, 25), (2.2, 25), (1.8, 25), (2.0, 25)]
    record = {"import_seconds": 5.0, "build_seconds": 3.0, "episodes_per_iteration": 100,
              **paper_measure.iteration_summary(times),
              "checkpoint": {"resume_seconds": 1.5, "finished_seconds": 0.5, "rows": 1000, "rows_per_episode": 25,
                             "capacity": 100_000},
              "eval_seconds_per_episode": 0.002}
    record.update(overrides)
    return record


def test_a_segment_summary_splits_warm_up_first_updates_and_the_updating_rate():
    summary = paper_measure.iteration_summary([(30.1, 0)] + [(0.1, 0)] * 9 + [(1.7, 20)]
                                              + [(2.0, 25), (2.2, 25), (1.8, 25), (2.0, 25)])
    assert summary["warmup_iterations"] == 10
    assert summary["warmup_seconds_per_iteration"] == pytest.approx(0.1)
    assert summary["first_updating_iteration_seconds"] == 1.7
    assert summary["updating_iterations_timed"] == 4
    assert summary["updating_seconds_per_iteration"] == pytest.approx(2.0)
    # standard error of the mean of (2.0, 2.2, 1.8, 2.0) over the mean: stdev 0.1633 / 2 / 2.0
    assert summary["updating_spread"] == pytest.approx(0.1633 / 2 / 2.0, rel=1e-3)


def test_a_maddpg_segment_scales_to_its_full_run_by_hand():
    config = SimpleNamespace(episodes=25_000, checkpoint_every_episodes=5000, eval_episodes=1000, seeds=(0, 1, 2))
    parts = paper_measure.maddpg_estimate(_segment(), config, eval_workers=1)
    assert parts["compile"] == pytest.approx(30.0)  # the first iteration less a warm-up iteration
    assert parts["warmup"] == pytest.approx(10 * 0.1)  # the run's 10 warm-up iterations
    assert parts["updating"] == pytest.approx(240 * 2.0)  # the 240 others at the updating rate
    # resume checkpoints at 5000..20000 episodes (rows 125000 .. 500000, capped at 100000): each
    # 0.5 + 1e-3 s per row x 100000 rows; the finished one 0.5 s
    assert parts["checkpoints"] == pytest.approx(4 * (0.5 + 100.0) + 0.5)
    assert parts["evaluation"] == pytest.approx(0.002 * 1000 * 3)
    assert parts["meta"] == pytest.approx(30.0 + 1.0 + 480.0 + 402.5)
    assert parts["total"] == pytest.approx(5.0 + 3.0 + parts["meta"] + 6.0)
    halved = paper_measure.maddpg_estimate(_segment(), config, eval_workers=2)
    assert halved["evaluation"] == pytest.approx(3.0)


def test_a_segment_that_never_updates_costs_its_warm_up_only():
    record = _segment(**paper_measure.iteration_summary([(5.0, 0), (0.2, 0), (0.2, 0)]))
    parts = paper_measure.training_seconds(record, episodes=300)
    assert parts == {"compile": pytest.approx(4.8), "warmup": pytest.approx(0.6), "updating": 0.0}


def test_a_baseline_scales_per_seed_and_its_evaluation_by_batches():
    record = {"import_seconds": 8.0, "build_seconds": 2.0, "episodes_per_iteration": 25,
              **paper_measure.iteration_summary([(6.0, 1), (0.5, 1), (0.5, 1)]),
              "eval": {"fixed_seconds": 1.0, "seconds_per_batch": 0.2, "batch": 50}}
    config = SimpleNamespace(episodes=25_000, eval_episodes=1000, seeds=tuple(range(10)))
    parts = paper_measure.baseline_estimate(record, config)
    # no warm-up: the first iteration is an updating one (its excess over 0.5 s is the tracing)
    per_seed = 2.0 + 5.5 + 1000 * 0.5 + (1.0 + 0.2 * 20)
    assert parts["meta"] == pytest.approx(10 * per_seed)
    assert parts["total"] == pytest.approx(8.0 + 10 * per_seed)
    # A later seed measured apart (no first-use costs): 1 s to build, its first iteration 2.5 s (2 s tracing).
    record["next_seed"] = {"build_seconds": 1.0, "first_iteration_seconds": 2.5}
    parts = paper_measure.baseline_estimate(record, config)
    assert parts["build"] == pytest.approx(2.0 + 9 * 1.0) and parts["compile"] == pytest.approx(5.5 + 9 * 2.0)
    assert parts["meta"] == pytest.approx(10 * per_seed - 9 * (1.0 + 3.5))
    assert paper_measure.baseline_eval_seconds({"seconds_per_episode": 0.01}, 1000) == pytest.approx(10.0)


def test_a_cross_play_is_derived_from_its_ensemble_runs_evaluation_probe():
    config = SimpleNamespace(eval_episodes=1000, seeds=(0, 1, 2))
    parts = paper_measure.cross_play_estimate({"import_seconds": 5.0, "eval_seconds_per_episode": 0.003}, config, 1)
    assert parts["evaluation"] == pytest.approx(4 * 1000 * 3 * 0.003)
    assert parts["total"] == pytest.approx(5.0 + 36.0)


# ------------------------------------------------------------------------------------------------------------
# Load marks, with a faked load


def test_load_marks_flag_a_load_above_the_layouts_own_threads_or_others_cpu(monkeypatch):
    one, two = paper_measure.Layout("1", 1, 2), paper_measure.Layout("2", 2, 1)
    monkeypatch.setattr(paper_measure.os, "getloadavg", lambda: (3.1, 1.0, 0.5))
    assert paper_measure.load_reading() == 3.1
    assert paper_measure.load_marks(paper_measure.load_reading(), 2.0, two, 0.1) == ["load 3.10 > 2.5"]
    assert paper_measure.load_marks(2.4, 2.5, one, 0.0) == []  # the layout's own two threads
    assert paper_measure.load_marks(1.0, 1.2, one, 0.9) == ["others used 0.90 cores"]
    assert paper_measure.load_marks(1.0, 1.2, paper_measure.Layout("1", 1, 1), None) == []
    assert len(paper_measure.load_marks(1.9, 1.0, paper_measure.Layout("1", 1, 1), 0.6)) == 2


def test_foreign_cores_are_the_machines_busy_cpu_less_ours_between_two_moments(monkeypatch):
    clock = iter([1000.0, 1005.0, 1010.0])
    sampler = paper_measure.CpuSampler(clock=lambda: next(clock))
    # Ten seconds: the machine busy 2 cores, our child (pid 7) 1 core: others used 1 core.
    busy, ours = iter([100.0, 110.0, 120.0]), iter([50.0, 55.0, 60.0])
    monkeypatch.setattr(paper_measure, "_machine_busy_seconds", lambda: next(busy))
    monkeypatch.setattr(paper_measure, "_process_seconds", lambda pid: next(ours) if pid == 7 else 0.0)
    for _ in range(3):
        sampler.sample([7])
    assert sampler.foreign_cores(1000.0, 1010.0) == pytest.approx(1.0)
    assert sampler.foreign_cores(1002.5, 1007.5) == pytest.approx(1.0)
    assert sampler.foreign_cores(900.0, 1010.0) is None  # before the first sample: unknown


def test_the_marks_reach_every_record_of_a_layout(tmp_path):
    layout = paper_measure.Layout("2", 2, 1)
    sampler = paper_measure.CpuSampler()
    sampler.times, sampler.foreign = [0.0, 10.0], [0.0, 0.0]
    record = {"name": "x/y", "started_at": 1.0, "ended_at": 9.0, "load_before": 2.7, "load_after": 1.0}
    out = tmp_path / "records.jsonl"
    out.write_text(json.dumps(record) + "\n")
    child = SimpleNamespace(filler=False, out=out, process=SimpleNamespace(returncode=0), slot=1, jobs=[], err=None)
    [marked] = paper_measure._records([child], layout, sampler)
    assert marked["marks"] == ["load 2.70 > 2.5"] and marked["foreign_cores"] == 0.0 and marked["layout"] == "2"


# ------------------------------------------------------------------------------------------------------------
# Schedules of the whole paper


def _runs() -> list[dict]:
    gb = 2**30
    return [{"name": "a", "after": [], "memory_bytes": 10 * gb}, {"name": "b", "after": [], "memory_bytes": 10 * gb},
            {"name": "c", "after": [], "memory_bytes": 1 * gb}, {"name": "x", "after": ["a", "c"], "memory_bytes": gb}]


def test_the_longest_first_schedule_is_the_drivers_own():
    seconds = {"a": 100.0, "b": 60.0, "c": 50.0, "x": 30.0}
    planned = [paper.PlannedRun("e", run["name"], "maddpg", Path("/r") / run["name"], None,
                                seconds=seconds[run["name"]], after=tuple(Path("/r") / name for name in run["after"]))
               for run in _runs()]
    for slots in (1, 2, 3):
        assert paper_time.longest_first(_runs(), seconds, slots) == pytest.approx(paper.schedule(planned, slots))
    assert paper_time.longest_first(_runs(), seconds, 2) == pytest.approx(140.0)  # a, then x after c (b + c = 110)


def test_the_drivers_order_waits_for_memory_and_for_the_runs_a_run_needs():
    seconds = {"a": 100.0, "b": 60.0, "c": 50.0, "x": 30.0}
    # Plenty of memory: a and b start, c after b (60), x after a (100) and c (110): done at 140.
    assert paper_time.driver_order(_runs(), seconds, 2, budget=64 * 2**30, headroom=1.0) == pytest.approx(140.0)
    # 15 GB: b does not fit beside a, so c runs beside a, and b waits for a's memory (not c's slot): b and x
    # start at 100, b ends at 160.
    assert paper_time.driver_order(_runs(), seconds, 2, budget=15 * 2**30, headroom=1.0) == pytest.approx(160.0)
    # The request is the estimate over the headroom: at 0.5 the 15 GB hold a alone, and c beside it.
    assert paper_time.driver_order(_runs(), seconds, 2, budget=22 * 2**30, headroom=0.5) == pytest.approx(160.0)
    assert paper_time.driver_order(_runs(), seconds, 1, budget=64 * 2**30, headroom=1.0) == pytest.approx(240.0)


def test_the_critical_path_is_the_longest_chain():
    seconds = {"a": 100.0, "b": 160.0, "c": 50.0, "x": 30.0}
    assert paper_time.critical_path(_runs(), seconds) == (160.0, ["b"])
    seconds["b"] = 120.0
    assert paper_time.critical_path(_runs(), seconds) == (130.0, ["a", "x"])


# ------------------------------------------------------------------------------------------------------------
# Figures of every run, and the whole thing end to end


def test_a_run_without_a_measured_figure_falls_back_on_its_recorded_or_estimated_seconds(tmp_path):
    run_dir = tmp_path / "exp" / "paper_done"
    run_dir.mkdir(parents=True)
    (run_dir / "config.json").write_text(json.dumps({"critic_kinds": ["maddpg"], "seeds": [0, 1]}))
    (run_dir / "meta.json").write_text(json.dumps({"training_complete": True, "evaluation_complete": True,
                                                   "sessions": [{"wall_seconds": 70.0}]}))
    plan = {"runs": [{"name": "exp/paper_done", "seconds": 5.0}, {"name": "exp/paper_new", "seconds": 9.0},
                     {"name": "exp/paper_timed", "seconds": 1.0}]}
    timed = {"parts": {"meta": 3.0, "total": 4.0}, "source": "measured", "marks": []}
    figures = paper_time.figures_with_fallback(plan, {"exp/paper_timed": timed,
                                                      "exp/paper_new": {"parts": None, "source": "failed: x"}},
                                               tmp_path)
    assert figures["exp/paper_timed"] is timed
    assert figures["exp/paper_done"]["parts"]["total"] == 70.0 and figures["exp/paper_done"]["marks"] == ["recorded"]
    assert figures["exp/paper_new"]["parts"]["total"] == 9.0
    assert figures["exp/paper_new"]["source"] == "estimated (failed: x)"


def test_a_layout_measured_earlier_into_the_same_file_is_kept(tmp_path):
    plan = {"runs": [{"name": "a"}, {"name": "b"}]}
    out = tmp_path / "measured.json"
    out.write_text(json.dumps({"quick": False, "runs": {"a": {}, "b": {}}, "records": {"1": [{"name": "a"}],
                                                                                       "2": [{"name": "b"}]},
                               "layouts": {"1": {"measured_at": "then"}, "2": {"measured_at": "then"}}}))
    records, info = paper_time.kept_layouts(out, plan, ["2"])
    assert records == {"1": [{"name": "a"}]} and info == {"1": {"measured_at": "then"}}
    assert paper_time.kept_layouts(out, {"runs": [{"name": "a"}]}, ["2"]) == ({}, {})  # other runs: not kept


def test_quick_may_not_write_where_the_driver_reads():
    done = subprocess.run([sys.executable, "-m", "benchmarks.paper_time", "--measure", "--quick",
                           f"--out={paper_time.MEASURED_FILE}"], capture_output=True, text=True,
                          cwd=paper_time.REPO_ROOT)
    assert done.returncode == 2 and "--quick figures mean nothing" in done.stderr


def test_quick_measure_gives_every_planned_run_a_figure_and_the_whole_papers_wall_time(tmp_path):
    """`--measure --quick` end to end, in the driver's layout (two measuring processes side by side, the tf-agents
    baselines' legacy-Keras one included): every run of every planned experiment has a figure, measured,
    derived or scaled, or one marked as recorded; no timing is asserted."""
    out = tmp_path / "quick.json"
    done = subprocess.run([sys.executable, "-m", "benchmarks.paper_time", "--measure", "--quick", "--layouts=2",
                           f"--out={out}"], capture_output=True, text=True, cwd=paper_time.REPO_ROOT, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    measured = json.loads(out.read_text())
    assert measured["quick"] is True and list(measured["layouts"]) == ["2"]
    planned = {name for name in measured["runs"]}
    assert len(planned) == 45  # every MADDPG run, cross-play and baseline of the paper
    experiments = {name.split("/")[0] for name in planned}
    assert experiments == set(paper.EXPERIMENTS)
    for name, figure in ((name, layouts["2"]) for name, layouts in measured["runs"].items()):
        assert figure["parts"]["total"] > 0, name
        assert figure["source"].startswith(("measured", "derived from", "scaled from")) or figure["marks"], name
    timed = [record for record in measured["records"]["2"] if "error" not in record]
    # --quick times the cheapest run of each experiment (the baselines only where tf-agents is installed)
    expected = experiments if paper_measure.baselines_installed() else experiments - {paper.BASELINES}
    assert sorted(record["name"].split("/")[0] for record in timed) == sorted(expected)
    assert all(isinstance(record["marks"], list) and record["slot"] in (0, 1) for record in timed)
    wall = measured["paper"]["2"]
    assert wall["critical_path"] <= wall["driver_order"] <= wall["run_seconds"]
    assert set(measured["driver_estimates"]) <= planned
    assert "whole paper, layout 2" in done.stdout and "critical path" in done.stdout
    for experiment in paper.EXPERIMENTS:
        assert any(line.startswith(experiment) for line in done.stdout.splitlines()), experiment
