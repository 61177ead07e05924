"""Recompute a run's paper metrics from its checkpoint on its reference env, and optionally watch it as a GIF.

    python -m reproduction.cooperative_communication --smoke    # trains the run folder below in a minute
    python -m maddpg.evaluate runs/cooperative_communication/smoke_paper_maddpg_s0-1_ep200
    python -m maddpg.evaluate RUN_DIR --episodes=100 --render=run.gif --render_episodes=3 --render_seed=0
    python -m maddpg.evaluate RUN_DIR --actions=greedy     # argmax actions instead of the run's own setting

RUN_DIR is a run folder a script trained here (runs/<experiment>/<run_id>, or results/... with
--results_dir=results): the committed runs under results/ keep no checkpoint to restore.

Reads RUN_DIR/config.json, restores the actors of the latest checkpoint (RUN_DIR/checkpoints), evaluates
every seed for --episodes episodes of the reference env of the run's dynamics (default: the run's eval_episodes) and prints each seed's metrics
and their mean [95% bootstrap CI], beside the run's own evaluation.csv when it has one. Nothing in RUN_DIR
is written. --render writes a GIF of a few episodes of one seed, drawn by mpe2's rgb_array renderer
offscreen (no display needed), GIF_SIZE x GIF_SIZE pixels (see maddpg/animation.py).
"""

from __future__ import annotations

import sys
from pathlib import Path

from absl import flags

from maddpg.cli import parse_flags, quiet_tensorflow, run_command
from maddpg.restore import load_actor_weights
from maddpg.results import UsageError
from maddpg.run_folder import RunFolder

flags.DEFINE_integer("episodes", None, "evaluation episodes per seed (default: the run's eval_episodes)")
flags.DEFINE_integer("workers", 0, "evaluation worker processes (0: one per CPU core)")
flags.DEFINE_string("render", None, "write a GIF of --render_episodes episodes of one seed to this file")
flags.DEFINE_integer("render_episodes", 3, "episodes in the GIF")
flags.DEFINE_integer("render_seed", None, "which of the run's seeds plays in the GIF (default: its first)")
flags.DEFINE_float("fps", 10.0, "GIF frames per second")
flags.DEFINE_boolean("evaluate", True, "recompute the metrics (--noevaluate with --render only renders)")
flags.DEFINE_enum("dynamics", None, ["paper", "mpe2"],
                  "the dynamics you expect the run to have (default: the run's own, from its config.json); a run "
                  "is always evaluated in the dynamics it was trained in, so another value is refused")
flags.DEFINE_enum("actions", None, ["sampled", "greedy"],
                  "how the actors act (default: the run's eval_actions): sampled relaxed Gumbel-softmax actions or "
                  "each policy's one-hot argmax; the run's own evaluation.csv is printed beside either")
flags.DEFINE_boolean("verbose", False, "keep TensorFlow's start-up and C++ logging (silenced by default)")


def _print_metrics(values: dict, recorded: dict | None) -> None:
    """Each seed's metrics, and their mean [95% CI] beside the run's own evaluation.csv's (`recorded`, if any)."""
    import pandas as pd

    from maddpg.stats import format_cell, mean_and_ci

    frame = pd.DataFrame(values).T.sort_index()  # [seed, metric]
    frame.index.name = "seed"
    print(frame.to_string(float_format=lambda v: f"{v:.4g}"))
    print(f"\nmean [95% bootstrap CI] over {len(frame)} seeds" + ("  (run's evaluation.csv)" if recorded else ""))
    for metric in frame.columns:
        mean, low, high, n = mean_and_ci(frame[metric].tolist())
        line = f"  {metric:32s} {format_cell(mean, low, high, n, 4)}"
        if recorded:
            old = [per_seed[metric] for per_seed in recorded.values() if metric in per_seed]
            if old:
                old_mean, old_low, old_high, old_n = mean_and_ci(old)
                line += f"   ({format_cell(old_mean, old_low, old_high, old_n, 4)})"
        print(line)


def main(argv) -> int:
    """Evaluates and/or renders the run named on the command line. Returns the exit code."""
    from maddpg import evaluation
    from maddpg.animation import GIF_SIZE, write_gif

    options = flags.FLAGS
    if len(argv) != 2:
        raise UsageError("give exactly one run folder: python -m maddpg.evaluate results/<experiment>/<run_id>")
    run_dir = Path(argv[1])
    if options.episodes is not None and options.episodes <= 0:
        raise UsageError(f"--episodes must be positive, got {options.episodes}")
    if options.render_episodes <= 0 or options.fps <= 0:
        raise UsageError("--render_episodes and --fps must be positive")
    if options.render and not options.render.lower().endswith(".gif"):
        raise UsageError(f"--render writes a GIF; give a file name ending in .gif, got {options.render}")
    folder = RunFolder(run_dir)
    config, weights = load_actor_weights(folder)
    recorded = folder.evaluation()  # read (and checked) before the evaluation, not after it
    if options.dynamics is not None and options.dynamics != config.dynamics:
        raise UsageError(f"{run_dir} was trained in dynamics {config.dynamics!r}, not {options.dynamics!r}; its actors "
                         f"are evaluated only in their own dynamics (drop --dynamics or pass --dynamics={config.dynamics})")
    render_seed = config.seeds[0] if options.render_seed is None else options.render_seed
    if render_seed not in config.seeds:
        raise UsageError(f"--render_seed {render_seed} is not one of the run's seeds {list(config.seeds)}")
    greedy = (options.actions or config.eval_actions) == "greedy"
    if options.evaluate:
        episodes = options.episodes or config.eval_episodes
        print(f"evaluating {run_dir} ({config.scenario}, {config.algorithm}, {config.dynamics} dynamics): "
              f"{episodes} reference-env episodes per seed, {'greedy' if greedy else 'sampled'} actions", flush=True)
        values = evaluation.evaluate_population(config.scenario, weights, config.seeds,
                                                evaluation.EvaluationSettings.of(config, episodes, greedy),
                                                options.workers or None, config.ensemble_size)
        _print_metrics(values, recorded)
    if options.render:
        member = config.seeds.index(render_seed)
        frames = evaluation.render_member(config.scenario,
                                          evaluation.member_policies(weights, member, config.ensemble_size),
                                          render_seed,
                                          evaluation.EvaluationSettings.of(config, options.render_episodes, greedy))
        count = write_gif(frames, Path(options.render), fps=options.fps)
        print(f"wrote {options.render}: {count} frames of {GIF_SIZE}x{GIF_SIZE} px, seed {render_seed}, "
              f"{options.render_episodes} episodes")
    return 0


def cli() -> None:
    """Entry point: bad input is one line on stderr and exit code 2."""
    quiet_tensorflow()  # before TensorFlow is imported; --verbose keeps its logging
    # Run as __main__, absl files this module's flags under the program's path.
    remaining = parse_flags(sys.argv, __doc__, __name__ if __name__ != "__main__" else sys.argv[0])
    sys.exit(run_command(main, remaining))


if __name__ == "__main__":
    cli()
