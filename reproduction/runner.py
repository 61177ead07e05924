"""What every experiment script shares: flags, train + evaluate each (variant, pairing), and the paper table.

A script declares an `Experiment` (variants, pairings, defaults, table) and calls `cli`. Each (variant,
pairing) trains all its seeds stacked on the population axis in one run folder,
results/<experiment>/<run_id>/, which a rerun of the same command resumes. The table is built by
paper_figures.tables from the run folders of this command (ours beside the paper's numbers).
"""

from __future__ import annotations

import dataclasses
import os
import sys
from pathlib import Path
from typing import Callable, Mapping, Sequence

from absl import app, flags

from maddpg import results
from maddpg.cli import parse_flags
from maddpg.config import DYNAMICS, TrainConfig
from maddpg.results import UsageError
from paper_figures import paper_numbers

REPO_ROOT = Path(__file__).resolve().parent.parent

# Settings of --smoke: the same code path in seconds (tiny budgets, small batches, no XLA compile).
SMOKE_OVERRIDES = dict(
    episodes=200, num_envs=50, batch_size=64, warmup_transitions=500, hidden_units=16,
    log_every_episodes=100, checkpoint_every_episodes=100, eval_episodes=4, jit_compile=False,
)
SMOKE_SEEDS = 2


# Pairing labels of the competitive experiments, in the paper's row order (agents v adversaries): the labels the
# paper's tables are keyed by, so they are read from there rather than listed again.
COMPETITIVE_PAIRINGS = {
    pairing: dict(zip(("agents", "adversaries"), pairing.split("_vs_"))) for pairing in paper_numbers.PAIRINGS
}
COOPERATIVE_PAIRINGS = {"maddpg": {"agents": "maddpg"}, "ddpg": {"agents": "ddpg"}}


@dataclasses.dataclass(frozen=True)
class Experiment:
    """A paper experiment: its variants (-> scenario), pairings (-> critic kind per paper team), defaults.

    Attributes:
        name: results/<name>/ and the paper table's key in paper_figures.
        variants: variant name -> envs.registry.SCENARIOS key, e.g. {"n3": "spread_n3", "n6": "spread_n6"}.
        pairings: pairing name -> {paper team ("agents", "adversaries") -> critic kind ("maddpg", "ddpg")}.
        default_seeds, default_episodes: the paper's settings (or ours where it is silent; see the script).
        table_name: the file stem of the printed table (table1 .. table5).
        hidden_units: units per hidden layer (128 for the paper's Tables 2-3).
        pairing_fields: pairing name -> further TrainConfig fields it sets (e.g. policy_inference).
        run_fields: (variant, pairing) -> further TrainConfig fields of that one run (e.g. ensemble_size).
        default_num_envs: the --num_envs default.
        train_fields: further TrainConfig fields of every run (e.g. log_every_episodes).
        smoke_fields: what --smoke sets beyond SMOKE_OVERRIDES (where those do not fit this experiment).
        after_runs: called as after_runs(options, plans) once every run is trained and evaluated (plans as
            build_configs returns them); returns further run folders for the table.
    """

    name: str
    variants: Mapping[str, str]
    pairings: Mapping[str, Mapping[str, str]]
    default_seeds: int
    default_episodes: int
    table_name: str
    hidden_units: int = 64
    pairing_fields: Mapping[str, Mapping[str, object]] = dataclasses.field(default_factory=dict)
    run_fields: Mapping[tuple[str, str], Mapping[str, object]] = dataclasses.field(default_factory=dict)
    default_num_envs: int = 100
    train_fields: Mapping[str, object] = dataclasses.field(default_factory=dict)
    smoke_fields: Mapping[str, object] = dataclasses.field(default_factory=dict)
    after_runs: Callable | None = None


def critic_kinds(scenario: str, teams: Mapping[str, str]) -> tuple[str, ...]:
    """Critic kind of every agent of a scenario (mpe2 order), from the kind of each of its paper teams."""
    from envs.registry import scenario_spec

    spec = scenario_spec(scenario)
    if set(teams) != set(spec.teams):
        raise UsageError(f"pairing teams {sorted(teams)} do not match scenario {scenario}'s {sorted(spec.teams)}")
    team_of = {agent: team for team, members in spec.teams.items() for agent in members}
    return tuple(teams[team_of[agent]] for agent in spec.agents)


def define_flags(experiment: Experiment) -> None:
    """The flags every experiment script accepts (each one's --help says what it does)."""
    flags.DEFINE_list("variant", list(experiment.variants),
                      f"variants to run, from: {', '.join(f'{v} ({s})' for v, s in experiment.variants.items())}")
    flags.DEFINE_list("pairing", list(experiment.pairings),
                      f"pairings to run (agents_vs_adversaries where there are two teams), from: "
                      f"{', '.join(experiment.pairings)}")
    flags.DEFINE_alias("pairings", "pairing")
    flags.DEFINE_alias("variants", "variant")
    flags.DEFINE_integer("seeds", experiment.default_seeds, "number of seeds (stacked on the population axis)")
    flags.DEFINE_integer("first_seed", 0, "seeds are first_seed .. first_seed + seeds - 1")
    flags.DEFINE_integer("episodes", experiment.default_episodes, "training episodes per seed")
    flags.DEFINE_integer("num_envs", experiment.default_num_envs,
                         "parallel envs per seed (100 = one update per env step, as the paper)")
    flags.DEFINE_integer("eval_episodes", 1000, "evaluation episodes per seed on the reference env")
    flags.DEFINE_enum("dynamics", "paper", list(DYNAMICS),
                      "particle physics and rewards of training and evaluation: paper (the 2017 envs the paper ran "
                      "on) or mpe2 (mpe2 as installed); run folders are named <dynamics>_...")
    flags.DEFINE_boolean("smoke", False, "tiny run of the same code path, in seconds (written under smoke_* names)")
    flags.DEFINE_string("results_dir", str(REPO_ROOT / "results"), "where results/<experiment>/<run_id>/ go")
    flags.DEFINE_string("run_id", None, "run folder name (default: "
                        "<dynamics>_[<variant>_]<pairing>_s<first>-<last>_ep<episodes>); "
                        "with several variants or pairings, <variant>_<pairing>_ is prefixed")
    flags.DEFINE_boolean("jit_compile", True, "compile each training iteration with XLA (about 2x faster here)")
    flags.DEFINE_boolean("eager", False, "run the training step eagerly, for debugging (slow)")
    flags.DEFINE_boolean("progress", True, "show a progress bar")
    flags.DEFINE_integer("eval_workers", 0, "evaluation worker processes (0: one per CPU core)")


def build_configs(experiment: Experiment, options) -> list[tuple[str, TrainConfig, Path]]:
    """(label, config, run_dir) for each requested (variant, pairing); UsageError on bad values."""
    for kind, requested, known in (("variant", options.variant, experiment.variants),
                                   ("pairing", options.pairing, experiment.pairings)):
        unknown = [name for name in requested if name not in known]
        if unknown:
            raise UsageError(f"unknown {kind} {unknown[0]!r}; choose from {', '.join(known)}")
        if not requested:
            raise UsageError(f"--{kind} is empty; choose from {', '.join(known)}")
    if options.seeds <= 0:
        raise UsageError(f"--seeds must be positive, got {options.seeds}")
    if options.first_seed < 0:
        raise UsageError(f"--first_seed must be >= 0, got {options.first_seed}")
    seeds = tuple(range(options.first_seed, options.first_seed + options.seeds))
    fields = dict(experiment.train_fields, dynamics=options.dynamics, episodes=options.episodes,
                  num_envs=options.num_envs, eval_episodes=options.eval_episodes, jit_compile=options.jit_compile,
                  hidden_units=experiment.hidden_units)
    smoke = dict(SMOKE_OVERRIDES, **experiment.smoke_fields) if options.smoke else {}
    if options.smoke:
        seeds = seeds[:SMOKE_SEEDS]
    several = len(options.variant) * len(options.pairing) > 1
    plans = []
    for variant in options.variant:
        scenario = experiment.variants[variant]
        for pairing in options.pairing:
            run_fields = {**fields, **experiment.pairing_fields.get(pairing, {}),
                          **experiment.run_fields.get((variant, pairing), {}), **smoke}
            try:
                config = TrainConfig(experiment=experiment.name, scenario=scenario, algorithm=pairing,
                                     critic_kinds=critic_kinds(scenario, experiment.pairings[pairing]),
                                     seeds=seeds, **run_fields)
            except ValueError as error:
                raise UsageError(str(error)) from None
            label = pairing if len(experiment.variants) == 1 else f"{variant}_{pairing}"
            run_id = options.run_id or f"{config.dynamics}_{label}_s{seeds[0]}-{seeds[-1]}_ep{config.episodes}"
            if options.run_id and several:
                run_id = f"{label}_{options.run_id}"
            if options.smoke:
                run_id = f"smoke_{run_id}"
            plans.append((label, config, Path(options.results_dir) / experiment.name / run_id))
    return plans


def evaluate_run(config, run_dir: Path, trainer, workers: int | None) -> dict[int, dict[str, float]]:
    """Evaluates the run's actors on the reference env of its dynamics (or reads evaluation.csv if a finished
    evaluation is there)."""
    from maddpg.evaluation import evaluate_population
    from maddpg.learner import actor_weights

    existing = results.read_evaluation(run_dir)
    if existing is not None:
        return existing
    values = evaluate_population(config.scenario, actor_weights(trainer.learner), config.seeds,
                                 config.eval_episodes, config.gumbel_temperature, workers, config.ensemble_size,
                                 config.dynamics)
    temporary = run_dir / (results.EVALUATION_FILE + ".partial")
    temporary.unlink(missing_ok=True)
    writer = results.MetricsWriter(temporary, config)
    writer.write({"role": "team", "seed": seed, "episode": config.episodes, "metric": metric, "value": value}
                 for seed, metrics in values.items() for metric, value in metrics.items())
    os.replace(temporary, run_dir / results.EVALUATION_FILE)
    results.update_meta(run_dir, evaluation_complete=True)
    return values


def run_experiment(experiment: Experiment, options, command: str | None = None) -> list[Path]:
    """Trains (or resumes) and evaluates every requested (variant, pairing); returns their run folders.

    `command`, the command line that asked for the runs, is recorded in each run's meta.json (the tables
    quote it as the command that produced the run).
    """
    import tensorflow as tf

    from maddpg.run import train

    plans = build_configs(experiment, options)
    if options.eager:
        tf.config.run_functions_eagerly(True)
    run_dirs = []
    for label, config, run_dir in plans:
        print(f"[{experiment.name}] {label}: {config.population} seeds x {config.episodes} episodes, "
              f"{config.dynamics} dynamics -> {run_dir}", flush=True)
        run_dirs.append(run_dir)
        meta = results.read_meta(run_dir)
        if (run_dir / results.CONFIG_FILE).exists() and meta.get("training_complete"):
            results.prepare_run_dir(run_dir, config)  # still refuse a folder of another config
            if results.read_evaluation(run_dir) is not None:
                continue
        trainer = train(config, run_dir, progress=options.progress)
        if command:
            results.update_meta(run_dir, command=command)
        if not results.read_meta(run_dir).get("training_complete"):
            raise UsageError(f"training of {run_dir} did not finish")
        print(f"[{experiment.name}] {label}: evaluating {config.eval_episodes} episodes per seed on the reference "
              f"env ({config.dynamics} dynamics)", flush=True)
        # A smoke run evaluates 4 episodes: starting worker processes would cost more than they save.
        workers = options.eval_workers or (1 if options.smoke else None)
        evaluate_run(config, run_dir, trainer, workers)
    if experiment.after_runs:
        run_dirs += experiment.after_runs(options, plans)
    return run_dirs


def main(experiment: Experiment, argv: Sequence[str] | None = None) -> int:
    """Runs the experiment from the command line; prints and saves its paper table. Returns the exit code."""
    from maddpg.run import TrainingDiverged

    define_flags(experiment)
    argv = list(argv if argv is not None else sys.argv)
    # The flags are defined in this module, not in the script's __main__.
    remaining = parse_flags(argv, sys.modules["__main__"].__doc__, __name__)
    if len(remaining) > 1:
        print(f"error: unexpected arguments {remaining[1:]}; see --help", file=sys.stderr)
        return 2
    options = flags.FLAGS
    try:
        command = " ".join([f"python -m reproduction.{experiment.name}", *argv[1:]])
        run_dirs = run_experiment(experiment, options, command)
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except TrainingDiverged as error:
        print(f"error: training diverged: {error}", file=sys.stderr)
        return 1
    from paper_figures.tables import experiment_table, table_stem

    markdown, rows = experiment_table(experiment.name, Path(options.results_dir), run_dirs)
    table_dir = Path(options.results_dir) / experiment.name
    stem = f"{'smoke_' if options.smoke else ''}{table_stem(experiment.table_name, options.dynamics)}"
    write_table(table_dir, stem, markdown, rows)
    print(markdown)
    print(f"table saved to {table_dir / (stem + '.md')} and {table_dir / (stem + '.csv')}")
    return 0


def write_table(directory: Path, stem: str, markdown: str, rows) -> None:
    """Writes <stem>.md and <stem>.csv (rows: a DataFrame or a list of dicts)."""
    import pandas as pd

    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{stem}.md").write_text(markdown + "\n")
    pd.DataFrame(rows).to_csv(directory / f"{stem}.csv", index=False)


def cli(experiment: Experiment) -> None:
    """Entry point for `python -m reproduction.<experiment>`."""
    app.define_help_flags()  # --helpfull (all flags, absl's included)
    sys.exit(main(experiment))
