"""Where one MADDPG update's time goes: per agent and per stage, at P=1 and P=10, 2 and 6 agents.

    python -m benchmarks.update_profile [--populations 1,10] [--scenarios speaker_listener,spread_n6]
                                        [--repeats 20] [--rounds 5]

Builds the learner and a filled replay buffer of the experiment's size (batch 1024, 64 units, the
scenario's observation and action sizes, a buffer of --capacity random rows per member: 1e5 by default,
as a paper run's 1e6 would need up to 19 GB at P=10 with 6 agents) and times,
each as its own XLA-compiled function looping `--repeats` times (what a training iteration does), the
cumulative prefixes of one agent's update:

    sample        the batch gather from the buffer
    + target      a'_j of every target actor, Q'_i, y
    + critic fwd  the critic loss
    + critic bwd  its gradient
    + critic adam clipping and the Adam step
    + actor fwd   the actor loss (the actor and the critic again)
    + actor bwd   its gradient
    + actor adam  clipping and the Adam step
    + soft update the two target networks (= the whole update of one agent)

and the whole update of all agents (`Learner.update`).

`--threads` instead times whole training iterations (B=100 envs x 25 steps, 25 updates) of the
scenario's paper config in child processes: one run alone and two side by side, at TensorFlow intra-op
thread counts 1 and 2, and prints each layout's iterations per second (what the paper driver's choice of
one thread per run rests on). It also prints whether 1 and 2 threads give the same losses (they do not:
the thread count changes how Eigen splits reductions).

`--release=<git rev>` instead times whole training iterations of this tree and of that commit (checked out
in a temporary git worktree) side by side, alternating A B A B in child processes with one intra-op
thread each, for every scenario and P given, and prints the seconds per iteration of both, their ratio,
and whether the two give the same critic loss sum (a speed-up must not change the numbers). Each stage's share is its prefix's time minus the
previous prefix's (XLA fuses across stages, so the shares are estimates that add up to the whole). The
GFLOP/s column counts the matmul work of the whole agent update (dense layers only, forward 2*in*out per
row, backward twice that), to compare with what this CPU's matmul reaches on one [1024, 64] x [64, 64]
product stacked P times (last line).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from maddpg.cli import quiet_tensorflow

quiet_tensorflow()  # before TensorFlow is imported below

import tensorflow as tf  # noqa: E402

from envs.batched import make_batched_env  # noqa: E402
from maddpg.config import TrainConfig  # noqa: E402
from maddpg.learner import Learner, critic_input, soft_update  # noqa: E402
from maddpg.population_random import PopulationRandom  # noqa: E402
from maddpg.replay import ReplayBuffer  # noqa: E402

STAGES = ("sample", "target", "critic fwd", "critic bwd", "critic adam", "actor fwd", "actor bwd",
          "actor adam", "soft update")


def build(scenario: str, population: int, capacity: int):
    """(learner, buffer, rng) for `scenario` with P members, the buffer filled with random rows."""
    env = make_batched_env(scenario, dynamics="paper")
    agents = len(env.observation_sizes)
    config = TrainConfig(scenario=scenario, seeds=tuple(range(population)), critic_kinds=("maddpg",) * agents)
    learner = Learner(config, env.observation_sizes, env.action_sizes)
    buffer = ReplayBuffer(population, capacity, env.observation_sizes, env.action_sizes, write_block=capacity)
    for _, variable in buffer.fields():
        variable.assign(tf.random.stateless_uniform(variable.shape, [1, 2]))
    buffer.size.assign(capacity)
    return learner, buffer, PopulationRandom(range(population))


def agent_prefix(learner: Learner, buffer: ReplayBuffer, rng: PopulationRandom, agent: int, stages: int):
    """Runs the first `stages` stages of agent `agent`'s update once; returns a scalar that depends on them."""
    config = learner.config
    batch = config.batch_size
    indices = rng.integers([batch], buffer.size)
    target_noise = [rng.uniform([batch, size]) for size in learner.action_sizes]
    actor_noise = rng.uniform([batch, learner.action_sizes[agent]])
    observations, actions, rewards, next_observations = buffer.sample(indices)
    result = tf.add_n([tf.reduce_sum(o) for o in observations + next_observations]) + tf.reduce_sum(rewards)
    if stages == 1:
        return result
    logits = learner.target_actions.logits(agent, next_observations, buffer, indices)
    target = learner.critic_target(agent, rewards, next_observations, learner._target_actions(logits, target_noise))
    if stages == 2:
        return tf.reduce_sum(target)
    critic, actor = learner.critics[agent], learner.actors[agent]
    critic_loss, early = _network_step(
        learner, lambda: tf.reduce_sum(learner.critic_loss(agent, observations, actions, target)), critic,
        learner.critic_optimizers[agent], stages, first_stage=3)
    if early is not None:
        return early
    actor_loss, early = _network_step(
        learner, lambda: tf.reduce_sum(learner.actor_loss(agent, observations, actions, actor_noise)), actor,
        learner.actor_optimizers[agent], stages, first_stage=6)
    if early is not None:
        return early
    soft_update(learner.target_actors[agent].trainable_variables, actor.trainable_variables, config.tau)
    soft_update(learner.target_critics[agent].trainable_variables, critic.trainable_variables, config.tau)
    return actor_loss


def _network_step(learner: Learner, loss_fn, network, optimizer, stages: int, first_stage: int):
    """Stages first_stage (forward), +1 (gradient), +2 (clipping and Adam) of one network's step.

    Returns:
        (loss, early): early is the scalar to return when `stages` ends inside these three, else None.
    """
    with tf.GradientTape() as tape:
        loss = loss_fn()
    if stages == first_stage:
        return loss, loss
    gradients = tape.gradient(loss, network.trainable_variables)
    if stages == first_stage + 1:
        return loss, tf.add_n([tf.reduce_sum(g) for g in gradients])
    learner._apply(optimizer, gradients, network)
    return loss, (loss if stages == first_stage + 2 else None)


def seconds_per_call(function, rounds: int, repeats: int) -> float:
    """Median seconds of one of `repeats` iterations inside the compiled `function` (compile excluded)."""
    function()  # trace and compile
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        function().numpy()
        times.append(time.perf_counter() - started)
    times.sort()
    return times[len(times) // 2] / repeats


def looped(body, repeats: int):
    """An XLA function running `body` `repeats` times in a while loop (as the training iteration does)."""
    def run():
        total = tf.constant(0.0)
        for _ in tf.range(repeats):
            total += body()
        return total
    return tf.function(run, jit_compile=True)


def update_flops(learner: Learner, agent: int, population: int) -> float:
    """Matmul FLOPs of one agent's update: target actors + target critic forward, critic forward+backward,
    actor forward+backward and the critic forward+backward through it (backward = 2x forward)."""
    batch, units = learner.config.batch_size, learner.config.hidden_units

    def mlp(inputs, outputs):  # forward FLOPs per row
        return 2 * (inputs * units + units * units + units * outputs)

    critic_in = learner.critics[agent].hidden[0].kernel.shape[1]
    targets = sum(mlp(o, a) for o, a in zip(learner.observation_sizes, learner.action_sizes)) + mlp(critic_in, 1)
    critic = 3 * mlp(critic_in, 1)
    actor = 3 * mlp(learner.observation_sizes[agent], learner.action_sizes[agent]) + 3 * mlp(critic_in, 1)
    return float(population * batch * (targets + critic + actor))


def matmul_gflops(population: int, rounds: int, repeats: int) -> float:
    """GFLOP/s of P stacked [1024, 64] x [64, 64] products, the update's typical matmul, in XLA.

    Each product feeds the next (x <- x @ w): a sum over independent products would let XLA's algebraic
    simplifier reduce before multiplying and report several times the true rate.
    """
    x = tf.random.stateless_uniform([population, 1024, 64], [3, 4])
    w = tf.Variable(tf.random.stateless_uniform([population, 64, 64], [5, 6]) * 0.1)

    def chained():
        def run():
            return tf.reduce_sum(tf.foldl(lambda a, _: tf.einsum("pbi,pio->pbo", a, w), tf.range(repeats),
                                          initializer=x))
        return tf.function(run, jit_compile=True)

    seconds = seconds_per_call(chained(), rounds, repeats)
    return 2 * population * 1024 * 64 * 64 / seconds / 1e9


def profile(scenario: str, population: int, options) -> None:
    """Prints the whole update's time and each agent's stage shares for one scenario and P."""
    learner, buffer, rng = build(scenario, population, options.capacity)
    agents = len(learner.actors)
    whole = seconds_per_call(looped(lambda: tf.reduce_sum(learner.update(buffer, rng)[0]), options.repeats),
                             options.rounds, options.repeats)
    print(f"\n{scenario}, {agents} agents, P={population}: whole update of all agents {whole * 1e3:.2f} ms "
          f"({whole / agents * 1e3:.2f} ms per agent)")
    print(f"{'agent':>5} | " + " | ".join(f"{s:>11}" for s in STAGES) + " | total ms | GFLOP/s")
    chosen = [int(a) for a in options.agents.split(",")] if options.agents else range(agents)
    for agent in (a for a in chosen if a < agents):
        prefixes = [seconds_per_call(looped(lambda s=s: agent_prefix(learner, buffer, rng, agent, s),
                                            options.repeats), options.rounds, options.repeats)
                    for s in range(1, len(STAGES) + 1)]
        shares = [prefixes[0]] + [b - a for a, b in zip(prefixes, prefixes[1:])]
        gflops = update_flops(learner, agent, population) / prefixes[-1] / 1e9
        print(f"{agent:>5} | " + " | ".join(f"{s * 1e3:>8.2f} ms" for s in shares)
              + f" | {prefixes[-1] * 1e3:8.2f} | {gflops:7.1f}")


def iteration_seconds(scenario: str, population: int, iterations: int) -> tuple[float, float]:
    """(seconds per training iteration with updates, critic loss sum of the last one) in this process."""
    from maddpg.training import Trainer

    env = make_batched_env(scenario, dynamics="paper")
    config = TrainConfig(scenario=scenario, seeds=tuple(range(population)), jit_compile=True, dynamics="paper",
                         critic_kinds=("maddpg",) * len(env.observation_sizes), warmup_transitions=2500,
                         episodes=1_000_000)
    trainer = Trainer(config, env)
    for _ in range(3):  # compile, and fill the buffer past the warm-up
        trainer.iteration()
    started = time.perf_counter()
    for _ in range(iterations):
        outputs = trainer.iteration()
    loss = float(tf.reduce_sum(outputs["critic_loss_sum"]).numpy())
    return (time.perf_counter() - started) / iterations, loss


def thread_layouts(options) -> None:
    """Iterations per second of 1 run alone and 2 side by side, at 1 and 2 intra-op threads each."""
    scenario = options.scenarios.split(",")[0]
    population = int(options.populations.split(",")[-1])
    print(f"{scenario}, P={population}, {options.iterations} timed iterations per process")
    print("layout | threads per run | seconds per iteration (each run) | iterations per second (all runs)")
    losses = {}
    for threads in (1, 2):
        for runs in (1, 2):
            command = [sys.executable, "-m", "benchmarks.update_profile", "--child_iteration", scenario,
                       "--populations", str(population), "--iterations", str(options.iterations)]
            env = dict(os.environ, TF_NUM_INTRAOP_THREADS=str(threads))
            children = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True) for _ in range(runs)]
            results = [child.communicate()[0].split() for child in children]
            seconds = [float(r[0]) for r in results]
            losses[threads] = float(results[0][1])
            print(f"{'alone' if runs == 1 else 'side by side':>12} | {threads} | "
                  f"{' '.join(f'{s:.3f}' for s in seconds)} | {sum(1 / s for s in seconds):.3f}")
    print(f"critic loss sum after the timed iterations: 1 thread {losses[1]!r}, 2 threads {losses[2]!r} "
          f"({'the same' if losses[1] == losses[2] else 'different numbers'})")


# Runs in a child process with the tree to time first on sys.path; uses only APIs older commits have too.
CHILD_ITERATION = """
import sys, time
from maddpg.cli import quiet_tensorflow
quiet_tensorflow()
import tensorflow as tf
from envs.batched import make_batched_env
from maddpg.config import TrainConfig
from maddpg.training import Trainer
scenario, population, iterations = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
env = make_batched_env(scenario, dynamics="paper")
config = TrainConfig(scenario=scenario, seeds=tuple(range(population)), jit_compile=True, dynamics="paper",
                     critic_kinds=("maddpg",) * len(env.observation_sizes), warmup_transitions=2500,
                     episodes=1_000_000)
trainer = Trainer(config, env)
for _ in range(3):
    trainer.iteration()
started = time.perf_counter()
for _ in range(iterations):
    outputs = trainer.iteration()
loss = float(tf.reduce_sum(outputs["critic_loss_sum"]).numpy())
print((time.perf_counter() - started) / iterations, loss)
"""


def release_comparison(options) -> None:
    """Seconds per training iteration of this tree and of `options.release`, alternating, one thread each."""
    root = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory() as folder:
        release_tree = Path(folder) / "release"
        subprocess.run(["git", "-C", str(root), "worktree", "add", "--detach", str(release_tree), options.release],
                       check=True, capture_output=True)
        try:
            print(f"seconds per training iteration (B=100 x 25 steps, 25 updates), this tree vs {options.release}, "
                  f"{options.iterations} timed iterations per process, median of {options.rounds} alternations")
            print("scenario | P | this tree | release | release / this | same numbers")
            env = dict(os.environ, TF_NUM_INTRAOP_THREADS="1")
            for population in (int(p) for p in options.populations.split(",")):
                for scenario in options.scenarios.split(","):
                    times = {"this": [], "release": []}
                    losses = {}
                    for _ in range(options.rounds):
                        for side, tree in (("this", root), ("release", release_tree)):
                            output = subprocess.run(
                                [sys.executable, "-c", CHILD_ITERATION, scenario, str(population),
                                 str(options.iterations)], cwd=tree, env=dict(env, PYTHONPATH=str(tree)),
                                capture_output=True, text=True, check=True).stdout.split()
                            times[side].append(float(output[0]))
                            losses[side] = output[1]
                    this, release = (sorted(t)[len(t) // 2] for t in (times["this"], times["release"]))
                    print(f"{scenario} | {population} | {this:.3f} s | {release:.3f} s | {release / this:.2f} | "
                          f"{'yes' if losses['this'] == losses['release'] else 'NO'}", flush=True)
        finally:
            subprocess.run(["git", "-C", str(root), "worktree", "remove", "--force", str(release_tree)],
                           capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenarios", default="speaker_listener,spread_n6", help="comma-separated scenarios")
    parser.add_argument("--populations", default="1,10", help="comma-separated P values")
    parser.add_argument("--repeats", type=int, default=20, help="updates per timed call")
    parser.add_argument("--rounds", type=int, default=5, help="timed calls per figure (median kept)")
    parser.add_argument("--capacity", type=int, default=100_000, help="replay rows per member")
    parser.add_argument("--agents", default="", help="comma-separated agent indices to break down (default: all)")
    parser.add_argument("--threads", action="store_true", help="time thread layouts of whole iterations instead")
    parser.add_argument("--iterations", type=int, default=5, help="--threads: timed iterations per process")
    parser.add_argument("--release", default="", help="time whole iterations of this tree against this git rev")
    parser.add_argument("--child_iteration", default="", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child_iteration:
        seconds, loss = iteration_seconds(options.child_iteration, int(options.populations), options.iterations)
        print(seconds, loss)
        return
    if options.threads:
        thread_layouts(options)
        return
    if options.release:
        release_comparison(options)
        return
    for population in (int(p) for p in options.populations.split(",")):
        for scenario in options.scenarios.split(","):
            profile(scenario, population, options)
        print(f"\nXLA matmul, P={population} x [1024, 64] x [64, 64]: "
              f"{matmul_gflops(population, options.rounds, options.repeats):.1f} GFLOP/s")


if __name__ == "__main__":
    main()
