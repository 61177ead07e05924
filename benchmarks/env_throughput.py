"""Env steps per second: the batched TensorFlow speaker-listener against mpe2's parallel_env, same process.

    python -m benchmarks.env_throughput [--batch 1024] [--population 1] [--mpe2_steps 5000]

Both step random soft (Gumbel-softmax) actions. The batched port runs 25-step episodes inside one
tf.function (reset included), as training does; mpe2 runs its ordinary Python loop. Prints both rates
and the ratio (target: at least 300x at B=1024).
"""

from __future__ import annotations

import argparse
import time

from maddpg.cli import quiet_tensorflow  # noqa: E402

quiet_tensorflow()  # before TensorFlow is imported below; --verbose keeps its logging

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from envs.batched.speaker_listener import BatchedSpeakerListener  # noqa: E402
from envs.reference import make_reference_env, to_env_actions  # noqa: E402
from maddpg.evaluation import sample_soft_action  # noqa: E402
from maddpg.gumbel import gumbel_softmax  # noqa: E402
from maddpg.population_random import PopulationRandom  # noqa: E402


def mpe2_steps_per_second(steps: int) -> float:
    """Joint steps/s of mpe2's parallel_env with random soft actions."""
    env = make_reference_env("speaker_listener")
    rng = np.random.default_rng(0)
    env.reset(seed=0)
    done = 0
    started = time.perf_counter()
    while done < steps:
        actions = {a: sample_soft_action(np.zeros(env.action_space(a).shape[0]), rng) for a in env.agents}
        env.step(to_env_actions(actions))
        done += 1
        if not env.agents:
            env.reset()
    return done / (time.perf_counter() - started)


def batched_steps_per_second(population: int, batch: int, episodes: int, jit_compile: bool) -> float:
    """Env steps/s (summed over P x B worlds) of the batched port, 25-step episodes in one tf.function."""
    env = BatchedSpeakerListener()
    rng = PopulationRandom(range(population))

    @tf.function(jit_compile=jit_compile)
    def episode():
        state = env.reset(rng, batch)
        total = tf.zeros([population, batch, 2])
        for _ in tf.range(25):
            actions = [gumbel_softmax(tf.zeros([population, batch, a]), rng.uniform([batch, a]))
                       for a in env.action_sizes]
            state, rewards = env.step(state, actions)
            total += rewards
        return total

    episode()  # trace and compile outside the timing
    started = time.perf_counter()
    for _ in range(episodes):
        episode()
    return episodes * 25 * population * batch / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--verbose", action="store_true", help="keep TensorFlow\'s start-up logging")
    parser.add_argument("--batch", type=int, default=1024, help="B envs per population member")
    parser.add_argument("--population", type=int, default=1, help="P population members")
    parser.add_argument("--episodes", type=int, default=20, help="batched episodes to time")
    parser.add_argument("--mpe2_steps", type=int, default=5000, help="mpe2 steps to time")
    args = parser.parse_args()
    if min(args.batch, args.population, args.episodes, args.mpe2_steps) <= 0:
        parser.error("all counts must be positive")
    reference = mpe2_steps_per_second(args.mpe2_steps)
    print(f"mpe2 parallel_env:                      {reference:12,.0f} steps/s")
    for jit in (False, True):
        ours = batched_steps_per_second(args.population, args.batch, args.episodes, jit)
        print(f"batched P={args.population} B={args.batch} jit={str(jit):5}:    {ours:12,.0f} steps/s"
              f"   ratio {ours / reference:8,.0f}x")


if __name__ == "__main__":
    main()
