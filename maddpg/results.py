"""The rows schema of a run folder's CSV files, the names of its files, and the provenance a run records.

metrics.csv (training, appended as it goes) and evaluation.csv (reference-env evaluation) share one schema,
one row per value: experiment, scenario, algorithm, dynamics, role, seed, episode, env_step, metric, value.
Files written before the dynamics column existed lack it (maddpg/legacy_layout.py says what that means);
appending to such a file keeps its own columns. Rows are checked as they are read: a damaged line is a
RunFolderError naming the file, the line and what to do, never a row skipped. What the files of a folder
mean, and when they are read and written, is maddpg/run_folder.py's.

Writes never leave half a file: JSON and rewritten CSVs go through a temporary file and a rename, appended
rows are written whole or not at all, and a full disk is a RunFolderError naming the file.
"""

from __future__ import annotations

import contextlib
import csv
import datetime
import errno
import io
import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Callable, Iterable, Mapping

from maddpg import legacy_layout

COLUMNS = ("experiment", "scenario", "algorithm", "dynamics", "role", "seed", "episode", "env_step", "metric", "value")
LEGACY_COLUMNS = legacy_layout.header_without_dynamics(COLUMNS)  # files written before the dynamics column
CONFIG_FILE, META_FILE, METRICS_FILE, EVALUATION_FILE = "config.json", "meta.json", "metrics.csv", "evaluation.csv"
CHECKPOINT_DIR, TENSORBOARD_DIR = "checkpoints", "tensorboard"
CHECKPOINT_STATE_FILE = "checkpoint"  # TensorFlow's text file in checkpoints/ naming the latest checkpoint
# meta.json's keys for "trained" and "evaluated" (maddpg/run_folder.py reads and writes them).
TRAINING_COMPLETE, EVALUATION_COMPLETE = "training_complete", "evaluation_complete"
DISK_FULL_REMEDY = ("free space on that disk (or pass another --results_dir) and run the same command again: a run "
                    "resumes from its last checkpoint")


class UsageError(Exception):
    """Bad input a user can fix; the command line prints it on one line and exits with code 2 (maddpg/cli.py)."""


class RunFolderError(UsageError):
    """A run folder's file that cannot be read or written as it is.

    Attributes:
        path: the file (or folder) at fault.
        problem: what is wrong with it, naming it.
        remedy: what the user can do.
    """

    def __init__(self, path: Path, problem: str, remedy: str):
        self.path, self.problem, self.remedy = Path(path), problem, remedy
        super().__init__(f"{problem}; {remedy}")


def is_disk_full(error: BaseException) -> bool:
    """Whether an error of a write is the disk (or the user's quota) being full: OSError ENOSPC/EDQUOT, or
    TensorFlow's error for it (ResourceExhaustedError, or an OpError saying so)."""
    if isinstance(error, OSError):
        return error.errno in (errno.ENOSPC, errno.EDQUOT)
    tf = sys.modules.get("tensorflow")
    if tf is None or not isinstance(error, tf.errors.OpError):
        return False
    message = str(error)
    if "No space left on device" in message or "Disk quota exceeded" in message:
        return True
    # ResourceExhaustedError is also TensorFlow's out-of-memory error: that one is not the disk.
    return isinstance(error, tf.errors.ResourceExhaustedError) and "memory" not in message.lower() \
        and "OOM" not in message


@contextlib.contextmanager
def writing(path: Path):
    """Turns a full disk inside the block into a RunFolderError naming `path` (other errors pass as they are)."""
    try:
        yield
    except Exception as error:
        if not is_disk_full(error):
            raise
        raise RunFolderError(path, f"cannot write {path}: no space left on the device ({_first_line(error)})",
                             DISK_FULL_REMEDY) from None


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


def write_atomically(path: Path, text: str) -> None:
    """Replaces path's content with text through a temporary file: a failed write leaves the old file whole."""
    temporary = path.with_name(path.name + ".tmp")
    with writing(path):
        try:
            temporary.write_text(text)
            os.replace(temporary, path)
        except BaseException:
            temporary.unlink(missing_ok=True)  # what a full disk had room for
            raise


def append_whole(path: Path, text: str) -> None:
    """Appends text to path, all of it or (a write failed) none of it."""
    size = path.stat().st_size
    with writing(path):
        try:
            with path.open("a", newline="") as handle:
                handle.write(text)
        except BaseException:
            with path.open("r+b") as handle:
                handle.truncate(size)
            raise


def read_rows(path: Path, remedy: str, schema: bool = True) -> tuple[tuple[str, ...], list[list[str]]]:
    """(header, rows) of a CSV of the shared schema (with schema False, of any header), every row checked.

    Raises:
        RunFolderError: the header is not the schema's (either layout), or a line is not a row under the header
            (a field missing or too many, a seed, episode or env_step that is not an integer, a value that is
            not a number, no role or metric: each checked where the header has that column); it names the line.
    """
    try:
        with path.open(newline="") as handle:
            lines = list(csv.reader(handle))
    except (csv.Error, UnicodeDecodeError) as error:
        raise RunFolderError(path, f"{path} is not a CSV file ({_first_line(error)})", remedy) from None
    header = tuple(lines[0]) if lines else ()
    if (schema and header not in (COLUMNS, LEGACY_COLUMNS)) or not header:
        raise RunFolderError(path, f"{path} line 1 is not the header of the results schema "
                                   f"({','.join(COLUMNS)})", remedy)
    for number, row in enumerate(lines[1:], start=2):
        problem = _row_problem(header, row)
        if problem:
            raise RunFolderError(path, f"{path} line {number} is not a row of the results schema ({problem})", remedy)
    return header, lines[1:]


def _row_problem(header: tuple[str, ...], row: list[str]) -> str | None:
    if len(row) != len(header):
        return f"{len(row)} fields, not {len(header)}"
    fields = dict(zip(header, row))
    for column in ("seed", "episode", "env_step"):
        try:
            int(fields.get(column, 0))
        except ValueError:
            return f"{column} {fields[column][:40]!r} is not an integer"
    try:
        float(fields.get("value", 0))
    except ValueError:
        return f"value {fields['value'][:40]!r} is not a number"
    if not fields.get("metric", "-") or not fields.get("role", "-"):
        return "no role or metric"
    return None


class MetricsWriter:
    """Appends rows to a CSV with the shared schema, each batch whole, so a killed run loses nothing written.

    config: a TrainConfig, or anything with its experiment, scenario, algorithm, dynamics and episode_length
    (a cross-play evaluation's settings, maddpg/cross_play.py).
    remedy: what a RunFolderError about a damaged line of this file tells the user to do.
    """

    def __init__(self, path: Path, config, remedy: str = "fix or delete that line"):
        self.path = path
        self.config = config
        self.remedy = remedy
        if not path.exists():
            write_atomically(path, _csv_text([COLUMNS]))
        self.columns = read_rows(path, remedy)[0]  # an older file keeps its own schema

    def write(self, rows: Iterable[Mapping]) -> None:
        """Each row: role, seed, episode, metric, value (experiment, scenario, algorithm, dynamics, env_step are
        filled in)."""
        append_whole(self.path, rows_csv(self.config, rows, self.columns))

    def truncate_after(self, episode: int) -> None:
        """Drops rows logged after `episode` (written after the checkpoint a resume starts from)."""
        keep_rows(self.path, "episode", lambda value: value <= episode, self.remedy)

    def keep_seeds(self, seeds: Iterable[int]) -> None:
        """Drops the rows of seeds not in `seeds` (a seed restarted from scratch logs its rows again)."""
        seeds = set(seeds)
        keep_rows(self.path, "seed", lambda value: value in seeds, self.remedy)


def rows_csv(config, rows: Iterable[Mapping], columns: tuple[str, ...], header: bool = False) -> str:
    """The CSV text of rows (role, seed, episode, metric, value each) in `columns`, the other fields from config
    (see MetricsWriter), after the header line when `header`."""
    lines = [columns] if header else []
    for row in rows:
        full = {"experiment": config.experiment, "scenario": config.scenario, "algorithm": config.algorithm,
                "dynamics": config.dynamics, "role": row["role"], "seed": row["seed"],
                "episode": row["episode"], "env_step": row["episode"] * config.episode_length,
                "metric": row["metric"], "value": repr(float(row["value"]))}
        lines.append([full[column] for column in columns])
    return _csv_text(lines)


def _csv_text(rows) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue()


def keep_rows(path: Path, column: str, keep: Callable[[int], bool], remedy: str = "fix or delete that line") -> None:
    """Rewrites a CSV of the shared schema (atomically) without the rows whose integer `column` fails `keep`.

    Raises:
        RunFolderError: a line of the file is damaged (read_rows); the file is left as it is.
    """
    if not path.exists():
        return
    header, rows = read_rows(path, remedy, schema=False)
    if column not in header:
        raise RunFolderError(path, f"{path} line 1 has no {column} column", remedy)
    index = header.index(column)
    kept = [row for row in rows if keep(int(row[index]))]
    if len(kept) != len(rows):
        write_atomically(path, _csv_text([header] + kept))


def display_path(path: Path) -> str:
    """path as meta.json files, tables and summaries name it: relative to the repository root when inside it
    (so a committed file does not carry the checkout it was made in), else absolute."""
    path = Path(path).resolve()
    root = Path(__file__).resolve().parent.parent
    return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)


def intra_op_threads() -> int:
    """TensorFlow's intra-op thread count in this process (TF_NUM_INTRAOP_THREADS, else one per core).

    Recorded because it changes a run's numbers: Eigen splits reductions by thread, so the same seed gives the
    same metrics only at the same thread count (docs/speed.md, "one TensorFlow thread per run").
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
