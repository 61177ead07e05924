"""Seed-level aggregation: table cells, learning curves, Fig. 6's success rate and Fig. 3's normalisation.

Intervals: maddpg.stats.mean_and_ci, a 95% percentile bootstrap (scipy.stats.bootstrap, 10,000 resamples,
random state 0), over seeds. A cell's seeds are its only stratum, so the stratified bootstrap rliable
describes is this plain one; scipy rather than rliable because scipy is already a dependency and rliable
would add a package for the same computation. Curves get the same interval at every logging point.
Values are the last-window or evaluation numbers a run logged, never the maximum over training.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from maddpg.stats import mean_and_ci

# Fig. 6: a CC seed "has learned the correct policy" at a logging point when that window's mean final
# listener-goal distance (metrics.csv, role team, metric final_goal_distance: the Euclidean distance after
# an episode's last step, averaged over the last 1000 episodes) is below this. A listener that ignores the
# speaker and parks between the landmarks ends about 0.6 away (the plateau unsuccessful seeds sit on);
# seeds that follow the speaker end at 0.2-0.32. 0.35 is a bit over half the plateau. Fixed; do not tune.
LEARNED_DISTANCE_THRESHOLD = 0.35
LEARNED_DISTANCE_METRIC = "final_goal_distance"


@dataclasses.dataclass(frozen=True)
class CellStats:
    """A table cell: mean over seeds, its 95% bootstrap interval and the number of seeds (n=0: not run)."""

    mean: float
    low: float
    high: float
    n: int

    def contains(self, value: float | None) -> bool | None:
        """Whether value lies in [low, high]; None when there is no interval (n < 2) or no value."""
        if value is None or self.n < 2 or math.isnan(self.low):
            return None
        return bool(self.low <= value <= self.high)


def cell_stats(values: Sequence[float]) -> CellStats:
    """Mean, 95% percentile-bootstrap interval and n of per-seed values (NaNs for no values)."""
    return CellStats(*mean_and_ci(list(values)))


def select_rows(rows: pd.DataFrame, **equal_to) -> pd.DataFrame:
    """The rows whose columns equal the given values (a None value matches anything)."""
    mask = pd.Series(True, index=rows.index)
    for column, value in equal_to.items():
        if value is not None:
            mask &= rows[column] == value
    return rows[mask]


def per_seed(rows: pd.DataFrame) -> pd.Series:
    """One value per (algorithm, seed) of already selected rows.

    A seed should have one row per metric; if a file repeats one, it is averaged rather than counted twice.
    """
    return rows.groupby(["algorithm", "seed"])["value"].mean()


def learning_curve(metrics: pd.DataFrame, experiment: str, scenario: str, algorithm: str, role: str,
                   metric: str, x: str = "episode") -> pd.DataFrame:
    """Mean over seeds and its 95% bootstrap interval at each logging point of a metrics.csv series.

    The logged value already is the reference code's smoothing (mean over the last 1000 episodes), so it is
    not smoothed again.

    Returns:
        Columns x, mean, low, high, n (seeds at that point), sorted by x; empty if there are no rows.
    """
    rows = select_rows(metrics, experiment=experiment, scenario=scenario, algorithm=algorithm, role=role,
                       metric=metric)
    points = []
    for position, group in rows.groupby(x, sort=True):
        stats = cell_stats(per_seed(group).to_numpy())
        points.append({x: position, "mean": stats.mean, "low": stats.low, "high": stats.high, "n": stats.n})
    return pd.DataFrame(points, columns=[x, "mean", "low", "high", "n"])


def success_rate_curve(metrics: pd.DataFrame, experiment: str, scenario: str, algorithm: str,
                       threshold: float = LEARNED_DISTANCE_THRESHOLD,
                       metric: str = LEARNED_DISTANCE_METRIC) -> pd.DataFrame:
    """Fig. 6: the fraction of seeds whose logged final goal distance is below threshold, per logging point.

    Returns:
        Columns episode, rate, learned (seeds below threshold), n (seeds logged at that point).
    """
    rows = select_rows(metrics, experiment=experiment, scenario=scenario, algorithm=algorithm, role="team",
                       metric=metric)
    points = []
    for episode, group in rows.groupby("episode", sort=True):
        distances = per_seed(group)
        learned = int((distances < threshold).sum())
        points.append({"episode": episode, "rate": learned / len(distances), "learned": learned,
                       "n": len(distances)})
    return pd.DataFrame(points, columns=["episode", "rate", "learned", "n"])


def min_max_normalise(scores: Mapping[str, float]) -> dict[str, float]:
    """Fig. 3's normalised score: (score - min) / (max - min) over the given entries (NaNs dropped).

    The best entry gets 1 and the worst 0. With fewer than two finite entries, or all equal, there is no
    scale: every entry gets NaN.
    """
    finite = {key: float(value) for key, value in scores.items() if value is not None and np.isfinite(value)}
    if len(finite) < 2:
        return {key: float("nan") for key in scores}
    low, high = min(finite.values()), max(finite.values())
    if high == low:
        return {key: float("nan") for key in scores}
    return {key: (finite[key] - low) / (high - low) if key in finite else float("nan") for key in scores}


def rescale(value: float, scores: Mapping[str, float]) -> float:
    """Maps value by the same affine map min_max_normalise applies to scores (for interval bounds)."""
    finite = [float(v) for v in scores.values() if v is not None and np.isfinite(v)]
    if len(finite) < 2 or max(finite) == min(finite):
        return float("nan")
    return (value - min(finite)) / (max(finite) - min(finite))
