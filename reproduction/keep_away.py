"""Keep-away with single policies: agent v adversary, all four pairings (the ensembles of Table 6a come later).

    python -m reproduction.keep_away                                # 3 seeds x 25000 episodes, 4 runs
    python -m reproduction.keep_away --pairing=maddpg_vs_maddpg
    python -m reproduction.keep_away --smoke                        # the same path in seconds

A pairing is <agent's algorithm>_vs_<adversary's algorithm>. The paper reports keep-away only with
ensembles (Table 6a); these single-policy runs are its "single v single" baseline. 3 seeds and 25000
episodes are our choice (the paper is silent). Evaluation: 1000 mpe2 episodes per seed; the frames the
adversary holds the goal are defined in maddpg/metrics/push.py.
Saved as results/keep_away/keep_away.{md,csv}.
"""

from __future__ import annotations

from reproduction.runner import COMPETITIVE_PAIRINGS, Experiment, cli

EXPERIMENT = Experiment(
    name="keep_away",
    variants={"default": "push"},
    pairings=COMPETITIVE_PAIRINGS,
    default_seeds=3,
    default_episodes=25_000,
    table_name="keep_away",
)

if __name__ == "__main__":
    cli(EXPERIMENT)
