"""Physical deception (paper Table 4): N=2 and N=4 good agents v one adversary, all four pairings.

    python -m reproduction.physical_deception                       # 10 seeds x 25000 episodes, 2 x 4 runs
    python -m reproduction.physical_deception --variant=n2 --pairing=maddpg_vs_ddpg
    python -m reproduction.physical_deception --smoke               # the same path in seconds

A pairing is <agents' algorithm>_vs_<adversary's algorithm>, the paper's order. 10 seeds as the paper;
25000 episodes (the paper says only "until convergence"; 25000 is its Table 1's count). Evaluation: 1000 mpe2
episodes per seed; agent and adversary success % are defined in maddpg/metrics/adversary.py.
Saved as results/physical_deception/table4.{md,csv}.
"""

from __future__ import annotations

from reproduction.runner import COMPETITIVE_PAIRINGS, Experiment, cli

EXPERIMENT = Experiment(
    name="physical_deception",
    variants={"n2": "adversary_n2", "n4": "adversary_n4"},
    pairings=COMPETITIVE_PAIRINGS,
    default_seeds=10,
    default_episodes=25_000,
    table_name="table4",
)

if __name__ == "__main__":
    cli(EXPERIMENT)
