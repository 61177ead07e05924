"""What every experiment script shares: flags, train + evaluate each (variant, pairing), and the paper table.

A script declares an `Experiment` (variants, pairings, defaults, table) and calls `cli`. Its flags fill a
RunRequest (reproduction/request.py: request_from_flags), the same object the paper driver and the ablation
studies construct directly, and plan_request turns it into each run's config and folder. Each (variant,
pairing) trains all its seeds stacked on the population axis in one run folder,
<results_dir>/<experiment>/<run_id>/ (maddpg/run_folder.py), which a rerun of the same command resumes. The
table is built by paper_figures.tables from the run folders of this command and every other finished run of
<results_dir>/<experiment>/ (ours beside the paper's numbers), followed by one that puts this run's numbers
beside the committed reference's (--reference_dir) and the paper's.

Where runs go: --results_dir defaults to runs/ (untracked), not results/. results/ holds the committed
reference runs the README's tables come from; a fresh clone's first command must train for real, and
writing beside them (a new run id in results/) would let paper_figures pick a user's newer run over the
published one and leave the tree dirty. Passing --results_dir=results (the maintainers' path) resumes or
completes reference runs there; a finished one is never trained again.
"""

from __future__ import annotations

import dataclasses
import sys
import tempfile
from pathlib import Path
from typing import Callable, Mapping, Sequence

from absl import app, flags

from maddpg import results
from maddpg.cli import parse_flags, quiet_tensorflow, run_command
from maddpg.config import DYNAMICS, TrainConfig
from maddpg.results import UsageError
from maddpg.run_folder import RunFolder, finished_run_dirs
from paper_figures import paper_numbers
# A script never writes to the committed reference (REFERENCE_DIR) unless --results_dir names it; its table
# shows both.
from reproduction.request import REFERENCE_DIR, REPO_ROOT, USER_RESULTS_DIR, RunRequest  # noqa: F401

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
        after_runs: called as after_runs(plans, command, workers) once every run is trained and evaluated
            (plans as plan_request returns them, command the command line, workers the evaluation
            processes: None for one per CPU core); returns further run folders for the table.
        study_variants: further variants --variant accepts that neither the script's default nor the paper
            driver runs (an ablation study's scenarios, e.g. PP1 with 2 obstacles).
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
    study_variants: Mapping[str, str] = dataclasses.field(default_factory=dict)

    def scenario_of(self, variant: str) -> str:
        """The scenario of a paper or study variant."""
        return {**self.variants, **self.study_variants}[variant]


def critic_kinds(scenario: str, teams: Mapping[str, str]) -> tuple[str, ...]:
    """Critic kind of every agent of a scenario (mpe2 order), from the kind of each of its paper teams."""
    from envs.registry import scenario_spec

    spec = scenario_spec(scenario)
    if set(teams) != set(spec.teams):
        raise UsageError(f"pairing teams {sorted(teams)} do not match scenario {scenario}'s {sorted(spec.teams)}")
    team_of = {agent: team for team, members in spec.teams.items() for agent in members}
    return tuple(teams[team_of[agent]] for agent in spec.agents)


# TrainConfig fields every script sets itself, from its experiment-level flags (--seeds and --first_seed,
# --variant, --pairing, --dynamics) and its Experiment: not flags of their own. Every other field is a flag.
SCRIPT_SET_FIELDS = ("experiment", "scenario", "algorithm", "critic_kinds", "seeds", "dynamics")
# Where every experiment script departs from TrainConfig's defaults (before its own Experiment fields).
SCRIPT_DEFAULTS = {"jit_compile": True}  # XLA: faster updates (docs/speed.md); TrainConfig's False suits tests

_FLAG_DEFINERS = {"int": flags.DEFINE_integer, "float": flags.DEFINE_float, "bool": flags.DEFINE_boolean,
                  "str": flags.DEFINE_string}


def config_flag_fields() -> list[dataclasses.Field]:
    """The TrainConfig fields that are command-line flags of every experiment script, in the dataclass's order."""
    return [field for field in dataclasses.fields(TrainConfig) if field.name not in SCRIPT_SET_FIELDS]


def run_label(experiment: Experiment, variant: str, pairing: str) -> str:
    """A run's label in folder names and tables: the pairing, prefixed by the variant where there are several."""
    return pairing if len(experiment.variants) == 1 else f"{variant}_{pairing}"


def run_fields(experiment: Experiment, variant: str, pairing: str, smoke: bool = False) -> dict[str, object]:
    """The TrainConfig fields (beyond those of SCRIPT_SET_FIELDS) an experiment gives one run before any flag:
    the script defaults, then the experiment's, its pairing's and its run's own, then --smoke's."""
    fields = dict(SCRIPT_DEFAULTS, episodes=experiment.default_episodes, num_envs=experiment.default_num_envs,
                  hidden_units=experiment.hidden_units)
    fields.update(experiment.train_fields)
    fields.update(experiment.pairing_fields.get(pairing, {}))
    fields.update(experiment.run_fields.get((variant, pairing), {}))
    if smoke:
        fields.update(SMOKE_OVERRIDES, **experiment.smoke_fields)
    return fields


def default_configs(experiment: Experiment, dynamics: str = "paper") -> dict[str, TrainConfig]:
    """run label -> the config of every (variant, pairing) the script runs when given no flag at all."""
    seeds = tuple(range(experiment.default_seeds))
    return {
        run_label(experiment, variant, pairing): TrainConfig(
            experiment=experiment.name, scenario=scenario, algorithm=pairing, dynamics=dynamics, seeds=seeds,
            critic_kinds=critic_kinds(scenario, experiment.pairings[pairing]),
            **run_fields(experiment, variant, pairing))
        for variant, scenario in experiment.variants.items() for pairing in experiment.pairings
    }


def _experiment_default(experiment: Experiment, name: str):
    """(flag default, help note) of a TrainConfig field: its value if every run of the experiment has the
    same, else None and a note of each run's value."""
    values = {label: getattr(config, name) for label, config in default_configs(experiment).items()}
    if len(set(values.values())) == 1:
        return next(iter(values.values())), ""
    return None, "; default per run: " + ", ".join(f"{label} {value}" for label, value in values.items())


def define_flags(experiment: Experiment, flag_values: flags.FlagValues = flags.FLAGS) -> None:
    """The flags every experiment script accepts (each one's --help says what it does).

    Experiment-level flags (which runs, how many seeds, where to) first; then one flag per TrainConfig field
    (config_flag_fields), its help the field's own with its source, its default the experiment's. A flag the
    user passes overrides that field in every run, --smoke's settings included; TrainConfig validates it.
    """
    define = dict(flag_values=flag_values)
    studies = (f"; for ablation studies also: {', '.join(f'{v} ({s})' for v, s in experiment.study_variants.items())}"
               if experiment.study_variants else "")
    flags.DEFINE_list("variant", list(experiment.variants),
                      f"variants to run (default: the paper's), from: "
                      f"{', '.join(f'{v} ({s})' for v, s in experiment.variants.items())}{studies}",
                      **define)
    flags.DEFINE_list("pairing", list(experiment.pairings),
                      f"pairings to run (agents_vs_adversaries where there are two teams), from: "
                      f"{', '.join(experiment.pairings)}", **define)
    flags.DEFINE_alias("pairings", "pairing", **define)
    flags.DEFINE_alias("variants", "variant", **define)
    flags.DEFINE_integer("seeds", experiment.default_seeds, "number of seeds (stacked on the population axis)",
                         **define)
    flags.DEFINE_integer("first_seed", 0, "seeds are first_seed .. first_seed + seeds - 1", **define)
    flags.DEFINE_enum("dynamics", "paper", list(DYNAMICS),
                      "particle physics and rewards of training and evaluation: paper (the 2017 envs the paper ran "
                      "on) or mpe2 (mpe2 as installed); run folders are named <dynamics>_...", **define)
    flags.DEFINE_boolean("smoke", False, "tiny run of the same code path, in seconds (written under smoke_* names); "
                         "flags passed beside it still apply", **define)
    flags.DEFINE_string("results_dir", str(USER_RESULTS_DIR), "where <results_dir>/<experiment>/<run_id>/ go (default "
                        "runs/, untracked; the committed reference runs in results/ are written only when this "
                        "names that folder)", **define)
    flags.DEFINE_string("reference_dir", str(REFERENCE_DIR), "the committed reference runs, read only: the printed "
                        "table shows their numbers beside this run's and the paper's", **define)
    flags.DEFINE_string("run_id", None, "run folder name (default: "
                        "<dynamics>_[<variant>_]<pairing>_s<first>-<last>_ep<episodes>); "
                        "with several variants or pairings, <variant>_<pairing>_ is prefixed", **define)
    flags.DEFINE_boolean("eager", False, "run the training step eagerly, for debugging (slow)", **define)
    flags.DEFINE_boolean("progress", True, "show a progress bar", **define)
    flags.DEFINE_integer("eval_workers", 0, "evaluation worker processes (0: one per CPU core)", **define)
    flags.DEFINE_boolean("verbose", False, "keep TensorFlow's start-up and C++ logging (silenced by default)",
                         **define)
    for field in config_flag_fields():
        default, note = _experiment_default(experiment, field.name)
        help_text = f"{field.metadata['help']} [source: {field.metadata['source']}{note}]"
        _FLAG_DEFINERS[str(field.type)](field.name, default, help_text, **define)


def config_overrides(options) -> dict[str, object]:
    """The TrainConfig fields the user passed as flags (the others keep each run's own default)."""
    return {field.name: options[field.name].value for field in config_flag_fields() if options[field.name].present}


def request_from_flags(experiment: Experiment, options) -> RunRequest:
    """The RunRequest a script's parsed flags (a FlagValues on which define_flags defined them) ask for."""
    return RunRequest(experiment=experiment.name, variants=options.variant, pairings=options.pairing,
                      seeds=options.seeds, first_seed=options.first_seed, dynamics=options.dynamics,
                      overrides=config_overrides(options), results_dir=options.results_dir, smoke=options.smoke,
                      run_id=options.run_id)


def plan_request(experiment: Experiment, request: RunRequest) -> list[tuple[str, TrainConfig, Path]]:
    """(label, config, run_dir) for each requested (variant, pairing); UsageError on bad values (named by
    the script flag that sets them)."""
    variants = list(experiment.variants) if request.variants is None else request.variants
    pairings = list(experiment.pairings) if request.pairings is None else request.pairings
    for kind, requested, known in (("variant", variants, {**experiment.variants, **experiment.study_variants}),
                                   ("pairing", pairings, experiment.pairings)):
        unknown = [name for name in requested if name not in known]
        if unknown:
            raise UsageError(f"unknown {kind} {unknown[0]!r}; choose from {', '.join(known)}")
        if not requested:
            raise UsageError(f"--{kind} is empty; choose from {', '.join(known)}")
    count = experiment.default_seeds if request.seeds is None else request.seeds
    if count <= 0:
        raise UsageError(f"--seeds must be positive, got {count}")
    if request.first_seed < 0:
        raise UsageError(f"--first_seed must be >= 0, got {request.first_seed}")
    unknown = [name for name in request.overrides if name not in {field.name for field in config_flag_fields()}]
    if unknown:
        raise UsageError(f"{unknown[0]!r} is not a TrainConfig field an experiment script sets")
    seeds = tuple(range(request.first_seed, request.first_seed + count))
    if request.smoke:
        seeds = seeds[:SMOKE_SEEDS]
    several = len(variants) * len(pairings) > 1
    plans = []
    for variant in variants:
        scenario = experiment.scenario_of(variant)
        for pairing in pairings:
            fields = {**run_fields(experiment, variant, pairing, request.smoke), **request.overrides}
            try:
                config = TrainConfig(experiment=experiment.name, scenario=scenario, algorithm=pairing,
                                     critic_kinds=critic_kinds(scenario, experiment.pairings[pairing]),
                                     seeds=seeds, dynamics=request.dynamics, **fields)
            except ValueError as error:
                raise UsageError(str(error)) from None
            label = run_label(experiment, variant, pairing)
            policy = "" if config.policy == "gumbel_softmax" else f"_{config.policy}"  # the paper's kind: no suffix
            run_id = request.run_id or f"{config.dynamics}_{label}{policy}_s{seeds[0]}-{seeds[-1]}_ep{config.episodes}"
            if request.run_id and several:
                run_id = f"{label}_{request.run_id}"
            if request.smoke:
                run_id = f"smoke_{run_id}"
            plans.append((label, config, Path(request.results_dir) / experiment.name / run_id))
    return plans


def build_configs(experiment: Experiment, options) -> list[tuple[str, TrainConfig, Path]]:
    """plan_request of the request a script's parsed flags make (request_from_flags)."""
    return plan_request(experiment, request_from_flags(experiment, options))


def evaluate_weights(config, run_dir: Path | RunFolder, weights, workers: int | None) -> dict[int, dict[str, float]]:
    """Evaluates the run's actors (per-agent population weights as numpy, maddpg.learner.actor_weights) on the
    reference env of its dynamics, and writes evaluation.csv (or reads it if a finished evaluation is there)."""
    from maddpg.evaluation import EvaluationSettings, evaluate_population

    folder = RunFolder.of(run_dir)
    existing = folder.evaluation()
    if existing is not None:
        folder.update_meta(evaluated=True)  # (written only if it was not recorded yet)
        return existing
    values = evaluate_population(config.scenario, weights, config.seeds, EvaluationSettings.of(config), workers,
                                 config.ensemble_size)
    folder.write_evaluation(config, ({"role": "team", "seed": seed, "episode": config.episodes, "metric": metric,
                                      "value": value} for seed, metrics in values.items()
                                     for metric, value in metrics.items()))
    return values


def trained_actor_weights(config: TrainConfig, run_dir: Path | RunFolder, *, progress: bool, command: str | None,
                          on_checkpoint=None):
    """The run's actor weights once it is trained: restored from a trained run's checkpoint (networks only;
    training is never re-entered, so no replay buffer is allocated), else trained or resumed by maddpg.run.train,
    which records `command` in meta.json.

    Raises:
        UsageError: run_dir holds another config, a file of it is damaged (results.RunFolderError), its
            checkpoint is of other networks, or training stopped short.
    """
    import maddpg.run  # looked up at call time: tests replace maddpg.run.train to show it is not called
    from maddpg.learner import actor_weights
    from maddpg.restore import load_actor_weights

    folder = RunFolder.of(run_dir)
    if folder.trained:
        return load_actor_weights(folder)[1]
    trainer = maddpg.run.train(config, folder, progress=progress, on_checkpoint=on_checkpoint, command=command)
    if not folder.trained:
        raise UsageError(f"training of {folder.path} did not finish")
    return actor_weights(trainer.learner)


def run_experiment(experiment: Experiment, options, command: str | None = None) -> list[Path]:
    """run_request of a script's parsed flags (request_from_flags; --progress, --eager, --eval_workers)."""
    return run_request(experiment, request_from_flags(experiment, options), command, progress=options.progress,
                       eager=options.eager, eval_workers=options.eval_workers)


def run_request(experiment: Experiment, request: RunRequest, command: str | None = None, *, progress: bool = True,
                eager: bool = False, eval_workers: int = 0) -> list[Path]:
    """Trains (or resumes) and evaluates every requested (variant, pairing); returns their run folders.

    `command`, the command line that asked for the runs, is recorded in each run's meta.json (the tables
    quote it as the command that produced the run). A finished run is never trained again: evaluated, it is
    read as it is; not yet evaluated, its actors are restored from its checkpoint and evaluated.

    Args:
        progress: show a progress bar. eager: run the training step eagerly (debugging).
        eval_workers: evaluation processes (0: one per CPU core; a smoke run: 1).
    """
    plans = plan_request(experiment, request)  # bad values are refused before TensorFlow loads
    check_writable(Path(request.results_dir) / experiment.name)
    import tensorflow as tf

    if eager:
        tf.config.run_functions_eagerly(True)
    # A smoke run evaluates 4 episodes: starting worker processes would cost more than they save.
    workers = eval_workers or (1 if request.smoke else None)
    run_dirs = []
    for label, config, run_dir in plans:
        print(f"[{experiment.name}] {label}: {config.population} seeds x {config.episodes} episodes, "
              f"{config.dynamics} dynamics -> {run_dir}", flush=True)
        run_dirs.append(run_dir)
        folder = RunFolder(run_dir)
        if folder.has_config():
            folder.check_made_by(config)  # refuse a folder of another config before anything else
            if folder.finished:
                continue
        weights = trained_actor_weights(config, folder, progress=progress, command=command)
        print(f"[{experiment.name}] {label}: evaluating {config.eval_episodes} episodes per seed on the reference "
              f"env ({config.dynamics} dynamics)", flush=True)
        evaluate_weights(config, folder, weights, workers)
    if experiment.after_runs:
        run_dirs += experiment.after_runs(plans, command, workers)
    return run_dirs


def table_run_dirs(experiment: Experiment, request: RunRequest, run_dirs: list[Path]) -> list[Path]:
    """The run folders of the table: this command's, and every other finished run of the same dynamics (and
    smoke or not, as this command) in <results_dir>/<experiment>/ whose scenario and algorithm this command did
    not run. After `--pairing=maddpg`, a finished DDPG folder beside it is in the table, not "not run".

    Raises:
        results.RunFolderError: a file of one of those folders is damaged.
    """
    ran = {_scenario_and_algorithm(run_dir) for run_dir in run_dirs}
    others = finished_run_dirs(Path(request.results_dir) / experiment.name, request.dynamics, request.smoke,
                               skip=run_dirs)
    return run_dirs + [run_dir for run_dir in others if _scenario_and_algorithm(run_dir) not in ran]


def _scenario_and_algorithm(run_dir: Path) -> tuple:
    recorded = RunFolder(run_dir).config_json() or {}
    return recorded.get("scenario"), recorded.get("algorithm")


def check_writable(directory: Path) -> None:
    """UsageError unless `directory` exists or can be made, and a file can be written in it (checked before
    anything trains, so an unwritable --results_dir costs nothing)."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=directory):
            pass
    except OSError as error:
        raise UsageError(f"cannot write results to {directory} ({error.strerror or error}); "
                         "pass a writable --results_dir") from None


def main(experiment: Experiment, argv: Sequence[str] | None = None, flag_values: flags.FlagValues | None = None) -> int:
    """Runs the experiment from the command line; prints and saves its paper table. Returns the exit code.

    flag_values: where the script's flags are defined (absl's global FLAGS unless a caller keeps its own, as
    the tests do to run several commands in one process).
    """
    flag_values = flags.FLAGS if flag_values is None else flag_values
    define_flags(experiment, flag_values)
    argv = list(argv if argv is not None else sys.argv)
    # The flags are defined in this module, not in the script's __main__.
    remaining = parse_flags(argv, sys.modules["__main__"].__doc__, __name__, flag_values)
    if len(remaining) > 1:
        print(f"error: unexpected arguments {remaining[1:]}; see --help", file=sys.stderr)
        return 2
    command = " ".join([f"python -m reproduction.{experiment.name}", *argv[1:]])
    options = flag_values
    return run_command(run_and_tabulate, experiment, request_from_flags(experiment, options), command,
                       progress=options.progress, eager=options.eager, eval_workers=options.eval_workers,
                       reference_dir=options.reference_dir)


def run_and_tabulate(experiment: Experiment, request: RunRequest, command: str, *, progress: bool = True,
                     eager: bool = False, eval_workers: int = 0, reference_dir: str | Path = REFERENCE_DIR) -> int:
    """A script's work once its request is made: the runs (run_request), then the table; returns the exit
    code (a UsageError is raised: the caller prints its one line).

    reference_dir: the committed reference runs, read only: the table is printed beside theirs.
    """
    from maddpg.run import TrainingDiverged  # after the flags: --help and bad flags never load TensorFlow

    try:
        run_dirs = run_request(experiment, request, command, progress=progress, eager=eager,
                               eval_workers=eval_workers)
    except TrainingDiverged as error:
        print(f"error: training diverged: {error}", file=sys.stderr)
        return 1
    from paper_figures.tables import comparison_markdown, experiment_table, table_stem

    markdown, rows = experiment_table(experiment.name, Path(request.results_dir),
                                      table_run_dirs(experiment, request, run_dirs),
                                      root=results.display_path(Path(request.results_dir)))
    table_dir = Path(request.results_dir) / experiment.name
    stem = f"{'smoke_' if request.smoke else ''}{table_stem(experiment.table_name, request.dynamics)}"
    write_table(table_dir, stem, markdown, rows)
    print(markdown)
    print(f"table saved to {table_dir / (stem + '.md')} and {table_dir / (stem + '.csv')}")
    reference_dir = Path(reference_dir)
    if reference_dir.resolve() != Path(request.results_dir).resolve():
        # The committed reference of the same dynamics (never a smoke run), read only.
        try:
            _, reference_rows = experiment_table(experiment.name, reference_dir, dynamics=request.dynamics)
        except ValueError as error:  # the training is done and saved: say why there is no comparison, and end
            print(f"no comparison with the reference runs in {reference_dir}: {error}")
            return 0
        comparison = comparison_markdown(experiment.name, rows, reference_rows, f"{reference_dir / experiment.name}")
        (table_dir / f"{stem}_vs_reference.md").write_text(comparison + "\n")
        print()
        print(comparison)
        print(f"saved to {table_dir / (stem + '_vs_reference.md')}")
    return 0


def write_table(directory: Path, stem: str, markdown: str, rows) -> None:
    """Writes <stem>.md and <stem>.csv (rows: a DataFrame or a list of dicts)."""
    import pandas as pd

    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{stem}.md").write_text(markdown + "\n")
    pd.DataFrame(rows).to_csv(directory / f"{stem}.csv", index=False)


def cli(experiment: Experiment) -> None:
    """Entry point for `python -m reproduction.<experiment>`."""
    quiet_tensorflow()  # before anything imports TensorFlow; --verbose keeps its logging
    app.define_help_flags()  # --helpfull (all flags, absl's included)
    sys.exit(main(experiment))
