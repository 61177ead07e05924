"""Cooperative communication (paper Table 1, Fig. 4): MADDPG and DDPG on speaker-listener.

    python -m reproduction.cooperative_communication            # 10 seeds x 25000 episodes, both algorithms
    python -m reproduction.cooperative_communication --smoke    # the same path in seconds

Trains each algorithm's seeds stacked in one run, evaluates 1000 episodes per seed on mpe2's
simple_speaker_listener_v4, and prints Table 1's MADDPG and DDPG rows, ours (mean [95% bootstrap CI] over
seeds) beside the paper's, saved as results/cooperative_communication/table1.{md,csv}.
"""

from __future__ import annotations

from maddpg.stats import mean_and_ci
from reproduction import paper_numbers
from reproduction.runner import Experiment, cli, format_cell

COLUMNS = (("target_reach_percent", "target reach %", 1), ("average_distance", "average distance", 3))


def make_table1(evaluations):
    """Table 1 rows for the algorithms run: markdown text and one csv row per (algorithm, metric)."""
    lines = [
        "Table 1: cooperative communication after training. Ours: mean [95% bootstrap CI] (n seeds), "
        "each seed evaluated on mpe2 with sampled actions (eval_episodes: see the run's config.json).",
        "",
        "| algorithm | target reach % (ours) | (paper) | average distance (ours) | (paper) |",
        "|---|---|---|---|---|",
    ]
    rows = []
    for algorithm, per_seed in evaluations.items():
        cells = [algorithm.upper()]
        for metric, _, digits in COLUMNS:
            values = [metrics[metric] for metrics in per_seed.values()]
            mean, low, high, n = mean_and_ci(values)
            paper = paper_numbers.TABLE1[algorithm][metric]
            cells += [format_cell(mean, low, high, n, digits), f"{paper:.{digits}f}"]
            rows.append({"table": "table1", "algorithm": algorithm, "metric": metric, "mean": mean,
                         "ci_low": low, "ci_high": high, "n": n, "paper": paper,
                         "paper_in_ci": bool(low <= paper <= high)})
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines), rows


EXPERIMENT = Experiment(
    name="cooperative_communication",
    scenario="speaker_listener",
    pairings={"maddpg": ("maddpg", "maddpg"), "ddpg": ("ddpg", "ddpg")},
    default_pairings=("maddpg", "ddpg"),
    default_seeds=10,
    default_episodes=25_000,
    make_table=make_table1,
    table_name="table1",
)

if __name__ == "__main__":
    cli(EXPERIMENT)
