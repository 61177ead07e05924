"""The whole paper's wall time, per experiment, measured on the runs' own records, this code beside the release.

    python -m benchmarks.paper_time [--results_dir results] [--dynamics paper] [--release_dynamics mpe2]
                                    [--slots 2]

For each experiment of `python -m reproduction.paper`, reads the meta.json of every finished run under
results_dir/<experiment>/ whose folder starts with the dynamics (MADDPG runs: the sum of their sessions'
wall_seconds, training and evaluation; tf-agents baselines: train + eval seconds of every seed) and prints
the seconds per seed-run (one seed of one variant or pairing), for this code's runs (`--dynamics`, the
full-paper run) and the release's committed runs (`--release_dynamics`: the runs the previous sessions'
code made; the simulated physics does not change the cost of an update). The paper total is each
experiment's per-seed-run time x the paper's seed-runs of that experiment (the plan of
`python -m reproduction.paper`), summed, and divided over `--slots` parallel runs (a lower bound of the
driver's wall time: its greedy schedule also waits for the longest run). Experiments without a finished
run of a side show "-" and count at the driver's estimate, marked "est".

Wall times are taken as the runs recorded them, with whatever else the machine ran at the time; the table
says how many runs each figure rests on.
"""

from __future__ import annotations

import argparse
import collections
import json
import re
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


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


def measured(results_dir: Path, dynamics: str) -> dict[str, tuple[float, int, int]]:
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


def planned(results_dir: Path, dynamics: str) -> dict[str, tuple[int, float]]:
    """experiment -> (seed-runs, estimated seconds) of the full paper at the paper's seed counts, read from
    `python -m reproduction.paper --dry_run` (its plan, as a user sees it; cross-play evaluations left out)."""
    command = [sys.executable, "-m", "reproduction.paper", "--dry_run", f"--dynamics={dynamics}",
               f"--results_dir={results_dir}"]
    output = subprocess.run(command, capture_output=True, text=True, check=True, cwd=REPO_ROOT).stdout
    totals: dict[str, list] = collections.defaultdict(lambda: [0, 0.0])
    for line in output.splitlines():
        match = PLAN_LINE.match(line)
        if match is None or match.group(5) == "cross_play":
            continue
        experiment = "independent_baselines" if match.group(5) == "baseline" else match.group(3)
        totals[experiment][0] += int(match.group(6))
        totals[experiment][1] += float(match.group(2))
    if not totals:  # a silent zero total once hid a change of the plan's line format
        raise SystemExit("error: no run line of `reproduction.paper --dry_run` matched PLAN_LINE; update it")
    return {name: tuple(values) for name, values in totals.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--results_dir", type=Path, default=REPO_ROOT / "results")
    parser.add_argument("--dynamics", default="paper", help="this code's runs (folder prefix)")
    parser.add_argument("--release_dynamics", default="mpe2", help="the release's runs (folder prefix)")
    parser.add_argument("--slots", type=int, default=2, help="runs at once (one per CPU)")
    options = parser.parse_args()
    plan = planned(options.results_dir, options.dynamics)
    sides = {"this code": measured(options.results_dir, options.dynamics),
             "release": measured(options.results_dir, options.release_dynamics)}
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


if __name__ == "__main__":
    main()
