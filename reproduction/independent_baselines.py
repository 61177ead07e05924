"""Independent-learner baselines of Table 1 / Fig. 4 on cooperative communication, from tf-agents.

    python -m reproduction.independent_baselines                      # 4 baselines x 10 seeds x 25000 episodes
    python -m reproduction.independent_baselines --baseline=dqn,trpo --seeds=3
    python -m reproduction.independent_baselines --dynamics=mpe2      # on mpe2 as installed, not the 2017 envs
    python -m reproduction.independent_baselines --smoke              # the same path in seconds

DQN, Actor-Critic, TRPO and REINFORCE, as in the paper's Table 1 and Fig. 4: each of speaker-listener's two
agents is its own tf-agents agent trained on its own observation and reward (discrete actions). DQN is
DqnAgent, REINFORCE is ReinforceAgent, Actor-Critic is ReinforceAgent with a learned value baseline, and TRPO,
which tf-agents lacks, is its PPO (PPOClipAgent), labelled "TRPO (PPO in tf-agents)"; tf_agents_baselines/algorithms.py
lists every hyperparameter. Each seed trains on the batched TensorFlow port of speaker-listener (the env
MADDPG trains on; --train_env=mpe2 steps mpe2 itself, slower: docs/baselines.md) and is then evaluated greedily for
--eval_episodes episodes on mpe2, with Table 1's metrics. Training and evaluation both run in --dynamics:
paper (the default: the 2017 particle physics and rewards the paper ran on) or mpe2 (mpe2 as installed).

Writes results/cooperative_communication/<dynamics>_<baseline>_s<first>-<last>_ep<episodes>/ (smoke runs:
smoke_<...>) with config.json (its dynamics included), meta.json (provenance, the dynamics, the command,
per-seed timings), metrics.csv (every --log_every episodes: mean_episode_reward for the team and each agent,
final_goal_distance) and evaluation.csv (both with a dynamics column), the files `python -m paper_figures`
turns into Table 1's rows and Fig. 4's curves of that dynamics; prints the Table 1 of that dynamics (the one
paper_figures writes as table1.csv for paper, table1_mpe2.csv for mpe2) for these runs.

Needs the `baselines` extra: `bash scripts/install_baselines.sh`. tf-agents needs Keras 2, so every
baseline runs in a subprocess with TF_USE_LEGACY_KERAS=1 (this process never imports TensorFlow); a full run
starts one subprocess per baseline, --smoke one for all of them.

Resuming is per seed: rerunning the same command skips the seeds already trained and evaluated and
restarts an interrupted seed from episode 0 (there are no checkpoints within a seed). A finished run is
reused. A folder made with another config (another dynamics included) is refused. Exit codes: 0 done,
1 a baseline failed (the others still run), 2 bad input.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import time
from pathlib import Path
from typing import Sequence

from absl import app, flags

from tf_agents_baselines.algorithms import ALGORITHMS, LABELS
from tf_agents_baselines.process import legacy_keras_environment
from tf_agents_baselines.run_config import BaselineRunConfig, make_config
from maddpg import results
from maddpg.cli import parse_flags
from maddpg.config import DYNAMICS
from maddpg.results import UsageError
from maddpg.run_folder import RunFolder
from reproduction.request import RunRequest

REPO_ROOT = Path(__file__).resolve().parent.parent
EXPERIMENT = "cooperative_communication"
SCENARIO = "speaker_listener"
TRAIN_ENVS = ("batched_port", "mpe2")  # tf_agents_baselines.joint_envs.TRAIN_ENVS (not imported: it loads TensorFlow)
SMOKE = dict(episodes=100, eval_episodes=4, log_every=50, seeds=2)
REQUIRED_MODULES = ("tf_agents", "tf_keras", "tensorflow_probability", "gym", "tree", "gin")
NAME = "independent_baselines"  # a RunRequest's experiment (its runs go to results/cooperative_communication/)
DEFAULT_SEEDS = 10
# The run settings a RunRequest's overrides may set (each a flag of the same name), and their defaults.
DEFAULTS = dict(episodes=25_000, eval_episodes=1000, log_every=1000, train_env="batched_port")


def define_flags(flag_values: flags.FlagValues = flags.FLAGS) -> None:
    """The script's flags (defined by main, not at import: importing the module, as the paper driver does to
    plan, defines nothing in absl's global FLAGS)."""
    define = dict(flag_values=flag_values)
    flags.DEFINE_list("baseline", list(ALGORITHMS), f"baselines to run, from: {', '.join(ALGORITHMS)}", **define)
    flags.DEFINE_alias("baselines", "baseline", **define)
    flags.DEFINE_integer("seeds", DEFAULT_SEEDS, "number of seeds (trained one after the other)", **define)
    flags.DEFINE_integer("first_seed", 0, "seeds are first_seed .. first_seed + seeds - 1", **define)
    flags.DEFINE_integer("episodes", DEFAULTS["episodes"], "training episodes per seed (a multiple of --log_every)",
                         **define)
    flags.DEFINE_integer("eval_episodes", DEFAULTS["eval_episodes"],
                         "greedy evaluation episodes per seed on mpe2 (in --dynamics)", **define)
    flags.DEFINE_enum("dynamics", "paper", list(DYNAMICS),
                      "particle physics and rewards of training (either --train_env) and evaluation: paper (the 2017 "
                      "envs the paper ran on: velocity before position, the 2017 action sign and rewards) or mpe2 "
                      "(mpe2 as installed); run folders are named <dynamics>_...", **define)
    flags.DEFINE_integer("log_every", DEFAULTS["log_every"],
                         "log the mean of the last this many episodes, every this many", **define)
    flags.DEFINE_enum("train_env", DEFAULTS["train_env"], TRAIN_ENVS,
                      "batched_port: the batched TF port of speaker-listener (default, as MADDPG); mpe2: mpe2 itself "
                      "(either in --dynamics)", **define)
    flags.DEFINE_boolean("smoke", False, f"tiny run of the same code path ({SMOKE['seeds']} seeds x "
                         f"{SMOKE['episodes']} episodes, small networks, {SMOKE['eval_episodes']} evaluation "
                         "episodes), under smoke_* names", **define)
    flags.DEFINE_string("results_dir", str(REPO_ROOT / "results"), "where results/<experiment>/<run_id>/ go", **define)
    flags.DEFINE_string("run_id", None, "run folder name (default "
                        "<dynamics>_<baseline>_s<first>-<last>_ep<episodes>); "
                        "with several baselines, <baseline>_ is prefixed", **define)
    flags.DEFINE_integer("max_new_seeds", 0, "train at most this many unfinished seeds per baseline in this call "
                         "(0: all); rerun the same command to continue, e.g. to advance all four baselines in step",
                         **define)
    flags.DEFINE_boolean("table", True, "print Table 1 for these runs at the end", **define)


def request_from_flags(options) -> RunRequest:
    """The RunRequest the script's parsed flags ask for: its baselines are the request's pairings."""
    return RunRequest(experiment=NAME, pairings=options.baseline, seeds=options.seeds, first_seed=options.first_seed,
                      dynamics=options.dynamics, results_dir=options.results_dir, smoke=options.smoke,
                      run_id=options.run_id,
                      overrides={name: options[name].value for name in DEFAULTS if options[name].present})


def plan_request(request: RunRequest) -> list[tuple[BaselineRunConfig, Path]]:
    """(config, run_dir) for each requested baseline (request.pairings; None: all four); UsageError on bad
    values."""
    baselines = list(ALGORITHMS) if request.pairings is None else request.pairings
    unknown = [name for name in baselines if name not in ALGORITHMS]
    if unknown:
        raise UsageError(f"unknown baseline {unknown[0]!r}; choose from {', '.join(ALGORITHMS)}")
    if not baselines:
        raise UsageError(f"--baseline is empty; choose from {', '.join(ALGORITHMS)}")
    if request.variants:
        raise UsageError("the baselines have no variants (speaker-listener only)")
    unknown = [name for name in request.overrides if name not in DEFAULTS]
    if unknown:
        raise UsageError(f"{unknown[0]!r} is not a baseline setting; choose from {', '.join(DEFAULTS)}")
    count = DEFAULT_SEEDS if request.seeds is None else request.seeds
    if count <= 0:
        raise UsageError(f"--seeds must be positive, got {count}")
    if request.first_seed < 0:
        raise UsageError(f"--first_seed must be >= 0, got {request.first_seed}")
    seeds = tuple(range(request.first_seed, request.first_seed + count))
    settings = {**DEFAULTS, **request.overrides}
    if request.smoke:  # the smoke settings replace the flags', as --smoke's help says
        seeds = seeds[:SMOKE["seeds"]]
        settings.update(episodes=SMOKE["episodes"], eval_episodes=SMOKE["eval_episodes"], log_every=SMOKE["log_every"])
    episodes = settings["episodes"]
    plans = []
    for algorithm in dict.fromkeys(baselines):
        config = make_config(algorithm, seeds, episodes, settings["eval_episodes"], settings["train_env"],
                             request.smoke, settings["log_every"], dynamics=request.dynamics, experiment=EXPERIMENT,
                             scenario=SCENARIO)
        problems = config.problems()
        if problems:
            raise UsageError(problems[0])
        run_id = request.run_id or f"{config.dynamics}_{algorithm}_s{seeds[0]}-{seeds[-1]}_ep{episodes}"
        if request.run_id and len(baselines) > 1:
            run_id = f"{algorithm}_{request.run_id}"
        if request.smoke:
            run_id = f"smoke_{run_id}"
        plans.append((config, Path(request.results_dir) / EXPERIMENT / run_id))
    return plans


def prepare_run_dir(run_dir: Path, config: BaselineRunConfig) -> bool:
    """Creates run_dir with config.json, or checks that an existing one holds the same config.

    A folder of the other dynamics gets its own one-line refusal naming both (before the general one): its
    numbers belong to the other table, and a config without a dynamics field is an mpe2 run.

    Returns:
        True when the run already finished (every seed trained and evaluated).
    """
    config_path = run_dir / results.CONFIG_FILE
    if config_path.exists():
        try:
            existing = BaselineRunConfig.read(config_path)
        except (KeyError, TypeError, ValueError) as error:
            raise UsageError(f"{config_path} is not a baseline config ({error}); pass another --run_id")
        if existing.dynamics != config.dynamics:
            raise UsageError(f"{run_dir} was made with dynamics {existing.dynamics!r}, not {config.dynamics!r}; "
                             f"pass --dynamics={existing.dynamics} to use it, or another --run_id")
        if existing != config:
            different = [key for key, value in config.to_json().items() if existing.to_json().get(key) != value]
            raise UsageError(f"{run_dir} was made with another config (differs in: {', '.join(different)}); "
                             "pass another --run_id or remove that folder")
        return RunFolder(run_dir).finished
    if run_dir.exists() and any(run_dir.iterdir()):
        raise UsageError(f"{run_dir} exists and is not a run folder; pass another --run_id")
    run_dir.mkdir(parents=True, exist_ok=True)
    config.write(config_path)
    return False


def check_installed() -> None:
    """UsageError naming the install step when the baselines extra is missing."""
    missing = [name for name in REQUIRED_MODULES if importlib.util.find_spec(name) is None]
    if missing:
        raise UsageError(f"the tf-agents baselines need {', '.join(missing)}, which is not installed; "
                         "run `bash scripts/install_baselines.sh` (see the README)")


def run_worker(run_dirs: Sequence[Path], max_new_seeds: int = 0) -> int:
    """Trains and evaluates run_dirs in one legacy-Keras subprocess (output streamed); returns its exit code."""
    command = [sys.executable, "-m", "tf_agents_baselines.worker", f"--max_new_seeds={max_new_seeds}",
               *(str(run_dir) for run_dir in run_dirs)]
    return subprocess.run(command, cwd=REPO_ROOT, env=legacy_keras_environment()).returncode


def run_baselines(options, command: str) -> tuple[list[Path], list[str]]:
    """Runs every requested baseline (options: the parsed flags); returns (run folders, one line per baseline
    that failed)."""
    plans = plan_request(request_from_flags(options))
    if options.max_new_seeds < 0:
        raise UsageError(f"--max_new_seeds must be >= 0, got {options.max_new_seeds}")
    check_installed()
    pending = []
    for config, run_dir in plans:
        finished = prepare_run_dir(run_dir, config)
        label = LABELS[config.algorithm]
        if finished:
            print(f"[{config.algorithm}] {label}: finished already in {run_dir}, reused", flush=True)
            continue
        RunFolder(run_dir).update_meta(command=command)
        print(f"[{config.algorithm}] {label}: {len(config.seeds)} seeds x {config.episodes} episodes on "
              f"{config.train_env}, {config.dynamics} dynamics, {config.eval_episodes} evaluation episodes per seed "
              f"-> {run_dir}", flush=True)
        pending.append((config, run_dir))
    # A smoke run trains all baselines in one subprocess (TensorFlow is imported once); a full run one each.
    groups = [pending] if options.smoke and pending else [[item] for item in pending]
    failures = []
    for group in groups:
        started = time.perf_counter()
        code = run_worker([run_dir for _, run_dir in group], options.max_new_seeds)
        names = ", ".join(config.algorithm for config, _ in group)
        if code != 0:
            failures.append(f"{names}: the baseline subprocess exited with code {code} (its error is above)")
        else:
            print(f"[{names}] done in {time.perf_counter() - started:.0f} s", flush=True)
    return [run_dir for _, run_dir in plans], failures


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the command line; returns the exit code."""
    argv = list(argv if argv is not None else sys.argv)
    if "baseline" not in flags.FLAGS:  # (main called again in the same process)
        define_flags()
    remaining = parse_flags(argv, __doc__, __name__)
    if len(remaining) > 1:
        print(f"error: unexpected arguments {remaining[1:]}; see --help", file=sys.stderr)
        return 2
    options = flags.FLAGS
    command = " ".join(["python -m reproduction.independent_baselines", *argv[1:]])
    try:
        run_dirs, failures = run_baselines(options, command)
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for failure in failures:
        print(f"error: {failure}", file=sys.stderr)
    if options.table:
        from paper_figures.tables import experiment_table

        done = [run_dir for run_dir in run_dirs if (run_dir / results.EVALUATION_FILE).exists()]
        if done:
            # The table of this run's dynamics, titled with it (paper_figures files it under
            # table_stem("table1", dynamics)); the other dynamics' runs are never mixed in.
            markdown, _ = experiment_table(EXPERIMENT, Path(options.results_dir), done, dynamics=options.dynamics)
            print(markdown)
    return 1 if failures else 0


if __name__ == "__main__":
    app.define_help_flags()
    sys.exit(main())
