"""Wall time of whole cooperative-communication MADDPG training runs: P=1 and P=10, default and larger B.

    python -m benchmarks.cc_run_time [--episodes 25000] [--populations 1,10] [--num_envs 100,1000]

Trains into a temporary folder (evaluation excluded) with the experiment's default config otherwise, and
prints the wall time of each run, per seed, and against the P=1, B=100 run. Targets for 25000 episodes:
P=1 at most 150 s, P=10 at most 12 minutes (the reference openai/maddpg code: about 25 minutes per seed).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from maddpg.cli import quiet_tensorflow  # noqa: E402

quiet_tensorflow()  # before TensorFlow is imported below; --verbose keeps its logging

from maddpg.config import TrainConfig  # noqa: E402
from maddpg.run import train  # noqa: E402


def time_run(episodes: int, population: int, num_envs: int, jit_compile: bool) -> float:
    """Seconds to train one run (tracing and compiling included)."""
    config = TrainConfig(seeds=tuple(range(population)), episodes=episodes, num_envs=num_envs,
                         jit_compile=jit_compile, checkpoint_every_episodes=episodes)
    with tempfile.TemporaryDirectory() as directory:
        started = time.perf_counter()
        train(config, Path(directory) / "run", progress=False)
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--verbose", action="store_true", help="keep TensorFlow\'s start-up logging")
    parser.add_argument("--episodes", type=int, default=25_000, help="episodes per seed")
    parser.add_argument("--populations", default="1,10", help="comma-separated P values")
    parser.add_argument("--num_envs", default="100,1000", help="comma-separated B values")
    parser.add_argument("--no_jit", action="store_true", help="time without XLA")
    args = parser.parse_args()
    populations = [int(p) for p in args.populations.split(",")]
    batches = [int(b) for b in args.num_envs.split(",")]
    if args.episodes <= 0 or min(populations + batches) <= 0:
        parser.error("episodes, populations and num_envs must be positive")
    baseline = None
    for population in populations:
        for num_envs in batches:
            if args.episodes % num_envs:
                print(f"skip B={num_envs}: {args.episodes} episodes is not a multiple")
                continue
            seconds = time_run(args.episodes, population, num_envs, not args.no_jit)
            baseline = baseline or seconds
            print(f"P={population:3d} B={num_envs:5d}: {seconds:8.1f} s  ({seconds / population:6.1f} s per seed, "
                  f"{seconds / baseline:5.2f}x the first run)", flush=True)


if __name__ == "__main__":
    main()
