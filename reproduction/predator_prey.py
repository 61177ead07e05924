"""Predator-prey (paper Table 3): 3 predators v 1 prey, 3 obstacles, PP1 and PP2 prey speeds, four pairings.

    python -m reproduction.predator_prey                            # 3 seeds x 25000 episodes, 2 x 4 runs
    python -m reproduction.predator_prey --variant=pp1 --pairing=maddpg_vs_ddpg
    python -m reproduction.predator_prey --smoke                    # the same path in seconds

A pairing is <predators' algorithm>_vs_<prey's algorithm> (the paper's "agents v adversary": mpe2's
adversary_0..2 are the paper's agents). PP1: prey max speed 1.3 (mpe2's default, 30% faster than the
predators); PP2: 2.0 (100% faster). 128-unit nets, 3 seeds, 25000 episodes (the paper says "until
convergence"). Evaluation: 1000 mpe2 episodes per seed; prey touches are defined in maddpg/metrics/tag.py.
Saved as results/predator_prey/table3.{md,csv}. `--variant=pp1_l2` runs PP1 with 2 obstacles (mpe2's and the
reference code's default) for the obstacle-count study, `--variant=pp_even` a prey no faster than the predators
(max_speed 1.0) for the prey-speed study; neither the script's default nor the paper driver runs them.
"""

from __future__ import annotations

from reproduction.runner import COMPETITIVE_PAIRINGS, Experiment, cli

EXPERIMENT = Experiment(
    name="predator_prey",
    variants={"pp1": "tag_pp1", "pp2": "tag_pp2"},
    pairings=COMPETITIVE_PAIRINGS,
    default_seeds=3,
    default_episodes=25_000,
    table_name="table3",
    hidden_units=128,
    # The obstacle-count study (python -m reproduction.ablations --study=pp_obstacles): mpe2's default 2; the
    # prey-speed study (--study=pp_prey_speed): the prey no faster than the predators.
    study_variants={"pp1_l2": "tag_pp1_l2", "pp_even": "tag_pp_even"},
)

if __name__ == "__main__":
    cli(EXPERIMENT)
