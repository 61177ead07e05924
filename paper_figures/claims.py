"""The paper's "A beats B" claims, each tested on our seeds with the probability of improvement.

A claim names two table cells of the same experiment, scenario and metric (the better side and the worse
one, as the paper has it) and which direction is better. Its result is P(a seed of the better side scores
better than a seed of the worse side) with a 95% stratified-bootstrap interval (maddpg.stats); the claim
holds when the whole interval lies above 0.5, is reversed when it lies below, and is not shown otherwise.
A "no worse" claim (the paper's "A does as well as B", e.g. inferred against true policies) holds unless the
whole interval lies below 0.5.
"""

from __future__ import annotations

import dataclasses

import pandas as pd

from maddpg.stats import probability_of_improvement
from paper_figures.aggregate import per_seed, select_rows
from paper_figures.misses import miss_for
from paper_figures.runs import Results


@dataclasses.dataclass(frozen=True)
class Claim:
    """One of the paper's comparisons: `better` beats `worse` on `metric` (higher or lower is better)."""

    table: str  # the table layout's name
    text: str
    experiment: str
    scenario: str
    metric: str
    better: tuple[str | None, str]  # (algorithm or None for any, role)
    worse: tuple[str | None, str]
    higher_is_better: bool = True
    no_worse: bool = False  # "better does as well as worse": holds unless shown worse (verdict)


CLAIMS: tuple[Claim, ...] = (
    Claim("table1", "MADDPG reaches the target more often than DDPG", "cooperative_communication",
          "speaker_listener", "target_reach_nearest_percent", ("maddpg", "team"), ("ddpg", "team")),
    Claim("table1", "MADDPG ends nearer the target than DDPG", "cooperative_communication", "speaker_listener",
          "final_squared_distance", ("maddpg", "team"), ("ddpg", "team"), higher_is_better=False),
    *(Claim("table2", f"N={n}: MADDPG covers the landmarks better than DDPG (distance)", "cooperative_navigation",
            f"spread_n{n}", "average_distance", ("maddpg", "team"), ("ddpg", "team"), higher_is_better=False)
      for n in (3, 6)),
    *(Claim("table2", f"N={n}: MADDPG collides less than DDPG", "cooperative_navigation", f"spread_n{n}",
            "collisions_per_episode", ("maddpg", "team"), ("ddpg", "team"), higher_is_better=False)
      for n in (3, 6)),
    # Predators are the agents: more touches is better for them and worse for the prey (the adversaries).
    *(Claim("table3", f"{pp}: MADDPG predators catch more than DDPG predators (v DDPG prey)", "predator_prey",
            f"tag_{pp.lower()}", "prey_touches_per_episode", ("maddpg_vs_ddpg", "team"), ("ddpg_vs_ddpg", "team"))
      for pp in ("PP1", "PP2")),
    *(Claim("table3", f"{pp}: MADDPG prey are caught less than DDPG prey (v DDPG predators)", "predator_prey",
            f"tag_{pp.lower()}", "prey_touches_per_episode", ("ddpg_vs_maddpg", "team"), ("ddpg_vs_ddpg", "team"),
            higher_is_better=False)
      for pp in ("PP1", "PP2")),
    *(Claim("table4", f"N={n}: MADDPG agents beat DDPG agents (v DDPG adversary)", "physical_deception",
            f"adversary_n{n}", "success_difference", ("maddpg_vs_ddpg", "team"), ("ddpg_vs_ddpg", "team"))
      for n in (2, 4)),
    *(Claim("table4", f"N={n}: MADDPG adversaries beat DDPG adversaries (v DDPG agents)", "physical_deception",
            f"adversary_n{n}", "adversary_success_percent", ("ddpg_vs_maddpg", "team"), ("ddpg_vs_ddpg", "team"))
      for n in (2, 4)),
    Claim("table5", "MADDPG Alice+Bob beat DDPG Alice+Bob (v DDPG Eve)", "covert_communication", "crypto",
          "success_difference", ("maddpg_vs_ddpg", "team"), ("ddpg_vs_ddpg", "team")),
    Claim("table5", "MADDPG Eve beats DDPG Eve (v DDPG Alice+Bob)", "covert_communication", "crypto",
          "eve_success_percent", ("ddpg_vs_maddpg", "team"), ("ddpg_vs_ddpg", "team")),
    Claim("table6", "KA: ensemble adversaries beat single ones (v single agents)", "policy_ensembles", "push",
          "adversary_goal_frames", (None, "single_v_ensemble"), (None, "single_v_single")),
    Claim("table6", "PD: ensemble adversaries beat single ones (v single agents)", "policy_ensembles",
          "adversary_n2", "adversary_goal_frames", (None, "single_v_ensemble"), (None, "single_v_single")),
    Claim("table6", "PP: ensemble predators catch more than single ones (v single prey)", "policy_ensembles",
          "ensemble_tag", "prey_touches_per_episode", (None, "ensemble_v_single"), (None, "single_v_single")),
    Claim("table_keep_away", "MADDPG adversaries beat DDPG adversaries (v DDPG agents)", "keep_away", "push",
          "adversary_goal_frames", ("ddpg_vs_maddpg", "team"), ("ddpg_vs_ddpg", "team")),
    # Sec. 4.2 / Fig. 7: a critic fed the inferred policies learns as well as one fed the true ones.
    Claim("table_policy_inference", "inferred policies do as well as true ones (no worse)", "policy_inference",
          "speaker_listener", "mean_episode_reward", ("inferred_policies", "team"), ("true_policies", "team"),
          no_worse=True),
)

COLUMNS = ("table", "dynamics", "claim", "metric", "better_n", "worse_n", "probability", "ci_low", "ci_high",
           "verdict")


def _values(evaluation: pd.DataFrame, claim: Claim, side: tuple[str | None, str]):
    algorithm, role = side
    rows = select_rows(evaluation, experiment=claim.experiment, scenario=claim.scenario, algorithm=algorithm,
                       role=role, metric=claim.metric)
    values = per_seed(rows).to_numpy()
    return values if claim.higher_is_better else -values


def verdict(low: float, high: float, no_worse: bool = False) -> str:
    """holds (interval above 0.5), reversed (below), not shown (straddles), or not run. With `no_worse`
    (a claim that one side does as well as the other) a straddling interval holds too."""
    if pd.isna(low):
        return "not run"
    if low > 0.5:
        return "holds"
    if high < 0.5:
        return "reversed"
    return "holds" if no_worse else "not shown"


def claim_results(results: Results, dynamics: str) -> pd.DataFrame:
    """One row per claim of the runs of `dynamics` (COLUMNS)."""
    evaluation = results.of_dynamics(dynamics).evaluation
    records = []
    for claim in CLAIMS:
        better, worse = _values(evaluation, claim, claim.better), _values(evaluation, claim, claim.worse)
        probability, low, high = probability_of_improvement(better, worse)
        records.append({"table": claim.table, "dynamics": dynamics, "claim": claim.text, "metric": claim.metric,
                        "better_n": len(better), "worse_n": len(worse), "probability": probability,
                        "ci_low": low, "ci_high": high, "verdict": verdict(low, high, claim.no_worse)})
    return pd.DataFrame(records, columns=list(COLUMNS))


THREE_SEED_NOTE = ("With 3 seeds a side, full separation gives a degenerate [1.00, 1.00] interval (the "
                   "bootstrap cannot see beyond 3 values): read 3-v-3 verdicts as weak evidence.")


def probability_text(row) -> str:
    """A claim result's probability of improvement with its interval, e.g. '0.93 [0.79, 1.00]'."""
    return f"{row.probability:.2f} [{row.ci_low:.2f}, {row.ci_high:.2f}]"


def claims_markdown(frame: pd.DataFrame) -> str:
    """The claims of one dynamics as a markdown table (run claims only)."""
    lines = ["| table | the paper's claim | metric | seeds | P(improvement) [95% CI] | verdict |",
             "|---|---|---|---|---|---|"]
    for row in frame.itertuples():
        if row.verdict == "not run":
            continue
        lines.append(f"| {row.table} | {row.claim} | `{row.metric}` | {row.better_n} v {row.worse_n} | "
                     f"{probability_text(row)} | {row.verdict} |")
    return "\n".join(lines)


def cells_in_ci(table) -> tuple[int, int]:
    """(published cells inside our 95% interval, published cells our seeds judge) of one TableResult."""
    frame = table.frame
    judged = frame[frame["paper_in_ci"].notna() & frame["paper"].notna()]
    return int(judged["paper_in_ci"].astype(bool).sum()), len(judged)


def run_claims(claims: pd.DataFrame, table: str, dynamics: str) -> pd.DataFrame:
    """The claims of one table and dynamics that have seeds on both sides."""
    return claims[(claims["table"] == table) & (claims["dynamics"] == dynamics) & (claims["verdict"] != "not run")]


def claim_lines(claims: pd.DataFrame, table: str, dynamics: str) -> list[str]:
    """One line per run claim of a table: 'claim: verdict (P [CI], n v m seeds)'."""
    return [f"{row.claim}: {row.verdict} ({probability_text(row)}, {row.better_n} v {row.worse_n} seeds)"
            for row in run_claims(claims, table, dynamics).itertuples()]


def _claims_held(claims: pd.DataFrame, table: str, dynamics: str) -> str:
    """'2 of 4' (with ', 1 reversed' where the seeds contradict the paper), or '-' with no claim run."""
    verdicts = run_claims(claims, table, dynamics)["verdict"]
    if verdicts.empty:
        return "-"
    reversed_ = int((verdicts == "reversed").sum())
    return f"{int((verdicts == 'holds').sum())} of {len(verdicts)}" + (f", {reversed_} reversed" if reversed_ else "")


def summary_markdown(tables, claims: pd.DataFrame, dynamics: str, link=None) -> str:
    """The headline table (the README's): per table of `dynamics` that has results, the published cells
    inside our 95% CI, how many of the paper's claims hold, and what we measured about the misses in one line
    (paper_figures.misses; paper dynamics only, where they are studied). link(table), if given, is where the
    table's name points (its section of the results page)."""
    lines = ["| table | paper cells in our CI | the paper's claims that hold | what we measured about the misses |",
             "|---|---|---|---|"]
    for table in tables:
        if table.dynamics != dynamics or not table.has_results:
            continue
        inside, judged = cells_in_ci(table)
        cells = f"{inside} of {judged}" if judged else "no paper numbers"
        name = table.layout.display_name
        lines.append(f"| {f'[{name}]({link(table)})' if link else name} | {cells} | "
                     f"{_claims_held(claims, table.layout.name, dynamics)} | "
                     f"{misses_text(table.layout.name, judged - inside, dynamics)} |")
    return "\n".join(lines)


def misses_text(table: str, misses: int, dynamics: str, full: bool = False) -> str:
    """What we measured about a table's misses: the one-line summary, or with `full` the whole reason; '-'
    without misses, 'not studied yet' without an entry (every mpe2 table)."""
    if misses == 0:
        return "-"
    miss = miss_for(table) if dynamics == "paper" else None
    if miss is None:
        return "not studied yet"
    return miss.reason if full else miss.summary
