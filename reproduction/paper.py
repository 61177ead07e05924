"""The whole paper in one command: every run its tables and figures need, on a local Ray or a Ray cluster.

    python -m reproduction.paper                         # every experiment, the paper's seed counts, local Ray
    python -m reproduction.paper --dry_run               # the plan: one line per run, its cost, the total
    python -m reproduction.paper --only=cooperative_communication,independent_baselines --seeds=3
    python -m reproduction.paper --address=auto          # join a running Ray cluster (or --address=head:6379)
    python -m reproduction.paper --smoke                 # the same path in about a minute a run

What it plans: each experiment script's variants x pairings (reproduction/<experiment>.py: the driver builds
a RunRequest and plans it with runner.plan_request, the function the script's flags go through, so a run
lands in the very folder the script itself would use and either command resumes it), policy_ensembles'
cross-play evaluation of each variant once its single and ensemble runs are done, and the tf-agents
baselines of Table 1 (reproduction/independent_baselines.py, one task per baseline). Seeds: the paper's
counts (10 for cooperative communication and its baselines, physical deception, covert communication and
policy inference; 3 elsewhere); --seeds sets one count for all. Then it runs `python -m paper_figures` on the
same --results_dir.

Each run is one Ray task of one CPU (an XLA training iteration keeps one core busy, so a machine runs as
many runs at once as it has cores). Without --address a local Ray is started with every CPU of this
machine; --address joins a cluster, whose workers must run this same checkout and venv (and ray 2.60.0,
the `ray` extra). `ray start --head` turns Ray's token authentication on: the driver and the other nodes
need RAY_AUTH_MODE=token and the head's token (~/.ray/auth_token, or RAY_AUTH_TOKEN).

Where results land: in --results_dir, written by the task itself. On one machine that is simply the
folder; on a cluster, --results_dir must be one shared path (NFS or the like) mounted at the same place on
every node. The driver leaves a token file there and every task checks it sees the token before training,
so a node without the share fails at once with a line saying so, rather than training into a folder the
driver never reads. The shared path is also what makes retries cheap: a task whose worker dies (a killed
process, a lost node) is retried by Ray (--max_retries) on any node and resumes from the run's latest
checkpoint (maddpg/run.py: the resume checkpoint keeps the filled replay rows; metrics.csv is cut back to
the checkpoint and continues, so it has no gap and no duplicate row and matches an uninterrupted run).

Rerunning is idempotent: finished runs (trained and evaluated) are skipped, interrupted ones resume, and
before anything trains every planned folder is checked against the config.json already there (a folder made
with another config, or one that is not a run folder, stops the command with one `error:` line and exit 2,
as do an unknown name in --only and an --address nobody answers on).

Cost estimates (--dry_run, and the time left while running): a run's seconds come from
results/paper_time_measured.json (`python -m benchmarks.paper_time --measure`) where it holds that run, else
from a rate calibrated on the committed runs' records; the critical path is a longest-first schedule of the
runs on the slots. How each is computed: docs/speed.md, "How --dry_run estimates a run".

Exit codes: 0 every run done and the figures built, 1 a run failed (the others still run), 2 bad input.
"""

from __future__ import annotations

import dataclasses
import functools
import heapq
import importlib
import logging
import os
import signal
import socket
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Sequence

from absl import flags

from maddpg import results
from maddpg.cli import HELP_ARGUMENTS, report_usage_error
from maddpg.config import DYNAMICS, TrainConfig
from maddpg.results import UsageError
from maddpg.run_folder import RunFolder
from reproduction.request import RunRequest

REPO_ROOT = Path(__file__).resolve().parent.parent
THREADS_PER_RUN = 1  # TensorFlow intra-op threads of each run (each is one Ray task of num_cpus=1)
BASELINES = "independent_baselines"
# Every experiment of the paper's tables and figures, and the paper's seed count for each.
PAPER_SEEDS = {
    "cooperative_communication": 10, BASELINES: 10, "physical_deception": 10, "covert_communication": 10,
    "policy_inference": 10, "cooperative_navigation": 3, "predator_prey": 3, "keep_away": 3, "policy_ensembles": 3,
}
EXPERIMENTS = tuple(PAPER_SEEDS)
START_SECONDS = 15.0  # per run: TensorFlow import, graph tracing, evaluation start; used where nothing is measured
TOKEN_PREFIX = ".paper_driver_"

FLAGS = flags.FlagValues()  # the driver's own: the experiment scripts' flags of the same names stay apart
flags.DEFINE_list("only", [], f"experiments to run (default: all), from: {', '.join(EXPERIMENTS)}", flag_values=FLAGS)
flags.DEFINE_integer("seeds", None, "seeds of every experiment (default: the paper's count for each: 10 for CC, "
                     "its baselines, PD, covert and policy inference; 3 elsewhere)", flag_values=FLAGS)
flags.DEFINE_enum("dynamics", "paper", list(DYNAMICS), "particle physics and rewards: paper (the 2017 envs) or "
                  "mpe2 (as installed); run folders are named <dynamics>_...", flag_values=FLAGS)
flags.DEFINE_boolean("smoke", False, "tiny runs of the same code path (each script's --smoke), under smoke_* names",
                     flag_values=FLAGS)
flags.DEFINE_boolean("dry_run", False, "print the plan (one line per run with its estimated seconds, the total, "
                     "the critical path for --machines machines) and stop; nothing is started", flag_values=FLAGS)
flags.DEFINE_string("results_dir", str(REPO_ROOT / "results"), "where results/<experiment>/<run_id>/ go; on a "
                    "cluster a path shared by every node", flag_values=FLAGS)
flags.DEFINE_string("address", None, "Ray cluster to join: auto or <head>:<port> (default: start a local Ray with "
                    "every CPU of this machine)", flag_values=FLAGS)
flags.DEFINE_integer("max_parallel", 0, "runs at once (0: one per CPU of the Ray cluster)", flag_values=FLAGS)
flags.DEFINE_integer("max_retries", 3, "times Ray retries a run whose worker died (it resumes from its checkpoint)",
                     flag_values=FLAGS)
flags.DEFINE_integer("eval_workers", 1, "evaluation processes per run (1: the cluster is already one run per CPU)",
                     flag_values=FLAGS)
flags.DEFINE_integer("machines", 1, "--dry_run: the critical path for this many machines", flag_values=FLAGS)
flags.DEFINE_integer("cpus_per_machine", os.cpu_count() or 1, "--dry_run: CPUs of each of those machines",
                     flag_values=FLAGS)
flags.DEFINE_string("figures_dir", None, "paper_figures --out_dir (default: paper_figures/; with --smoke, "
                    "<results_dir>/smoke_paper_figures)", flag_values=FLAGS)
flags.DEFINE_boolean("update_readme", True, "let paper_figures rewrite the README's results section (never with "
                     "--smoke)", flag_values=FLAGS)
flags.DEFINE_boolean("figures", True, "end with python -m paper_figures", flag_values=FLAGS)
flags.DEFINE_string("plan_json", None, "--dry_run: also write the plan as JSON to this file (each run's name, "
                    "kind, config, estimate, memory and the runs it waits for; benchmarks.paper_time reads it)",
                    flag_values=FLAGS)


@dataclasses.dataclass
class PlannedRun:
    """One task of the plan.

    Attributes:
        experiment: the script's name (results/<experiment>/).
        label: the run within it (the script's [<variant>_]<pairing>, or the baseline).
        kind: "maddpg" (train + evaluate), "baseline" (a tf-agents subprocess) or "cross_play" (evaluation
            of two finished policy_ensembles runs, after them).
        run_dir: its folder.
        config: TrainConfig (maddpg, cross_play) or the baselines' BaselineRunConfig.
        seconds: estimated cost.
        after: run_dirs this one waits for.
        state: "finished", "resume" (a folder of the same config exists) or "new".
        units: episodes x seeds x agents (what the estimate scales with).
        done_fraction: of a "resume" MADDPG run, the share of its episodes its latest checkpoint holds.
    """

    experiment: str
    label: str
    kind: str
    run_dir: Path
    config: object
    seconds: float = 0.0
    after: tuple[Path, ...] = ()
    state: str = "new"
    units: int = 0
    done_fraction: float = 0.0

    @property
    def seconds_left(self) -> float:
        """The estimate of what is left to do: a resumed run restarts from its latest checkpoint."""
        return self.seconds * (1.0 - self.done_fraction)

    @property
    def name(self) -> str:
        return f"{self.experiment}/{self.run_dir.name}"


@dataclasses.dataclass(frozen=True)
class RunTask:
    """What a Ray task needs to run one PlannedRun (pickled to the worker)."""

    kind: str
    experiment: str
    run_dir: str
    config: object
    token: str | None = None  # the driver's token file in results_dir (the shared-path check)
    command: str = ""
    eval_workers: int = 1
    smoke: bool = False
    sources: tuple[tuple[str, object, str], ...] = ()  # cross_play: (label, config, run_dir) of its two runs
    announce_file: str | None = None  # appended "<pid> <checkpoint>" after each checkpoint (watchers, the kill test)


# ------------------------------------------------------------------------------------------------------------
# Planning


def _scenario_agents(scenario: str) -> int:
    from envs.reference import SCENARIOS

    return len(SCENARIOS[scenario].agents)


def plan_runs(options) -> list[PlannedRun]:
    """Every run of the requested experiments, in the order they are listed; UsageError on bad input."""
    unknown = [name for name in options.only if name not in EXPERIMENTS]
    if unknown:
        raise UsageError(f"unknown experiment {unknown[0]!r} in --only; choose from {', '.join(EXPERIMENTS)}")
    if options.seeds is not None and options.seeds <= 0:
        raise UsageError(f"--seeds must be positive, got {options.seeds}")
    wanted = [name for name in EXPERIMENTS if not options.only or name in options.only]
    plan: list[PlannedRun] = []
    for name in wanted:
        seeds = options.seeds or PAPER_SEEDS[name]
        if name == BASELINES:
            plan += _plan_baselines(options, seeds)
        else:
            plan += _plan_experiment(name, options, seeds)
    return plan


def _request(name: str, options, seeds: int) -> RunRequest:
    """What the driver asks of one experiment's script: every variant and pairing the script runs by default,
    `seeds` seeds, in the driver's dynamics, results folder and smoke setting."""
    return RunRequest(experiment=name, seeds=seeds, dynamics=options.dynamics, results_dir=options.results_dir,
                      smoke=options.smoke)


def _plan_experiment(name: str, options, seeds: int) -> list[PlannedRun]:
    from reproduction import runner

    experiment = importlib.import_module(f"reproduction.{name}").EXPERIMENT
    runs = []
    for label, config, run_dir in runner.plan_request(experiment, _request(name, options, seeds)):
        runs.append(PlannedRun(name, label, "maddpg", run_dir, config,
                               units=config.episodes * config.population * _scenario_agents(config.scenario)))
    if name == "policy_ensembles":
        runs += _plan_cross_play(runs)
    return runs


def _plan_cross_play(runs: list[PlannedRun]) -> list[PlannedRun]:
    """policy_ensembles' cross-play folder of each variant (named as its after_runs names it)."""
    from reproduction import policy_ensembles

    by_scenario: dict[str, dict[str, PlannedRun]] = {}
    for run in runs:
        by_scenario.setdefault(run.config.scenario, {})[run.config.algorithm] = run
    cross = []
    for scenario, kinds in by_scenario.items():
        if not all(kind in kinds for kind in policy_ensembles.POLICY_KINDS):
            continue
        ensemble = kinds["ensemble"]
        cross_dir = ensemble.run_dir.parent / ensemble.run_dir.name.replace(
            "_ensemble_", f"_{policy_ensembles.CROSS_PLAY}_", 1)
        config = dataclasses.replace(ensemble.config, algorithm=policy_ensembles.CROSS_PLAY)
        variant = ensemble.label.split("_")[0]
        cross.append(PlannedRun("policy_ensembles", f"{variant}_{policy_ensembles.CROSS_PLAY}", "cross_play",
                                cross_dir, config, after=tuple(kinds[k].run_dir for k in policy_ensembles.POLICY_KINDS),
                                units=4 * config.eval_episodes * config.population))
    return cross


def _plan_baselines(options, seeds: int) -> list[PlannedRun]:
    from reproduction import independent_baselines

    return [PlannedRun(BASELINES, config.algorithm, "baseline", run_dir, config,
                       units=config.episodes * len(config.seeds) * 2)
            for config, run_dir in independent_baselines.plan_request(_request(BASELINES, options, seeds))]


def check_run_dirs(plan: list[PlannedRun]) -> None:
    """Sets each run's state (finished, resume, new); UsageError for a folder of another config or that is no
    run folder, results.RunFolderError for a damaged file of one (nothing is created or written)."""
    from reproduction import independent_baselines

    for run in plan:
        folder = RunFolder(run.run_dir)
        if folder.has_config():
            if run.kind == "baseline":  # reads only: config.json exists
                finished = independent_baselines.prepare_run_dir(run.run_dir, run.config)
            else:
                folder.check_made_by(run.config)
                finished = folder.finished
            run.state = "finished" if finished else "resume"
            if run.state == "resume" and run.kind == "maddpg":
                folder.check_resumable()  # damage found here is one line and exit 2, not a failed Ray task
                run.done_fraction = folder.checkpointed_episodes() / run.config.episodes
        elif folder.holds_something_else():
            raise UsageError(f"{run.run_dir} exists and is not a run folder; move it away or pass another --results_dir")


# ------------------------------------------------------------------------------------------------------------
# Cost estimates


def calibration(results_dir: Path = REPO_ROOT / "results") -> list[dict]:
    """Seconds per (episode x seed x agent) of every committed run with recorded wall times, and per
    (combination x episode x seed) of every committed cross-play (algorithm "cross_play") that recorded its own."""
    rates = []
    # Cross-play folders of the ablation studies too: what a cross-play costs does not depend on how its
    # runs were trained.
    cross_play = results_dir.glob(f"**/*_cross_play_*/{results.META_FILE}")
    for meta_path in sorted(set(results_dir.glob(f"*/*/{results.META_FILE}")) | set(cross_play)):
        folder = RunFolder(meta_path.parent)
        if folder.path.name.startswith("smoke_") or not folder.has_config():
            continue
        meta, config = folder.meta, folder.config_json()  # a damaged one is an error, not a rate left out
        sessions = meta.get("sessions", [])
        if meta.get("kind") == "cross_play":  # evaluation only: its wall_seconds over the episodes it played
            rates += _cross_play_rate(meta, config, meta_path.parent.parent.name)
            continue
        if "critic_kinds" in config:  # a MADDPG run
            seconds = sum(s.get("wall_seconds", 0) for s in sessions)
            agents = len(config["critic_kinds"])
        else:  # a baseline: per-seed train and eval seconds
            seconds = sum(s.get("train_seconds", 0) + s.get("eval_seconds", 0) for s in sessions)
            agents = 2
        units = config.get("episodes", 0) * len(config.get("seeds", [])) * agents
        if seconds > 0 and units > 0:
            rates.append({"experiment": meta_path.parent.parent.name, "scenario": config.get("scenario"),
                          "algorithm": config.get("algorithm"), "rate": seconds / units})
    return rates


def _cross_play_rate(meta: dict, config: dict, experiment: str) -> list[dict]:
    """[the calibration entry] of a cross-play folder that recorded its wall time (units as _plan_cross_play
    counts them: 4 combinations x eval_episodes x seeds), else []."""
    units = 4 * int(config.get("eval_episodes", 0)) * len(config.get("seeds", []))
    seconds = meta.get("wall_seconds", 0)
    if not (seconds and units):
        return []
    return [{"experiment": experiment, "scenario": config.get("scenario"), "algorithm": "cross_play",
             "rate": seconds / units}]


def estimate(plan: list[PlannedRun], rates: list[dict]) -> None:
    """Sets each run's estimated seconds (see the module docstring)."""
    training = [r for r in rates if r["algorithm"] != "cross_play"]
    played = [r for r in rates if r["algorithm"] == "cross_play"]  # per evaluated episode, not per trained one
    overall = statistics.median(r["rate"] for r in training) if training else 1e-4
    keys = (("experiment", "scenario", "algorithm"), ("experiment", "scenario"), ("experiment",))
    for run in plan:
        scenario = getattr(run.config, "scenario", None)
        values = {"experiment": "cooperative_communication" if run.kind == "baseline" else run.experiment,
                  "scenario": scenario, "algorithm": run.config.algorithm}
        # No cross-play recorded its time: a tenth of a training run's rate per episode step (a guess).
        pool, rate = (played, 0.1 * overall * 25) if run.kind == "cross_play" else (training, overall)
        for fields in keys:
            matching = [r["rate"] for r in pool if all(r[f] == values[f] for f in fields)]
            if matching:
                rate = statistics.median(matching)
                break
        run.seconds = START_SECONDS + rate * run.units


MEASURED_FILE = REPO_ROOT / "results" / "paper_time_measured.json"  # python -m benchmarks.paper_time --measure


def measured_estimates(plan: list[PlannedRun], path: Path = MEASURED_FILE) -> int:
    """Replaces the estimate of every run measured in `path` (same name, seeds and episodes; its figure for the
    driver's layout) by the measured seconds; returns how many. No file: the calibrated estimates stay."""
    import json

    try:
        measured = json.loads(path.read_text())["driver_estimates"]
    except FileNotFoundError:
        return 0
    except (OSError, ValueError, KeyError) as error:
        raise UsageError(f"{path} is not a measurement of benchmarks.paper_time --measure ({error}); rerun that "
                         "or remove the file") from None
    found = 0
    for run in plan:
        entry = measured.get(run.name)
        if entry and (entry["seeds"], entry["episodes"]) == (len(run.config.seeds), run.config.episodes):
            run.seconds, found = float(entry["seconds"]), found + 1
    return found


def write_plan_json(plan: list[PlannedRun], path: Path) -> None:
    """The plan as JSON: per run its name, experiment, label, kind, config, estimated seconds, units, memory
    estimate and the names of the runs it waits for (benchmarks/paper_time.py --measure times every run of it)."""
    import json

    names = {run.run_dir: run.name for run in plan}
    runs = [{"name": run.name, "experiment": run.experiment, "label": run.label, "kind": run.kind,
             "config": run.config.to_json(), "seconds": run.seconds, "units": run.units,
             "memory_bytes": memory_bytes(run), "after": [names[d] for d in run.after]} for run in plan]
    path.write_text(json.dumps({"runs": runs, "threads_per_run": THREADS_PER_RUN, "memory_headroom": MEMORY_HEADROOM,
                                "object_store_bytes": LOCAL_OBJECT_STORE_BYTES}, indent=1) + "\n")


# A training run's peak resident memory against the bytes of its replay buffer: measured 10.9 GB for a
# 10-seed PD N=4 run, whose buffer is 4.8 GB (a checkpoint's copy of the filled rows and TensorFlow's own
# memory take the rest): 2.1 x 4.8 + 1 = 11.1. Two such runs side by side on this 24 GB machine were killed
# by Ray's OOM monitor.
MEMORY_PER_BUFFER_BYTE = 2.1
MEMORY_OVERHEAD_BYTES = 2**30
OTHER_TASK_BYTES = 2 * 2**30  # a tf-agents baseline or a cross-play evaluation: no replay buffer of ours
LOCAL_OBJECT_STORE_BYTES = 2**30
# Ray's memory resource is what a node had free at start, and its OOM monitor kills at 95% of the node's
# memory: runs ask for their estimate / MEMORY_HEADROOM, so that the driver, the raylet and the rest fit.
MEMORY_HEADROOM = 0.85


@functools.lru_cache(maxsize=None)
def _env_sizes(scenario: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(observation sizes, action sizes) of a scenario's agents (the same in both dynamics)."""
    from envs.batched import make_batched_env

    env = make_batched_env(scenario)
    return tuple(env.observation_sizes), tuple(env.action_sizes)


def memory_bytes(run: PlannedRun) -> int:
    """Estimated peak memory of a run: MEMORY_PER_BUFFER_BYTE x its replay buffers (every member's rows of
    observations, actions, rewards and next observations, float32) plus MEMORY_OVERHEAD_BYTES."""
    if run.kind != "maddpg":
        return OTHER_TASK_BYTES
    config = run.config
    observation_sizes, action_sizes = _env_sizes(config.scenario)
    floats = 2 * sum(observation_sizes) + sum(action_sizes) + len(observation_sizes) + 2  # + sub-policy ids
    rows = min(config.buffer_capacity, config.episodes * config.episode_length) * len(config.seeds)
    rows *= config.ensemble_size
    return int(MEMORY_PER_BUFFER_BYTE * 4 * floats * rows + MEMORY_OVERHEAD_BYTES)


def next_run(ready: list[PlannedRun], requests: dict[Path, float], held: float, budget: float,
             running: bool) -> PlannedRun | None:
    """The first ready run whose memory request fits beside the `held` bytes of the runs in flight; with
    nothing running, the first ready run whatever its size (its request is capped at the largest node's
    memory, so it can start); None while the others must wait for memory."""
    fitting = [run for run in ready if held + requests[run.run_dir] <= budget]
    if fitting:
        return fitting[0]
    return None if running else (ready[0] if ready else None)


def schedule(plan: list[PlannedRun], slots: int) -> float:
    """Wall seconds of a greedy longest-first schedule of the unfinished runs on `slots` parallel slots."""
    pending = [run for run in plan if run.state != "finished"]
    done_at: dict[Path, float] = {}
    free = [0.0] * max(1, slots)
    heapq.heapify(free)
    waiting = sorted(pending, key=lambda run: -run.seconds_left)
    while waiting:
        ready = [run for run in waiting if all(d in done_at or d not in {r.run_dir for r in pending} for d in run.after)]
        run = ready[0]
        waiting.remove(run)
        start = max(heapq.heappop(free), *(done_at.get(d, 0.0) for d in run.after), 0.0)
        done_at[run.run_dir] = start + run.seconds_left
        heapq.heappush(free, start + run.seconds_left)
    return max(done_at.values(), default=0.0)


def _resumed(run: PlannedRun) -> str:
    """The plan line's note on a resumed run's checkpoint, or ''."""
    if not run.done_fraction:
        return ""
    return f"; {run.done_fraction:.0%} checkpointed, {run.seconds_left:.0f} s left"


def print_plan(plan: list[PlannedRun], options) -> None:
    for run in plan:
        seeds = getattr(run.config, "seeds", ())
        episodes = getattr(run.config, "episodes", 0)
        print(f"  {run.state:8s} {run.seconds:8.0f} s {memory_bytes(run) / 2**30:5.1f} GB  {run.name}  ({run.kind}, "
              f"{len(seeds)} seeds x {episodes} "
              f"episodes{', after ' + ', '.join(d.name for d in run.after) if run.after else ''}{_resumed(run)})")
    todo = [run for run in plan if run.state != "finished"]
    total = sum(run.seconds_left for run in todo)
    longest = max(todo, key=lambda run: run.seconds_left, default=None)
    print(f"plan: {len(plan)} runs ({len(plan) - len(todo)} finished already), {total:.0f} s = {total / 3600:.2f} h "
          f"of work left")
    if longest is not None:
        print(f"longest single run: {longest.name}, {longest.seconds_left:.0f} s")
    machines = sorted({1, 2, 4, 8, options.machines})
    for n in machines:
        slots = n * options.cpus_per_machine
        print(f"critical path on {n} machine{'s' if n > 1 else ''} x {options.cpus_per_machine} CPUs: "
              f"{schedule(plan, slots):.0f} s (total / slots = {total / slots:.0f} s)")


# ------------------------------------------------------------------------------------------------------------
# Ray tasks


def run_task(task: RunTask) -> dict:
    """Runs one planned run where Ray put it; returns its wall seconds, process, host and Ray node."""
    started = time.perf_counter()
    run_dir = Path(task.run_dir)
    if task.token is not None and not (run_dir.parent.parent / task.token).exists():
        raise UsageError(f"{run_dir.parent.parent} on host {socket.gethostname()} is not the driver's results "
                         "folder: on a cluster --results_dir must be a path shared by every node")
    if task.kind == "maddpg":
        _train_and_evaluate(task)
    elif task.kind == "cross_play":
        from reproduction.policy_ensembles import cross_play

        # as the script evaluates: a smoke run's few episodes in this process
        workers = task.eval_workers or (1 if task.smoke else None)
        cross_play([(label, config, Path(path)) for label, config, path in task.sources], task.command, workers)
    else:
        from reproduction import independent_baselines

        independent_baselines.prepare_run_dir(run_dir, task.config)
        RunFolder(run_dir).update_meta(command=task.command)
        code = independent_baselines.run_worker([run_dir])
        if code != 0:
            raise RuntimeError(f"the baseline subprocess exited with code {code} (its log is in the Ray worker's)")
    import ray

    return {"wall_seconds": time.perf_counter() - started, "pid": os.getpid(), "host": socket.gethostname(),
            "node": ray.get_runtime_context().get_node_id()}


def _train_and_evaluate(task: RunTask) -> None:
    """Trains (or resumes) and evaluates one run as its script would (runner), announcing each checkpoint."""
    from reproduction import runner

    def announce(checkpoint: str) -> None:
        if task.announce_file:
            with open(task.announce_file, "a") as handle:
                handle.write(f"{os.getpid()} {checkpoint}\n")

    folder = RunFolder(task.run_dir)
    weights = runner.trained_actor_weights(task.config, folder, progress=False, command=task.command or None,
                                           on_checkpoint=announce)
    runner.evaluate_weights(task.config, folder, weights, task.eval_workers)


def remote_run_task(ray, max_retries: int, fresh_workers: bool = True):
    """run_task as a Ray remote function: one CPU, retried when its worker dies (it then resumes).

    fresh_workers: run every task in a new worker process (Ray's max_calls=1). A reused worker keeps what its
    previous run allocated: the PD N=4 worker held 14.5 GB at the start of its second run, against the 11.2 GB
    it was asked to fit in, which left 2 GB of this 24 GB machine free. It costs a TensorFlow import per run
    (seconds), so the smoke paper reuses workers.
    """
    return ray.remote(num_cpus=1, max_retries=max_retries, retry_exceptions=False,
                      max_calls=1 if fresh_workers else 0)(run_task)


def connect(ray, address: str | None) -> None:
    """Starts a local Ray with every CPU, or joins the cluster at address; UsageError if nobody answers."""
    # One TensorFlow intra-op thread per run, as each run holds one Ray CPU: measured here, two runs side by
    # side train 7% faster on one thread each than on two (benchmarks/update_profile.py --threads), and the
    # thread count changes the numbers (Eigen splits its reductions by thread), so a run retried on a node
    # with another core count still continues the same numbers.
    runtime_env = {"env_vars": {"PYTHONPATH": str(REPO_ROOT), "TF_CPP_MIN_LOG_LEVEL": "3",
                                "TF_NUM_INTRAOP_THREADS": str(THREADS_PER_RUN)}}
    if address is None:
        # logging_level: Ray's own start-up lines (token notice, "Started a local Ray instance") are not ours.
        # object_store_memory: runs return a few numbers and write their files themselves, so the object store
        # needs little, and what it does not reserve is left to the runs' memory resource (Ray's default
        # reserves 30% of the machine's memory for it).
        ray.init(num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False, runtime_env=runtime_env,
                 logging_level=logging.ERROR, object_store_memory=LOCAL_OBJECT_STORE_BYTES)
        return
    if address != "auto":
        host, _, port = address.rpartition(":")
        if not host or not port.isdigit():
            raise UsageError(f"--address must be auto or <host>:<port>, got {address!r}")
        try:
            socket.create_connection((host, int(port)), timeout=5).close()
        except OSError as error:
            raise UsageError(f"no Ray head answers at {address} ({error.strerror or error})") from None
    try:
        ray.init(address=address, log_to_driver=False, runtime_env=runtime_env, logging_level=logging.ERROR)
    except (ConnectionError, RuntimeError, ValueError) as error:
        raise UsageError(f"cannot join the Ray cluster at {address}: {str(error).splitlines()[0]}") from None


def _duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def execute(plan: list[PlannedRun], options, command: str, token: str | None) -> list[str]:
    """Runs the unfinished runs as Ray tasks (dependencies first); returns one line per failed run."""
    import ray

    remote = remote_run_task(ray, options.max_retries, fresh_workers=not options.smoke)
    cpus = int(ray.cluster_resources().get("CPU", 1))
    window = min(options.max_parallel or cpus, cpus)
    # Ray's memory resource: a run asks for its estimate (capped at the largest node, so that it can always
    # start somewhere), and the driver starts the first ready run that fits beside those in flight.
    node_memory = [node["Resources"].get("memory", 0.0) for node in ray.nodes() if node.get("Alive")]
    largest, memory_budget = max(node_memory, default=0.0), sum(node_memory)
    requests = {run.run_dir: min(memory_bytes(run) / MEMORY_HEADROOM, largest) if largest else 0 for run in plan}
    pending = [run for run in plan if run.state != "finished"]
    sources = {run.run_dir: run for run in plan}
    failed: set[Path] = set()
    done: set[Path] = {run.run_dir for run in plan if run.state == "finished"}
    failures: list[str] = []
    in_flight: dict = {}
    started_at = time.perf_counter()
    done_estimate = done_actual = 0.0
    total = len(pending)
    finished = 0
    print(f"running {total} runs on {cpus} CPUs, {window} at once", flush=True)
    while pending or in_flight:
        for run in [r for r in pending if any(d in failed for d in r.after)]:
            pending.remove(run)
            failed.add(run.run_dir)
            failures.append(f"{run.name}: not run, a run it needs failed")
        ready = [r for r in pending if all(d in done for d in r.after)]
        while ready and len(in_flight) < window:
            held = sum(requests[r.run_dir] for r, _ in in_flight.values())
            run = next_run(ready, requests, held, memory_budget, bool(in_flight))
            if run is None:
                break  # the next runs wait for memory, not just for a CPU
            ready.remove(run)
            pending.remove(run)
            task = RunTask(run.kind, run.experiment, str(run.run_dir), run.config, token, command,
                           options.eval_workers, options.smoke,
                           tuple((sources[d].label, sources[d].config, str(d)) for d in run.after))
            memory = {"memory": requests[run.run_dir]} if requests[run.run_dir] else {}
            in_flight[remote.options(**memory).remote(task)] = (run, time.perf_counter())
            print(f"[started] {run.name} ({run.state}, estimated {run.seconds_left:.0f} s, "
                  f"{requests[run.run_dir] / 2**30:.1f} GB)", flush=True)
        if not in_flight:
            break
        ready_refs, _ = ray.wait(list(in_flight), num_returns=1)
        run, started = in_flight.pop(ready_refs[0])
        try:
            report = ray.get(ready_refs[0])
            done.add(run.run_dir)
            print(f"[finished] {run.name} in {_duration(report['wall_seconds'])} (on {report['host']}, node {report['node'][:8]})", flush=True)
            done_estimate += run.seconds_left
            done_actual += time.perf_counter() - started
        except Exception as error:  # a RayTaskError wraps the run's own exception, its message first
            failed.add(run.run_dir)
            message = str(getattr(error, "cause", None) or error).strip().splitlines()
            failures.append(f"{run.name}: {message[-1] if message else type(error).__name__}")
            print(f"[failed] {run.name}: {failures[-1]}", flush=True)
        finished += 1
        left = sum(r.seconds_left for r in pending) + sum(r.seconds_left for r, _ in in_flight.values())
        speed = done_actual / done_estimate if done_estimate else 1.0
        print(f"[{finished}/{total} runs done] {_bar(finished, total)} elapsed {_duration(time.perf_counter() - started_at)}, "
              f"about {_duration(left * speed / window)} left", flush=True)
    return failures


def _bar(done: int, total: int, width: int = 20) -> str:
    filled = width * done // max(total, 1)
    return "[" + "#" * filled + "." * (width - filled) + "]"


# ------------------------------------------------------------------------------------------------------------
# Command line


def _figures(options) -> int:
    from paper_figures.__main__ import main as figures_main

    out_dir = options.figures_dir or (str(Path(options.results_dir) / "smoke_paper_figures") if options.smoke
                                      else str(REPO_ROOT / "paper_figures"))
    argv = ["paper_figures", f"--results_dir={options.results_dir}", f"--out_dir={out_dir}"]
    if options.smoke:
        argv.append("--include_smoke")
    if options.smoke or not options.update_readme:
        argv.append("--no_readme")
    print(f"$ python -m {' '.join(argv)}", flush=True)
    return figures_main(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the command line; returns the exit code."""
    argv = list(sys.argv if argv is None else argv)
    if any(arg in HELP_ARGUMENTS for arg in argv[1:]):
        print(__doc__.strip() + "\n\nflags:\n" + FLAGS.get_help())
        return 0
    for name in list(FLAGS):
        FLAGS[name].unparse()  # repeated calls (tests) start from the defaults
    try:
        remaining = FLAGS(argv)
    except flags.Error as error:
        print(f"error: {error}; see --help", file=sys.stderr)
        return 2
    if len(remaining) > 1:
        print(f"error: unexpected arguments {remaining[1:]}; see --help", file=sys.stderr)
        return 2
    options = FLAGS
    command = " ".join(["python -m reproduction.paper", *argv[1:]])
    try:
        plan = plan_runs(options)
        check_run_dirs(plan)
        estimate(plan, calibration())
        measured = measured_estimates(plan)
        if options.dry_run:
            print_plan(plan, options)
            if measured:
                print(f"estimates of {measured} runs measured on this machine ({results.display_path(MEASURED_FILE)}), "
                      "the others calibrated on the committed runs")
            if options.plan_json:
                write_plan_json(plan, Path(options.plan_json))
            return 0
        todo = [run for run in plan if run.state != "finished"]
        if any(run.kind == "baseline" for run in todo):
            from reproduction.independent_baselines import check_installed

            check_installed()
        if options.max_parallel < 0:
            raise UsageError(f"--max_parallel must be >= 0, got {options.max_parallel}")
        for run in plan:
            if run.state == "finished":
                print(f"[skipped] {run.name}: finished already", flush=True)
        failures = []
        if todo:
            import ray

            connect(ray, options.address)
            results_dir = Path(options.results_dir)
            results_dir.mkdir(parents=True, exist_ok=True)
            token = f"{TOKEN_PREFIX}{uuid.uuid4().hex}"
            (results_dir / token).write_text(f"{socket.gethostname()} {os.getpid()}\n")
            try:
                failures = execute(plan, options, command, token)
            finally:
                (results_dir / token).unlink(missing_ok=True)
                ray.shutdown()
    except UsageError as error:
        return report_usage_error(error)
    for failure in failures:
        print(f"error: {failure}", file=sys.stderr)
    if options.figures:
        code = _figures(options)
        if code:
            return code
    return 1 if failures else 0


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # Ctrl-C and kill alike shut Ray down via finally
    sys.exit(main())
