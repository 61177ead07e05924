"""The committed plain-loop runs on PettingZoo envs beyond the paper (results/pettingzoo/<run>/, made by
`python -m maddpg.pettingzoo_loop ... --results_dir results`): per run, the trained actors' evaluation return
against a uniform random policy's on the same env resets, and the learning curve.

Per run it writes one row of paper_figures/pettingzoo_runs.md and .csv: the env and its kwargs, the policy
kind, seeds and episodes, the trained and the random policy's mean episode return (the sum over agents, as
evaluation.csv records it; mean over seeds with its 95% bootstrap interval), and the probability that a seed's
trained actors score above a seed's random policy (rliable's probability of improvement). And one figure,
paper_figures/figures/pettingzoo_<run>.png: the team's mean exploring episode return per logged window, mean
over seeds with the interval as a band, beside the random policy's evaluation return.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from maddpg.results import CONFIG_FILE, EVALUATION_FILE, META_FILE, METRICS_FILE
from maddpg.stats import format_cell, mean_and_ci, probability_of_improvement
from paper_figures.runs import read_rows

PETTINGZOO_RESULTS = "pettingzoo"  # results/pettingzoo/<run>: the plain loop's committed runs
TEAM = "team"  # evaluation.csv's and metrics.csv's role of the sum over agents
TRAINED, RANDOM = "mean_episode_reward", "random_mean_episode_reward"


def finished_runs(results_dir: Path) -> list[Path]:
    """Run folders under results_dir/pettingzoo with an evaluation.csv, smoke runs left out, sorted by name."""
    root = results_dir / PETTINGZOO_RESULTS
    return sorted(path.parent for path in root.glob(f"*/{EVALUATION_FILE}") if not path.parent.name.startswith("smoke_"))


def run_row(run_dir: Path) -> dict:
    """One run's row: what ran, and the trained and random returns per seed, summarised over seeds."""
    config = json.loads((run_dir / CONFIG_FILE).read_text())
    meta = json.loads((run_dir / META_FILE).read_text())
    evaluation = read_rows(run_dir / EVALUATION_FILE)
    team = evaluation[evaluation["role"] == TEAM]
    trained = team[team["metric"] == TRAINED].sort_values("seed")["value"].to_numpy()
    random = team[team["metric"] == RANDOM].sort_values("seed")["value"].to_numpy()
    p_better, p_low, p_high = probability_of_improvement(trained, random)
    return {"run": run_dir.name, "env": meta.get("env_module", config.get("scenario")),
            "env_kwargs": meta.get("env_kwargs", {}), "policy": config.get("policy"),
            "algorithm": config.get("algorithm"), "seeds": len(trained), "episodes": config.get("episodes"),
            "episode_length": config.get("episode_length"),
            "trained": mean_and_ci(trained), "random": mean_and_ci(random),
            "p_better": p_better, "p_low": p_low, "p_high": p_high}


def learning_curve(run_dir: Path) -> pd.DataFrame:
    """The team's exploring episode return per logged episode and seed: columns seed, episode, value."""
    rows = read_rows(run_dir / METRICS_FILE)
    team = rows[(rows["role"] == TEAM) & (rows["metric"] == TRAINED)]
    return team[["seed", "episode", "value"]].reset_index(drop=True)


def plot_run(row: dict, curve: pd.DataFrame, figures_dir: Path) -> Path:
    """paper_figures/figures/pettingzoo_<run>.png: the learning curve (mean over seeds, bootstrap band) and
    the random policy's evaluation return."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import seaborn as sns

    sns.set_theme(context="notebook", style="whitegrid", font_scale=0.95)
    figure, axis = plt.subplots(figsize=(7, 4))
    summary = [(episode, *mean_and_ci(group["value"].to_numpy())[:3])
               for episode, group in curve.groupby("episode")]
    episodes, means, lows, highs = zip(*summary)
    axis.plot(episodes, means, label=f"MADDPG, {row['policy']} (exploring, {row['seeds']} seeds)")
    axis.fill_between(episodes, lows, highs, alpha=0.25)
    random_mean, random_low, random_high, _ = row["random"]
    axis.axhline(random_mean, color="grey", linestyle="--", label="uniform random policy (evaluation)")
    axis.axhspan(random_low, random_high, color="grey", alpha=0.15)
    axis.set_xlabel("episode")
    axis.set_ylabel("episode return (sum over agents)")
    axis.set_title(f"{row['env']} {' '.join(str(value) for value in row['env_kwargs'].values())}")
    axis.legend(loc="lower right", fontsize="small")
    figures_dir.mkdir(parents=True, exist_ok=True)
    path = figures_dir / f"pettingzoo_{row['run']}.png"
    figure.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(figure)
    return path


def _kwargs_text(row: dict) -> str:
    return json.dumps(row["env_kwargs"], sort_keys=True)


def markdown(rows: list[dict], figures: list[Path], out_dir: Path) -> str:
    """The table of every run, then its figure."""
    lines = ["# MADDPG on PettingZoo envs beyond the paper (the plain loop)", "",
             "Generated by `python -m paper_figures` from results/pettingzoo/ (paper_figures/pettingzoo_runs.py). "
             "Returns are the sum over agents per episode, evaluated without exploration noise after training; "
             "mean over seeds [95% bootstrap CI]; P(trained > random): the probability that a seed's trained "
             "actors score above a seed's random policy, with its interval.", "",
             "| run | env kwargs | policy | seeds x episodes (steps each) | trained | uniform random | "
             "P(trained > random) |", "|---|---|---|---|---|---|---|"]
    for row in rows:
        trained, random = format_cell(*row["trained"], digits=1), format_cell(*row["random"], digits=1)
        lines.append(f"| {row['run']} | `{row['env']}` `{_kwargs_text(row)}` | {row['policy']} | {row['seeds']} x "
                     f"{row['episodes']} ({row['episode_length']}) | {trained} | {random} | "
                     f"{row['p_better']:.2f} [{row['p_low']:.2f}, {row['p_high']:.2f}] |")
    lines.append("")
    for path in figures:
        lines += [f"![{path.stem}]({path.relative_to(out_dir).as_posix()})", ""]
    return "\n".join(lines)


def write(results_dir: Path, out_dir: Path) -> Path | None:
    """Writes <out_dir>/pettingzoo_runs.md and .csv and each run's figure; None when no run is committed."""
    runs = finished_runs(results_dir)
    if not runs:
        return None
    rows = [run_row(run_dir) for run_dir in runs]
    figures = [plot_run(row, learning_curve(run_dir), out_dir / "figures") for row, run_dir in zip(rows, runs)]
    table = pd.DataFrame([{**{key: value for key, value in row.items() if key not in ("trained", "random")},
                           "env_kwargs": _kwargs_text(row),
                           "trained_mean": row["trained"][0], "trained_low": row["trained"][1],
                           "trained_high": row["trained"][2], "random_mean": row["random"][0],
                           "random_low": row["random"][1], "random_high": row["random"][2]} for row in rows])
    table.to_csv(out_dir / "pettingzoo_runs.csv", index=False, float_format="%.6g")
    path = out_dir / "pettingzoo_runs.md"
    path.write_text(markdown(rows, figures, out_dir))
    return path
