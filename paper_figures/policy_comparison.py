"""The three policy kinds side by side on the paper's tasks: the paper code's gumbel_softmax (the committed
paper-dynamics runs in results/<experiment>/) against straight_through and deterministic (results/policies/).

Per task, the table readings of that paper table (evaluation.csv, 1000 reference-env episodes per seed), each
kind's mean with its 95% bootstrap interval over seeds, and rliable's probability of improvement that a seed
of the kind scores better than a seed of gumbel_softmax (higher or lower, as the reading says; for a
competitive task's reading, where neither is simply better: higher), with its interval. Cooperative communication also
gets Fig. 6's reading: how many seeds have learned the correct policy at the end of training and from which
logged episode on every seed has (paper_figures.aggregate.success_rate_curve).
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import pandas as pd

from maddpg.stats import format_cell, mean_and_ci, probability_of_improvement
from paper_figures.aggregate import per_seed, select_rows, success_rate_curve
from paper_figures.runs import read_rows

POLICIES = ("gumbel_softmax", "straight_through", "deterministic")
BASELINE = "gumbel_softmax"
POLICY_RESULTS = "policies"  # results/policies/<experiment>/<run>: the non-default kinds' runs
DYNAMICS = "paper"


@dataclasses.dataclass(frozen=True)
class Reading:
    """One column of the comparison: a task's run label and one evaluation metric of its paper table."""

    task: str
    table: str
    experiment: str
    label: str  # the run folder's label: paper_<label>[_<policy>]_s<first>-<last>_ep<episodes>
    metric: str
    header: str
    digits: int
    better: str  # "higher", "lower" or "" (a competitive task: neither side's number is simply better)


READINGS = (
    Reading("cooperative communication", "Table 1", "cooperative_communication", "maddpg",
            "target_reach_nearest_percent", "target reach %", 1, "higher"),
    Reading("cooperative communication", "Table 1", "cooperative_communication", "maddpg",
            "final_squared_distance", "average distance", 3, "lower"),
    Reading("cooperative navigation N=3", "Table 2", "cooperative_navigation", "n3_maddpg",
            "average_distance", "average distance", 3, "lower"),
    Reading("cooperative navigation N=3", "Table 2", "cooperative_navigation", "n3_maddpg",
            "collisions_per_episode", "collisions / episode", 3, "lower"),
    Reading("physical deception N=2", "Table 4", "physical_deception", "n2_maddpg_vs_maddpg",
            "agent_success_percent", "AG success %", 1, ""),
    Reading("physical deception N=2", "Table 4", "physical_deception", "n2_maddpg_vs_maddpg",
            "adversary_success_percent", "ADV success %", 1, ""),
    Reading("predator-prey PP1", "Table 3", "predator_prey", "pp1_maddpg_vs_maddpg",
            "prey_touches_per_episode", "prey touches / episode", 2, ""),
)


def run_dir(results_dir: Path, reading: Reading, policy: str) -> Path | None:
    """The finished paper-dynamics run of this reading and policy kind, or None (the newest if several)."""
    if policy == BASELINE:
        folder, pattern = Path(results_dir) / reading.experiment, f"{DYNAMICS}_{reading.label}_s*_ep*"
    else:
        folder = Path(results_dir) / POLICY_RESULTS / reading.experiment
        pattern = f"{DYNAMICS}_{reading.label}_{policy}_s*_ep*"
    found = sorted(path for path in folder.glob(pattern) if (path / "evaluation.csv").exists())
    return found[-1] if found else None


def seed_values(path: Path, reading: Reading) -> pd.Series:
    """Per seed, the reading's evaluation value in the run at `path`."""
    rows = select_rows(read_rows(path / "evaluation.csv"), role="team", metric=reading.metric)
    return per_seed(rows).droplevel("algorithm")


def comparison_rows(results_dir: Path) -> pd.DataFrame:
    """One row per (reading, policy): mean, interval, n, and P(better than gumbel_softmax) with its interval
    (p_better: by the reading's direction; higher where it has none)."""
    rows = []
    for reading in READINGS:
        paths = {policy: run_dir(results_dir, reading, policy) for policy in POLICIES}
        values = {policy: seed_values(path, reading) if path else pd.Series(dtype=float)
                  for policy, path in paths.items()}
        for policy in POLICIES:
            mean, low, high, n = mean_and_ci(values[policy].to_numpy())
            sign = -1.0 if reading.better == "lower" else 1.0  # rliable's P(X > Y) wants higher-is-better scores
            p, p_low, p_high = ((math.nan,) * 3 if policy == BASELINE else probability_of_improvement(
                sign * values[policy].to_numpy(), sign * values[BASELINE].to_numpy()))
            rows.append({"task": reading.task, "table": reading.table, "metric": reading.metric,
                         "column": reading.header, "better": reading.better, "policy": policy, "mean": mean,
                         "low": low, "high": high, "n": n, "p_better": p, "p_better_low": p_low,
                         "p_better_high": p_high, "digits": reading.digits,
                         "run": paths[policy].relative_to(results_dir).as_posix() if paths[policy] else ""})
    return pd.DataFrame(rows)


def seeds_learned(results_dir: Path) -> pd.DataFrame:
    """Fig. 6's reading per policy kind in cooperative communication: seeds learned at the end of training,
    of how many, and the first logged episode from which every seed stays learned (NaN: never)."""
    reading = READINGS[0]
    rows = []
    for policy in POLICIES:
        path = run_dir(results_dir, reading, policy)
        if path is None:
            continue
        metrics = read_rows(path / "metrics.csv")
        curve = success_rate_curve(metrics, reading.experiment, "speaker_listener",
                                   str(metrics["algorithm"].iloc[0]))
        not_all = curve.index[curve["rate"] < 1.0]
        all_from = (math.nan if len(not_all) and not_all[-1] == curve.index[-1]
                    else float(curve["episode"].iloc[not_all[-1] + 1 if len(not_all) else 0]))
        rows.append({"policy": policy, "learned": int(curve["learned"].iloc[-1]), "n": int(curve["n"].iloc[-1]),
                     "all_learned_from_episode": all_from})
    return pd.DataFrame(rows, columns=["policy", "learned", "n", "all_learned_from_episode"])


def _probability(row) -> str:
    if row.policy == BASELINE or row.n == 0:
        return "-"
    if math.isnan(row.p_better):
        return "n/a (fewer than 2 seeds)"
    higher = "" if row.better else " (P higher)"
    return f"{row.p_better:.2f} [{row.p_better_low:.2f}, {row.p_better_high:.2f}]{higher}"


def markdown(comparison: pd.DataFrame, learned: pd.DataFrame) -> str:
    """The comparison as a markdown table, then the Fig. 6 reading."""
    lines = ["| task (paper table) | reading | policy | mean [95% CI] (n seeds) | P(better than gumbel_softmax) |",
             "|---|---|---|---|---|"]
    for row in comparison.itertuples():
        better = f" ({row.better} is better)" if row.better else ""
        lines.append(f"| {row.task} ({row.table}) | {row.column}{better} | {row.policy} | "
                     f"{format_cell(row.mean, row.low, row.high, row.n, row.digits)} | {_probability(row)} |")
    lines += ["", "Cooperative communication, Fig. 6's reading (a seed has learned when its last logged window's "
              "final listener-goal distance is below 0.35). The paper's Fig. 6 has every MADDPG seed learned by "
              "about 13000 episodes; openai/maddpg itself, run on the original env outside this repository "
              "(paper_figures/reference_code.py), learned in 3 of 5 seeds.", ""]
    for row in learned.itertuples():
        since = ("never all" if math.isnan(row.all_learned_from_episode)
                 else f"all from episode {int(row.all_learned_from_episode)}")
        lines.append(f"- {row.policy}: {row.learned} of {row.n} seeds learned at the end; {since}")
    return "\n".join(lines) + "\n"


def headline_markdown(comparison: pd.DataFrame) -> str:
    """The README's short form: per task its first reading, the three kinds' means side by side, and for the
    two new kinds the probability of scoring better than gumbel_softmax (higher where neither is better)."""
    lines = ["| task: reading | " + " | ".join(POLICIES) + " |", "|---|" + "---|" * len(POLICIES)]
    for task, rows in comparison.groupby("task", sort=False):
        first = rows[rows["metric"] == rows["metric"].iloc[0]].set_index("policy")
        cells = []
        for policy in POLICIES:
            row = first.loc[policy]
            if row["n"] == 0:
                cells.append("not run")
                continue
            cell = f"{row['mean']:.{int(row['digits'])}f} (n={int(row['n'])})"
            if policy != BASELINE and not math.isnan(row["p_better"]):
                cell += f", P({'better' if row['better'] else 'higher'}) {row['p_better']:.2f}"
            cells.append(cell)
        better = f", {first['better'].iloc[0]} is better" if first["better"].iloc[0] else ""
        lines.append(f"| {task}: {first['column'].iloc[0]}{better} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write(results_dir: Path, out_dir: Path) -> tuple[Path, str, str] | None:
    """Writes <out_dir>/policy_comparison.csv and .md.

    Returns:
        (the .md's path, the full markdown, the README's headline form), or None (nothing written) while no
        run of another policy kind exists.
    """
    comparison = comparison_rows(results_dir)
    if comparison[comparison["policy"] != BASELINE]["n"].sum() == 0:
        return None
    full = markdown(comparison, seeds_learned(results_dir))
    out_dir = Path(out_dir)
    comparison.drop(columns=["digits"]).to_csv(out_dir / "policy_comparison.csv", index=False, float_format="%.6g")
    path = out_dir / "policy_comparison.md"
    path.write_text("# Policy kinds side by side (paper dynamics)\n\n" + full)
    return path, full, headline_markdown(comparison)
