"""The on-disk layout of one run: results/<experiment>/<run_id>/{config.json, meta.json, metrics.csv, ...}.

metrics.csv (training, appended as it goes) and evaluation.csv (reference-env evaluation) share one schema,
one row per value: experiment, scenario, algorithm, dynamics, role, seed, episode, env_step, metric, value.
Files written before the dynamics column existed lack it (their runs are all mpe2, config.LEGACY_DYNAMICS);
appending to such a file keeps its own columns.
"""

from __future__ import annotations

import csv
import datetime
import json
import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Iterable, Mapping

from maddpg.config import TrainConfig

COLUMNS = ("experiment", "scenario", "algorithm", "dynamics", "role", "seed", "episode", "env_step", "metric", "value")
CONFIG_FILE, META_FILE, METRICS_FILE, EVALUATION_FILE = "config.json", "meta.json", "metrics.csv", "evaluation.csv"
CHECKPOINT_DIR, TENSORBOARD_DIR = "checkpoints", "tensorboard"


class UsageError(Exception):
    """Bad input a user can fix; the command line prints it on one line and exits with code 2."""


def prepare_run_dir(run_dir: Path, config: TrainConfig) -> bool:
    """Creates run_dir with config.json, or checks that an existing one was made with the same config.

    Returns:
        True if the directory already existed (a resume).

    Raises:
        UsageError: run_dir holds a run made with another config (nothing in it is touched).
    """
    config_path = run_dir / CONFIG_FILE
    if config_path.exists():
        try:
            recorded = json.loads(config_path.read_text())
        except ValueError as error:
            raise UsageError(f"{config_path} is not a config this version can read ({error}); use another --run_id")
        if isinstance(recorded, dict) and recorded.get("kind") == "cross_play":
            _check_cross_play_folder(run_dir, recorded, config)
            return True
        try:
            existing = TrainConfig.from_json(recorded)
        except (TypeError, ValueError) as error:
            raise UsageError(f"{config_path} is not a config this version can read ({error}); use another --run_id")
        if existing.dynamics != config.dynamics:
            raise UsageError(
                f"{run_dir} was made with dynamics {existing.dynamics!r}, not {config.dynamics!r}; pass "
                f"--dynamics={existing.dynamics} to use it, or another --run_id"
            )
        differences = existing.differences(config)
        if differences:
            raise UsageError(
                f"{run_dir} was made with another config (differs in: {', '.join(differences)}); "
                "pass another --run_id or remove that folder"
            )
        return True
    if run_dir.exists() and any(run_dir.iterdir()):
        raise UsageError(f"{run_dir} exists and is not a run folder; pass another --run_id")
    run_dir.mkdir(parents=True, exist_ok=True)
    _write_json_atomically(config_path, config.to_json())
    return False


def _check_cross_play_folder(run_dir: Path, recorded: dict, config: TrainConfig) -> None:
    """A cross-play folder (maddpg/cross_play.py) of the source run `config`: it must be an evaluation of
    the same settings (its config.json has no training fields to compare)."""
    from maddpg.cross_play import SETTING_KEYS

    wanted = config.to_json()
    different = [key for key in SETTING_KEYS if recorded.get(key) != wanted.get(key)]
    if different:
        raise UsageError(f"{run_dir} holds a cross-play of other settings (differs in: {', '.join(different)}); "
                         "remove that folder to evaluate again")


def _write_json_atomically(path: Path, data) -> None:
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    os.replace(temporary, path)


def read_meta(run_dir: Path) -> dict:
    path = run_dir / META_FILE
    return json.loads(path.read_text()) if path.exists() else {}


def update_meta(run_dir: Path, **fields) -> dict:
    """Merges fields into meta.json (creating it with provenance on first use) and returns the result."""
    meta = read_meta(run_dir) or provenance()
    meta.update(fields)
    _write_json_atomically(run_dir / META_FILE, meta)
    return meta


def display_path(path: Path) -> str:
    """path as meta.json files, tables and summaries name it: relative to the repository root when inside it
    (so a committed file does not carry the checkout it was made in), else absolute."""
    path = Path(path).resolve()
    root = Path(__file__).resolve().parent.parent
    return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)


def intra_op_threads() -> int:
    """TensorFlow's intra-op thread count in this process (TF_NUM_INTRAOP_THREADS, else one per core).

    Recorded because it changes a run's numbers: Eigen splits reductions by thread, so the same seed gives the
    same metrics only at the same thread count (measured: 1 vs 2 threads differ after a few updates).
    """
    tf = sys.modules.get("tensorflow")
    configured = tf.config.threading.get_intra_op_parallelism_threads() if tf is not None else 0
    return configured or int(os.environ.get("TF_NUM_INTRAOP_THREADS") or 0) or os.cpu_count() or 1


def git_state() -> dict:
    """{"git_commit", "git_dirty"} of the code this process runs (dirty: a tracked file differs from HEAD)."""
    root = Path(__file__).resolve().parent.parent

    def git(*args):
        try:
            return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    return {"git_commit": git("rev-parse", "HEAD") or "unknown",
            "git_dirty": bool(git("status", "--porcelain", "--untracked-files=no"))}


def provenance() -> dict:
    """Git commit, package versions and device of this process."""
    return {
        **git_state(),
        "packages": package_versions(("tensorflow", "keras", "numpy", "mpe2", "pettingzoo", "pandas", "scipy")),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "device": f"CPU ({platform.processor() or platform.machine()}, {os.cpu_count()} cores)",
        "intra_op_threads": intra_op_threads(),
        "created_at": now(),
    }


def package_versions(packages: Iterable[str]) -> dict[str, str | None]:
    """{package: installed version, or None when it is not installed}."""
    versions = {}
    for package in packages:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return versions


def now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


class MetricsWriter:
    """Appends rows to a CSV with the shared schema, flushing each batch so a killed run loses nothing written.

    config: a TrainConfig, or anything with its experiment, scenario, algorithm, dynamics and episode_length
    (a cross-play evaluation's settings, maddpg/cross_play.py).
    """

    def __init__(self, path: Path, config: TrainConfig):
        self.path = path
        self.config = config
        if not path.exists():
            with path.open("w", newline="") as handle:
                csv.writer(handle).writerow(COLUMNS)
        with path.open(newline="") as handle:
            self.columns = tuple(next(csv.reader(handle), COLUMNS))  # an older file keeps its own schema

    def write(self, rows: Iterable[Mapping]) -> None:
        """Each row: role, seed, episode, metric, value (experiment, scenario, algorithm, dynamics, env_step are
        filled in)."""
        config = self.config
        with self.path.open("a", newline="") as handle:
            writer = csv.writer(handle)
            for row in rows:
                full = {"experiment": config.experiment, "scenario": config.scenario, "algorithm": config.algorithm,
                        "dynamics": config.dynamics, "role": row["role"], "seed": row["seed"],
                        "episode": row["episode"], "env_step": row["episode"] * config.episode_length,
                        "metric": row["metric"], "value": repr(float(row["value"]))}
                writer.writerow([full[column] for column in self.columns])

    def truncate_after(self, episode: int) -> None:
        """Drops rows logged after `episode` (written after the checkpoint a resume starts from)."""
        keep_rows(self.path, "episode", lambda value: value <= episode)

    def keep_seeds(self, seeds: Iterable[int]) -> None:
        """Drops the rows of seeds not in `seeds` (a seed restarted from scratch logs its rows again)."""
        seeds = set(seeds)
        keep_rows(self.path, "seed", lambda value: value in seeds)


def keep_rows(path: Path, column: str, keep) -> None:
    """Rewrites a CSV of the shared schema (atomically) without the rows whose integer `column` fails `keep`."""
    if not path.exists():
        return
    with path.open(newline="") as handle:
        rows = list(csv.reader(handle))
    index = rows[0].index(column)
    kept = [rows[0]] + [r for r in rows[1:] if keep(int(r[index]))]
    if len(kept) != len(rows):
        temporary = path.with_suffix(".csv.tmp")
        with temporary.open("w", newline="") as handle:
            csv.writer(handle).writerows(kept)
        os.replace(temporary, path)


def read_evaluation(run_dir: Path) -> dict[int, dict[str, float]] | None:
    """{seed: {metric: value}} from run_dir/evaluation.csv, or None if the run has none yet."""
    import pandas as pd

    path = Path(run_dir) / EVALUATION_FILE
    if not path.exists():
        return None
    frame = pd.read_csv(path)
    return {int(seed): dict(zip(group["metric"], group["value"])) for seed, group in frame.groupby("seed")}


def check_checkpoint(run_dir: Path) -> None:
    """UsageError if the latest checkpoint in run_dir/checkpoints cannot be read (not a checkpoint, or its
    data files shorter than its index says); nothing if there is no checkpoint yet.

    Reads the index only, never the tensors: a truncated data file is found by comparing its size with the
    bytes the index's numeric tensors need (a lower bound; the string tensors' sizes are not counted).
    """
    import numpy as np
    import tensorflow as tf

    directory = Path(run_dir) / CHECKPOINT_DIR
    if not directory.is_dir():
        return
    remedy = f"remove {directory} to train the run from the start"
    try:
        latest = tf.train.latest_checkpoint(str(directory))
        if latest is None:
            return
        reader = tf.train.load_checkpoint(latest)
        shapes, dtypes = reader.get_variable_to_shape_map(), reader.get_variable_to_dtype_map()
    except (tf.errors.OpError, ValueError, IndexError) as error:
        message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise UsageError(f"the checkpoint in {directory} cannot be read ({message}); {remedy}") from None
    needed = sum(int(np.prod(shape)) * dtypes[name].size for name, shape in shapes.items()
                 if dtypes[name] != tf.string)
    present = sum(path.stat().st_size for path in directory.glob(Path(latest).name + ".data-*"))
    if present < needed:
        raise UsageError(f"the checkpoint {latest} is truncated ({present} bytes of data, its index needs at "
                         f"least {needed}); {remedy}")
