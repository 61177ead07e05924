"""Training speed: the plain PettingZoo loop on mpe2 against the batched path, same config, same process.

    python -m benchmarks.plain_vs_batched [--plain_episodes 200] [--batched_iterations 5] [--num_envs 100]

Both train MADDPG on speaker-listener with one TrainConfig: P=1, 64 units, batch 1024, one update of
every agent per 100 transitions once the buffer holds 1024 (warm-up shortened from the paper's 25600 so
that both timed stretches include updates at the paper's rate).
(a) plain: maddpg.pettingzoo_loop on mpe2's parallel_env, one tf.function call per step for the actions;
(b) batched: maddpg.run.build_trainer(config).iteration, one call per num_envs episodes, without and with
    XLA.
Each path's start (tracing, XLA compile, the plain loop's warm-up episodes up to its first updates) is
timed and printed separately and excluded from the rates. Prints episodes/s, env steps/s and each batched
rate as a multiple of the plain loop's; nothing is asserted (these machines are noisy).
"""

from __future__ import annotations

import argparse
import time

from maddpg.cli import quiet_tensorflow  # noqa: E402

quiet_tensorflow()  # before TensorFlow is imported below; --verbose keeps its logging

from envs.reference import make_reference_env  # noqa: E402
from maddpg.config import TrainConfig  # noqa: E402
from maddpg.pettingzoo_loop import ParallelEnvTrainer  # noqa: E402
from maddpg.run import build_trainer  # noqa: E402

# Plain-loop episodes run before timing: 50 x 25 = 1250 transitions, past the 1024 warm-up, so the update
# function is traced (and has run) before the clock starts.
PLAIN_WARMUP_EPISODES = 50


def benchmark_config(num_envs: int, episodes: int, jit_compile: bool) -> TrainConfig:
    """The shared shape: P=1, 64 units, batch 1024, update every 100 transitions after 1024."""
    return TrainConfig(experiment="benchmark", scenario="speaker_listener", seeds=(0,), episodes=episodes,
                       num_envs=num_envs, hidden_units=64, batch_size=1024, update_every=100,
                       warmup_transitions=1024, log_every_episodes=num_envs, checkpoint_every_episodes=episodes,
                       jit_compile=jit_compile)


def time_plain(config: TrainConfig, episodes: int) -> dict:
    """Start-up and timed rates of the plain loop on mpe2."""
    started = time.perf_counter()
    trainer = ParallelEnvTrainer(lambda: make_reference_env("speaker_listener"), config)
    for _ in range(PLAIN_WARMUP_EPISODES):
        trainer.run_episode()
    startup = time.perf_counter() - started
    steps_before, updates_before = trainer.transitions, trainer.updates
    started = time.perf_counter()
    for _ in range(episodes):
        trainer.run_episode()
    seconds = time.perf_counter() - started
    return {"startup_s": startup, "seconds": seconds, "episodes": episodes,
            "steps": trainer.transitions - steps_before, "updates": trainer.updates - updates_before}


def time_batched(config: TrainConfig, iterations: int) -> dict:
    """Start-up (first call: trace, compile, its own B episodes) and timed rates of the batched iteration."""
    started = time.perf_counter()
    trainer = build_trainer(config)
    trainer.iteration()
    startup = time.perf_counter() - started
    updates_before = int(trainer.updates.numpy())
    started = time.perf_counter()
    for _ in range(iterations):
        outputs = trainer.iteration()
    outputs["num_updates"].numpy()  # wait for the last call's result
    seconds = time.perf_counter() - started
    episodes = iterations * config.num_envs
    return {"startup_s": startup, "seconds": seconds, "episodes": episodes,
            "steps": episodes * config.episode_length, "updates": int(trainer.updates.numpy()) - updates_before}


def report(label: str, result: dict, baseline: dict | None) -> None:
    episodes_per_s = result["episodes"] / result["seconds"]
    line = (f"{label:30s} start {result['startup_s']:6.1f} s | {result['episodes']:5d} episodes in "
            f"{result['seconds']:6.1f} s: {episodes_per_s:9.1f} episodes/s "
            f"{result['steps'] / result['seconds']:11,.0f} env steps/s ({result['updates']} updates)")
    if baseline is not None:
        line += f" | {episodes_per_s / (baseline['episodes'] / baseline['seconds']):6.1f}x plain"
    print(line, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--verbose", action="store_true", help="keep TensorFlow\'s start-up logging")
    parser.add_argument("--plain_episodes", type=int, default=200, help="timed episodes of the plain loop")
    parser.add_argument("--batched_iterations", type=int, default=20, help="timed calls of the batched iteration")
    parser.add_argument("--num_envs", type=int, default=100, help="B envs per batched call")
    args = parser.parse_args()
    if min(args.plain_episodes, args.batched_iterations, args.num_envs) <= 0:
        parser.error("all counts must be positive")
    # Enough episodes that neither path's replay buffer (capacity: episodes x 25) wraps differently.
    needed = max(PLAIN_WARMUP_EPISODES + args.plain_episodes, (args.batched_iterations + 1) * args.num_envs)
    episodes = -(-needed // args.num_envs) * args.num_envs
    print(f"speaker_listener MADDPG, P=1, 64 units, batch 1024, update every 100 transitions after 1024; "
          f"batched B={args.num_envs}", flush=True)
    plain = time_plain(benchmark_config(args.num_envs, episodes, jit_compile=False), args.plain_episodes)
    report("plain loop (mpe2)", plain, None)
    for jit in (False, True):
        batched = time_batched(benchmark_config(args.num_envs, episodes, jit), args.batched_iterations)
        report(f"batched (jit_compile={jit})", batched, plain)


if __name__ == "__main__":
    main()
