"""The paper's Figs. 3 (left and right), 4, 6, 7 and 8 from results/, as PNGs sized for a README.

Curves are the logged values (each already the mean over the last 1000 episodes, the reference code's
smoothing) averaged over seeds, with a band for the 95% percentile-bootstrap interval over seeds at each
logging point (maddpg.stats.mean_and_ci, 10,000 resamples, random state 0). A figure whose data is missing
is skipped, naming the command that would produce its runs.

Each figure draws the runs of one dynamics (paper_figures.runs.DYNAMICS): the paper-dynamics figure keeps
its file name, the mpe2 one is <name>_mpe2.png and is drawn only when mpe2 runs exist for it. The paper's
markers are the same in both: they are the 2017 numbers.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Callable

import matplotlib

matplotlib.use("Agg")  # files only; never open a window

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from paper_figures.aggregate import (LEARNED_DISTANCE_THRESHOLD, learning_curve, select_rows,  # noqa: E402
                                     success_rate_curve)
from paper_figures.runs import DYNAMICS, HEADLINE_DYNAMICS, Results  # noqa: E402
from paper_figures.scores import FIG3_LEFT, FIG3_RIGHT, ScoreSeries, series_frame  # noqa: E402
from paper_figures.table_layouts import algorithm_label, script_command  # noqa: E402
from paper_figures.tables import table_stem, titled  # noqa: E402
from paper_figures import paper_numbers  # noqa: E402

WIDTH_INCHES = 10.0  # at DPI, about 1100 px: GitHub shows it at README width without losing the labels
DPI = 110
STUB = 0.02  # Fig. 3's worst bar is 0 after min-max scaling; drawn this tall so it stays visible, as the paper does
CC_EPISODES = 25_000
COLOURS = {"paper": "#b0b0b0"}


@dataclasses.dataclass(frozen=True)
class FigureOutcome:
    """A written figure (path set) or a skipped one (reason set), with its README caption."""

    name: str  # file stem (figure_stem: the dynamics' suffix included)
    title: str  # says the dynamics
    path: Path | None = None
    caption: str = ""
    reason: str = ""  # what is missing
    experiments: tuple[str, ...] = ()  # whose runs would produce it
    notes: tuple[str, ...] = ()
    dynamics: str = HEADLINE_DYNAMICS

    @property
    def skip_message(self) -> str:
        """'<title>: <reason>; run `python -m reproduction.x` (or ...)'."""
        commands = " or ".join(f"`{script_command(experiment)}`" for experiment in self.experiments)
        return f"{self.title}: {self.reason}; {commands} would produce them"


# What a caption adds on mpe2 dynamics, so no one reads those curves as the paper's setting.
MPE2_CAPTION = ("mpe2 dynamics: the maintained package as installed (position integrated before velocity, "
                "the action sign flipped, two rewards changed), not the 2017 physics the paper ran on.")


def figure_stem(name: str, dynamics: str) -> str:
    """A figure's file stem on one dynamics: the name for paper, '<name>_mpe2' for mpe2 (as tables)."""
    return table_stem(name, dynamics)


def figure_title(title: str, dynamics: str) -> str:
    """'Fig. 4 (... curves)' -> 'Fig. 4 (... curves, paper dynamics)'; titles without a bracket as tables."""
    return f"{title[:-1]}, {dynamics} dynamics)" if title.endswith(")") else titled(title, dynamics)


def _outcome(name: str, title: str, dynamics: str, **fields) -> FigureOutcome:
    """A FigureOutcome whose name and title carry the dynamics, and whose caption says so on mpe2."""
    caption = fields.pop("caption", "")
    if caption and dynamics != HEADLINE_DYNAMICS:
        caption = f"{caption} {MPE2_CAPTION}"
    return FigureOutcome(figure_stem(name, dynamics), figure_title(title, dynamics), caption=caption,
                         dynamics=dynamics, **fields)


def _mark_dynamics(figure, dynamics: str) -> None:
    """Writes the dynamics in the PNG's corner: a figure seen on its own still says what it shows."""
    figure.text(0.995, 0.005, f"{dynamics} dynamics", ha="right", va="bottom", fontsize=8, color="dimgrey")


def _theme() -> None:
    sns.set_theme(context="notebook", style="whitegrid", font_scale=0.95)


def _save(figure, figures_dir: Path, name: str, dynamics: str) -> Path:
    """Writes <figure_stem(name, dynamics)>.png and closes the figure."""
    _mark_dynamics(figure, dynamics)
    figures_dir.mkdir(parents=True, exist_ok=True)
    path = figures_dir / f"{figure_stem(name, dynamics)}.png"
    figure.savefig(path, dpi=DPI, bbox_inches="tight")
    plt.close(figure)
    return path


def _incomplete(results: Results, rows: pd.DataFrame) -> bool:
    """Whether any run supplying these rows has not finished training."""
    by_label = results.runs_by_label()
    return any(not by_label[label].training_complete for label in rows["run"].unique())


def _curve_label(name: str, curve: pd.DataFrame, incomplete: bool) -> str:
    n = int(curve["n"].iloc[-1]) if len(curve) else 0
    return f"{name} (n={n}{', training incomplete' if incomplete else ''})"


def _plot_curve(axis, curve: pd.DataFrame, x: str, label: str, colour) -> None:
    axis.plot(curve[x], curve["mean"], color=colour, label=label, linewidth=1.8)
    axis.fill_between(curve[x], curve["low"], curve["high"], color=colour, alpha=0.2, linewidth=0)


def _algorithms(rows: pd.DataFrame, preferred: tuple[str, ...]) -> list[str]:
    """Algorithm labels present in rows, the paper's order first."""
    present = set(rows["algorithm"].unique())
    return [name for name in preferred if name in present] + sorted(present - set(preferred))


# ---- Fig. 3 -------------------------------------------------------------------------------------------

SCORE_LEGEND = {"paper": "paper (its tables, normalised)", "ours": "ours (mean, 95% CI)"}


def _draw_score_panel(axis, series: ScoreSeries, frame: pd.DataFrame, palette: dict) -> None:
    """Grouped bars, paper then ours, per key of the series; ours with interval whiskers and n per key."""
    keys = list(series.paper)
    for offset, source in ((-0.2, "paper"), (0.2, "ours")):
        part = frame[frame["source"] == source].set_index("key")
        present = [key for key in keys if key in part.index and np.isfinite(part.loc[key, "score"])]
        if not present:
            continue
        positions = np.array([keys.index(key) for key in present]) + offset
        scores = part.loc[present, "score"].to_numpy(dtype=float)
        axis.bar(positions, np.maximum(scores, STUB), width=0.4, color=palette[source], label=SCORE_LEGEND[source])
        if source == "ours":
            low, high = part.loc[present, "low"].to_numpy(float), part.loc[present, "high"].to_numpy(float)
            shown = np.isfinite(low) & np.isfinite(high)  # a single seed has no interval
            whiskers = [scores[shown] - low[shown], high[shown] - scores[shown]]
            axis.errorbar(positions[shown], scores[shown], yerr=whiskers, fmt="none", ecolor="black", elinewidth=1,
                          capsize=3)
    seeds = frame[frame["source"] == "ours"].set_index("key")["n"]
    tick_labels = [series.label(key).replace(" v ", "\nv ")
                   + (f"\nn={int(seeds[key])}" if key in seeds.index else "\nnot run") for key in keys]
    axis.set_xticks(np.arange(len(keys)), tick_labels, fontsize=8)
    suffix = "" if len(seeds) == len(keys) else f" (ours over {len(seeds)} of {len(keys)})"
    axis.set_title(series.title + suffix, fontsize=10)
    axis.set_ylim(-0.05, 1.3)  # whiskers of wide intervals run off the panel rather than squash the bars


def _score_panels(title: str, name: str, all_series: tuple[ScoreSeries, ...], results: Results,
                  figures_dir: Path, columns: int, caption: str, dynamics: str) -> FigureOutcome:
    """One panel per series with at least two of our keys evaluated; skipped when no series has."""
    results = results.of_dynamics(dynamics)
    panels, notes = [], []
    for series in all_series:
        frame, note = series_frame(series, results)
        if note:
            notes.append(note)
        if (frame["source"] == "ours").any():
            panels.append((series, frame))
    if not panels:
        experiments = tuple(dict.fromkeys(series.experiment for series in all_series))
        return _outcome(name, title, dynamics, reason="no series has two evaluated pairings yet",
                        experiments=experiments, notes=tuple(notes))
    _theme()
    rows = int(np.ceil(len(panels) / columns))
    figure, axes = plt.subplots(rows, min(columns, len(panels)), figsize=(WIDTH_INCHES, 3.6 * rows),
                                squeeze=False, sharey=True)
    palette = dict(COLOURS, ours=sns.color_palette()[0])
    for axis, (series, frame) in zip(axes.flat, panels):
        _draw_score_panel(axis, series, frame, palette)
    for axis in axes.flat[len(panels):]:
        axis.set_visible(False)
    for axis in axes[:, 0]:
        axis.set_ylabel("normalised agent score")
    figure.tight_layout(rect=(0, 0, 1, 0.95))
    figure.legend(*axes.flat[0].get_legend_handles_labels(), loc="upper center", ncols=2, fontsize=9, frameon=False)
    return _outcome(name, title, dynamics, path=_save(figure, figures_dir, name, dynamics), caption=caption,
                    notes=tuple(notes))


def figure3_left(results: Results, figures_dir: Path, dynamics: str = HEADLINE_DYNAMICS) -> FigureOutcome:
    """Fig. 3 left: normalised agent score per pairing (PP1, PD N=2, PD N=4, covert), ours beside the paper's."""
    caption = (
        "Fig. 3 left: each series min-max scaled over the four pairings (best 1, worst 0, drawn as a stub of "
        f"{STUB} so it stays visible); grey: the paper's tables scaled the same way, blue: ours with the 95% "
        "bootstrap interval mapped by the same scale, n = seeds. PP uses PP1, as the paper's bars do.")
    return _score_panels("Fig. 3 left (normalised agent scores)", "fig3_left_normalised_scores", FIG3_LEFT,
                         results, figures_dir, 2, caption, dynamics)


def figure3_right(results: Results, figures_dir: Path, dynamics: str = HEADLINE_DYNAMICS) -> FigureOutcome:
    """Fig. 3 right: normalised agent score of ensembles vs single policies (KA, PD N=2, PP N=4 L=1)."""
    caption = (
        "Fig. 3 right (normalisation ours; the paper does not state it): the agents' score per (agents kind v "
        "adversaries kind), S = single policy, E = ensemble; minus the adversary's goal frames in KA and PD, "
        "collisions in PP; min-max scaled over the four combinations. Grey: the paper's Table 6 scaled the "
        "same way.")
    return _score_panels("Fig. 3 right (ensembles vs single policies)", "fig3_right_ensembles", FIG3_RIGHT,
                         results, figures_dir, 3, caption, dynamics)


# ---- Fig. 4 and 6: cooperative communication ----------------------------------------------------------

def fig4_paper_markers(algorithms) -> dict[str, float]:
    """Fig. 4's paper markers: algorithm -> the paper's end value, for those of algorithms the paper has.

    The values are the paper's as read off its Fig. 4, unscaled: its curve is the sum of both agents'
    episode rewards, each agent -d^2 per step in the 2017 env as in mpe2, which is our team reward.
    """
    return {algorithm: paper_numbers.FIG4_FINAL_REWARD[algorithm] for algorithm in algorithms
            if algorithm in paper_numbers.FIG4_FINAL_REWARD}


def figure4(results: Results, figures_dir: Path, dynamics: str = HEADLINE_DYNAMICS) -> FigureOutcome:
    """Fig. 4: CC mean episode reward vs episode, one line per algorithm, 95% bootstrap bands."""
    name, title = "fig4_cc_reward_curves", "Fig. 4 (cooperative communication reward curves)"
    results = results.of_dynamics(dynamics)
    rows = select_rows(results.metrics, experiment="cooperative_communication", scenario="speaker_listener",
                       role="team", metric="mean_episode_reward")
    if rows.empty:
        return _outcome(name, title, dynamics, reason="no logged runs yet",
                        experiments=("cooperative_communication",))
    _theme()
    figure, axis = plt.subplots(figsize=(WIDTH_INCHES, 4.6))
    colours = sns.color_palette(n_colors=len(paper_numbers.TABLE1))
    algorithms = _algorithms(rows, tuple(paper_numbers.TABLE1))
    markers = fig4_paper_markers(algorithms)
    for index, algorithm in enumerate(algorithms):
        own = select_rows(rows, algorithm=algorithm)
        curve = learning_curve(rows, "cooperative_communication", "speaker_listener", algorithm, "team",
                               "mean_episode_reward")
        colour = colours[index % len(colours)]
        _plot_curve(axis, curve, "episode", _curve_label(algorithm_label(algorithm), curve,
                                                         _incomplete(results, own)), colour)
        if algorithm in markers:
            axis.plot([CC_EPISODES], [markers[algorithm]], marker="X", markersize=10, color=colour,
                      linestyle="none")
    axis.plot([], [], marker="X", color="grey", linestyle="none", label="paper's end value (read off Fig. 4)")
    axis.set_xlabel("episode")
    axis.set_ylabel("mean episode reward (team sum,\nmean of the last 1000 episodes)")
    axis.legend(fontsize=8, loc="best")  # wherever it hides the fewest curves and markers (they reach -45)
    caption = ("Fig. 4: cooperative communication, team reward per episode (sum over both agents, mean of the "
               "last 1000 episodes as logged), mean over seeds with 95% bootstrap bands. X: the paper's end "
               "values read off its Fig. 4, in the same units.")
    return _outcome(name, title, dynamics, path=_save(figure, figures_dir, name, dynamics), caption=caption)


def figure6(results: Results, figures_dir: Path, dynamics: str = HEADLINE_DYNAMICS) -> FigureOutcome:
    """Fig. 6: CC policy learning success rate (fraction of seeds that learned the correct policy) vs episode."""
    name, title = "fig6_cc_policy_learning_success", "Fig. 6 (policy learning success rate)"
    results = results.of_dynamics(dynamics)
    rows = select_rows(results.metrics, experiment="cooperative_communication", scenario="speaker_listener",
                       role="team", metric="final_goal_distance")
    if rows.empty:
        return _outcome(name, title, dynamics, reason="no logged final_goal_distance yet",
                        experiments=("cooperative_communication",))
    _theme()
    figure, axis = plt.subplots(figsize=(WIDTH_INCHES, 4.0))
    colours = sns.color_palette(n_colors=len(paper_numbers.TABLE1))
    for index, algorithm in enumerate(_algorithms(rows, tuple(paper_numbers.TABLE1))):
        own = select_rows(rows, algorithm=algorithm)
        curve = success_rate_curve(rows, "cooperative_communication", "speaker_listener", algorithm)
        colour = colours[index % len(colours)]
        final = f", {int(curve['learned'].iloc[-1])} of {int(curve['n'].iloc[-1])} at the end"
        incomplete = ", training incomplete" if _incomplete(results, own) else ""
        axis.step(curve["episode"], curve["rate"], where="post", color=colour, linewidth=1.8,
                  label=f"{algorithm_label(algorithm)} (n={int(curve['n'].iloc[-1])}{final}{incomplete})")
        paper_end = paper_numbers.FIG6_FINAL_SUCCESS_RATE.get(algorithm)
        if paper_end is not None:
            axis.plot([CC_EPISODES], [paper_end], marker="X", markersize=10, color=colour, linestyle="none")
    axis.plot([], [], marker="X", color="grey", linestyle="none", label="paper's end value (read off Fig. 6)")
    axis.set_ylim(-0.03, 1.05)
    axis.set_xlabel("episode")
    axis.set_ylabel("fraction of seeds that\nlearned the correct policy")
    axis.legend(fontsize=8, loc="upper left")
    caption = ("Fig. 6: a seed has learned the correct policy at a logging point when that window's mean final "
               f"listener-goal distance (metrics.csv final_goal_distance) is below {LEARNED_DISTANCE_THRESHOLD}; "
               "a listener parked between the landmarks ends about 0.6 away. X: the paper's end values, read "
               "off its Fig. 6.")
    return _outcome(name, title, dynamics, path=_save(figure, figures_dir, name, dynamics), caption=caption)


# ---- Fig. 7: policy inference -------------------------------------------------------------------------

def figure7(results: Results, figures_dir: Path, dynamics: str = HEADLINE_DYNAMICS) -> FigureOutcome:
    """Fig. 7: policy inference, team reward and KL(approximation || true policy) vs update iteration."""
    name, title = "fig7_policy_inference", "Fig. 7 (policy inference)"
    results = results.of_dynamics(dynamics)
    rows = select_rows(results.metrics, experiment="policy_inference", scenario="speaker_listener")
    rewards = select_rows(rows, role="team", metric="mean_episode_reward")
    divergences = select_rows(rows, metric="policy_kl")
    if rewards.empty and divergences.empty:
        return _outcome(name, title, dynamics, reason="no logged runs yet", experiments=("policy_inference",))
    _theme()
    figure, (left, right) = plt.subplots(1, 2, figsize=(WIDTH_INCHES, 4.0))
    colours = sns.color_palette()
    for index, algorithm in enumerate(_algorithms(rewards, ("true_policies", "inferred_policies"))):
        curve = learning_curve(rewards, "policy_inference", "speaker_listener", algorithm, "team",
                               "mean_episode_reward", x="update")
        label = _curve_label(algorithm_label(algorithm), curve,
                             _incomplete(results, select_rows(rewards, algorithm=algorithm)))
        _plot_curve(left, curve, "update", label, colours[index % len(colours)])
    left.set_xlabel("update iteration")
    left.set_ylabel("mean episode reward (team sum)")
    left.set_title("reward", fontsize=10)
    index = 0
    kl_algorithms = _algorithms(divergences, ("inferred_policies", "true_policies"))
    for algorithm in kl_algorithms:
        for role in sorted(select_rows(divergences, algorithm=algorithm)["role"].unique(), reverse=True):
            curve = learning_curve(divergences, "policy_inference", "speaker_listener", algorithm, role,
                                   "policy_kl", x="update")
            agent = role.split("_")[0] + (f", {algorithm_label(algorithm)}" if len(kl_algorithms) > 1 else "")
            _plot_curve(right, curve, "update", _curve_label(agent, curve, False), colours[(index + 2) % len(colours)])
            index += 1
    right.set_xlabel("update iteration")
    right.set_ylabel("KL(approximation || true policy)")
    right.set_title("policy approximation error", fontsize=10)
    for axis in (left, right):
        if axis.lines:
            axis.legend(fontsize=8)
    figure.tight_layout()
    caption = ("Fig. 7: policy inference on speaker-listener. Update iteration = max(0, env_step - warm-up "
               "transitions) / update_every (25,600 and 100 by default: one update per 100 transitions once "
               "the buffer holds 25,600). Left: team reward with true vs inferred policies in the critic; "
               "right: KL of each approximation from the agent it models. Bands: 95% bootstrap over seeds.")
    return _outcome(name, title, dynamics, path=_save(figure, figures_dir, name, dynamics), caption=caption)


# ---- Fig. 8: covert communication ---------------------------------------------------------------------

def figure8(results: Results, figures_dir: Path, dynamics: str = HEADLINE_DYNAMICS) -> FigureOutcome:
    """Fig. 8: covert communication, Bob's and Eve's reward curves, one panel per pairing."""
    name, title = "fig8_covert_reward_curves", "Fig. 8 (covert communication reward curves)"
    results = results.of_dynamics(dynamics)
    rows = select_rows(results.metrics, experiment="covert_communication", scenario="crypto",
                       metric="mean_episode_reward")
    rows = rows[rows["role"].isin(["bob_0", "eve_0"])]
    if rows.empty:
        return _outcome(name, title, dynamics, reason="no logged runs yet",
                        experiments=("covert_communication",))
    _theme()
    pairings = _algorithms(rows, paper_numbers.PAIRINGS)
    columns = min(2, len(pairings))
    grid_rows = int(np.ceil(len(pairings) / columns))
    figure, axes = plt.subplots(grid_rows, columns, figsize=(WIDTH_INCHES, 3.4 * grid_rows), squeeze=False,
                                sharex=True, sharey=True)
    colours = {"bob_0": sns.color_palette()[0], "eve_0": sns.color_palette()[3]}
    for axis, pairing in zip(axes.flat, pairings):
        own = select_rows(rows, algorithm=pairing)
        incomplete = _incomplete(results, own)
        for role in ("bob_0", "eve_0"):
            curve = learning_curve(rows, "covert_communication", "crypto", pairing, role, "mean_episode_reward")
            if len(curve):
                _plot_curve(axis, curve, "episode", _curve_label(role.split("_")[0].capitalize(), curve,
                                                                 incomplete), colours[role])
        axis.set_title(f"{algorithm_label(pairing)} (Alice+Bob v Eve)", fontsize=10)
        axis.legend(fontsize=8)
    for axis in axes.flat[len(pairings):]:
        axis.set_visible(False)
    for axis in axes[-1, :]:
        axis.set_xlabel("episode")
    for axis in axes[:, 0]:
        axis.set_ylabel("mean episode reward")
    figure.tight_layout()
    caption = ("Fig. 8: covert communication, Bob's and Eve's episode reward (mean of the last 1000 episodes "
               "as logged), mean over seeds with 95% bootstrap bands, one panel per pairing (the paper: "
               "60000 episodes).")
    return _outcome(name, title, dynamics, path=_save(figure, figures_dir, name, dynamics), caption=caption)


FIGURES: tuple[Callable[[Results, Path, str], FigureOutcome], ...] = (
    figure3_left, figure3_right, figure4, figure6, figure7, figure8)


def make_figures(results: Results, figures_dir: Path) -> list[FigureOutcome]:
    """Draws every figure the results support, each once per dynamics; paper-dynamics outcomes first.

    A skipped figure's stale PNG (from an earlier run) is removed. A paper-dynamics figure that is skipped is
    reported (its outcome says which command would produce it); an mpe2 one is not: mpe2 runs are extra, so
    a figure none of them feeds is simply absent.
    """
    outcomes = []
    for dynamics in DYNAMICS:
        for make in FIGURES:
            outcome = make(results, figures_dir, dynamics)
            if outcome.path is None:
                (figures_dir / f"{outcome.name}.png").unlink(missing_ok=True)
                if dynamics != HEADLINE_DYNAMICS:
                    continue
            outcomes.append(outcome)
    return outcomes
