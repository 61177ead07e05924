"""What one experiment command asks for, as a plain value: the one way a run's config is built.

An experiment script's flags fill a RunRequest (runner.request_from_flags); the paper driver
(reproduction/paper.py) and the ablation studies (reproduction/ablations.py) construct one directly. Either
way runner.plan_request turns it into the (label, TrainConfig, run_dir) of every run, so a run lands in the
same folder, with the same config, whoever asked for it. `argv` gives the flags that ask the script for the
same request: what a recorded command says, so that a user can rerun it.

Fields left at None mean "the experiment's own": its paper variants, all its pairings, its seed count.
`overrides` are TrainConfig fields set in every run (a script flag of the same name), above the experiment's
per-run defaults and --smoke's settings.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Mapping

REPO_ROOT = Path(__file__).resolve().parent.parent
# Where a user's runs go by default (untracked, .gitignore), and where the committed reference runs are.
USER_RESULTS_DIR = REPO_ROOT / "runs"
REFERENCE_DIR = REPO_ROOT / "results"


@dataclasses.dataclass(frozen=True)
class RunRequest:
    """The runs one command asks an experiment script for.

    Attributes:
        experiment: the script's name (reproduction/<experiment>.py, results/<experiment>/).
        variants: the variants to run (None: the experiment's paper variants).
        pairings: the pairings to run (None: all of the experiment's); the baselines' script: its baselines.
        seeds: how many seeds (None: the experiment's paper count).
        first_seed: seeds are first_seed .. first_seed + seeds - 1.
        dynamics: "paper" or "mpe2" (maddpg.config.DYNAMICS).
        overrides: TrainConfig field -> value, set in every run (the script's flag of that name).
        results_dir: where <results_dir>/<experiment>/<run_id>/ go.
        smoke: the tiny runs of the same code path (the script's --smoke).
        run_id: the run folder's name (None: derived from the config).
    """

    experiment: str
    variants: tuple[str, ...] | None = None
    pairings: tuple[str, ...] | None = None
    seeds: int | None = None
    first_seed: int = 0
    dynamics: str = "paper"
    overrides: Mapping[str, object] = dataclasses.field(default_factory=dict)
    results_dir: str = str(USER_RESULTS_DIR)
    smoke: bool = False
    run_id: str | None = None

    def __post_init__(self):
        # tuples, whatever sequence was given (a list from absl's DEFINE_list): equal requests compare equal
        for name in ("variants", "pairings"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, tuple(value))
        object.__setattr__(self, "overrides", dict(self.overrides))
        object.__setattr__(self, "results_dir", str(self.results_dir))

    def argv(self) -> list[str]:
        """The flags that ask the experiment's script for this request (without the program name)."""
        pairs = [("variant", self.variants), ("pairing", self.pairings), ("seeds", self.seeds),
                 ("first_seed", self.first_seed or None), ("dynamics", self.dynamics),
                 *self.overrides.items(), ("smoke", self.smoke or None), ("results_dir", self.results_dir),
                 ("run_id", self.run_id)]
        return [flag_text(name, value) for name, value in pairs if value is not None]

    def to_json(self) -> str:
        """The request as JSON (for a process that runs it elsewhere): RunRequest.from_json reads it back."""
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text: str) -> RunRequest:
        return cls(**json.loads(text))


def flag_text(name: str, value) -> str:
    """One flag as a user types it: --name=value, lists comma-joined, booleans --name / --noname, a float
    without a trailing .0 (0.0 -> 0)."""
    if isinstance(value, bool):
        return f"--{name}" if value else f"--no{name}"
    if isinstance(value, (tuple, list)):
        value = ",".join(str(item) for item in value)
    elif isinstance(value, float):
        value = str(int(value)) if value.is_integer() else repr(value)
    return f"--{name}={value}"
