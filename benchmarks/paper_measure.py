"""What `python -m benchmarks.paper_time --measure` runs: a timed segment of every planned run, scaled to full length.

A segment of a MADDPG-family run builds the run's Trainer on the batched port (maddpg.run.build_trainer, as the
driver's task does) and times its `iteration()` calls: the warm-up iterations (no update yet; they cost little),
the iteration in which the first updates come, then `--measure_episodes` episodes per seed of updating
iterations. The first iteration's time beyond a warm-up iteration's is the tracing and XLA compile, reported
apart. Then one resume checkpoint and one finished checkpoint are saved into a temporary folder, and a few
reference-env evaluation episodes of one seed are played with maddpg.evaluation. The full run is estimated as

    import + build + compile + warm-up rate x warm-up iterations + updating rate x the other iterations
    + checkpoints (each resume checkpoint's time scaled by the replay rows it holds then) + evaluation
    (seconds per episode x eval_episodes x seeds / eval workers)

A tf-agents baseline (tf_agents_baselines.training.SeedTrainer, in a legacy-Keras process as its own worker
runs) is timed the same way for its first seed; its greedy evaluation is timed once as a seed runs it (the
call traces the seed's new policies), then on one and two batches (fixed cost + per batch); and a second
seed is built and its first iteration timed: the seeds run one after the other in one process, each built
and traced anew, and only the first pays the process's first-use costs. A cross-play evaluation trains
nothing: it is derived from the evaluation probe of its ensemble run in the same layout (4 combinations x
eval_episodes x seeds episodes).

Each segment runs in a process of its own (--quick: one per kind and slot), since TensorFlow reads its thread
counts once at start and the driver starts a fresh worker per run (TensorFlow's import and first-use costs come
with every run): layout 1 is one process at a time with every TensorFlow thread, layout 2 is two processes side
by side at TF_NUM_INTRAOP_THREADS=1 and TF_NUM_INTEROP_THREADS=1 each (the driver's layout on a 2-core machine).
A slot that runs out of work while the other still measures repeats its own last segment, untimed, so every
figure of layout 2 is taken beside another run. Each measurement records the 1-minute load average before and
after it, and the parent samples the machine's busy CPU against its own processes' (/proc), so a figure taken
while another heavy process ran is marked (`load_marks`).
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

REPO_ROOT = Path(__file__).resolve().parent.parent
LOAD_MARGIN = 0.5  # a figure is marked when the 1-minute load exceeds the layout's own busy threads + this
FOREIGN_CORES_LIMIT = 0.5  # ... or when other processes used more than this many cores during it
POLL_SECONDS = 0.5
EVAL_PROBE_EPISODES = 20  # reference-env evaluation episodes timed per MADDPG run (one seed)
QUICK_EVAL_PROBE_EPISODES = 1


@dataclasses.dataclass(frozen=True)
class Layout:
    """How the measurements of one layout run: `slots` processes at once, `threads` TensorFlow threads each."""

    key: str
    slots: int
    threads: int

    @property
    def busy_threads(self) -> int:
        """What the layout's own processes can add to the load average (each thread can keep a core busy)."""
        return self.slots * self.threads


def layouts(cpus: int | None = None) -> dict[str, Layout]:
    """Layout "1": one slot with every thread; "2": two slots side by side at one thread each."""
    cpus = cpus or os.cpu_count() or 1
    return {"1": Layout("1", 1, cpus), "2": Layout("2", 2, 1)}


@dataclasses.dataclass(frozen=True)
class Settings:
    """How long a segment is and what the estimate assumes.

    Attributes:
        measure_episodes: updating episodes per seed timed after the warm-up (and the first updating iteration).
        eval_probe_episodes: reference-env evaluation episodes timed per MADDPG run (one seed; a baseline's
            greedy evaluation is timed in batches of 50, or with --quick on these many episodes).
        eval_workers: evaluation processes per run (the paper driver's --eval_workers: 1).
        quick: tiny segments of shrunk configs, eagerly (a check of the method, no figure to quote).
    """

    measure_episodes: int = 2000
    eval_probe_episodes: int = EVAL_PROBE_EPISODES
    eval_workers: int = 1
    quick: bool = False


# ------------------------------------------------------------------------------------------------------------
# Load marks


def load_reading() -> float:
    """The 1-minute load average now."""
    return os.getloadavg()[0]


def load_marks(load_before: float, load_after: float, layout: Layout, foreign_cores: float | None) -> list[str]:
    """Why a figure was taken beside another heavy process ([] when it was not): the 1-minute load above the
    layout's own busy threads + LOAD_MARGIN before or after it, or other processes' CPU above
    FOREIGN_CORES_LIMIT cores while it ran (None: not sampled)."""
    marks = []
    limit = layout.busy_threads + LOAD_MARGIN
    worst = max(load_before, load_after)
    if worst > limit:
        marks.append(f"load {worst:.2f} > {limit:.1f}")
    if foreign_cores is not None and foreign_cores > FOREIGN_CORES_LIMIT:
        marks.append(f"others used {foreign_cores:.2f} cores")
    return marks


def _machine_busy_seconds() -> float | None:
    """CPU seconds every core spent busy since boot (/proc/stat), None where there is no /proc."""
    try:
        with open("/proc/stat") as handle:
            fields = [int(value) for value in handle.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    user, nice, system, idle, iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def _process_seconds(pid: int) -> float:
    """CPU seconds of a process, all its threads and its reaped children included (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return sum(int(value) for value in fields[11:15]) / os.sysconf("SC_CLK_TCK")


class CpuSampler:
    """The CPU other processes used while ours ran: the machine's busy CPU less our processes' own, sampled."""

    def __init__(self, clock: Callable[[], float] = time.time):
        self.clock = clock  # wall-clock seconds, as the measuring processes stamp their records
        self.times: list[float] = []
        self.foreign: list[float] = []  # cumulative CPU seconds of everything but our processes
        self._last: tuple[float, dict[int, float]] | None = None

    def sample(self, pids) -> None:
        busy = _machine_busy_seconds()
        if busy is None:
            return
        ours = {pid: _process_seconds(pid) for pid in [os.getpid(), *pids]}
        if self._last is None:
            self.times.append(self.clock())
            self.foreign.append(0.0)
        else:
            last_busy, last_ours = self._last
            own = sum(seconds - last_ours.get(pid, 0.0) for pid, seconds in ours.items())
            self.times.append(self.clock())
            self.foreign.append(self.foreign[-1] + max(busy - last_busy - own, 0.0))
        self._last = (busy, ours)

    def foreign_cores(self, start: float, end: float) -> float | None:
        """Mean cores other processes kept busy between two wall-clock times (None: not sampled then)."""
        if len(self.times) < 2 or end <= start or start < self.times[0] or end > self.times[-1] + 2 * POLL_SECONDS:
            return None

        def at(moment: float) -> float:
            for i in range(1, len(self.times)):
                if self.times[i] >= moment:
                    share = (moment - self.times[i - 1]) / max(self.times[i] - self.times[i - 1], 1e-9)
                    return self.foreign[i - 1] + share * (self.foreign[i] - self.foreign[i - 1])
            return self.foreign[-1]

        return (at(end) - at(start)) / (end - start)


# ------------------------------------------------------------------------------------------------------------
# Scaling a segment to the full run (pure arithmetic: the tests check it on hand-made figures)


def iteration_summary(times: list[tuple[float, int]]) -> dict:
    """What a segment's iterations say, from (seconds, updates) per iteration in order.

    warmup_iterations: the leading iterations without an update; warm-up and updating rates: the mean seconds
    of the warm-up iterations after the first (which also traces and compiles) and of the iterations after
    the first updating one (whose updates start part-way); updating_spread: the updating iterations' relative
    standard error of the mean.
    """
    updates = [count for _, count in times]
    warmup = next((i for i, count in enumerate(updates) if count), len(times))
    steady_warmup = [seconds for seconds, _ in times[1:warmup]]
    updating = [seconds for seconds, _ in times[warmup + 1:]] if warmup < len(times) else []
    mean = statistics.fmean(updating) if updating else None
    spread = (statistics.stdev(updating) / math.sqrt(len(updating)) / mean) if len(updating) > 1 and mean else None
    return {"iterations_timed": len(times), "first_iteration_seconds": times[0][0] if times else 0.0,
            "warmup_iterations": warmup,
            "warmup_seconds_per_iteration": statistics.fmean(steady_warmup) if steady_warmup else None,
            "first_updating_iteration_seconds": times[warmup][0] if warmup < len(times) else None,
            "updating_iterations_timed": len(updating), "updating_seconds_per_iteration": mean,
            "updating_spread": spread}


def training_seconds(raw: dict, episodes: int) -> dict[str, float]:
    """{compile, warmup, updating} seconds of a full training of `episodes` episodes per seed, from a segment's
    iteration_summary (and its episodes_per_iteration). The full run has the segment's warm-up iterations;
    every later iteration costs the updating rate (the first updating one, a part-way one, included)."""
    total = episodes // raw["episodes_per_iteration"]
    warmup = min(raw["warmup_iterations"], total)
    warmup_rate, updating_rate = _rates(raw)
    return {"compile": max(raw["first_iteration_seconds"] - _first_iteration_rate(raw), 0.0),
            "warmup": warmup * warmup_rate, "updating": (total - warmup) * updating_rate}


def _rates(raw: dict) -> tuple[float, float]:
    """(warm-up, updating) seconds per iteration of a segment (a segment that ended before its updating
    iterations: its first updating one, else 0)."""
    updating = raw["updating_seconds_per_iteration"]
    if updating is None:
        updating = raw["first_updating_iteration_seconds"] or 0.0
    return raw["warmup_seconds_per_iteration"] or 0.0, updating


def _first_iteration_rate(raw: dict) -> float:
    """What a segment's first iteration costs beyond its tracing and compile: a warm-up or updating one's rate."""
    warmup_rate, updating_rate = _rates(raw)
    return warmup_rate if raw["warmup_iterations"] else updating_rate


def checkpoint_seconds(probe: dict, episodes: int, every: int) -> float:
    """Seconds of a run's checkpoints: a resume checkpoint every `every` episodes before the last (its time
    grows with the replay rows it saves, min(rows per episode x episodes, capacity)) and the finished one."""
    per_row = max(probe["resume_seconds"] - probe["finished_seconds"], 0.0) / probe["rows"] if probe["rows"] else 0.0
    seconds = probe["finished_seconds"]
    for episode in range(every, episodes, every):
        seconds += probe["finished_seconds"] + per_row * min(probe["rows_per_episode"] * episode, probe["capacity"])
    return seconds


def maddpg_estimate(raw: dict, config, eval_workers: int) -> dict[str, float]:
    """The full run's seconds by part, from a MADDPG segment's record and the planned TrainConfig.

    meta: what the run's meta.json records (its training sessions' wall_seconds: compile, iterations,
    checkpoints); total: what the driver's task costs (import, build and evaluation too).
    """
    parts = {"import": raw["import_seconds"], "build": raw["build_seconds"],
             **training_seconds(raw, config.episodes),
             "checkpoints": checkpoint_seconds(raw["checkpoint"], config.episodes, config.checkpoint_every_episodes),
             "evaluation": raw["eval_seconds_per_episode"] * config.eval_episodes * len(config.seeds)
             / max(eval_workers, 1)}
    parts["meta"] = parts["compile"] + parts["warmup"] + parts["updating"] + parts["checkpoints"]
    parts["total"] = parts["import"] + parts["build"] + parts["meta"] + parts["evaluation"]
    return parts


def baseline_eval_seconds(probe: dict, eval_episodes: int) -> float:
    """One seed's greedy evaluation: fixed + per batch x batches, or per episode x episodes (--quick)."""
    if "seconds_per_batch" in probe:
        return probe["fixed_seconds"] + probe["seconds_per_batch"] * math.ceil(eval_episodes / probe["batch"])
    return probe["seconds_per_episode"] * eval_episodes


def baseline_estimate(raw: dict, config) -> dict[str, float]:
    """A tf-agents baseline run's seconds by part, from its first seed's segment and the planned
    BaselineRunConfig: the seeds run one after the other in one process, each built and traced anew (a later
    seed's build and first iteration as the segment's second seed measured them, without the process's
    first-use costs); meta: the seeds' train + eval seconds."""
    seeds = len(config.seeds)
    training = training_seconds(raw, config.episodes)
    later = raw.get("next_seed") or {"build_seconds": raw["build_seconds"],
                                     "first_iteration_seconds": raw["first_iteration_seconds"]}
    later_compile = max(later["first_iteration_seconds"] - _first_iteration_rate(raw), 0.0)
    parts = {"import": raw["import_seconds"], "build": raw["build_seconds"] + (seeds - 1) * later["build_seconds"],
             "compile": training["compile"] + (seeds - 1) * later_compile, "warmup": seeds * training["warmup"],
             "updating": seeds * training["updating"], "checkpoints": 0.0,
             "evaluation": seeds * baseline_eval_seconds(raw["eval"], config.eval_episodes)}
    parts["meta"] = parts["build"] + parts["compile"] + parts["warmup"] + parts["updating"] + parts["evaluation"]
    parts["total"] = parts["import"] + parts["meta"]
    return parts


def cross_play_estimate(ensemble_raw: dict, config, eval_workers: int) -> dict[str, float]:
    """A cross-play's seconds: 4 combinations x eval_episodes x seeds reference-env episodes at the ensemble
    run's evaluation rate (meta: the evaluation, as its meta.json's wall_seconds), and a process start."""
    evaluation = ensemble_raw["eval_seconds_per_episode"] * 4 * config.eval_episodes * len(config.seeds) \
        / max(eval_workers, 1)
    return {"import": ensemble_raw["import_seconds"], "evaluation": evaluation, "meta": evaluation,
            "total": ensemble_raw["import_seconds"] + evaluation}


# ------------------------------------------------------------------------------------------------------------
# Segments (in the measuring subprocess)


def time_iterations(step: Callable[[], int], total: int, updating_target: int) -> list[tuple[float, int]]:
    """(seconds, updates) of each `step()` (one iteration, returning its update count): the warm-up, the first
    updating iteration, then updating_target more, never past the run's `total` iterations."""
    times: list[tuple[float, int]] = []
    first_updating = None
    while len(times) < total:
        started = time.perf_counter()
        updates = step()
        times.append((time.perf_counter() - started, updates))
        if updates and first_updating is None:
            first_updating = len(times) - 1
        if first_updating is not None and len(times) - 1 - first_updating >= updating_target:
            break
    return times


QUICK_EPISODE_LENGTH = 5


def quick_maddpg_config(config):
    """A shrunk config of the same scenario and kind: 4 x K envs, 5-step episodes, one warm-up iteration, one
    update per iteration, 3 iterations, tiny networks, no XLA."""
    envs = 4 * config.ensemble_size
    per_iteration = envs * QUICK_EPISODE_LENGTH // config.ensemble_size  # transitions a buffer gets an iteration
    return dataclasses.replace(config, seeds=config.seeds[:2], episodes=3 * envs, num_envs=envs, hidden_units=16,
                               episode_length=QUICK_EPISODE_LENGTH, batch_size=16,
                               warmup_transitions=per_iteration + 1, update_every=per_iteration,
                               inference_samples=min(config.inference_samples, per_iteration),
                               log_every_episodes=envs, checkpoint_every_episodes=envs, eval_episodes=1,
                               jit_compile=False)


def quick_baseline_config(config):
    """The baseline's --smoke settings, 5-step episodes, 3 iterations of one seed, one evaluation episode."""
    from tf_agents_baselines.algorithms import hyperparameters

    settings = hyperparameters(config.algorithm, smoke=True)
    return dataclasses.replace(config, seeds=config.seeds[:1], settings=settings, episodes=3 * settings.num_envs,
                               episode_length=QUICK_EPISODE_LENGTH, log_every_episodes=settings.num_envs,
                               eval_episodes=1, smoke=True)


def measure_maddpg(config, settings: Settings) -> dict:
    """One MADDPG segment's record (iteration_summary, build, checkpoint and evaluation probes)."""
    from maddpg.evaluation import EvaluationSettings, evaluate_population
    from maddpg.learner import actor_weights
    from maddpg.run import build_trainer, replay_buffers, save_checkpoint

    started = time.perf_counter()
    trainer = build_trainer(config)
    build = time.perf_counter() - started

    def step() -> int:
        outputs = {name: value.numpy() for name, value in trainer.iteration().items()}  # as maddpg.run reads them
        return int(outputs["num_updates"])

    times = time_iterations(step, config.episodes // config.num_envs,
                            math.ceil(settings.measure_episodes / config.num_envs))
    buffer = replay_buffers(trainer)[0][1]
    rows, done = int(buffer.size.numpy()), int(trainer.episodes_done.numpy())
    with tempfile.TemporaryDirectory(prefix="paper_measure_") as folder:
        started = time.perf_counter()
        save_checkpoint(trainer, Path(folder) / "resume", finished=False)
        resume = time.perf_counter() - started
        started = time.perf_counter()
        save_checkpoint(trainer, Path(folder) / "finished", finished=True)
        finished = time.perf_counter() - started
    probe_episodes = settings.eval_probe_episodes
    started = time.perf_counter()
    evaluate_population(config.scenario, actor_weights(trainer.learner), config.seeds[:1],
                        EvaluationSettings.of(config, probe_episodes), workers=1, ensemble_size=config.ensemble_size)
    per_episode = (time.perf_counter() - started) / probe_episodes
    return {"build_seconds": build, "episodes_per_iteration": config.num_envs, **iteration_summary(times),
            "checkpoint": {"resume_seconds": resume, "finished_seconds": finished, "rows": rows,
                           "rows_per_episode": rows / max(done, 1), "capacity": buffer.capacity},
            "eval_seconds_per_episode": per_episode}


def measure_baseline(config, settings: Settings) -> dict:
    """One tf-agents baseline's first-seed segment record (in a TF_USE_LEGACY_KERAS=1 process)."""
    from tf_agents_baselines.evaluation import EVAL_BATCH, evaluate_policies
    from tf_agents_baselines.training import SeedTrainer

    seed = config.seeds[0]
    started = time.perf_counter()
    trainer = SeedTrainer(config, seed)
    build = time.perf_counter() - started

    def step() -> int:
        before = trainer.updates
        trainer.iteration()
        return trainer.updates - before

    envs = trainer.settings.num_envs
    times = time_iterations(step, config.episodes // envs, math.ceil(settings.measure_episodes / envs))
    policies = [learner.policy for learner in trainer.learners]

    def evaluation(episodes: int) -> float:
        started = time.perf_counter()
        evaluate_policies(config.scenario, policies, seed, episodes, config.episode_length, dynamics=config.dynamics)
        return time.perf_counter() - started

    if settings.quick:
        probe = {"seconds_per_episode": evaluation(settings.eval_probe_episodes) / settings.eval_probe_episodes}
    else:  # a call plays EVAL_BATCH episodes at a time; a seed's one call also traces its new policies
        first = evaluation(EVAL_BATCH)
        one, two = evaluation(EVAL_BATCH), evaluation(2 * EVAL_BATCH)  # traced already: they differ by a batch
        per_batch = max(two - one, 0.0)
        probe = {"fixed_seconds": max(first - per_batch, 0.0), "seconds_per_batch": per_batch, "batch": EVAL_BATCH}
    record = {"build_seconds": build, "episodes_per_iteration": envs, **iteration_summary(times), "eval": probe}
    if len(config.seeds) > 1:  # a later seed is built and traced anew, without the process's first-use costs
        del trainer, policies
        started = time.perf_counter()
        trainer = SeedTrainer(config, config.seeds[1])
        next_build = time.perf_counter() - started
        started = time.perf_counter()
        step()
        record["next_seed"] = {"build_seconds": next_build, "first_iteration_seconds": time.perf_counter() - started}
    return record


def child_main(jobs_path: str, out_path: str) -> int:
    """The measuring subprocess: every job of the jobs file in turn, one JSON line each into out_path (a filler
    repeats them, writing nothing, until it is killed)."""
    spec = json.loads(Path(jobs_path).read_text())
    settings = Settings(**spec["settings"])
    kind = spec["kind"]
    from maddpg.cli import quiet_tensorflow

    quiet_tensorflow([sys.argv[0]])
    if kind == "baseline":
        import logging
        import warnings

        from tf_agents_baselines.run_config import BaselineRunConfig
        from tf_agents_baselines.training import SeedTrainer  # noqa: F401  (TensorFlow, in the legacy-Keras way)

        logging.getLogger("tensorflow").setLevel(logging.ERROR)
        warnings.filterwarnings("ignore", category=SyntaxWarning)
        read, measure_one = BaselineRunConfig.from_json, measure_baseline
    else:
        from maddpg.config import TrainConfig
        from maddpg.run import build_trainer  # noqa: F401  (TensorFlow and the trainer: the import time)

        read, measure_one = TrainConfig.from_json, measure_maddpg
    import tensorflow as tf

    if settings.quick:
        tf.config.run_functions_eagerly(True)  # no tracing: --quick checks the method, not the speed
    import_seconds = time.time() - spec["spawned_at"]
    while True:
        for job in spec["jobs"]:
            record = {"name": job["name"], "started_at": time.time(), "load_before": load_reading()}
            try:
                record.update(measure_one(read(job["config"]), settings), import_seconds=import_seconds)
            except Exception as error:  # one failed segment must not lose the others' figures
                lines = str(error).strip().splitlines()
                record["error"] = f"{type(error).__name__}: {lines[0] if lines else ''}"
            record.update(ended_at=time.time(), load_after=load_reading())
            if not spec["filler"]:
                with open(out_path, "a") as handle:
                    handle.write(json.dumps(record) + "\n")
        if not spec["filler"]:
            return 0


# ------------------------------------------------------------------------------------------------------------
# Layouts (in the parent)


def child_environment(layout: Layout, kind: str) -> dict[str, str]:
    """The environment of a measuring subprocess: the layout's TensorFlow threads, and legacy Keras for a
    baseline (as reproduction/independent_baselines.py starts its worker)."""
    from tf_agents_baselines.process import legacy_keras_environment

    environment = dict(os.environ, TF_NUM_INTRAOP_THREADS=str(layout.threads),
                       TF_NUM_INTEROP_THREADS=str(layout.threads), TF_CPP_MIN_LOG_LEVEL="3",
                       PYTHONPATH=os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])))
    return legacy_keras_environment(environment) if kind == "baseline" else environment


def split_slots(groups: list[tuple[str, list[dict]]], slots: int, one_per_process: bool) -> list[list[tuple]]:
    """Each slot's processes, as (kind, jobs): every kind's jobs dealt longest first to the slot with the least
    work so far (job["weight"]: its expected segment seconds); one process per job (as the driver starts a fresh
    worker per run, which pays TensorFlow's import and first-use costs again), or per kind and slot (--quick)."""
    loads = [0.0] * slots
    per_slot: list[list[tuple[str, list[dict]]]] = [[] for _ in range(slots)]
    for kind, jobs in groups:
        dealt: list[list[dict]] = [[] for _ in range(slots)]
        for job in sorted(jobs, key=lambda job: -job["weight"]):
            slot = loads.index(min(loads))
            dealt[slot].append(job)
            loads[slot] += job["weight"]
        for slot, slot_jobs in enumerate(dealt):
            chunks = [[job] for job in slot_jobs] if one_per_process else [slot_jobs] if slot_jobs else []
            per_slot[slot] += [(kind, chunk) for chunk in chunks]
    return per_slot


@dataclasses.dataclass
class _Child:
    slot: int
    kind: str
    filler: bool
    process: subprocess.Popen
    out: Path
    err: Path
    jobs: list[dict]
    lines_read: int = 0


def run_layout(layout: Layout, groups: list[tuple[str, list[dict]]], settings: Settings, folder: Path,
               sampler: CpuSampler, log: Callable[[str], None] = print) -> list[dict]:
    """Measures every job of `groups` ((kind, jobs) pairs) in the layout; returns one record per job, each with
    its layout, slot, foreign cores and load marks (a failed segment: its "error")."""
    queues = split_slots(groups, layout.slots, one_per_process=not settings.quick)
    last: list[tuple[str, list[dict]] | None] = [None] * layout.slots
    running: dict[int, _Child] = {}
    done: list[_Child] = []
    count = 0

    def start(slot: int, kind: str, jobs: list[dict], filler: bool) -> _Child:
        nonlocal count
        count += 1
        stem = folder / f"layout{layout.key}_slot{slot}_{count}{'_filler' if filler else ''}"
        spec = {"kind": kind, "settings": dataclasses.asdict(settings), "filler": filler, "spawned_at": time.time(),
                "jobs": [{"name": job["name"], "config": job["config"]} for job in jobs]}
        Path(f"{stem}.jobs.json").write_text(json.dumps(spec))
        out, err = Path(f"{stem}.jsonl"), Path(f"{stem}.stderr")
        with open(err, "w") as stderr:
            command = [sys.executable, "-m", "benchmarks.paper_measure", "--child", f"{stem}.jobs.json", str(out)]
            process = subprocess.Popen(command, cwd=REPO_ROOT, env=child_environment(layout, kind),
                                       stdout=subprocess.DEVNULL, stderr=stderr)
        return _Child(slot, kind, filler, process, out, err, jobs)

    fillers_failed = set()
    while True:
        for slot, child in list(running.items()):
            finished = child.process.poll() is not None
            _report_progress(child, layout, log)
            if finished:
                done.append(running.pop(slot))
                if child.filler and child.process.returncode not in (0, -9):
                    fillers_failed.add(slot)  # a filler that fails is not restarted
        if not (any(queues) or any(not child.filler for child in running.values())):
            break
        for slot in range(layout.slots):
            if slot not in running and queues[slot]:
                kind, jobs = queues[slot].pop(0)
                last[slot] = (kind, jobs)
                running[slot] = start(slot, kind, jobs, filler=False)
        for slot in range(layout.slots):
            if slot not in running and slot not in fillers_failed:
                # Keep the other slot's figures side by side: repeat segments, untimed (this slot's last ones,
                # or, for a slot that had none, those the other slot is measuring).
                kind, jobs = last[slot] or next((c.kind, c.jobs) for c in running.values() if not c.filler)
                running[slot] = start(slot, kind, jobs, filler=True)
        sampler.sample([child.process.pid for child in running.values()])
        time.sleep(POLL_SECONDS)
    for child in running.values():  # fillers only
        child.process.kill()
        child.process.wait()
    return _records(done, layout, sampler)


def _report_progress(child: _Child, layout: Layout, log: Callable[[str], None]) -> None:
    """Prints the records a (non-filler) child wrote since the last look."""
    if child.filler or not child.out.exists():
        return
    lines = child.out.read_text().split("\n")[:-1]  # whole lines only: the child may be writing the next one
    for line in lines[child.lines_read:]:
        record = json.loads(line)
        if "error" in record:
            log(f"  [layout {layout.key}, slot {child.slot}] {record['name']}: failed ({record['error']})")
        else:
            rate = record.get("updating_seconds_per_iteration")
            log(f"  [layout {layout.key}, slot {child.slot}] {record['name']}: "
                f"{record['ended_at'] - record['started_at']:.0f} s, compile {_compile_of(record):.0f} s, "
                f"{'-' if rate is None else f'{rate:.3f}'} s per updating iteration, "
                f"load {record['load_before']:.2f} -> {record['load_after']:.2f}")
    child.lines_read = len(lines)


def _compile_of(record: dict) -> float:
    first_rate = record["warmup_seconds_per_iteration"] if record["warmup_iterations"] else \
        record["updating_seconds_per_iteration"]
    return max(record["first_iteration_seconds"] - (first_rate or 0.0), 0.0)


def _records(children: list[_Child], layout: Layout, sampler: CpuSampler) -> list[dict]:
    records = []
    for child in children:
        if child.filler:
            continue
        written = [json.loads(line) for line in child.out.read_text().splitlines()] if child.out.exists() else []
        seen = {record["name"] for record in written}
        if child.process.returncode != 0:
            tail = [line for line in child.err.read_text().splitlines() if line.strip()][-1:] if child.err.exists() \
                else []
            reason = f"its process exited with code {child.process.returncode}: {tail[0] if tail else 'no message'}"
            written += [{"name": job["name"], "error": reason} for job in child.jobs if job["name"] not in seen]
        for record in written:
            record.update(layout=layout.key, slot=child.slot)
            if "error" not in record:
                record["foreign_cores"] = sampler.foreign_cores(record["started_at"], record["ended_at"])
                record["marks"] = load_marks(record["load_before"], record["load_after"], layout,
                                             record["foreign_cores"])
            records.append(record)
    return records


# ------------------------------------------------------------------------------------------------------------
# The whole plan


def baselines_installed() -> bool:
    """Whether the tf-agents baselines' packages are here (else their figures are the recorded ones)."""
    import importlib.util

    return all(importlib.util.find_spec(name) is not None for name in ("tf_agents", "tf_keras"))


def segment_groups(runs: list[dict], settings: Settings, with_baselines: bool) -> list[tuple[str, list[dict]]]:
    """(kind, jobs) of the plan's runs to time (runs as reproduction.paper --plan_json writes them): every
    MADDPG run and baseline, or with --quick the cheapest of each experiment, shrunk. A job's weight is its
    expected segment seconds (to share the slots)."""
    from maddpg.config import TrainConfig
    from tf_agents_baselines.run_config import BaselineRunConfig

    groups = []
    for kind, read, shrink in (("maddpg", TrainConfig.from_json, quick_maddpg_config),
                               ("baseline", BaselineRunConfig.from_json, quick_baseline_config)):
        chosen = [run for run in runs if run["kind"] == kind and (kind == "maddpg" or with_baselines)]
        if settings.quick:  # the cheapest run of each experiment, by the driver's estimate
            cheapest: dict[str, dict] = {}
            for run in chosen:
                if run["seconds"] < cheapest.get(run["experiment"], {"seconds": float("inf")})["seconds"]:
                    cheapest[run["experiment"]] = run
            chosen = [run for run in chosen if cheapest[run["experiment"]] is run]
        jobs = [{"name": run["name"],
                 "config": shrink(read(run["config"])).to_json() if settings.quick else run["config"],
                 "weight": 20.0 + run["seconds"] * min(1.0, settings.measure_episodes / run["config"]["episodes"])}
                for run in chosen]
        if jobs:
            groups.append((kind, jobs))
    return groups


def measure(runs: list[dict], settings: Settings, layout_keys: list[str], folder: Path,
            log: Callable[[str], None] = print) -> dict[str, list[dict]]:
    """Times the plan's segments in each layout; returns layout key -> the records (run_layout's)."""
    groups = segment_groups(runs, settings, baselines_installed())
    if not baselines_installed():
        log("the tf-agents baselines are not installed (bash scripts/install_baselines.sh): their figures are "
            "the recorded ones")
    sampler = CpuSampler()
    records = {}
    for key in layout_keys:
        layout = layouts()[key]
        segments = sum(len(jobs) for _, jobs in groups)
        log(f"layout {key}: {layout.slots} slot{'s' if layout.slots > 1 else ''} x {layout.threads} TensorFlow "
            f"thread{'s' if layout.threads > 1 else ''}, {segments} segments")
        started = time.perf_counter()
        records[key] = run_layout(layout, groups, settings, folder, sampler, log)
        log(f"layout {key} measured in {time.perf_counter() - started:.0f} s")
    return records


def run_figures(runs: list[dict], records: list[dict], settings: Settings) -> dict[str, dict]:
    """name -> {parts, source, marks, spread} of every run of the plan in one layout, from that layout's
    records: measured, derived (a cross-play, from its ensemble run's evaluation probe), scaled (--quick: a
    run not timed, from its experiment's timed one by units), or None parts with the reason (the caller
    falls back on the recorded figure)."""
    from maddpg.config import TrainConfig
    from tf_agents_baselines.run_config import BaselineRunConfig

    by_name = {record["name"]: record for record in records}
    figures: dict[str, dict] = {}
    for run in runs:
        record = by_name.get(run["name"])
        if record is None or "error" in record:
            continue
        if run["kind"] == "maddpg":
            parts = maddpg_estimate(record, TrainConfig.from_json(run["config"]), settings.eval_workers)
        else:
            parts = baseline_estimate(record, BaselineRunConfig.from_json(run["config"]))
        figures[run["name"]] = {"parts": parts, "source": "measured", "marks": record["marks"],
                                "spread": record.get("updating_spread")}
    for run in runs:
        if run["name"] in figures:
            continue
        record = by_name.get(run["name"])
        if record is not None and "error" in record:
            figures[run["name"]] = {"parts": None, "source": f"failed: {record['error']}", "marks": []}
            continue
        if run["kind"] == "cross_play":
            # Its ensemble run's evaluation probe, else its single run's, else (--quick) its experiment's.
            probed = [other for other in runs if other["kind"] == "maddpg" and figures.get(other["name"], {}).get(
                "source") == "measured" and (other["name"] in run["after"] or settings.quick)
                and other["experiment"] == run["experiment"]]
            probed.sort(key=lambda other: (other["name"] not in run["after"], other["config"]["ensemble_size"] == 1))
            if probed:
                source = probed[0]["name"]
                parts = cross_play_estimate(by_name[source], TrainConfig.from_json(run["config"]),
                                            settings.eval_workers)
                figures[run["name"]] = {"parts": parts, "source": f"derived from {source}",
                                        "marks": figures[source]["marks"]}
                continue
        timed = [other for other in runs if other["experiment"] == run["experiment"] and other["kind"] == run["kind"]
                 and other["name"] in figures and figures[other["name"]]["source"] == "measured"]
        if settings.quick and timed:
            ratio = run["units"] / timed[0]["units"]
            parts = {name: value * ratio for name, value in figures[timed[0]["name"]]["parts"].items()}
            figures[run["name"]] = {"parts": parts, "source": f"scaled from {timed[0]['name']} (--quick)",
                                    "marks": figures[timed[0]["name"]]["marks"]}
        else:
            figures[run["name"]] = {"parts": None, "source": "not measured", "marks": []}
    return figures


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        sys.exit(child_main(sys.argv[2], sys.argv[3]))
    print("usage: python -m benchmarks.paper_measure --child JOBS_JSON OUT_JSONL (started by "
          "python -m benchmarks.paper_time --measure)", file=sys.stderr)
    sys.exit(2)
