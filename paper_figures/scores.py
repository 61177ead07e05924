"""Fig. 3's normalised agent scores, ours and the paper's, ready to plot (no plotting here).

Left panel series, as the paper's Fig. 3 left draws them ("normalized agent score" per pairing): PP1 prey
touches (the paper's bars use PP1, not PP2), PD N=2 and N=4 success difference, covert success difference;
each min-max scaled over the four pairings, so the best pairing scores 1 and the worst 0 (its minimum drawn
as a small stub); applied to the published tables this gives the printed bars. The paper's series are scaled
over its four published cells. Ours are scaled over the pairings we have evaluated; a series with fewer than
two is left out (the command says so), one with two or three is drawn and its title says over how many it
was scaled.

Right panel (ensembles vs single policies, normalisation not stated in the paper; ours): per scenario the
agents' score over the four (agents kind, adversaries kind) combinations, min-max scaled the same way. The
agents' score is minus the adversary's goal frames in keep-away and physical deception, and the collisions
(prey touches) in predator-prey, where the predators are the agents. The paper's bars are our
normalisation applied to its Table 6.

Our interval bounds are mapped by the same affine map as our means, so a bar's whisker is its cell's 95%
bootstrap interval on the normalised scale.
"""

from __future__ import annotations

import dataclasses
from typing import Mapping

import pandas as pd

from paper_figures.aggregate import cell_stats, min_max_normalise, per_seed, rescale, select_rows
from paper_figures.runs import Results
from paper_figures.table_layouts import POLICY_KINDS, algorithm_label
from paper_figures import paper_numbers

SCORE_COLUMNS = ("series", "key", "label", "source", "raw", "score", "low", "high", "n")


@dataclasses.dataclass(frozen=True)
class ScoreSeries:
    """One group of bars: which evaluation values, in which role column, and the paper's raw numbers."""

    title: str
    experiment: str
    scenario: str
    metric: str
    paper: Mapping[str, float]  # key (pairing label or role) -> the paper's raw number
    key_column: str  # "algorithm" (pairings) or "role" (ensemble combinations)
    sign: float = 1.0  # +1 when a larger metric is better for the agents

    def label(self, key: str) -> str:
        if self.key_column == "algorithm":
            return algorithm_label(key)
        agents, adversaries = key.split("_v_")
        return f"{agents[0].upper()} agents v {adversaries[0].upper()} adv."


def _pairing_series(title, experiment, scenario, metric, table) -> ScoreSeries:
    return ScoreSeries(title, experiment, scenario, metric,
                       {pairing: table[pairing][metric] for pairing in paper_numbers.PAIRINGS}, "algorithm")


FIG3_LEFT = (
    _pairing_series("PP1: prey touches", "predator_prey", "tag_pp1", "prey_touches_per_episode",
                    paper_numbers.TABLE3["tag_pp1"]),
    _pairing_series("PD N=2: success difference", "physical_deception", "adversary_n2", "success_difference",
                    paper_numbers.TABLE4["adversary_n2"]),
    _pairing_series("PD N=4: success difference", "physical_deception", "adversary_n4", "success_difference",
                    paper_numbers.TABLE4["adversary_n4"]),
    _pairing_series("Covert: success difference", "covert_communication", "crypto", "success_difference",
                    paper_numbers.TABLE5),
)

_COMBINATIONS = tuple(f"{agents}_v_{adversaries}" for adversaries in POLICY_KINDS for agents in POLICY_KINDS)
FIG3_RIGHT = tuple(
    ScoreSeries(title, "policy_ensembles", scenario, metric,
                {key: paper_numbers.TABLE6[scenario][key][metric] for key in _COMBINATIONS}, "role", sign)
    for title, scenario, metric, sign in (
        ("KA: minus adversary goal frames", "push", "adversary_goal_frames", -1.0),
        ("PD N=2: minus adversary goal frames", "adversary_n2", "adversary_goal_frames", -1.0),
        ("PP N=4 L=1: collisions", "ensemble_tag", "prey_touches_per_episode", 1.0),
    )
)


def paper_scores(series: ScoreSeries) -> dict[str, float]:
    """The paper's raw numbers of a series, normalised (key -> score in [0, 1])."""
    return min_max_normalise({key: series.sign * value for key, value in series.paper.items()})


def series_frame(series: ScoreSeries, results: Results) -> tuple[pd.DataFrame, str | None]:
    """Bars of one series, ours and the paper's, and a note (None when all four keys were evaluated).

    Returns:
        (frame with SCORE_COLUMNS, note); the frame holds only the paper's bars when fewer than two of our
        keys are evaluated (the note then says the series was left out).
    """
    records, ours = [], {}
    for key in series.paper:
        rows = select_rows(results.evaluation, experiment=series.experiment, scenario=series.scenario,
                           metric=series.metric, **{series.key_column: key},
                           **({"role": "team"} if series.key_column == "algorithm" else {}))
        stats = cell_stats(per_seed(rows).to_numpy())
        if stats.n:
            ours[key] = stats
    paper_normalised = paper_scores(series)
    for key, raw in series.paper.items():
        records.append({"series": series.title, "key": key, "label": series.label(key), "source": "paper",
                        "raw": raw, "score": paper_normalised[key], "low": float("nan"), "high": float("nan"),
                        "n": 0})
    if len(ours) < 2:
        return pd.DataFrame(records, columns=list(SCORE_COLUMNS)), (
            f"{series.title}: left out, {len(ours)} of {len(series.paper)} evaluated (needs at least 2)")
    signed = {key: series.sign * stats.mean for key, stats in ours.items()}
    normalised = min_max_normalise(signed)
    for key, stats in ours.items():
        # A negative sign swaps which bound is the lower one.
        bounds = sorted(rescale(series.sign * bound, signed) for bound in (stats.low, stats.high))
        records.append({"series": series.title, "key": key, "label": series.label(key), "source": "ours",
                        "raw": stats.mean, "score": normalised[key], "low": bounds[0], "high": bounds[1],
                        "n": stats.n})
    note = None if len(ours) == len(series.paper) else (
        f"{series.title}: ours scaled over the {len(ours)} of {len(series.paper)} evaluated")
    return pd.DataFrame(records, columns=list(SCORE_COLUMNS)), note
