"""Finding run folders under results/ and choosing, per seed, the one run whose numbers count.

A run folder is results/<experiment>/<run_id>/ with config.json, meta.json, metrics.csv and (once evaluated)
evaluation.csv (schema in maddpg/results.py). Folders named smoke_* are smoke runs, left out unless asked for.

Duplicates: when several folders hold the same (experiment, scenario, algorithm, seed), the seed's rows come
from the folder with more training episodes, then the newer one (meta.json created_at, else the folder's
config.json modification time). A chosen run without evaluation.csv yet gives that seed no table value
("not run") even if an older, shorter run was evaluated: a table cell always shows the longest run.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
from pathlib import Path
from typing import Iterable

import pandas as pd

from maddpg.results import COLUMNS, CONFIG_FILE, EVALUATION_FILE, META_FILE, METRICS_FILE

SMOKE_PREFIX = "smoke_"
# The reference code's defaults, used to turn env steps into update iterations when a config lacks them.
DEFAULT_WARMUP_TRANSITIONS = 25_600
DEFAULT_UPDATE_EVERY = 100


@dataclasses.dataclass(frozen=True)
class Run:
    """One run folder, described by its config.json and meta.json."""

    path: Path
    experiment: str
    scenario: str
    algorithm: str
    seeds: tuple[int, ...]
    episodes: int
    eval_episodes: int | None
    created: float  # POSIX seconds, for "the newer run"
    training_complete: bool
    evaluated: bool
    warmup_transitions: int
    update_every: int
    command: str | None

    @property
    def label(self) -> str:
        """<experiment>/<run_id>: how tables.md names the run (under results/)."""
        return f"{self.path.parent.name}/{self.path.name}"


@dataclasses.dataclass
class Results:
    """The rows that count (one run per seed), and every run they came from.

    Attributes:
        runs: every run folder read (after the smoke filter), whether or not any of its seeds was chosen.
        evaluation: evaluation.csv rows of the chosen (run, seed) pairs, plus a `run` column (Run.label).
        metrics: metrics.csv rows of the chosen (run, seed) pairs, plus `run` and `update` (update iterations
            done by that env step: max(0, env_step - warmup_transitions) / update_every).
        warnings: one line per folder or file that could not be read.
        sources: labels of the runs that supply at least one seed (the others are superseded).
    """

    runs: list[Run]
    evaluation: pd.DataFrame
    metrics: pd.DataFrame
    warnings: list[str]
    sources: frozenset[str] = frozenset()

    def runs_by_label(self) -> dict[str, Run]:
        return {run.label: run for run in self.runs}


def find_run_dirs(results_dir: Path, include_smoke: bool = False) -> list[Path]:
    """Every results/<experiment>/<run_id>/ folder holding a config.json or a metrics.csv, sorted."""
    found = []
    for run_dir in sorted(Path(results_dir).glob("*/*/")):
        if not run_dir.is_dir() or (run_dir.name.startswith(SMOKE_PREFIX) and not include_smoke):
            continue
        if (run_dir / CONFIG_FILE).exists() or (run_dir / METRICS_FILE).exists():
            found.append(run_dir)
    return found


def read_run(run_dir: Path) -> Run:
    """A Run from the folder's config.json and meta.json.

    Raises:
        ValueError: config.json is missing, unreadable, or lacks experiment/scenario/algorithm/seeds.
    """
    config_path = run_dir / CONFIG_FILE
    if not config_path.exists():
        raise ValueError(f"{run_dir} has no {CONFIG_FILE}")
    try:
        config = json.loads(config_path.read_text())
        meta = json.loads((run_dir / META_FILE).read_text()) if (run_dir / META_FILE).exists() else {}
        return Run(
            path=run_dir,
            experiment=str(config["experiment"]),
            scenario=str(config["scenario"]),
            algorithm=str(config["algorithm"]),
            seeds=tuple(int(seed) for seed in config["seeds"]),
            episodes=int(config.get("episodes", 0)),
            eval_episodes=int(config["eval_episodes"]) if "eval_episodes" in config else None,
            created=_created_time(meta, config_path),
            training_complete=bool(meta.get("training_complete", False)),
            evaluated=(run_dir / EVALUATION_FILE).exists(),
            warmup_transitions=int(config.get("warmup_transitions", DEFAULT_WARMUP_TRANSITIONS)),
            update_every=int(config.get("update_every", DEFAULT_UPDATE_EVERY)),
            command=_command(meta),
        )
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError(f"{config_path} cannot be read ({error})") from None


def _created_time(meta: dict, config_path: Path) -> float:
    try:
        return datetime.datetime.fromisoformat(meta["created_at"]).timestamp()
    except (KeyError, TypeError, ValueError):
        return config_path.stat().st_mtime


def _command(meta: dict) -> str | None:
    """The command line recorded in meta.json, under whichever of the usual keys it was written."""
    for key in ("command", "command_line", "argv"):
        value = meta.get(key)
        if isinstance(value, list):
            return " ".join(str(part) for part in value)
        if value:
            return str(value)
    return None


def choose_seed_sources(runs: Iterable[Run]) -> dict[tuple[str, str, str, int], Run]:
    """(experiment, scenario, algorithm, seed) -> the run whose rows count: more episodes, then newer."""
    chosen: dict[tuple[str, str, str, int], Run] = {}
    for run in runs:
        for seed in run.seeds:
            key = (run.experiment, run.scenario, run.algorithm, seed)
            current = chosen.get(key)
            if current is None or (run.episodes, run.created) > (current.episodes, current.created):
                chosen[key] = run
    return chosen


def read_rows(path: Path) -> pd.DataFrame:
    """A metrics.csv or evaluation.csv with typed columns.

    Raises:
        ValueError: the file lacks a column of the shared schema or has unparseable numbers.
    """
    frame = pd.read_csv(path)
    missing = [column for column in COLUMNS if column not in frame.columns]
    if missing:
        raise ValueError(f"{path} lacks columns {missing}")
    frame = frame[list(COLUMNS)].copy()
    for column in ("experiment", "scenario", "algorithm", "role", "metric"):
        frame[column] = frame[column].astype(str)
    for column in ("seed", "episode", "env_step"):
        frame[column] = pd.to_numeric(frame[column], errors="raise").astype(int)
    frame["value"] = pd.to_numeric(frame["value"], errors="raise").astype(float)
    return frame


def _empty_rows() -> pd.DataFrame:
    frame = pd.DataFrame({column: pd.Series(dtype=str) for column in COLUMNS})
    for column in ("seed", "episode", "env_step"):
        frame[column] = frame[column].astype(int)
    frame["value"] = frame["value"].astype(float)
    frame["run"] = pd.Series(dtype=str)
    return frame


def _chosen_rows(run: Run, file_name: str, chosen: dict, warnings: list[str]) -> pd.DataFrame | None:
    """The rows of run/file_name whose seed this run supplies (see choose_seed_sources)."""
    path = run.path / file_name
    if not path.exists():
        return None
    try:
        frame = read_rows(path)
    except (ValueError, pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        warnings.append(f"skipped {path}: {error}")
        return None
    mine = [seed for seed in run.seeds if chosen.get((run.experiment, run.scenario, run.algorithm, seed)) is run]
    # The config's labels, not the rows', decide which run a row belongs to (they agree in any sane run).
    frame = frame[frame["seed"].isin(mine)].copy()
    frame["experiment"], frame["scenario"], frame["algorithm"] = run.experiment, run.scenario, run.algorithm
    frame["run"] = run.label
    return frame


def load_results(results_dir: Path, include_smoke: bool = False, run_dirs: list[Path] | None = None) -> Results:
    """Reads every run under results_dir (or just run_dirs) and keeps one run's rows per seed.

    Args:
        results_dir: the results/ folder (results/<experiment>/<run_id>/...).
        include_smoke: also read smoke_* folders (ignored when run_dirs is given: those are read as listed).
        run_dirs: read only these run folders.

    Returns:
        Results; a folder or file that cannot be read is skipped with a line in Results.warnings.
    """
    directories = list(run_dirs) if run_dirs is not None else find_run_dirs(results_dir, include_smoke)
    runs, warnings = [], []
    for run_dir in directories:
        try:
            runs.append(read_run(Path(run_dir)))
        except ValueError as error:
            warnings.append(f"skipped {error}")
    chosen = choose_seed_sources(runs)
    evaluations, metrics = [], []
    for run in runs:
        evaluation = _chosen_rows(run, EVALUATION_FILE, chosen, warnings)
        if evaluation is not None and len(evaluation):
            evaluations.append(evaluation)
        logged = _chosen_rows(run, METRICS_FILE, chosen, warnings)
        if logged is not None and len(logged):
            logged["update"] = (logged["env_step"] - run.warmup_transitions).clip(lower=0) / run.update_every
            metrics.append(logged)
    return Results(runs=runs, evaluation=_concatenate(evaluations), metrics=_concatenate(metrics, ("update",)),
                   warnings=warnings, sources=frozenset(run.label for run in chosen.values()))


def _concatenate(frames: list[pd.DataFrame], float_columns: tuple[str, ...] = ()) -> pd.DataFrame:
    """One frame of all rows; an empty one with the same typed columns when there are none."""
    if frames:
        return pd.concat(frames, ignore_index=True)
    frame = _empty_rows()
    for column in float_columns:
        frame[column] = pd.Series(dtype=float)
    return frame
