"""The one owner of a run folder's files: <results_dir>/<experiment>/<run_id>/.

    config.json              what the run is: a TrainConfig (maddpg/config.py), a cross-play's settings
                             (kind "cross_play", maddpg/cross_play.py) or a baseline's config
    meta.json                provenance (maddpg/results.py), training_complete, evaluation_complete, the
                             sessions that trained it, the env signature its checkpoints need, the command
    metrics.csv              training rows, appended as the run goes (schema: maddpg/results.py)
    evaluation.csv           reference-env evaluation rows, written whole once evaluated
    checkpoints/checkpoint   TensorFlow's state file naming the latest checkpoints/ckpt-<episodes done>

A RunFolder reads each file once, checks it as it reads it, and answers what the scripts ask: was it made by
this config (`check_made_by`), is it trained (`trained`), evaluated (`evaluated`), both (`finished`). A file
that cannot be read as it is raises results.RunFolderError naming it and what to do, before anything in the
folder is written; nothing here deletes a file. Writes are atomic, and a full disk is a RunFolderError too.
"""

from __future__ import annotations

import contextlib
import json
import re
from pathlib import Path
from typing import Iterable, Mapping

from maddpg import legacy_layout
from maddpg.config import TrainConfig
from maddpg.results import (CHECKPOINT_DIR, CHECKPOINT_STATE_FILE, COLUMNS, CONFIG_FILE, EVALUATION_COMPLETE,
                            EVALUATION_FILE, META_FILE, METRICS_FILE, TENSORBOARD_DIR, TRAINING_COMPLETE, MetricsWriter,
                            RunFolderError, UsageError, provenance, read_rows, rows_csv, write_atomically)

CROSS_PLAY = legacy_layout.CROSS_PLAY
# What two cross-play folders must agree on to be the same evaluation (either layout, maddpg/legacy_layout.py).
SETTING_KEYS = ("experiment", "scenario", "dynamics", "seeds", "eval_episodes", "gumbel_temperature")
SMOKE_PREFIX = "smoke_"
# One line of TensorFlow's checkpoint state file (a CheckpointState text proto).
_STATE_LINE = re.compile(r'(model_checkpoint_path|all_model_checkpoint_paths): "[^"]*"'
                         r"|(all_model_checkpoint_timestamps|last_preserved_timestamp): [-+0-9.eE]+")
_MODEL_PATH = re.compile(r'^model_checkpoint_path: "([^"]*)"$', re.MULTILINE)
_CHECKPOINT_NUMBER = re.compile(r"ckpt-(\d+)$")


def env_signature(env) -> dict:
    """What a checkpoint's networks depend on: the agents, their observation and action sizes, and the
    dynamics they were trained in (the action sign differs between the two)."""
    return {"agents": list(env.agents), "observation_sizes": list(env.observation_sizes),
            "action_sizes": list(env.action_sizes), "dynamics": env.dynamics}


class RunFolder:
    """One run folder. Reads are cached: meta.json and config.json are read once per RunFolder."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._meta: dict | None = None
        self._config_json: dict | None = None

    @classmethod
    def of(cls, folder: "RunFolder | Path | str") -> "RunFolder":
        """folder itself when it is a RunFolder, else a RunFolder of that path."""
        return folder if isinstance(folder, RunFolder) else cls(folder)

    def __repr__(self) -> str:
        return f"RunFolder({str(self.path)!r})"

    @property
    def config_path(self) -> Path:
        return self.path / CONFIG_FILE

    @property
    def meta_path(self) -> Path:
        return self.path / META_FILE

    @property
    def metrics_path(self) -> Path:
        return self.path / METRICS_FILE

    @property
    def evaluation_path(self) -> Path:
        return self.path / EVALUATION_FILE

    @property
    def checkpoint_dir(self) -> Path:
        return self.path / CHECKPOINT_DIR

    @property
    def tensorboard_dir(self) -> Path:
        return self.path / TENSORBOARD_DIR

    # ------------------------------------------------------------------------------------------------------
    # config.json: what the run is, and whether a config made it

    def has_config(self) -> bool:
        return self.config_path.is_file()

    def holds_something_else(self) -> bool:
        """Whether the path exists, is not empty, and is no run folder (no config.json)."""
        return not self.has_config() and self.path.exists() and any(self.path.iterdir())

    def config_json(self) -> dict | None:
        """config.json as recorded (a JSON object), or None when there is none.

        Raises:
            RunFolderError: it is not a JSON object.
        """
        if self._config_json is None and self.has_config():
            self._config_json = self._read_json(self.config_path, "restore it, or pass another --run_id")
        return self._config_json

    def train_config(self) -> TrainConfig:
        """The TrainConfig the run was made with.

        Raises:
            UsageError: the folder is no run folder, or its config.json is not a TrainConfig of this version.
        """
        recorded = self.config_json()
        if recorded is None:
            raise UsageError(f"{self.path} is not a run folder (no {CONFIG_FILE}); pass results/<experiment>/<run_id>")
        try:
            return TrainConfig.from_json(recorded)
        except (TypeError, ValueError) as error:
            raise UsageError(f"{self.config_path} is not a config this version can read ({error})") from None

    @property
    def is_cross_play(self) -> bool:
        """A cross-play folder (of either layout, maddpg/legacy_layout.py)."""
        return legacy_layout.is_cross_play(self.config_json() or {})

    @property
    def dynamics(self) -> str:
        """The run's dynamics: config.json's, else meta.json's (older layouts: maddpg/legacy_layout.py)."""
        return legacy_layout.recorded_dynamics(self.config_json() or {}, self.meta)

    def check_made_by(self, config: TrainConfig) -> None:
        """Raises UsageError unless the folder's config.json is `config` (a cross-play folder: an evaluation of
        the runs of `config`'s settings). Nothing is written."""
        recorded = self.config_json()
        if recorded is None:
            raise UsageError(f"{self.path} has no {CONFIG_FILE}: it is not a run folder")
        if recorded.get("kind") == CROSS_PLAY:
            self.check_cross_play_of(config.to_json())
            return
        try:
            existing = TrainConfig.from_json(recorded)
        except (TypeError, ValueError) as error:
            raise UsageError(f"{self.config_path} is not a config this version can read ({error}); "
                             "use another --run_id") from None
        if existing.dynamics != config.dynamics:
            raise UsageError(
                f"{self.path} was made with dynamics {existing.dynamics!r}, not {config.dynamics!r}; pass "
                f"--dynamics={existing.dynamics} to use it, or another --run_id")
        differences = existing.differences(config)
        if differences:
            raise UsageError(f"{self.path} was made with another config (differs in: {', '.join(differences)}); "
                             "pass another --run_id or remove that folder")

    def check_cross_play_of(self, source: Mapping) -> None:
        """Raises UsageError unless this cross-play folder evaluated runs of `source`'s settings (a source run's
        config.json; an old-layout folder's dynamics is in meta.json, maddpg/legacy_layout.py)."""
        recorded = legacy_layout.with_dynamics(self.config_json() or {}, self.meta)
        different = [key for key in SETTING_KEYS if recorded.get(key) != source.get(key)]
        if different:
            raise UsageError(f"{self.path} holds a cross-play of other settings (differs in: {', '.join(different)});"
                             " remove that folder to evaluate again")

    def open_for(self, config: TrainConfig) -> bool:
        """Creates the folder with config.json, or checks that the one there was made by `config`.

        Returns:
            True if the folder already held the run (a resume).

        Raises:
            UsageError: the folder holds a run of another config, or something that is not a run folder
                (nothing in it is touched).
        """
        if self.has_config():
            self.check_made_by(config)
            return True
        if self.holds_something_else():
            raise UsageError(f"{self.path} exists and is not a run folder; pass another --run_id")
        self.write_config(config.to_json())
        return False

    def write_config(self, recorded: Mapping) -> None:
        """Writes config.json (the folder is created)."""
        self.path.mkdir(parents=True, exist_ok=True)
        write_atomically(self.config_path, json.dumps(recorded, indent=2, sort_keys=True) + "\n")
        self._config_json = dict(recorded)

    # ------------------------------------------------------------------------------------------------------
    # meta.json: provenance and progress

    @property
    def meta(self) -> dict:
        """meta.json ({} when there is none yet), read once.

        Raises:
            RunFolderError: it is not a JSON object.
        """
        if self._meta is None:
            self._meta = (self._read_json(self.meta_path, "fix it, or delete it (a new one is written; the provenance "
                                                          "and sessions it recorded are lost)")
                          if self.meta_path.exists() else {})
        return self._meta

    def update_meta(self, *, trained: bool | None = None, evaluated: bool | None = None, **fields) -> dict:
        """Merges fields into meta.json (created with this process's provenance) and returns the result.

        trained, evaluated: training_complete and evaluation_complete, when given.
        """
        meta = dict(self.meta) or provenance()
        if trained is not None:
            meta[TRAINING_COMPLETE] = bool(trained)
        if evaluated is not None:
            meta[EVALUATION_COMPLETE] = bool(evaluated)
        meta.update(fields)
        text = json.dumps(meta, indent=2, sort_keys=True) + "\n"
        if self.meta_path.exists() and json.loads(text) == self._meta:
            return self.meta  # nothing changed: nothing to write
        write_atomically(self.meta_path, text)
        self._meta = json.loads(text)  # what the file holds, sharing no object with the caller's fields
        return self.meta

    @property
    def trained(self) -> bool:
        """meta.json says training completed (a cross-play folder trains nothing: always)."""
        return self.is_cross_play or bool(self.meta.get(TRAINING_COMPLETE))

    @property
    def evaluated(self) -> bool:
        """evaluation.csv is there (and reads), and meta.json does not say it is unfinished (a baseline writes it
        seed by seed and sets evaluation_complete at the end)."""
        return self.evaluation() is not None and self.meta.get(EVALUATION_COMPLETE, True) is not False

    @property
    def finished(self) -> bool:
        """Trained and evaluated: a script or the paper driver never runs it again."""
        return self.trained and self.evaluated

    def check_env(self, env) -> None:
        """Raises UsageError when the folder's checkpoints were made for other agents or observation/action sizes
        than `env`'s (meta.json records the env a run was trained on; a port whose layout changed since would
        otherwise fail deep inside the checkpoint restore with a shape error)."""
        recorded = self.meta.get("env")
        current = env_signature(env)
        if recorded is None:
            return
        recorded = legacy_layout.with_dynamics(recorded)  # a signature of an older layout may lack dynamics
        if recorded == current:
            return
        different = [key for key in current if recorded.get(key) != current[key]]
        details = "; ".join(f"{key}: checkpoint {recorded.get(key)} vs scenario {current[key]}" for key in different)
        raise UsageError(f"the checkpoint in {self.path} does not match scenario {env.name} ({details})")

    # ------------------------------------------------------------------------------------------------------
    # metrics.csv and evaluation.csv

    def metrics_writer(self, config) -> MetricsWriter:
        """The writer of metrics.csv (created when missing), every row already there checked (MetricsWriter).

        Raises:
            RunFolderError: a line of metrics.csv is damaged.
        """
        self.path.mkdir(parents=True, exist_ok=True)
        return MetricsWriter(self.metrics_path, config, self._metrics_remedy)

    @property
    def _metrics_remedy(self) -> str:
        return f"fix or delete that line, or remove {self.path} to train the run from the start"

    def evaluation(self) -> dict[int, dict[str, float]] | None:
        """{seed: {metric: value}} from evaluation.csv, or None when the run has none yet.

        Raises:
            RunFolderError: a line of evaluation.csv is damaged.
        """
        if not self.evaluation_path.exists():
            return None
        header, rows = read_rows(self.evaluation_path, self._evaluation_remedy())
        seed, metric, value = (header.index(column) for column in ("seed", "metric", "value"))
        values: dict[int, dict[str, float]] = {}
        for row in rows:
            values.setdefault(int(row[seed]), {})[row[metric]] = float(row[value])
        return values

    def _evaluation_remedy(self) -> str:
        again = ("the next run of the same command evaluates it again from its checkpoint"
                 if self.checkpoint_dir.is_dir() else "the run has no checkpoint here, so it must be trained again")
        return f"restore it (a committed run: git checkout -- {self.evaluation_path}) or delete it: {again}"

    def write_evaluation(self, config, rows: Iterable[Mapping], **meta_fields) -> None:
        """Writes evaluation.csv whole (rows as MetricsWriter.write takes them), then meta.json's
        evaluation_complete with meta_fields."""
        write_atomically(self.evaluation_path, rows_csv(config, rows, COLUMNS, header=True))
        self.update_meta(evaluated=True, **meta_fields)

    # ------------------------------------------------------------------------------------------------------
    # checkpoints/: TensorFlow's state file and the checkpoint it names

    def latest_checkpoint(self) -> str | None:
        """The path prefix of the latest checkpoint (checkpoints/ckpt-<episodes>), or None when there is none:
        no checkpoints/ or no state file in it (a run killed before its first checkpoint was recorded).

        Read from TensorFlow's text state file without loading TensorFlow.

        Raises:
            RunFolderError: the state file is not one, or names a checkpoint that is not there.
        """
        state_path = self.checkpoint_dir / CHECKPOINT_STATE_FILE
        if not state_path.is_file():
            return None
        try:
            text = state_path.read_text()
        except (OSError, UnicodeDecodeError) as error:
            raise RunFolderError(state_path, f"{state_path} cannot be read ({error})", self._state_remedy()) from None
        bad = [line for line in text.splitlines() if line.strip() and not _STATE_LINE.fullmatch(line.strip())]
        match = _MODEL_PATH.search(text)
        if bad or match is None:
            what = f"line {bad[0][:40]!r}" if bad else "no model_checkpoint_path"
            raise RunFolderError(state_path, f"{state_path} is not a TensorFlow checkpoint state file ({what})",
                                 self._state_remedy())
        latest = self.checkpoint_dir / match.group(1)  # an absolute path stays one
        if not Path(f"{latest}.index").is_file():
            raise RunFolderError(state_path, f"{state_path} names {match.group(1)}, which is not in "
                                             f"{self.checkpoint_dir}", self._state_remedy())
        return str(latest)

    def _state_remedy(self) -> str:
        present = sorted((int(m.group(1)) for path in self.checkpoint_dir.glob("ckpt-*.index")
                          if (m := _CHECKPOINT_NUMBER.search(path.name[:-len(".index")]))), reverse=True)
        fix = (f'write the line model_checkpoint_path: "ckpt-{present[0]}" into it (the latest checkpoint there)'
               if present else "delete it")
        return f"{fix}, or remove {self.checkpoint_dir} to train the run from the start"

    def checkpointed_episodes(self) -> int:
        """Episodes per seed the latest checkpoint holds (maddpg/run.py numbers them so), 0 without one."""
        latest = self.latest_checkpoint()
        match = _CHECKPOINT_NUMBER.search(latest) if latest else None
        return int(match.group(1)) if match else 0

    def check_checkpoint(self) -> None:
        """UsageError if the latest checkpoint cannot be read (not a checkpoint, or its data files shorter than
        its index says); nothing if there is no checkpoint yet.

        Reads the index only, never the tensors: a truncated data file is found by comparing its size with the
        bytes the index's numeric tensors need (a lower bound; the string tensors' sizes are not counted). A
        data file damaged at its own size is found when it is restored (`reading_checkpoint`).
        """
        import numpy as np
        import tensorflow as tf

        latest = self.latest_checkpoint()
        if latest is None:
            return
        remedy = f"remove {self.checkpoint_dir} to train the run from the start"
        try:
            reader = tf.train.load_checkpoint(latest)
            shapes, dtypes = reader.get_variable_to_shape_map(), reader.get_variable_to_dtype_map()
        except (tf.errors.OpError, ValueError, IndexError) as error:
            message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise RunFolderError(self.checkpoint_dir, f"the checkpoint in {self.checkpoint_dir} cannot be read "
                                                      f"({message})", remedy) from None
        needed = sum(int(np.prod(shape)) * dtypes[name].size for name, shape in shapes.items()
                     if dtypes[name] != tf.string)
        present = sum(path.stat().st_size for path in self.checkpoint_dir.glob(Path(latest).name + ".data-*"))
        if present < needed:
            raise RunFolderError(self.checkpoint_dir, f"the checkpoint {latest} is truncated ({present} bytes of "
                                                      f"data, its index needs at least {needed})", remedy)

    def check_resumable(self) -> None:
        """RunFolderError if what a resume reads first is damaged: a line of metrics.csv, or the latest checkpoint
        (check_checkpoint). Writes nothing; a run that has not logged yet has nothing to check."""
        if self.metrics_path.exists():
            read_rows(self.metrics_path, self._metrics_remedy)
        self.check_checkpoint()

    @contextlib.contextmanager
    def reading_checkpoint(self, latest: str):
        """Turns TensorFlow's error for a checkpoint whose data does not match its checksums (damaged at its own
        size) inside the block into a RunFolderError naming the checkpoint."""
        import tensorflow as tf

        try:
            yield
        except tf.errors.OpError as error:
            if not is_damaged_data(error):
                raise
            raise RunFolderError(Path(latest), f"the checkpoint {latest} is damaged "
                                               f"({str(error).strip().splitlines()[0]})",
                                 f"remove {self.checkpoint_dir} to train the run from the start") from None

    # ------------------------------------------------------------------------------------------------------

    @staticmethod
    def _read_json(path: Path, remedy: str) -> dict:
        try:
            data = json.loads(path.read_text())
        except (ValueError, UnicodeDecodeError) as error:
            raise RunFolderError(path, f"{path} is not valid JSON ({error})", remedy) from None
        if not isinstance(data, dict):
            raise RunFolderError(path, f"{path} holds a JSON {type(data).__name__}, not an object", remedy)
        return data


def is_damaged_data(error: BaseException) -> bool:
    """Whether a TensorFlow error of a checkpoint read says its bytes are damaged (not that its variables differ)."""
    import tensorflow as tf

    message = str(error)
    return isinstance(error, tf.errors.DataLossError) or "Checksum does not match" in message \
        or "corrupt" in message.lower()


def finished_run_dirs(experiment_dir: Path, dynamics: str, smoke: bool, skip: Iterable[Path] = ()) -> list[Path]:
    """The finished run folders of one dynamics directly under experiment_dir, smoke_* ones only when smoke,
    but for those in `skip` (not read).

    Raises:
        RunFolderError: a file of one of them is damaged (a table never shows a damaged run as "not run").
    """
    skip = {Path(path) for path in skip}
    found = []
    for path in sorted(Path(experiment_dir).glob("*/")):
        if not path.is_dir() or path.name.startswith(SMOKE_PREFIX) != smoke or path in skip:
            continue
        folder = RunFolder(path)
        if folder.has_config() and folder.dynamics == dynamics and folder.finished:
            found.append(path)
    return found
