"""A baseline run's settings, written as the run folder's config.json (import-light: no TensorFlow).

The fields paper_figures reads (experiment, scenario, algorithm, seeds, episodes, eval_episodes) have the
same names and meaning as in maddpg.config.TrainConfig, so the run folders sit beside MADDPG's in the tables;
so does `dynamics`, which paper_figures reads to put a run in the table of its dynamics.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from tf_agents_baselines.algorithms import ALGORITHMS, LABELS, TF_AGENTS_CLASSES, Hyperparameters, hyperparameters
from maddpg import legacy_layout
from maddpg.config import DYNAMICS


@dataclasses.dataclass(frozen=True)
class BaselineRunConfig:
    """One baseline (algorithm) on one scenario, all its seeds trained one after the other.

    Attributes:
        experiment, scenario: results/<experiment>/ and the envs.reference scenario key.
        dynamics: "paper" (the 2017 particle physics and rewards the paper ran on) or "mpe2" (mpe2 as
            installed): the training env (either kind) and the evaluation env both run in it.
        algorithm: a key of tf_agents_baselines.algorithms.ALGORITHMS.
        seeds: the seeds, each an independent pair of learners.
        episodes: training episodes per seed.
        eval_episodes: greedy evaluation episodes per seed on the reference env (mpe2, in `dynamics`).
        train_env: "batched_port" or "mpe2" (tf_agents_baselines.joint_envs), each in `dynamics`.
        episode_length: steps per episode (mpe2 max_cycles).
        log_every_episodes: metrics.csv gets the mean of the last this many episodes, every this many.
        settings: the algorithm's hyperparameters.
        smoke: a --smoke run.
    """

    experiment: str
    scenario: str
    dynamics: str
    algorithm: str
    seeds: tuple[int, ...]
    episodes: int
    eval_episodes: int
    train_env: str
    settings: Hyperparameters
    episode_length: int = 25
    log_every_episodes: int = 1000
    smoke: bool = False

    def problems(self) -> list[str]:
        """What is wrong with these settings (empty when they are usable)."""
        found = []
        if self.algorithm not in ALGORITHMS:
            found.append(f"unknown baseline {self.algorithm!r}; choose from {', '.join(ALGORITHMS)}")
        if self.dynamics not in DYNAMICS:
            found.append(f"unknown dynamics {self.dynamics!r}; choose from {', '.join(DYNAMICS)}")
        if not self.seeds or min(self.seeds) < 0:
            found.append("seeds must be a non-empty list of non-negative integers")
        if self.episodes <= 0 or self.eval_episodes <= 0 or self.log_every_episodes <= 0:
            found.append("episodes, eval_episodes and log_every_episodes must be positive")
        elif self.log_every_episodes % self.settings.num_envs:
            found.append(f"log_every_episodes ({self.log_every_episodes}) must be a multiple of the "
                         f"{self.settings.num_envs} parallel envs of {self.algorithm}")
        elif self.episodes % self.log_every_episodes:
            found.append(f"episodes ({self.episodes}) must be a multiple of log_every_episodes "
                         f"({self.log_every_episodes})")
        return found

    def to_json(self) -> dict:
        data = dataclasses.asdict(self)
        data["seeds"] = list(self.seeds)
        data["settings"] = self.settings.to_json()
        data["label"] = LABELS.get(self.algorithm, self.algorithm)
        data["tf_agents_agent"] = TF_AGENTS_CLASSES.get(self.algorithm)
        data["num_envs"] = self.settings.num_envs
        return data

    @classmethod
    def from_json(cls, data: dict) -> "BaselineRunConfig":
        """Inverse of to_json (a config of an older layout without dynamics: maddpg/legacy_layout.py)."""
        fields = {field.name for field in dataclasses.fields(cls)}
        values = {key: value for key, value in legacy_layout.with_dynamics(data).items() if key in fields}
        values["seeds"] = tuple(int(seed) for seed in values["seeds"])
        values["settings"] = Hyperparameters(**values["settings"])
        return cls(**values)

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_json(), indent=2, sort_keys=True) + "\n")

    @classmethod
    def read(cls, path: Path) -> "BaselineRunConfig":
        return cls.from_json(json.loads(Path(path).read_text()))


def make_config(algorithm: str, seeds, episodes: int, eval_episodes: int, train_env: str, smoke: bool,
                log_every_episodes: int, dynamics: str, experiment: str = "cooperative_communication",
                scenario: str = "speaker_listener") -> BaselineRunConfig:
    """The config of one baseline's run from the command line's values (dynamics: "paper" or "mpe2")."""
    return BaselineRunConfig(experiment=experiment, scenario=scenario, dynamics=dynamics, algorithm=algorithm,
                             seeds=tuple(seeds), episodes=episodes, eval_episodes=eval_episodes,
                             train_env=train_env, settings=hyperparameters(algorithm, smoke),
                             log_every_episodes=log_every_episodes, smoke=smoke)
