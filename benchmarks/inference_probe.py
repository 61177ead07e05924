"""Does each policy approximation of a finished policy-inference run still read its input?

    python -m benchmarks.inference_probe RUN_DIR [--states 200]

Restores the run's checkpoint (a speaker-listener `inferred_policies` run), draws `--states` fresh reset
states per seed from the batched env, and prints per seed, for each agent j and the approximation of it
held by the other agent: how many distinct observations of j the states hold, how much the approximation's
and the true policy's action probabilities vary over them (largest per-action standard deviation), and how
many of the approximation's 64 first-layer ReLU units are active on any of them. An approximation whose
output does not vary while the true policy's does has stopped reading its input (dead first-layer units),
which is what Fig. 7's KL then measures.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from maddpg.cli import quiet_tensorflow

quiet_tensorflow()

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from maddpg.config import TrainConfig  # noqa: E402
from maddpg.run import build_trainer, restore_checkpoint  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run_dir", type=Path, help="a finished policy_inference inferred_policies run folder")
    parser.add_argument("--states", type=int, default=200, help="reset states drawn per seed")
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


if __name__ == "__main__":
    main()
