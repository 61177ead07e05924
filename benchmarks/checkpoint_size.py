"""Checkpoint sizes of a paper-sized run (printed, never asserted), without training one.

    python -m benchmarks.checkpoint_size                                  # 10-seed cooperative communication
    python -m benchmarks.checkpoint_size --scenario=spread_n6 --seeds=3 --hidden_units=128

Builds the run's trainer at the paper's settings (its replay buffer allocated at full size), plays a few
iterations (no update is due before the warm-up, so this takes seconds), then writes both checkpoint kinds
of maddpg/run.py and measures them: the finished one (networks, optimizer states, random streams,
counters: its size does not depend on how far the run got) and the resume one (those plus the buffers' filled
rows). The resume checkpoint grows by a fixed number of bytes per stored transition, from which its size at
any episode follows; the print gives it at mid-run and at the last resume checkpoint of the run.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from absl import app, flags

flags.DEFINE_string("scenario", "speaker_listener", "batched scenario")
flags.DEFINE_integer("seeds", 10, "seeds stacked on the population axis")
flags.DEFINE_integer("episodes", 25_000, "the run's episodes (sets the buffer's size)")
flags.DEFINE_integer("hidden_units", 64, "units per hidden layer")
flags.DEFINE_integer("iterations", 2, "iterations to play before measuring")


def _size(checkpoint: str) -> int:
    return sum(path.stat().st_size for path in Path(checkpoint).parent.glob(Path(checkpoint).name + ".*"))


def main(argv) -> int:
    del argv
    from envs.reference import SCENARIOS
    from maddpg.config import TrainConfig
    from maddpg.run import build_trainer, save_checkpoint

    options = flags.FLAGS
    agents = SCENARIOS[options.scenario].agents
    config = TrainConfig(experiment="checkpoint_size", scenario=options.scenario, seeds=tuple(range(options.seeds)),
                         episodes=options.episodes, hidden_units=options.hidden_units,
                         critic_kinds=("maddpg",) * len(agents))
    trainer = build_trainer(config)
    for _ in range(options.iterations):
        trainer.iteration()
    with tempfile.TemporaryDirectory() as folder:
        finished = _size(save_checkpoint(trainer, Path(folder) / "finished", finished=True))
        resume = _size(save_checkpoint(trainer, Path(folder) / "resume", finished=False))
    stored = options.iterations * config.num_envs * config.episode_length  # transitions per seed so far
    per_transition = (resume - finished) / (stored * config.population)
    mb = 1e6
    print(f"{options.scenario}, {config.population} seeds x {config.episodes} episodes, {config.hidden_units} units")
    print(f"finished checkpoint: {finished / mb:.2f} MB (networks, optimizer states, random streams, counters)")
    print(f"resume checkpoint after {stored} transitions per seed: {resume / mb:.2f} MB "
          f"({per_transition:.0f} bytes per stored transition)")
    last = config.episodes - config.checkpoint_every_episodes
    for label, episode in (("mid-run", config.episodes // 2), ("last resume checkpoint", last)):
        rows = min(episode * config.episode_length, config.buffer_capacity) * config.population
        print(f"resume checkpoint at episode {episode} ({label}): {(finished + rows * per_transition) / mb:.0f} MB")
    whole = min(config.episodes * config.episode_length, config.buffer_capacity) * config.population
    print(f"a whole buffer (the layout before): {(finished + whole * per_transition) / mb:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(app.run(main))
