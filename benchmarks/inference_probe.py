"""Does each policy approximation of a finished policy-inference run still read its input?

    python -m benchmarks.inference_probe RUN_DIR [--states 200]
    python -m benchmarks.inference_probe RUN_DIR --refit 2000   # also: how well can the final policies be fit?

Restores the run's checkpoint (a speaker-listener `inferred_policies` run), draws `--states` fresh reset
states per seed from the batched env, and prints per seed, for each agent j and the approximation of it
held by the other agent: how many distinct observations of j the states hold, how much the approximation's
and the true policy's action probabilities vary over them (largest per-action standard deviation), and how
many of the approximation's 64 first-layer ReLU units are active on any of them. An approximation whose
output does not vary while the true policy's does has stopped reading its input (dead first-layer units),
which is what Fig. 7's KL then measures.

--refit STEPS separates tracking from fitting. It plays --episodes episodes per seed with the run's final
actors (as in training: relaxed Gumbel-softmax actions), then trains a freshly initialised approximation of
every agent on those fixed actions (the run's inference_likelihood, learning rate and entropy bonus; batches
of inference_samples) and prints, every STEPS/5 steps, its KL(approx || true) and KL(true || approx) on
those states, beside the run's own final approximation's. With the true policy frozen, what is left of the
KL is what the approximation cannot fit; a run KL far above it is lag behind a policy that keeps changing.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from maddpg.cli import quiet_tensorflow

quiet_tensorflow()

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from maddpg.config import TrainConfig  # noqa: E402
from maddpg.networks import PopulationMLP, build_network  # noqa: E402
from maddpg.run import build_trainer, restore_checkpoint  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run_dir", type=Path, help="a finished policy_inference inferred_policies run folder")
    parser.add_argument("--states", type=int, default=200, help="reset states drawn per seed")
    parser.add_argument("--refit", type=int, default=0, help="steps of a fresh approximation's fit (0: none)")
    parser.add_argument("--episodes", type=int, default=100, help="--refit: episodes played per seed")
    parser.add_argument("--likelihood", choices=("argmax", "relaxed"), help="--refit: the fit's likelihood "
                        "(default: the run's inference_likelihood)")
    options = parser.parse_args()
    config = TrainConfig.from_json(json.loads((options.run_dir / "config.json").read_text()))
    if not config.policy_inference:
        parser.error(f"{options.run_dir} is not a policy-inference run (its config has policy_inference false)")
    checkpoint = tf.train.latest_checkpoint(str(options.run_dir / "checkpoints"))
    if checkpoint is None:
        parser.error(f"{options.run_dir} has no checkpoint to restore")
    trainer = build_trainer(config)
    restore_checkpoint(trainer, checkpoint)
    learner, env = trainer.learner, trainer.env
    observations = env.observe(env.reset(trainer.rng, options.states))  # per agent [P, states, O_j]
    for j, agent in enumerate(env.agents):
        i = next(other for other in range(len(env.agents)) if other != j)
        approximation = learner.approximations[i][j]
        approximated = tf.nn.softmax(approximation(observations[j])).numpy()  # [P, states, A_j]
        true = tf.nn.softmax(learner.actors[j](observations[j])).numpy()
        active = (approximation.hidden[0](observations[j]).numpy() > 0).any(axis=1).sum(axis=-1)  # [P]
        print(f"{agent} as approximated by {env.agents[i]}:")
        for p, seed in enumerate(config.seeds):
            distinct = len(np.unique(observations[j][p].numpy().round(4), axis=0))
            print(f"  seed {seed}: {distinct} distinct observations; output std approximation "
                  f"{approximated[p].std(axis=0).max():.4f}, true policy {true[p].std(axis=0).max():.4f}; "
                  f"first-layer units active on any: {int(active[p])}/{approximation.hidden[0].units}")
    if options.refit > 0:
        refit(trainer, options.refit, options.episodes, options.likelihood or config.inference_likelihood)


def _kls(log_probs: tf.Tensor, true_log_probs: tf.Tensor) -> tuple[float, float]:
    """Mean over seeds and states of KL(approx || true) and KL(true || approx); both [P, n, A]."""
    reverse = tf.reduce_sum(tf.exp(log_probs) * (log_probs - true_log_probs), axis=-1)
    forward = tf.reduce_sum(tf.exp(true_log_probs) * (true_log_probs - log_probs), axis=-1)
    return float(tf.reduce_mean(reverse)), float(tf.reduce_mean(forward))


def play(trainer, episodes: int):
    """Per agent, the observations [P, n, O_j] and relaxed actions [P, n, A_j] of `episodes` episodes per seed
    played by the final actors (n = episodes x episode_length)."""
    config, learner, env = trainer.config, trainer.learner, trainer.env
    state = env.reset(trainer.rng, episodes)
    observations, actions = [[] for _ in env.agents], [[] for _ in env.agents]
    for _ in range(config.episode_length):
        step_observations = env.observe(state)
        step_actions = learner.act(step_observations, trainer.rng)  # the online actors, sampled as in training
        for j in range(len(env.agents)):
            observations[j].append(step_observations[j])
            actions[j].append(step_actions[j])
        state, _ = env.step(state, step_actions)
    return [tf.concat(o, axis=1) for o in observations], [tf.concat(a, axis=1) for a in actions]


def refit(trainer, steps: int, episodes: int, likelihood: str) -> None:
    """Fits a fresh approximation of every agent to its frozen final policy and prints the KL as it goes."""
    config, learner, env = trainer.config, trainer.learner, trainer.env
    observations, actions = play(trainer, episodes)
    rng = np.random.default_rng(0)
    print(f"\nrefit on {episodes} episodes per seed of the final actors ({likelihood} likelihood, "
          f"Adam {config.inference_learning_rate or config.learning_rate}, batches of {config.inference_samples}):")
    for j, agent in enumerate(env.agents):
        i = next(other for other in range(len(env.agents)) if other != j)
        true_log_probs = tf.nn.log_softmax(learner.actors[j](observations[j]))
        run_kl = _kls(tf.nn.log_softmax(learner.approximations[i][j](observations[j])), true_log_probs)
        fresh = build_network(PopulationMLP([seed + 7919 for seed in config.seeds], config.hidden_units,
                                            env.action_sizes[j], f"fresh_{j}"), env.observation_sizes[j])
        optimizer = keras.optimizers.Adam(config.inference_learning_rate or config.learning_rate,
                                          epsilon=config.adam_epsilon)
        count = int(observations[j].shape[1])
        print(f"  {agent}: the run's own approximation KL {run_kl[0]:.3f} / {run_kl[1]:.3f} (reverse / forward)")
        for step in range(1, steps + 1):
            batch = tf.constant(rng.integers(count, size=config.inference_samples), tf.int32)
            obs, act = tf.gather(observations[j], batch, axis=1), tf.gather(actions[j], batch, axis=1)
            with tf.GradientTape() as tape:
                loss = tf.reduce_sum(learner.approximation_loss(tf.nn.log_softmax(fresh(obs)), act, likelihood))
            optimizer.apply_gradients(zip(tape.gradient(loss, fresh.trainable_variables), fresh.trainable_variables))
            if step % max(1, steps // 5) == 0 or step == steps:
                kl = _kls(tf.nn.log_softmax(fresh(observations[j])), true_log_probs)
                print(f"    fresh approximation, step {step}: KL {kl[0]:.3f} / {kl[1]:.3f}", flush=True)


if __name__ == "__main__":
    main()
