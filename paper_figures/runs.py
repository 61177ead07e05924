"""Finding run folders under results/ and choosing, per seed, the one run whose numbers count.

A run folder is results/<experiment>/<run_id>/ with config.json, meta.json, metrics.csv and (once evaluated)
evaluation.csv (schema in maddpg/results.py). Folders named smoke_* are smoke runs, left out unless asked for.

Dynamics: every run ran on one of DYNAMICS, "paper" (the 2017 particle physics and rewards) or "mpe2" (the
package as installed). A run's dynamics is config.json's "dynamics", else meta.json's; what a folder or a
rows file written before the setting existed ran on is maddpg/legacy_layout.py's answer. Numbers of the two
dynamics are never pooled: `Results.of_dynamics` gives the rows of one, and tables and figures are built from
that.

Duplicates: when several folders hold the same (experiment, scenario, algorithm, dynamics, seed), the seed's
rows come from the folder with more training episodes, then the newer one (meta.json created_at, else the
folder's config.json modification time). A chosen run without evaluation.csv yet gives that seed no table
value ("not run") even if an older, shorter run was evaluated: a table cell always shows the longest run.
A paper run and an mpe2 run of the same seed are not duplicates: each counts in its own dynamics.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
from pathlib import Path
from typing import Iterable

import pandas as pd

from maddpg import legacy_layout
from maddpg.results import CONFIG_FILE, EVALUATION_FILE, META_FILE, METRICS_FILE

SMOKE_PREFIX = "smoke_"
# The headline dynamics first: tables and figures of "paper" keep the plain file names.
DYNAMICS = ("paper", "mpe2")
HEADLINE_DYNAMICS = "paper"
# The rows schema of metrics.csv and evaluation.csv (maddpg/results.py). Spelled out here rather than taken
# from maddpg.results so that files with and without the dynamics column both read the same way.
ROW_COLUMNS = ("experiment", "scenario", "algorithm", "dynamics", "role", "seed", "episode", "env_step", "metric",
               "value")
REQUIRED_ROW_COLUMNS = tuple(column for column in ROW_COLUMNS if column != "dynamics")
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
    dynamics: str  # one of DYNAMICS
    seeds: tuple[int, ...]
    episodes: int
    eval_episodes: int | None
    created: float  # POSIX seconds, for "the newer run"
    training_complete: bool
    evaluated: bool
    warmup_transitions: int
    update_every: int
    command: str | None
    # A cross-play folder (maddpg/cross_play.py): the run folders whose policies it evaluated; it trained
    # nothing, and `episodes` is then their training episodes.
    cross_play_of: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """<experiment>/<run_id>: how tables.md names the run (under results/)."""
        return f"{self.path.parent.name}/{self.path.name}"


@dataclasses.dataclass
class Results:
    """The rows that count (one run per seed and dynamics), and every run they came from.

    Attributes:
        runs: every run folder read (after the smoke filter), whether or not any of its seeds was chosen.
        evaluation: evaluation.csv rows of the chosen (run, seed) pairs, plus a `run` column (Run.label); the
            `dynamics` column is the run's on every row.
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

    def dynamics_present(self, experiment: str | None = None) -> list[str]:
        """The dynamics of the runs read (of one experiment's runs if given), in DYNAMICS order."""
        present = {run.dynamics for run in self.runs if experiment is None or run.experiment == experiment}
        return [dynamics for dynamics in DYNAMICS if dynamics in present]

    def of_dynamics(self, dynamics: str) -> "Results":
        """The same results restricted to one dynamics' runs and rows (warnings are kept whole).

        Raises:
            ValueError: dynamics is not one of DYNAMICS.
        """
        check_dynamics(dynamics)
        return Results(runs=[run for run in self.runs if run.dynamics == dynamics],
                       evaluation=self.evaluation[self.evaluation["dynamics"] == dynamics],
                       metrics=self.metrics[self.metrics["dynamics"] == dynamics], warnings=self.warnings,
                       sources=frozenset(label for label in self.sources
                                         if self.runs_by_label()[label].dynamics == dynamics))


def check_dynamics(dynamics: str) -> str:
    """dynamics itself when it is one of DYNAMICS.

    Raises:
        ValueError: it is not.
    """
    if dynamics not in DYNAMICS:
        raise ValueError(f"unknown dynamics {dynamics!r}; expected one of {', '.join(DYNAMICS)}")
    return dynamics


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
        dynamics = check_dynamics(legacy_layout.recorded_dynamics(config, meta))
        return Run(
            path=run_dir,
            experiment=str(config["experiment"]),
            scenario=str(config["scenario"]),
            algorithm=str(config["algorithm"]),
            dynamics=dynamics,
            seeds=tuple(int(seed) for seed in config["seeds"]),
            episodes=int(config.get("episodes", config.get("source_training_episodes", 0))),
            eval_episodes=int(config["eval_episodes"]) if "eval_episodes" in config else None,
            created=_created_time(meta, config_path),
            # A cross-play folder has nothing to train: it exists once its source runs are trained.
            training_complete=bool(meta.get("training_complete", config.get("kind") == "cross_play")),
            evaluated=(run_dir / EVALUATION_FILE).exists(),
            warmup_transitions=int(config.get("warmup_transitions", DEFAULT_WARMUP_TRANSITIONS)),
            update_every=int(config.get("update_every", DEFAULT_UPDATE_EVERY)),
            command=_command(meta, dynamics),
            cross_play_of=_cross_play_sources(config, meta),
        )
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError(f"{config_path} cannot be read ({error})") from None


def _cross_play_sources(config: dict, meta: dict) -> tuple[str, ...]:
    """The source run folder names of a cross-play folder (of either layout, maddpg/legacy_layout.py); () for a run."""
    sources = legacy_layout.cross_play_sources(config, meta)
    return tuple(Path(str(sources[kind])).name for kind in sorted(sources)) if isinstance(sources, dict) else ()


def _created_time(meta: dict, config_path: Path) -> float:
    try:
        return datetime.datetime.fromisoformat(meta["created_at"]).timestamp()
    except (KeyError, TypeError, ValueError):
        return config_path.stat().st_mtime


def _command(meta: dict, dynamics: str) -> str | None:
    """The command line recorded in meta.json, under whichever of the usual keys it was written, as it remakes
    the run today (a command recorded before --dynamics existed gets the flag: maddpg/legacy_layout.py)."""
    for key in ("command", "command_line", "argv"):
        value = meta.get(key)
        command = " ".join(str(part) for part in value) if isinstance(value, list) else value
        if command:
            return legacy_layout.command_today(str(command), dynamics, meta)
    return None


def seed_key(run: Run, seed: int) -> tuple[str, str, str, str, int]:
    """What makes two runs' seeds duplicates: the same experiment, scenario, algorithm, dynamics and seed."""
    return run.experiment, run.scenario, run.algorithm, run.dynamics, seed


def choose_seed_sources(runs: Iterable[Run]) -> dict[tuple[str, str, str, str, int], Run]:
    """(experiment, scenario, algorithm, dynamics, seed) -> the run whose rows count: more episodes, then newer."""
    chosen: dict[tuple[str, str, str, str, int], Run] = {}
    for run in runs:
        for seed in run.seeds:
            key = seed_key(run, seed)
            current = chosen.get(key)
            if current is None or (run.episodes, run.created) > (current.episodes, current.created):
                chosen[key] = run
    return chosen


def read_rows(path: Path, unrecorded_dynamics: str = legacy_layout.UNRECORDED_DYNAMICS) -> pd.DataFrame:
    """A metrics.csv or evaluation.csv with typed columns (ROW_COLUMNS).

    Args:
        path: the file.
        unrecorded_dynamics: the dynamics of rows that do not say theirs (no dynamics column, or an empty
            cell in it).

    Raises:
        ValueError: the file lacks a column of the shared schema or has unparseable numbers.
    """
    frame = pd.read_csv(path)
    missing = [column for column in REQUIRED_ROW_COLUMNS if column not in frame.columns]
    if missing:
        raise ValueError(f"{path} lacks columns {missing}")
    if "dynamics" not in frame.columns:
        frame["dynamics"] = unrecorded_dynamics
    frame["dynamics"] = frame["dynamics"].fillna(unrecorded_dynamics)
    frame = frame[list(ROW_COLUMNS)].copy()
    for column in ("experiment", "scenario", "algorithm", "dynamics", "role", "metric"):
        frame[column] = frame[column].astype(str)
    for column in ("seed", "episode", "env_step"):
        frame[column] = pd.to_numeric(frame[column], errors="raise").astype(int)
    frame["value"] = pd.to_numeric(frame["value"], errors="raise").astype(float)
    return frame


def _empty_rows() -> pd.DataFrame:
    frame = pd.DataFrame({column: pd.Series(dtype=str) for column in ROW_COLUMNS})
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
        # Rows that do not say their dynamics take the run's, so only a recorded value can disagree with it.
        frame = read_rows(path, unrecorded_dynamics=run.dynamics)
    except (ValueError, pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        warnings.append(f"skipped {path}: {error}")
        return None
    mine = [seed for seed in run.seeds if chosen.get(seed_key(run, seed)) is run]
    frame = frame[frame["seed"].isin(mine)].copy()
    disagreeing = sorted(set(frame["dynamics"]) - {run.dynamics})
    if disagreeing:
        warnings.append(f"{path} has rows of dynamics {', '.join(disagreeing)} but its {CONFIG_FILE} says "
                        f"{run.dynamics}; they are counted as {run.dynamics}")
    # The config's labels, not the rows', decide which run a row belongs to (they agree in any sane run).
    frame["experiment"], frame["scenario"], frame["algorithm"] = run.experiment, run.scenario, run.algorithm
    frame["dynamics"] = run.dynamics
    frame["run"] = run.label
    return frame


def load_results(results_dir: Path, include_smoke: bool = False, run_dirs: list[Path] | None = None) -> Results:
    """Reads every run under results_dir (or just run_dirs) and keeps one run's rows per seed and dynamics.

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
