"""What openai/maddpg itself scores on the original env, read with this suite's metric definitions.

These are facts measured outside this repository (2026), not runs of ours; nothing here can be rebuilt from
results/. They are kept as data so that the results page can print them (PROVENANCE, ENV_DIFFERENCES, SCORES)
and so that every number the miss texts quote from them (paper_figures.misses) is checked against this file.

How they were made, as reported with them, beyond PROVENANCE: openai/maddpg ran under TensorFlow 2.21's
tf.compat.v1 with three small import shims, with train.py's own hyperparameters (Adam 1e-2, gamma 0.95,
batch 1024, one update per 100 steps, 25-step episodes), seeds 1-3 unless a row says otherwise. The metric
definitions are maddpg/metrics/ at fe6b011, re-implemented line for line on the original env's world; for
one seed each of PD, PP2 and keep-away this suite's own metric classes, fed the same live worlds, gave
identical values on all 1000 episodes.
"""
from __future__ import annotations

import dataclasses

from paper_figures.table_layouts import TABLE_LAYOUTS

PROVENANCE = ("openai/maddpg itself (commit 3ceefa0, unmodified, its train.py defaults: MADDPG for every agent, "
              "25000 training episodes, 60000 for covert communication; 64 units, 128 for predator-prey and "
              "cooperative navigation) on the original openai/multiagent-particle-envs (velocity integrated before "
              "position, the 2017 action sign), each seed evaluated on 1000 episodes with sampled actions and read "
              "with this suite's metric definitions; measured outside this repository (2026), not a run of ours")
ENV_DIFFERENCES = ("That env differs from the paper's time in three ways that matter here: its speaker-listener and "
                   "spread train every agent on the team's summed reward (from 2018-07; switched off for the "
                   "cooperative communication runs, as in 2017, kept for cooperative navigation), its predator-prey "
                   "has 2 landmarks where the paper says 3, and its physical-deception adversary reward is squared, "
                   "as in 2017.")


@dataclasses.dataclass(frozen=True)
class ReferenceScore:
    """One metric of one setting, MADDPG v MADDPG unless the setting says otherwise."""

    table: str  # the table layout's name (paper_figures.table_layouts)
    setting: str
    metric: str
    per_seed: tuple[float, ...]
    mean: float | None  # None where the source gives no mean (one seed, or two seeds listed)
    seeds: str
    digits: int  # decimals of the per-seed figures as reported


SCORES: tuple[ReferenceScore, ...] = (
    ReferenceScore("table1", "cooperative communication (team reward not shared, as in 2017)",
                   "target reach %", (94.3, 88.7, 31.3, 61.4, 90.4), 73.2, "seeds 0-4; 3 of 5 learned", 1),
    ReferenceScore("table1", "cooperative communication (team reward not shared, as in 2017)",
                   "final squared distance", (), 0.191, "seeds 0-4", 3),
    ReferenceScore("table2", "cooperative navigation N=3 (the env's summed team reward)", "average distance",
                   (0.892, 0.857, 0.924), 0.891, "seeds 1-3", 3),
    ReferenceScore("table2", "cooperative navigation N=3 (the env's summed team reward)", "collisions per episode",
                   (1.685, 2.289, 2.138), 2.04, "seeds 1-3", 3),
    ReferenceScore("table3", "predator-prey PP1 (prey 1.3x, 2 landmarks)", "prey touches per episode",
                   (0.913, 0.993, 0.755), 0.887, "seeds 1-3", 3),
    ReferenceScore("table3", "the same PP1 predators against a prey held still", "prey touches per episode",
                   (12.37,), None, "seed 1", 2),
    ReferenceScore("table3", "the same PP1 predators against a prey moving at random", "prey touches per episode",
                   (6.12,), None, "seed 1", 2),
    ReferenceScore("table3", "predator-prey PP2 (prey max speed 2.0, 2 landmarks)", "prey touches per episode",
                   (0.763, 1.772, 1.104), 1.213, "seeds 1-3", 3),
    ReferenceScore("table4", "physical deception N=2", "agents' success %", (75.1, 79.8, 63.6), 72.8, "seeds 1-3", 1),
    ReferenceScore("table4", "physical deception N=2", "adversary's success %", (26.9, 26.6, 23.0), 25.5,
                   "seeds 1-3", 1),
    ReferenceScore("table4", "physical deception N=2", "success difference", (48.2, 53.2, 40.6), 47.3, "seeds 1-3", 1),
    ReferenceScore("table5", "covert communication, 60000 episodes", "Bob's success %", (99.8, 99.9), None,
                   "seeds 1-2", 1),
    ReferenceScore("table5", "covert communication, 60000 episodes", "Eve's success %", (50.2, 50.3), None,
                   "seeds 1-2", 1),
    ReferenceScore("table5", "covert communication, 60000 episodes", "success difference", (49.6, 49.6), None,
                   "seeds 1-2", 1),
    ReferenceScore("table6", "keep-away, single policies (Table 6a's single v single)", "adversary goal frames",
                   (9.90, 12.22, 10.06), 10.73, "seeds 1-3", 2),
)


def markdown_table() -> str:
    """SCORES as a markdown table (setting, metric, each seed, mean)."""
    names = {layout.name: layout.display_name for layout in TABLE_LAYOUTS}
    lines = ["| table | setting | metric | per seed | mean | seeds |", "|---|---|---|---|---|---|"]
    for score in SCORES:
        per_seed = ", ".join(f"{value:.{score.digits}f}" for value in score.per_seed)
        mean = "-" if score.mean is None else f"{score.mean:g}"
        lines.append(f"| {names[score.table]} | {score.setting} | {score.metric} | {per_seed or '-'} | {mean} | "
                     f"{score.seeds} |")
    return "\n".join(lines)
