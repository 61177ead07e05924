"""Cooperative communication (paper Table 1, Fig. 4): MADDPG and DDPG on speaker-listener.

    python -m reproduction.cooperative_communication            # 10 seeds x 25000 episodes, both algorithms
    python -m reproduction.cooperative_communication --smoke    # the same path in seconds

Trains each algorithm's seeds stacked in one run, evaluates 1000 episodes per seed on mpe2's
simple_speaker_listener_v4, and prints Table 1's MADDPG and DDPG rows, ours (mean [95% bootstrap CI] over
seeds) beside the paper's, saved as results/cooperative_communication/table1.{md,csv}.
"""

from __future__ import annotations

from reproduction.runner import COOPERATIVE_PAIRINGS, Experiment, cli

EXPERIMENT = Experiment(
    name="cooperative_communication",
    variants={"default": "speaker_listener"},
    pairings=COOPERATIVE_PAIRINGS,
    default_seeds=10,
    default_episodes=25_000,
    table_name="table1",
)

if __name__ == "__main__":
    cli(EXPERIMENT)
