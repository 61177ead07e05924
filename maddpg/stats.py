"""Seed-level aggregation: mean and a bootstrap confidence interval with a fixed random state."""

from __future__ import annotations

from typing import Sequence

import numpy as np
from scipy import stats

CONFIDENCE = 0.95
RESAMPLES = 10_000
RANDOM_STATE = 0


def mean_and_ci(values: Sequence[float], confidence: float = CONFIDENCE, seed: int = RANDOM_STATE):
    """Mean over seeds and its percentile-bootstrap confidence interval (scipy.stats.bootstrap).

    Percentile rather than BCa: BCa's jackknife is unstable at 3-10 seeds and fails on tied values.

    Returns:
        (mean, low, high, n); low and high are NaN for a single seed, and equal the mean when all values tie.
    """
    data = np.asarray(values, dtype=float)
    n = int(data.size)
    if n == 0:
        return float("nan"), float("nan"), float("nan"), 0
    mean = float(data.mean())
    if n == 1:
        return mean, float("nan"), float("nan"), 1
    if np.ptp(data) == 0:
        return mean, mean, mean, n
    result = stats.bootstrap((data,), np.mean, confidence_level=confidence, n_resamples=RESAMPLES,
                             method="percentile", random_state=np.random.default_rng(seed))
    return mean, float(result.confidence_interval.low), float(result.confidence_interval.high), n


def format_cell(mean: float, low: float, high: float, n: int, digits: int) -> str:
    """A seed-level summary as 'mean [low, high] (n=N)' (what mean_and_ci returns, printed to `digits` places).

    "not run" for no seeds, and no interval for one seed (its bounds are NaN).
    """
    if n == 0:
        return "not run"
    if n == 1 or low != low:  # NaN bounds: a single seed has no interval
        return f"{mean:.{digits}f} (n=1)"
    return f"{mean:.{digits}f} [{low:.{digits}f}, {high:.{digits}f}] (n={n})"



def probability_of_improvement(better: Sequence[float], worse: Sequence[float], confidence: float = CONFIDENCE,
                               seed: int = RANDOM_STATE):
    """P(X > Y) of one seed of `better` against one of `worse`, ties counting half (rliable's definition:
    the Mann-Whitney U statistic over n x m), with a stratified percentile-bootstrap interval (each side
    resampled on its own, as rliable does).

    scipy, not the rliable package: rliable 1.2.0's dependency arch 7.2 fails to import with our pandas.
    Both are per-seed scores where higher is better (negate a lower-is-better metric first).

    Returns:
        (estimate, low, high); NaN throughout when either side has fewer than two seeds.
    """
    x = np.asarray(better, dtype=float)
    y = np.asarray(worse, dtype=float)
    if x.size < 2 or y.size < 2:
        return float("nan"), float("nan"), float("nan")

    def statistic(a, b, axis=-1):
        # [..., n, 1] vs [..., 1, m]: the share of (a_i, b_j) pairs with a_i > b_j, ties half.
        a, b = np.moveaxis(a, axis, -1)[..., :, None], np.moveaxis(b, axis, -1)[..., None, :]
        return ((a > b) + 0.5 * (a == b)).mean(axis=(-2, -1))

    estimate = float(statistic(x, y))
    if np.ptp(np.concatenate([x, y])) == 0:
        return estimate, estimate, estimate
    result = stats.bootstrap((x, y), statistic, confidence_level=confidence, n_resamples=RESAMPLES,
                             method="percentile", vectorized=True, random_state=np.random.default_rng(seed))
    return estimate, float(result.confidence_interval.low), float(result.confidence_interval.high)
