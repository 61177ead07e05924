"""Covert communication (paper Table 5, Fig. 8): Alice and Bob v Eve, all four pairings, 60000 episodes.

    python -m reproduction.covert_communication                     # 10 seeds x 60000 episodes, 4 runs
    python -m reproduction.covert_communication --pairing=maddpg_vs_maddpg --seeds=3
    python -m reproduction.covert_communication --smoke             # the same path in seconds

A pairing is <Alice and Bob's algorithm>_vs_<Eve's algorithm>. 10 seeds and 60000 episodes as the paper
(Fig. 8). Evaluation: 1000 mpe2 episodes per seed; Bob's and Eve's reconstruction success % are defined in
maddpg/metrics/crypto.py. Saved as results/covert_communication/table5.{md,csv}.
"""

from __future__ import annotations

from reproduction.runner import COMPETITIVE_PAIRINGS, Experiment, cli

EXPERIMENT = Experiment(
    name="covert_communication",
    variants={"default": "crypto"},
    pairings=COMPETITIVE_PAIRINGS,
    default_seeds=10,
    default_episodes=60_000,
    table_name="table5",
)

if __name__ == "__main__":
    cli(EXPERIMENT)
