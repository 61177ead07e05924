"""Cross-play of policy ensembles (paper sec. 4.3, Table 6): trained runs meet, nothing is trained.

Given a `single` run (one policy per agent) and an `ensemble` run (K sub-policies per agent) of the same
competitive scenario, seeds and dynamics, the four combinations of the agents' kind and the adversaries'
kind are evaluated on the reference env, seed p of one run meeting seed p of the other, the runs' own
evaluation episodes per seed each. An ensemble draws one sub-policy per team per episode (maddpg/evaluation.py).
`single_v_single` and `ensemble_v_ensemble` are therefore exactly each run's own evaluation.

The cross-play folder (results/<experiment>/<..._cross_play_...>/) records what it is:
- config.json: kind "cross_play", the evaluation settings (experiment, scenario, algorithm "cross_play",
  dynamics, seeds, eval_episodes per seed, gumbel_temperature), source_runs (kind -> the sibling run folder's
  name) and source_training_episodes (how long those runs trained); no training field, since it trained
  nothing.
- evaluation.csv: the shared rows schema (maddpg/results.py), role "<agents kind>_v_<adversaries kind>",
  episode = source_training_episodes (the training the evaluated policies had).
- meta.json: provenance, evaluation_complete, the sources' paths (relative to the repository when inside it),
  the command and wall_seconds (the evaluation's time: reproduction/paper.py calibrates its estimate on it).
Folders written before this layout hold a whole TrainConfig (algorithm cross_play) in config.json; they are
read (and recognised as complete) as they are.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

from maddpg import results
from maddpg.results import UsageError
from maddpg.run_folder import CROSS_PLAY, RunFolder

POLICY_KINDS = ("single", "ensemble")


@dataclasses.dataclass(frozen=True)
class CrossPlaySettings:
    """What a cross-play evaluation is; also what MetricsWriter needs to write its rows.

    Attributes:
        experiment, scenario, dynamics, seeds: those of both source runs.
        eval_episodes: evaluation episodes per seed and combination (the source runs' own).
        gumbel_temperature: of the sampled actions (the source runs').
        source_runs: policy kind -> the source run folder's name (a sibling of the cross-play folder).
        source_training_episodes: training episodes per seed of the source runs.
        episode_length: steps per episode (env_step = episode * episode_length in the rows).
    """

    experiment: str
    scenario: str
    dynamics: str
    seeds: tuple[int, ...]
    eval_episodes: int
    gumbel_temperature: float
    source_runs: dict[str, str]
    source_training_episodes: int
    episode_length: int
    algorithm: str = CROSS_PLAY

    def to_json(self) -> dict:
        return {"kind": CROSS_PLAY, **dataclasses.asdict(self), "seeds": list(self.seeds)}


def settings_for(single_config, ensemble_config, single_dir: Path, ensemble_dir: Path) -> CrossPlaySettings:
    """The cross-play settings of two trained runs' TrainConfigs.

    Raises:
        UsageError: the runs differ in anything that must match for their seeds to meet.
    """
    must_match = ("experiment", "scenario", "dynamics", "seeds", "eval_episodes", "gumbel_temperature", "episodes",
                  "episode_length", "policy", "eval_actions")
    different = [name for name in must_match if getattr(single_config, name) != getattr(ensemble_config, name)]
    if different:
        raise UsageError(f"{single_dir} and {ensemble_dir} cannot cross-play: they differ in {', '.join(different)}")
    return CrossPlaySettings(
        experiment=ensemble_config.experiment, scenario=ensemble_config.scenario, dynamics=ensemble_config.dynamics,
        seeds=tuple(ensemble_config.seeds), eval_episodes=ensemble_config.eval_episodes,
        gumbel_temperature=ensemble_config.gumbel_temperature,
        source_runs={"single": Path(single_dir).name, "ensemble": Path(ensemble_dir).name},
        source_training_episodes=ensemble_config.episodes, episode_length=ensemble_config.episode_length)


def evaluate_cross_play(single_dir: Path, ensemble_dir: Path, workers: int | None = None):
    """Evaluates the four (agents kind, adversaries kind) combinations of two trained runs.

    Args:
        single_dir, ensemble_dir: the trained run folders (their finished or resume checkpoints are read).
        workers: evaluation processes (None: one per CPU core).

    Returns:
        (settings, rows): the CrossPlaySettings, and evaluation rows {role, seed, episode, metric, value} with
        role "<agents kind>_v_<adversaries kind>".

    Raises:
        UsageError: a folder is not a trained run, or the two cannot meet.
    """
    from envs.registry import SCENARIOS
    from maddpg.evaluation import EvaluationSettings, evaluate_jobs, member_policies
    from maddpg.restore import load_actor_weights

    loaded = {"single": load_actor_weights(Path(single_dir)), "ensemble": load_actor_weights(Path(ensemble_dir))}
    settings = settings_for(loaded["single"][0], loaded["ensemble"][0], single_dir, ensemble_dir)
    spec = SCENARIOS[settings.scenario]
    ensemble_config = loaded["ensemble"][0]
    # Both runs act alike (settings_for checked): the ensemble run's policy kind and eval actions.
    evaluation = EvaluationSettings(settings.eval_episodes, settings.gumbel_temperature, settings.dynamics,
                                    greedy=ensemble_config.eval_actions == "greedy", policy=ensemble_config.policy)
    jobs, keys = [], []
    for agents_kind in POLICY_KINDS:
        for adversaries_kind in POLICY_KINDS:
            for p, seed in enumerate(settings.seeds):
                policies = []
                for i, agent in enumerate(spec.agents):
                    config, weights = loaded[agents_kind if agent in spec.teams["agents"] else adversaries_kind]
                    policies.append(member_policies(weights, p, config.ensemble_size)[i])
                jobs.append((settings.scenario, policies, seed, evaluation))
                keys.append((f"{agents_kind}_v_{adversaries_kind}", seed))
    values = evaluate_jobs(jobs, workers)
    rows = [{"role": role, "seed": seed, "episode": settings.source_training_episodes, "metric": metric,
             "value": value} for (role, seed), metrics in zip(keys, values) for metric, value in metrics.items()]
    return settings, rows


def cross_play_run(cross_dir: Path, single_dir: Path, ensemble_dir: Path, *, workers: int | None = None,
                   command: str | None = None, announce=None) -> bool:
    """Makes cross_dir the cross-play evaluation of the two runs, unless it already is one (complete).

    Args:
        announce: called with one line (str) before the evaluation starts (None: silent).

    Returns:
        True if it evaluated, False if cross_dir already held this evaluation.

    Raises:
        UsageError: cross_dir holds a cross-play of other settings (nothing in it is touched), a folder is
            not a trained run, or the two runs cannot meet; results.RunFolderError: a file of one is damaged.
    """
    folder = RunFolder(cross_dir)
    if folder.has_config() and folder.evaluated:
        folder.check_cross_play_of(RunFolder(ensemble_dir).train_config().to_json())
        return False
    if folder.holds_something_else():
        raise UsageError(f"{folder.path} exists and is not a cross-play folder; remove it")
    # No evaluation.csv yet (never started, or interrupted): evaluate from the start.
    if announce is not None:
        announce(f"cross-play of {Path(single_dir).name} and {Path(ensemble_dir).name}: 4 combinations")
    started = time.monotonic()
    settings, rows = evaluate_cross_play(single_dir, ensemble_dir, workers)
    wall_seconds = round(time.monotonic() - started, 2)
    folder.write_config(settings.to_json())
    folder.write_evaluation(settings, rows, kind=CROSS_PLAY, dynamics=settings.dynamics, command=command,
                            wall_seconds=wall_seconds,
                            sources={"single": results.display_path(single_dir),
                                     "ensemble": results.display_path(ensemble_dir)})
    return True
