"""The whole paper's wall time, per experiment: from the runs' own records, or measured on this machine.

    python -m benchmarks.paper_time [--results_dir results] [--dynamics paper] [--release_dynamics mpe2]
                                    [--slots 2]
    python -m benchmarks.paper_time --measure [--measure_episodes 2000] [--layouts 1,2] [--only ...]
                                    [--out results/paper_time_measured.json] [--quick]
    python -m benchmarks.paper_time --validate RUN_DIR [RUN_DIR ...] [--layout 1|2]

Recorded (the default): for each experiment of `python -m reproduction.paper`, reads the meta.json of every
finished run under results_dir/<experiment>/ whose folder starts with the dynamics (MADDPG runs: the sum of
their training sessions' wall_seconds, evaluation not included; tf-agents baselines: train + eval seconds of
every seed) and prints the seconds per seed-run (one seed of one variant or pairing), for this code's runs
(`--dynamics`) and the release's committed runs (`--release_dynamics`; the simulated physics does not change
the cost of an update). The paper total is each experiment's per-seed-run time x the paper's seed-runs of
that experiment (the plan of `python -m reproduction.paper`), summed, and divided over `--slots` parallel runs.
Experiments without a finished run of a side show "-" and count at the driver's estimate, marked "est". Wall
times are taken as the runs recorded them, with whatever else the machine ran at the time.

--measure: times a short segment of every run the paper driver plans (its --dry_run --plan_json: every
experiment, variant and pairing at the paper's seeds, units and agents, the baselines too) on this machine,
in two layouts: "1", one run at a time with every TensorFlow thread, and "2", two runs side by side at one
thread each (the driver's layout here), and scales each segment to its run's full length
(benchmarks/paper_measure.py says how). It prints every run's estimate with its compile time apart, per
experiment the measured seconds per seed-run beside the recorded ones, and the whole paper's wall time: on
one slot, and on two slots in the driver's own order (plan order, a run starting when a slot is free, its
inputs are done and its memory fits) beside the longest-first schedule `--dry_run` prints and the critical
path (the longest chain of runs). A figure taken beside another heavy process is marked "!" and says why. It
writes everything to --out (JSON; `python -m reproduction.paper` then estimates with the measured seconds);
a layout it does not measure this time is kept from an earlier --measure of the same runs in that file, so
`--layouts 2` and `--layouts 1` can run in two sittings.
--quick times a few iterations of shrunk configs of the cheapest run of each experiment (a check of the method in under
a minute; its figures mean nothing and it never writes the default --out).

--validate: puts each given run folder's recorded training time (meta.json's wall_seconds) beside the measured
estimate of the run of the same name in --out, in the layout it ran in (--layout, else by its recorded
TensorFlow thread count: 1 thread is layout 2).
"""

from __future__ import annotations

import argparse
import collections
import datetime
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.paper_measure import (EVAL_PROBE_EPISODES, QUICK_EVAL_PROBE_EPISODES, Settings, layouts, measure,
                                      run_figures)

REPO_ROOT = Path(__file__).resolve().parent.parent
MEASURED_FILE = REPO_ROOT / "results" / "paper_time_measured.json"  # reproduction/paper.py reads this path
DRIVER_LAYOUT = "2"  # the paper driver runs one TensorFlow thread per run, one run per core


def run_seconds(run_dir: Path) -> tuple[float, int] | None:
    """(wall seconds, seeds) of a finished run folder, or None if it is not finished or has no times."""
    try:
        meta = json.loads((run_dir / "meta.json").read_text())
        config = json.loads((run_dir / "config.json").read_text())
    except (OSError, ValueError):
        return None
    sessions = meta.get("sessions", [])
    if "critic_kinds" in config:
        if not (meta.get("training_complete") and meta.get("evaluation_complete")):
            return None
        seconds = sum(s.get("wall_seconds", 0) for s in sessions)
    else:
        seconds = sum(s.get("train_seconds", 0) + s.get("eval_seconds", 0) for s in sessions)
    seeds = len(config.get("seeds", []))
    return (seconds, seeds) if seconds > 0 and seeds else None


def recorded(results_dir: Path, dynamics: str) -> dict[str, tuple[float, int, int]]:
    """experiment -> (seconds, seed-runs, runs) over its finished `<dynamics>_*` folders."""
    totals: dict[str, list] = collections.defaultdict(lambda: [0.0, 0, 0])
    for run_dir in sorted(results_dir.glob(f"*/{dynamics}_*")):
        timing = run_seconds(run_dir)
        if timing is None:
            continue
        experiment = "independent_baselines" if (run_dir / "config.json").exists() and "critic_kinds" not in \
            json.loads((run_dir / "config.json").read_text()) else run_dir.parent.name
        totals[experiment][0] += timing[0]
        totals[experiment][1] += timing[1]
        totals[experiment][2] += 1
    return {name: tuple(values) for name, values in totals.items()}


PLAN_LINE = re.compile(r"^\s+(\w+)\s+(\d+) s\s+[\d.]+ GB\s+(\w+)/(\S+)\s+\((\w+), (\d+) seeds")


def _dry_run(results_dir: Path, dynamics: str, extra: list[str] = ()) -> str:
    command = [sys.executable, "-m", "reproduction.paper", "--dry_run", f"--dynamics={dynamics}",
               f"--results_dir={results_dir}", *extra]
    done = subprocess.run(command, capture_output=True, text=True, cwd=REPO_ROOT)
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        raise SystemExit(f"error: `{' '.join(command[1:])}` failed: {lines[-1] if lines else done.returncode}")
    return done.stdout


def planned(results_dir: Path, dynamics: str) -> dict[str, tuple[int, float]]:
    """experiment -> (seed-runs, estimated seconds) of the full paper at the paper's seed counts, read from
    `python -m reproduction.paper --dry_run` (its plan, as a user sees it; cross-play evaluations left out)."""
    totals: dict[str, list] = collections.defaultdict(lambda: [0, 0.0])
    for line in _dry_run(results_dir, dynamics).splitlines():
        match = PLAN_LINE.match(line)
        if match is None or match.group(5) == "cross_play":
            continue
        experiment = "independent_baselines" if match.group(5) == "baseline" else match.group(3)
        totals[experiment][0] += int(match.group(6))
        totals[experiment][1] += float(match.group(2))
    if not totals:  # a silent zero total once hid a change of the plan's line format
        raise SystemExit("error: no run line of `reproduction.paper --dry_run` matched PLAN_LINE; update it")
    return {name: tuple(values) for name, values in totals.items()}


def plan_json(results_dir: Path, dynamics: str, only: list[str], seeds: int | None) -> dict:
    """The driver's plan as `python -m reproduction.paper --dry_run --plan_json` writes it."""
    with tempfile.TemporaryDirectory(prefix="paper_time_") as folder:
        path = Path(folder) / "plan.json"
        extra = [f"--plan_json={path}", "--nofigures"] + ([f"--only={','.join(only)}"] if only else []) \
            + ([f"--seeds={seeds}"] if seeds else [])
        _dry_run(results_dir, dynamics, extra)
        return json.loads(path.read_text())


def print_recorded(options) -> None:
    """The default report: recorded seconds per seed-run, this code beside the release."""
    plan = planned(options.results_dir, options.dynamics)
    sides = {"this code": recorded(options.results_dir, options.dynamics),
             "release": recorded(options.results_dir, options.release_dynamics)}
    print(f"{'experiment':28} | seed-runs | " + " | ".join(f"{side}: s per seed-run (runs)" for side in sides)
          + " | " + " | ".join(f"{side}: paper s" for side in sides))
    paper_totals = {side: 0.0 for side in sides}
    estimated = {side: False for side in sides}
    for experiment, (seed_runs, estimate) in plan.items():
        cells, totals = [], []
        for side, table in sides.items():
            if experiment in table:
                seconds, seeds, runs = table[experiment]
                cells.append(f"{seconds / seeds:9.1f} ({runs})")
                total = seconds / seeds * seed_runs
                totals.append(f"{total:8.0f}")
            else:
                cells.append(f"{'-':>9}    ")
                total = estimate
                totals.append(f"{total:8.0f} est")
                estimated[side] = True
            paper_totals[side] += total
        print(f"{experiment:28} | {seed_runs:9d} | " + " | ".join(cells) + " | " + " | ".join(totals))
    for side, total in paper_totals.items():
        mark = " (partly estimated)" if estimated[side] else ""
        print(f"whole paper, {side}: {total:.0f} s of runs = {total / 3600:.2f} h; on {options.slots} slots "
              f">= {total / options.slots / 3600:.2f} h{mark}")


# ------------------------------------------------------------------------------------------------------------
# Schedules of the whole paper (the driver's, reproduction/paper.py's execute and schedule, on given seconds)


def driver_order(runs: list[dict], seconds: dict[str, float], slots: int, budget: float,
                 headroom: float) -> float:
    """Wall seconds of the paper driver's own order (reproduction/paper.py execute and next_run): runs in plan
    order, each as soon as a slot is free and the runs it waits for are done, the first ready one whose memory
    request (its estimate / headroom, at most the budget) fits beside those in flight; with nothing in flight
    the first ready one."""
    requests = {run["name"]: min(run["memory_bytes"] / headroom, budget) for run in runs}
    pending = [run for run in runs]
    in_flight: list[tuple[float, str]] = []
    done: set[str] = set()
    now = 0.0
    while pending or in_flight:
        ready = [run for run in pending if all(name in done for name in run["after"])]
        while ready and len(in_flight) < slots:
            held = sum(requests[name] for _, name in in_flight)
            fitting = [run for run in ready if held + requests[run["name"]] <= budget]
            run = fitting[0] if fitting else (None if in_flight else ready[0])
            if run is None:
                break
            ready.remove(run)
            pending.remove(run)
            in_flight.append((now + seconds[run["name"]], run["name"]))
        if not in_flight:
            break
        in_flight.sort()
        now, name = in_flight.pop(0)
        done.add(name)
    return now


def longest_first(runs: list[dict], seconds: dict[str, float], slots: int) -> float:
    """Wall seconds of reproduction/paper.py's schedule (what --dry_run prints as the critical path): greedy
    longest first on `slots` slots, a run after the runs it waits for."""
    done_at: dict[str, float] = {}
    free = sorted([0.0] * max(1, slots))
    waiting = sorted(runs, key=lambda run: -seconds[run["name"]])
    while waiting:
        run = next(run for run in waiting if all(name in done_at for name in run["after"]))
        waiting.remove(run)
        start = max(free.pop(0), *(done_at[name] for name in run["after"]), 0.0)
        done_at[run["name"]] = start + seconds[run["name"]]
        free = sorted(free + [done_at[run["name"]]])
    return max(done_at.values(), default=0.0)


def critical_path(runs: list[dict], seconds: dict[str, float]) -> tuple[float, list[str]]:
    """The longest chain of runs (a run after those it waits for): (seconds, names in order)."""
    by_name = {run["name"]: run for run in runs}
    chains: dict[str, tuple[float, list[str]]] = {}

    def chain(name: str) -> tuple[float, list[str]]:
        if name not in chains:
            before = max((chain(other) for other in by_name[name]["after"]), default=(0.0, []))
            chains[name] = (before[0] + seconds[name], before[1] + [name])
        return chains[name]

    return max((chain(run["name"]) for run in runs), default=(0.0, []))


def machine_memory() -> float:
    """Bytes of memory of this machine (/proc/meminfo's MemTotal; 0 where unknown)."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return float(line.split()[1]) * 1024
    except OSError:
        pass
    return 0.0


# ------------------------------------------------------------------------------------------------------------
# --measure


def figures_with_fallback(plan: dict, figures: dict[str, dict], results_dir: Path) -> dict[str, dict]:
    """Every run's figure in one layout: the measured one, else its recorded seconds (the finished folder of
    the same name under results_dir, marked "recorded") or the driver's calibrated estimate ("estimated")."""
    complete = {}
    for run in plan["runs"]:
        figure = figures.get(run["name"])
        if figure is not None and figure["parts"] is not None:
            complete[run["name"]] = figure
            continue
        reason = figure["source"] if figure else "not measured"
        timing = run_seconds(results_dir / run["name"])
        seconds, source = (timing[0], "recorded") if timing else (run["seconds"], "estimated")
        complete[run["name"]] = {"parts": {"meta": seconds, "total": seconds}, "source": f"{source} ({reason})",
                                 "marks": [source]}
    return complete


def _cell(figure: dict) -> str:
    mark = "!" if figure["marks"] else " "
    return f"{figure['parts']['total']:7.0f}{mark}"


def print_runs(plan: dict, by_layout: dict[str, dict[str, dict]]) -> None:
    """One line per run: its whole seconds per layout (what meta.json would record in brackets), compile."""
    keys = list(by_layout)
    print(f"{'run':62} | " + " | ".join(f"layout {key}: s (meta s), compile" for key in keys) + " | source, marks")
    for run in plan["runs"]:
        cells, notes = [], []
        for key in keys:
            figure = by_layout[key][run["name"]]
            parts = figure["parts"]
            cells.append(f"{_cell(figure)} ({parts['meta']:7.0f}) {parts.get('compile', 0.0):4.0f}")
            notes.append(f"{key}: {figure['source']}{' ' + ', '.join(figure['marks']) if figure['marks'] else ''}")
        print(f"{run['name'][:62]:62} | " + " | ".join(f"{cell:>31}" for cell in cells) + " | " + "; ".join(notes))


def experiment_rows(plan: dict, by_layout: dict[str, dict[str, dict]], recorded_table: dict) -> list[dict]:
    """Per experiment: seed-runs (training runs' seeds), recorded and measured seconds per seed-run (as
    meta.json records them), its runs' whole seconds per layout (cross-plays included) and marked figures."""
    rows: dict[str, dict] = {}
    for run in plan["runs"]:
        row = rows.setdefault(run["experiment"], {"experiment": run["experiment"], "seed_runs": 0,
                                                  "meta": collections.Counter(), "total": collections.Counter(),
                                                  "marked": 0, "figures": 0})
        trained = run["kind"] != "cross_play"
        if trained:
            row["seed_runs"] += len(run["config"]["seeds"])
        for key, figures in by_layout.items():
            figure = figures[run["name"]]
            row["total"][key] += figure["parts"]["total"]
            if trained:
                row["meta"][key] += figure["parts"]["meta"]
            row["marked"] += bool(figure["marks"])
            row["figures"] += 1
    for name, row in rows.items():
        seconds, seeds, _ = recorded_table.get(name, (0.0, 0, 0))
        row["recorded_per_seed_run"] = seconds / seeds if seeds else None
        row["per_seed_run"] = {key: value / row["seed_runs"] for key, value in row["meta"].items()} \
            if row["seed_runs"] else {}
        row["meta"], row["total"] = dict(row["meta"]), dict(row["total"])
    return list(rows.values())


def paper_wall(plan: dict, by_layout: dict[str, dict[str, dict]], memory: float) -> dict[str, dict]:
    """The whole paper's wall seconds per layout: one slot (the sum), or two slots in the driver's order and
    longest first, with the critical path."""
    runs = plan["runs"]
    budget = max(memory - plan.get("object_store_bytes", 0), 1.0)
    headroom = plan.get("memory_headroom", 1.0)
    walls = {}
    for key, figures in by_layout.items():
        seconds = {name: figure["parts"]["total"] for name, figure in figures.items()}
        slots = 1 if key == "1" else 2
        path, chain = critical_path(runs, seconds)
        walls[key] = {"slots": slots, "run_seconds": sum(seconds.values()),
                      "driver_order": driver_order(runs, seconds, slots, budget, headroom),
                      "longest_first": longest_first(runs, seconds, slots), "critical_path": path,
                      "critical_chain": chain,
                      "marked_figures": sum(bool(figure["marks"]) for figure in figures.values())}
    return walls


def expected_noise(records: dict[str, list[dict]]) -> dict[str, float | None]:
    """Per layout, the updating rate's relative standard error, averaged over the segments weighted by their
    updating time (how much the scaled figures move from iteration-to-iteration noise alone)."""
    noise = {}
    for key, layout_records in records.items():
        pairs = [(r["updating_spread"], r["updating_seconds_per_iteration"]) for r in layout_records
                 if r.get("updating_spread") is not None and r.get("updating_seconds_per_iteration")]
        weight = sum(rate for _, rate in pairs)
        noise[key] = sum(spread * rate for spread, rate in pairs) / weight if weight else None
    return noise


def _hours(seconds: float) -> str:
    return f"{seconds:.0f} s = {seconds / 3600:.2f} h"


def kept_layouts(out: Path | None, plan: dict, measuring: list[str]) -> tuple[dict, dict]:
    """(records, layout info) of the layouts this call does not measure, from an earlier --measure into the
    same --out over the same runs: `--layouts 2` and then `--layouts 1` split the measurement in two sittings."""
    try:
        earlier = json.loads(out.read_text()) if out is not None else {}
    except (OSError, ValueError):
        return {}, {}
    if earlier.get("quick", True) or sorted(earlier.get("runs", {})) != sorted(run["name"] for run in plan["runs"]):
        return {}, {}
    kept = [key for key in earlier.get("records", {}) if key not in measuring]
    return ({key: earlier["records"][key] for key in kept}, {key: earlier["layouts"][key] for key in kept})


def run_measure(options) -> int:
    """--measure: times the segments, prints the tables, writes --out."""
    from maddpg.results import git_state

    plan = plan_json(options.results_dir, options.dynamics, options.only, options.seeds)
    settings = Settings(measure_episodes=options.measure_episodes, eval_workers=options.eval_workers,
                        quick=options.quick,
                        eval_probe_episodes=QUICK_EVAL_PROBE_EPISODES if options.quick else options.eval_probe_episodes)
    print(f"{len(plan['runs'])} planned runs; segments of {settings.measure_episodes} updating episodes per seed"
          f"{' (--quick: shrunk configs, a few iterations)' if options.quick else ''}; layouts {options.layouts}",
          flush=True)
    with tempfile.TemporaryDirectory(prefix="paper_measure_") as folder:
        records = measure(plan["runs"], settings, options.layouts, Path(folder),
                          log=lambda line: print(line, flush=True))
    info = {key: {"slots": layouts()[key].slots, "threads": layouts()[key].threads,
                  "measure_episodes": settings.measure_episodes,
                  "measured_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                  **git_state()} for key in records}
    kept_records, kept_info = ({}, {}) if options.quick else kept_layouts(options.out, plan, options.layouts)
    for key in kept_records:
        print(f"layout {key}: kept from {options.out} (measured {kept_info[key]['measured_at']}, commit "
              f"{str(kept_info[key].get('git_commit'))[:7]})")
    records, info = dict(sorted({**records, **kept_records}.items())), dict(sorted({**info, **kept_info}.items()))
    by_layout = {key: figures_with_fallback(plan, run_figures(plan["runs"], layout_records, settings),
                                            options.results_dir)
                 for key, layout_records in records.items()}
    rows = experiment_rows(plan, by_layout, recorded(options.results_dir, options.dynamics))
    walls = paper_wall(plan, by_layout, options.memory_gb * 2**30 if options.memory_gb else machine_memory())
    noise = expected_noise(records)
    print_measurement(plan, by_layout, rows, walls, noise)
    if options.out is not None:
        write_measurement(options.out, plan, records, info, by_layout, rows, walls, noise, options.quick)
        print(f"written to {options.out}")
    return 0


def print_measurement(plan: dict, by_layout: dict, rows: list[dict], walls: dict, noise: dict) -> None:
    """The per-run table, the per-experiment table and the whole paper's wall times."""
    print()
    print_runs(plan, by_layout)
    print()
    print(f"{'experiment':28} | seed-runs | recorded s per seed-run | " + " | ".join(
        f"layout {key}: s per seed-run" for key in by_layout) + " | " + " | ".join(
        f"layout {key}: whole runs s" for key in by_layout) + " | marked figures")
    for row in rows:
        recorded_cell = f"{row['recorded_per_seed_run']:23.1f}" if row["recorded_per_seed_run"] else f"{'-':>23}"
        print(f"{row['experiment']:28} | {row['seed_runs']:9d} | {recorded_cell} | " + " | ".join(
            f"{row['per_seed_run'].get(key, 0.0):24.1f}" for key in by_layout) + " | " + " | ".join(
            f"{row['total'][key]:22.0f}" for key in by_layout) + f" | {row['marked']} of {row['figures']}")
    print("(seconds per seed-run as meta.json records them: MADDPG training only, baselines train + eval; whole "
          "runs: with process start, evaluation and cross-plays; ! marks a figure taken beside another heavy process)")
    print()
    for key, wall in walls.items():
        spread = f", updating-rate noise about {noise[key]:.1%}" if noise.get(key) is not None else ""
        marked = f", {wall['marked_figures']} figures marked (!)" if wall["marked_figures"] else ""
        if wall["slots"] == 1:
            print(f"whole paper, layout 1 (one run at a time, all threads): {_hours(wall['run_seconds'])}"
                  f"{marked}{spread}")
        else:
            print(f"whole paper, layout 2 (two runs side by side, one thread each): {_hours(wall['run_seconds'])} of "
                  f"runs; on 2 slots in the driver's order {_hours(wall['driver_order'])}, longest first "
                  f"{_hours(wall['longest_first'])}{marked}{spread}")
        print(f"  critical path {_hours(wall['critical_path'])}: {' -> '.join(wall['critical_chain'])}")


def write_measurement(out: Path, plan, records, info, by_layout, rows, walls, noise, quick: bool) -> None:
    """--out: the layouts' settings, the records, every run's figure per layout, the tables, and the driver's
    estimates (layout 2's figures, the driver's layout, of the runs measured or derived)."""
    layout_key = DRIVER_LAYOUT if DRIVER_LAYOUT in by_layout else next(iter(by_layout))
    driver_estimates = {
        run["name"]: {"seconds": round(figure["parts"]["total"], 1), "seeds": len(run["config"]["seeds"]),
                      "episodes": run["config"]["episodes"], "layout": layout_key, "marks": figure["marks"]}
        for run in plan["runs"] for figure in [by_layout[layout_key][run["name"]]]
        if not figure["source"].startswith(("recorded", "estimated"))}
    document = {
        "command": " ".join(["python -m benchmarks.paper_time", *sys.argv[1:]]), "cpus": os.cpu_count(),
        "quick": quick, "layouts": info, "expected_noise": noise, "paper": walls, "experiments": rows,
        "runs": {run["name"]: {key: by_layout[key][run["name"]] for key in by_layout} for run in plan["runs"]},
        "records": records, "driver_estimates": driver_estimates,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(document, indent=1) + "\n")


# ------------------------------------------------------------------------------------------------------------
# --validate


def run_validate(options) -> int:
    """--validate: each run folder's recorded training seconds beside the measured estimate of its name."""
    try:
        measured = json.loads(options.out.read_text())["runs"]
    except (OSError, ValueError, KeyError) as error:
        print(f"error: {options.out} is no measurement of --measure ({error}); run --measure first or pass --out",
              file=sys.stderr)
        return 2
    print(f"{'run':62} | layout | recorded training s | measured estimate s | difference")
    for run_dir in options.validate:
        name = f"{run_dir.resolve().parent.name}/{run_dir.resolve().name}"
        try:
            meta = json.loads((run_dir / "meta.json").read_text())
        except (OSError, ValueError) as error:
            print(f"error: {run_dir}/meta.json cannot be read ({error}); pass a finished run folder", file=sys.stderr)
            return 2
        sessions = meta.get("sessions", [])
        seconds = sum(s.get("wall_seconds", 0) or s.get("train_seconds", 0) + s.get("eval_seconds", 0)
                      for s in sessions)
        threads = max((s.get("intra_op_threads") or 0 for s in sessions), default=0)
        layout = options.layout or ("2" if threads == 1 else "1")
        figure = measured.get(name, {}).get(layout)
        if figure is None or not seconds:
            print(f"{name[:62]:62} | {layout:>6} | {seconds:19.0f} | {'not measured':>19} |")
            continue
        estimate = figure["parts"]["meta"]
        print(f"{name[:62]:62} | {layout:>6} | {seconds:19.0f} | {estimate:19.0f} | {estimate / seconds - 1:+.1%}"
              f"{'  (marked: ' + ', '.join(figure['marks']) + ')' if figure['marks'] else ''}")
    return 0


def parse_args(argv: list[str] | None = None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--results_dir", type=Path, default=REPO_ROOT / "results")
    parser.add_argument("--dynamics", default="paper", help="this code's runs (folder prefix)")
    parser.add_argument("--release_dynamics", default="mpe2", help="the release's runs (folder prefix)")
    parser.add_argument("--slots", type=int, default=2, help="runs at once (one per CPU)")
    parser.add_argument("--measure", action="store_true", help="time a segment of every planned run here")
    parser.add_argument("--quick", action="store_true", help="--measure: shrunk configs, a few iterations")
    parser.add_argument("--measure_episodes", type=int, default=2000,
                        help="--measure: updating episodes per seed timed per segment")
    parser.add_argument("--eval_probe_episodes", type=int, default=EVAL_PROBE_EPISODES,
                        help="--measure: reference-env evaluation episodes timed per MADDPG run")
    parser.add_argument("--eval_workers", type=int, default=1, help="evaluation processes per run (the driver's: 1)")
    parser.add_argument("--layouts", default="1,2", help="--measure: 1 (one run, all threads), 2 (two runs, one "
                        "thread each), or both")
    parser.add_argument("--only", default="", help="--measure: these experiments of the driver only (comma list)")
    parser.add_argument("--seeds", type=int, default=None,
                        help="--measure: the driver's --seeds (default: the paper's)")
    parser.add_argument("--memory_gb", type=float, default=None,
                        help="--measure: memory the driver's Ray may hand out (default: this machine's)")
    parser.add_argument("--out", type=Path, default=None,
                        help=f"--measure writes, --validate reads (default {MEASURED_FILE.relative_to(REPO_ROOT)}; "
                        "--quick writes nothing unless given another path)")
    parser.add_argument("--validate", type=Path, nargs="+", default=None, metavar="RUN_DIR",
                        help="finished run folders to put beside the measured estimates of --out")
    parser.add_argument("--layout", choices=["1", "2"], default=None, help="--validate: the layout the runs ran in")
    options = parser.parse_args(argv)
    options.layouts = [key for key in options.layouts.split(",") if key]
    options.only = [name for name in options.only.split(",") if name]
    problems = []
    if any(key not in ("1", "2") for key in options.layouts) or not options.layouts:
        problems.append(f"--layouts must list 1 and/or 2, got {','.join(options.layouts) or 'nothing'}")
    if options.measure_episodes <= 0 or options.eval_probe_episodes <= 0 or options.eval_workers <= 0:
        problems.append("--measure_episodes, --eval_probe_episodes and --eval_workers must be positive")
    if options.quick and not options.measure:
        problems.append("--quick goes with --measure")
    if options.quick and options.out is not None and options.out.resolve() == MEASURED_FILE.resolve():
        problems.append(f"--quick figures mean nothing: write them elsewhere than {MEASURED_FILE} "
                        "(the driver reads it)")
    if options.measure and options.validate:
        problems.append("--measure and --validate are separate steps: measure first, validate after the full runs")
    if problems:
        parser.exit(2, f"error: {problems[0]}\n")
    if options.out is None and not options.quick:
        options.out = MEASURED_FILE
    return options


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    if options.measure:
        return run_measure(options)
    if options.validate:
        return run_validate(options)
    print_recorded(options)
    return 0


if __name__ == "__main__":
    sys.exit(main())
