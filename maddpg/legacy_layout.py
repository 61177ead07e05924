"""What a run folder written by an older version of this code lacks, and what that means.

Every reader of a run folder that meets an older layout asks here, so the meaning of a missing field is
decided once: maddpg/config.py and tf_agents_baselines/run_config.py (config.json), maddpg/run_folder.py
(config.json, meta.json), maddpg/results.py (the CSV header), maddpg/run.py (checkpoints) and
paper_figures/runs.py (tables and figures). The committed results/ hold folders of each layout below, and
they read byte-identically through these answers (`python -m paper_figures` rebuilds the committed tables).

- dynamics: config.json, meta.json, meta.json's env signature, and metrics.csv / evaluation.csv rows
  written before the "paper" dynamics existed record no dynamics. Every such run trained and evaluated on
  mpe2 as installed: UNRECORDED_DYNAMICS. Their recorded command has no --dynamics (mpe2 was the scripts'
  default then); today it needs --dynamics=mpe2 to remake the run.
- cross-play folders (maddpg/cross_play.py): config.json now holds the cross-play's settings (kind
  "cross_play", source_runs). Before, it held a whole TrainConfig of algorithm "cross_play", and meta.json
  held the dynamics (or none: mpe2) and the source run folders under "sources".
- checkpoints (maddpg/run.py): before the resume and finished layouts, a checkpoint held whole replay
  buffers under trainer/buffer/ or trainer/team_buffers/.
- speaker-listener's mean_squared_distance is called average_distance in evaluation.csv files written
  before 2026-12-01; those files keep the old name (no table reads it).

This module imports nothing of the project, so any module may use it.
"""

from __future__ import annotations

from typing import Mapping

# What a run, a config or a row that records no dynamics ran on.
UNRECORDED_DYNAMICS = "mpe2"
CROSS_PLAY = "cross_play"
# Checkpoint variable prefixes of the layout before resume/finished: whole replay buffers inside the trainer.
_WHOLE_BUFFER_PREFIXES = ("trainer/buffer/", "trainer/team_buffers/")
# What the older layouts named a cross-play folder's source run folders in meta.json.
_OLD_CROSS_PLAY_SOURCES = "sources"


def recorded_dynamics(config: Mapping, meta: Mapping) -> str:
    """A run's dynamics: config.json's, else meta.json's, else UNRECORDED_DYNAMICS."""
    return str(config.get("dynamics") or meta.get("dynamics") or UNRECORDED_DYNAMICS)


def with_dynamics(recorded: Mapping, meta: Mapping | None = None) -> dict:
    """recorded (a config.json, or meta.json's env signature) with its dynamics filled in where it has none:
    meta.json's when given (an old-layout cross-play folder kept it there), else UNRECORDED_DYNAMICS."""
    return {"dynamics": (meta or {}).get("dynamics", UNRECORDED_DYNAMICS), **recorded}


def header_without_dynamics(columns: tuple[str, ...]) -> tuple[str, ...]:
    """The CSV header of metrics.csv / evaluation.csv files written before the dynamics column (columns: today's)."""
    return tuple(column for column in columns if column != "dynamics")


def is_cross_play(config: Mapping) -> bool:
    """config.json is a cross-play folder's, in either layout (kind "cross_play", or algorithm "cross_play")."""
    return config.get("kind") == CROSS_PLAY or config.get("algorithm") == CROSS_PLAY


def cross_play_sources(config: Mapping, meta: Mapping) -> Mapping | None:
    """A cross-play folder's {policy kind: source run folder}: config.json's source_runs, or (old layout)
    meta.json's sources; None for any other folder."""
    if config.get("source_runs"):
        return config["source_runs"]
    return meta.get(_OLD_CROSS_PLAY_SOURCES) if config.get("algorithm") == CROSS_PLAY else None


def command_today(command: str, dynamics: str, meta: Mapping) -> str:
    """The recorded command as it remakes the run today: one recorded before --dynamics existed ran on mpe2,
    the scripts' default then, and gets --dynamics=mpe2."""
    if "--dynamics" not in command and dynamics == UNRECORDED_DYNAMICS and "dynamics" not in meta:
        return command + f" --dynamics={UNRECORDED_DYNAMICS}"
    return command


def is_whole_buffer_key(name: str) -> bool:
    """A checkpoint variable of the layout before resume/finished (a whole replay buffer under trainer/)."""
    return name.startswith(_WHOLE_BUFFER_PREFIXES)
