"""Subprocess entry point: trains and evaluates every seed of baseline run folders.

    TF_USE_LEGACY_KERAS=1 python -m tf_agents_baselines.worker [--max_new_seeds=K] RUN_DIR [RUN_DIR ...]

Each RUN_DIR (one baseline each, run one after the other) must hold the config.json written by
`reproduction.independent_baselines` (which starts this module with the right environment; use that).
Seeds run one after the other; each seed is trained and evaluated in the config's dynamics (its training
env and the mpe2 evaluation env are both built in it; nothing global is set), then recorded as done in
meta.json (`seeds_done`). A rerun skips the seeds that are done and restarts an unfinished seed from
episode 0 (its partial metrics.csv rows are dropped first): resuming is per seed, not within a seed. With
--max_new_seeds=K at most K seeds per run folder are trained in this call (so several baselines can be
advanced seed block by seed block). Exit codes: 0 done, 1 training diverged, 2 bad input.
"""

from __future__ import annotations

import logging
import sys
import time
import warnings
from pathlib import Path

from tf_agents_baselines.process import require_legacy_keras

BASELINE_PACKAGES = ("tf-agents", "tf-keras", "tensorflow-probability", "gym", "dm-tree", "gin-config")


def run(run_dir: Path, max_new_seeds: int = 0) -> int:
    """Trains and evaluates the seeds of run_dir that are not done yet (at most max_new_seeds of them if > 0).

    Returns:
        The exit code: 0, or 1 if training diverged.
    """
    require_legacy_keras()
    import tf_keras

    from tf_agents_baselines.evaluation import evaluate_policies
    from tf_agents_baselines.run_config import BaselineRunConfig
    from tf_agents_baselines.training import TrainingDiverged, train_seed
    from maddpg import results
    from maddpg.run_folder import RunFolder

    folder = RunFolder(run_dir)
    config = BaselineRunConfig.read(folder.config_path)
    done = [int(seed) for seed in folder.meta.get("seeds_done", [])]
    # MetricsWriter reads experiment, scenario, algorithm, dynamics and episode_length, which this config has
    # too; it writes the dynamics column after algorithm (and keeps an older file's header when appending).
    metrics = results.MetricsWriter(folder.metrics_path, config)
    evaluation = results.MetricsWriter(folder.evaluation_path, config)
    for writer in (metrics, evaluation):
        writer.keep_seeds(done)  # an interrupted seed restarts from its first episode
    folder.update_meta(trained=set(config.seeds) <= set(done), evaluated=set(config.seeds) <= set(done),
                       dynamics=config.dynamics, baseline_packages=results.package_versions(BASELINE_PACKAGES),
                       keras_in_baseline_process=f"tf_keras {tf_keras.__version__}")
    trained_now = 0
    for seed in config.seeds:
        if seed in done:
            print(f"[{config.algorithm}] seed {seed}: done already, skipped", flush=True)
            continue
        if max_new_seeds and trained_now >= max_new_seeds:
            print(f"[{config.algorithm}] seed {seed} and later: left for the next call (--max_new_seeds="
                  f"{max_new_seeds})", flush=True)
            break
        trained_now += 1
        started, started_at = time.perf_counter(), results.now()
        try:
            trainer = train_seed(config, seed, metrics.write, report=lambda line: print(line, flush=True))
        except TrainingDiverged as error:
            print(f"error: training diverged: {error}", file=sys.stderr)
            return 1
        trained = time.perf_counter() - started
        print(f"[{config.algorithm}] seed {seed}: trained {config.episodes} episodes in {trained:.0f} s "
              f"({config.episodes / trained:.0f} episodes/s); evaluating {config.eval_episodes} greedy episodes "
              f"on mpe2 ({config.dynamics} dynamics)", flush=True)
        values = evaluate_policies(config.scenario, [learner.policy for learner in trainer.learners], seed,
                                   config.eval_episodes, config.episode_length, dynamics=config.dynamics)
        evaluated = time.perf_counter() - started - trained
        evaluation.write({"role": "team", "seed": seed, "episode": config.episodes, "metric": metric,
                          "value": value} for metric, value in values.items())
        done.append(seed)
        sessions = list(folder.meta.get("sessions", []))
        sessions.append({"seed": seed, "started_at": started_at, "train_seconds": round(trained, 2),
                         "eval_seconds": round(evaluated, 2), "episodes": config.episodes,
                         "episodes_per_second": round(config.episodes / trained, 1)})
        complete = set(config.seeds) <= set(done)
        folder.update_meta(trained=complete, evaluated=complete, seeds_done=done, sessions=sessions)
        print(f"[{config.algorithm}] seed {seed}: target reach {values['target_reach_nearest_percent']:.1f}%, final "
              f"squared distance {values['final_squared_distance']:.3f} (Table 1's readings), evaluation reward {values['mean_episode_reward']:.2f} "
              f"({evaluated:.0f} s)", flush=True)
    return 0


def main(argv: list[str]) -> int:
    """Runs every RUN_DIR of the command line; returns the worst exit code."""
    arguments, max_new_seeds = list(argv[1:]), 0
    if arguments and arguments[0].startswith("--max_new_seeds="):
        value = arguments.pop(0).split("=", 1)[1]
        max_new_seeds = int(value) if value.isdigit() else -1
    if not arguments or max_new_seeds < 0 or any(arg.startswith("-") for arg in arguments):
        print("usage: TF_USE_LEGACY_KERAS=1 python -m tf_agents_baselines.worker [--max_new_seeds=K] "
              "RUN_DIR [RUN_DIR ...] (started by python -m reproduction.independent_baselines)", file=sys.stderr)
        return 2
    run_dirs = [Path(arg) for arg in arguments]
    for run_dir in run_dirs:
        if not (run_dir / "config.json").exists():
            print(f"error: {run_dir} has no config.json", file=sys.stderr)
            return 2
    try:
        require_legacy_keras()
    except RuntimeError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return max(run(run_dir, max_new_seeds) for run_dir in run_dirs)


if __name__ == "__main__":
    from maddpg.cli import quiet_tensorflow

    # The worker's own command line is RUN_DIRs only; TensorFlow's start-up lines would fill the parent's
    # screen once per seed, so they are always silenced here (the parent's --verbose does not reach them).
    quiet_tensorflow([sys.argv[0]])
    # tf-agents 0.19 trips TensorFlow's deprecation warnings and autograph's SyntaxWarnings on every run:
    # nothing a user can act on.
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", category=SyntaxWarning)
    sys.exit(main(sys.argv))
