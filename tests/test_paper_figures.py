"""paper_figures on hand-made results folders: known cells, the duplicates rule, Fig. 3's normaliser against
the paper's own bars, the two dynamics kept apart, partial folders, and every promised file."""

import csv
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from paper_figures import figures as paper_figure_module
from paper_figures import readme
from paper_figures.__main__ import main
from paper_figures.aggregate import learning_curve, min_max_normalise, success_rate_curve
from paper_figures.runs import load_results
from paper_figures.scores import FIG3_LEFT, paper_scores
from paper_figures.tables import build_all_tables, experiment_table, heading_anchor, table_stem
from paper_figures import paper_numbers

REPO = Path(__file__).resolve().parent.parent
# Rows files before the dynamics setting existed; new ones have a dynamics column after algorithm.
OLD_COLUMNS = ["experiment", "scenario", "algorithm", "role", "seed", "episode", "env_step", "metric", "value"]
NEW_COLUMNS = ["experiment", "scenario", "algorithm", "dynamics", "role", "seed", "episode", "env_step", "metric",
               "value"]
PAIRINGS = paper_numbers.PAIRINGS
FIGURES = ("fig3_left_normalised_scores", "fig3_right_ensembles", "fig4_cc_reward_curves",
           "fig6_cc_policy_learning_success", "fig7_policy_inference", "fig8_covert_reward_curves")
TABLE_FILES = ("table1", "table2", "table3", "table4", "table5", "table6", "table_keep_away",
               "table_policy_inference")
README_TEXT = ("# Project\n\nintro\n\n## Results\n\n" + readme.START_MARKER + "\nold\n" + readme.END_MARKER
               + "\n\n### Speed\n\nfast\n")
PAGE_TEXT = ("# Results\n\nwhat this page is\n\n" + readme.START_MARKER + "\nold\n" + readme.END_MARKER
             + "\n\n## Time\n\nlong\n")


def write_run(results_dir, experiment, scenario, algorithm, seeds, episodes=3000, evaluation=None,
              metrics=(), run_id=None, created_at="2026-01-01T00:00:00+00:00", training_complete=True,
              dynamics=None, recorded_in=("config", "meta", "rows"), rows_dynamics=None):
    """A run folder as the experiment scripts write it.

    evaluation: {seed: {metric or (role, metric): value}} (None: no evaluation.csv yet);
    metrics: (role, seed, episode, metric, value) rows of metrics.csv;
    dynamics: None writes the older format (no dynamics anywhere); else it is recorded in the files named by
    recorded_in, the rows' column holding rows_dynamics if given (a file that disagrees with its config).
    """
    default_id = f"{algorithm}_s{seeds[0]}-{seeds[-1]}_ep{episodes}"
    run_dir = Path(results_dir) / experiment / (run_id or (f"{dynamics}_{default_id}" if dynamics else default_id))
    run_dir.mkdir(parents=True)
    config = dict(experiment=experiment, scenario=scenario, algorithm=algorithm, seeds=list(seeds),
                  episodes=episodes, eval_episodes=10, hidden_units=64, critic_kinds=["maddpg"],
                  warmup_transitions=25_600, update_every=100, episode_length=25)
    meta = dict(created_at=created_at, training_complete=training_complete, evaluation_complete=evaluation is not None)
    recorded = set(recorded_in) if dynamics else set()
    if "config" in recorded:
        config["dynamics"] = dynamics
    if "meta" in recorded:
        meta["dynamics"] = dynamics
    (run_dir / "config.json").write_text(json.dumps(config))
    (run_dir / "meta.json").write_text(json.dumps(meta))

    def write(name, rows):
        with (run_dir / name).open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(NEW_COLUMNS if "rows" in recorded else OLD_COLUMNS)
            for role, seed, episode, metric, value in rows:
                labels = [experiment, scenario, algorithm]
                if "rows" in recorded:
                    labels.append(rows_dynamics or dynamics)
                writer.writerow([*labels, role, seed, episode, episode * 25, metric, value])

    write("metrics.csv", metrics)
    if evaluation is not None:
        role_metric = [(seed, key if isinstance(key, tuple) else ("team", key), value)
                       for seed, values in evaluation.items() for key, value in values.items()]
        write("evaluation.csv", [(role, seed, episodes, metric, value) for seed, (role, metric), value in role_metric])
    return run_dir


def cc_metrics(distances_by_seed, rewards=(-60.0, -40.0, -30.0)):
    """CC metrics.csv rows at episodes 1000, 2000, 3000: team reward and final goal distance per seed."""
    rows = []
    for seed, distances in distances_by_seed.items():
        for index, distance in enumerate(distances):
            episode = 1000 * (index + 1)
            rows += [("team", seed, episode, "mean_episode_reward", rewards[index] + seed),
                     ("team", seed, episode, "final_goal_distance", distance),
                     ("speaker_0", seed, episode, "mean_episode_reward", (rewards[index] + seed) / 2)]
    return rows


def full_results(results_dir, dynamics="paper", offset=0.0):
    """Three seeds of every experiment, scenario and pairing the figures and tables read, on one dynamics;
    offset is added to every evaluation value (so two dynamics' tables can be told apart)."""
    seeds = (0, 1, 2)
    episodes = (1000, 2000, 3000)

    def add(experiment, scenario, algorithm, metric_values, metrics=()):
        evaluation = {seed: {metric: value + seed + offset for metric, value in metric_values.items()}
                      for seed in seeds}
        write_run(results_dir, experiment, scenario, algorithm, seeds, run_id=f"{dynamics}_{scenario}_{algorithm}",
                  evaluation=evaluation, metrics=metrics, dynamics=dynamics)

    for algorithm in paper_numbers.TABLE1:
        add("cooperative_communication", "speaker_listener", algorithm,
            {"target_reach_nearest_percent": 20.0, "final_squared_distance": 0.4},
            cc_metrics({seed: (0.9, 0.6, 0.3 + 0.1 * seed) for seed in seeds}))
    for scenario in ("spread_n3", "spread_n6"):
        for algorithm in ("maddpg", "ddpg"):
            add("cooperative_navigation", scenario, algorithm, {"average_distance": 1.8, "collisions_per_episode": 0.3})
    for index, pairing in enumerate(PAIRINGS):
        for scenario in ("tag_pp1", "tag_pp2"):
            add("predator_prey", scenario, pairing, {"prey_touches_per_episode": 5.0 + index})
        for scenario in ("adversary_n2", "adversary_n4"):
            add("physical_deception", scenario, pairing,
                {"agent_success_percent": 80.0, "adversary_success_percent": 30.0 + 5 * index,
                 "success_difference": 50.0 - 5 * index})
        add("covert_communication", "crypto", pairing,
            {"bob_success_percent": 90.0, "eve_success_percent": 50.0 + index, "success_difference": 40.0 - index},
            [(role, seed, episode, "mean_episode_reward", sign * episode / 1000 + seed)
             for role, sign in (("bob_0", 1), ("eve_0", -1)) for seed in seeds for episode in episodes])
        add("keep_away", "push", pairing, {"adversary_goal_frames": 6.0 + index, "agent_goal_frames": 9.0 - index})
    for scenario, metric in (("push", "adversary_goal_frames"), ("adversary_n2", "adversary_goal_frames"),
                             ("ensemble_tag", "prey_touches_per_episode")):
        add("policy_ensembles", scenario, "maddpg",
            {("single_v_single", metric): 4.0, ("ensemble_v_single", metric): 3.5,
             ("single_v_ensemble", metric): 5.0, ("ensemble_v_ensemble", metric): 4.5})
    for algorithm in ("true_policies", "inferred_policies"):
        rows = [("team", seed, episode, "mean_episode_reward", -40 + episode / 200 + seed)
                for seed in seeds for episode in episodes]
        if algorithm == "inferred_policies":
            rows += [(role, seed, episode, "policy_kl", 1000 / episode + seed)
                     for role in ("speaker_0", "listener_0") for seed in seeds for episode in episodes]
        add("policy_inference", "speaker_listener", algorithm, {"mean_episode_reward": -20.0}, rows)


def run_command(tmp_path, results_dir, *extra):
    """Runs the command on tmp_path's README.md and docs/results.md; returns (code, out_dir, readme_path)."""
    out_dir, readme_path, page_path = tmp_path / "out", tmp_path / "README.md", tmp_path / "docs" / "results.md"
    readme_path.write_text(README_TEXT)
    page_path.parent.mkdir(exist_ok=True)
    page_path.write_text(PAGE_TEXT)
    code = main(["paper_figures", f"--results_dir={results_dir}", f"--out_dir={out_dir}",
                 f"--readme={readme_path}", f"--results_page={page_path}", *extra])
    return code, out_dir, readme_path


def results_page(readme_path):
    """The results page run_command wrote beside the README."""
    return (readme_path.parent / "docs" / "results.md").read_text()


def flat(text):
    """Text with every run of whitespace made one space (prose is wrapped at 110 characters)."""
    return " ".join(text.split())


def table_rows(out_dir, name):
    return pd.read_csv(out_dir / f"{name}.csv", keep_default_na=False)


# ---- aggregation ---------------------------------------------------------------------------------------

def test_cell_mean_interval_and_n_from_known_values(tmp_path):
    reach = [10.0, 20.0, 30.0, 60.0]
    write_run(tmp_path, "cooperative_communication", "speaker_listener", "maddpg", (0, 1, 2, 3),
              evaluation={seed: {"target_reach_nearest_percent": value, "final_squared_distance": 0.1}
                          for seed, value in enumerate(reach)})
    write_run(tmp_path, "cooperative_communication", "speaker_listener", "ddpg", (0,),
              evaluation={0: {"target_reach_nearest_percent": 32.0, "final_squared_distance": 0.5}})
    markdown, frame = experiment_table("cooperative_communication", tmp_path)

    expected = stats.bootstrap((np.array(reach),), np.mean, confidence_level=0.95, n_resamples=10_000,
                               method="percentile", random_state=np.random.default_rng(0)).confidence_interval
    cell = frame[(frame["algorithm"] == "maddpg") & (frame["metric"] == "target_reach_nearest_percent")].iloc[0]
    assert cell["mean"] == pytest.approx(30.0)
    assert (cell["ci_low"], cell["ci_high"]) == pytest.approx((expected.low, expected.high))
    assert 10.0 < cell["ci_low"] < 30.0 < cell["ci_high"] < 60.0
    assert cell["n"] == 4 and cell["paper"] == 84.0 and cell["paper_in_ci"] == False  # noqa: E712
    # All seeds tie on final_squared_distance: the interval collapses onto the mean.
    tied = frame[(frame["algorithm"] == "maddpg") & (frame["metric"] == "final_squared_distance")].iloc[0]
    assert (tied["mean"], tied["ci_low"], tied["ci_high"], tied["n"]) == pytest.approx((0.1, 0.1, 0.1, 4))
    assert f"| MADDPG | 30.0 [{expected.low:.1f}, {expected.high:.1f}] (n=4) | 84.0 | no |" in markdown
    # One seed has no interval: "n/a", never "yes".
    assert "| DDPG | 32.0 (n=1) | 32.0 | n/a | 0.500 (n=1) | 0.456 | n/a |" in markdown
    assert "| DQN | not run | 24.8 | - | not run | 0.754 | - |" in markdown
    assert "| TRPO (PPO in tf-agents) | not run |" in markdown


def test_paper_inside_interval_says_yes(tmp_path):
    write_run(tmp_path, "physical_deception", "adversary_n2", "maddpg_vs_ddpg", (0, 1, 2),
              evaluation={seed: {"agent_success_percent": 90.0 + 2 * seed, "adversary_success_percent": 50.0,
                                 "success_difference": 40.0 + 2 * seed} for seed in range(3)})
    markdown, frame = experiment_table("physical_deception", tmp_path)
    agents = frame[(frame["row"] == "N=2 | MADDPG v DDPG") & (frame["metric"] == "agent_success_percent")].iloc[0]
    assert agents["paper"] == 92.2 and agents["paper_in_ci"] == True  # noqa: E712
    assert "| N=2 | MADDPG v DDPG | 92.0 [90.0, 94.0] (n=3) | 92.2 | yes |" in markdown
    assert "| N=4 | MADDPG v MADDPG | not run | 81.5 | - |" in markdown


def test_duplicate_seeds_come_from_the_longer_then_newer_run(tmp_path):
    def cc_run(run_id, episodes, created_at, value, seeds=(0, 1)):
        write_run(tmp_path, "cooperative_communication", "speaker_listener", "maddpg", seeds, episodes=episodes,
                  run_id=run_id, created_at=created_at,
                  evaluation={seed: {"target_reach_nearest_percent": value, "final_squared_distance": 0.2} for seed in seeds})

    cc_run("long_old", 25_000, "2026-01-01T00:00:00+00:00", 50.0)
    cc_run("short_new", 5_000, "2026-03-01T00:00:00+00:00", 10.0)
    cc_run("long_new", 25_000, "2026-02-01T00:00:00+00:00", 70.0, seeds=(1, 2))
    write_run(tmp_path, "cooperative_communication", "speaker_listener", "maddpg", (0,), episodes=1000,
              run_id="short_unevaluated", created_at="2026-04-01T00:00:00+00:00")  # superseded: never listed
    markdown, frame = experiment_table("cooperative_communication", tmp_path)
    markdown = flat(markdown)
    cell = frame[(frame["algorithm"] == "maddpg") & (frame["metric"] == "target_reach_nearest_percent")].iloc[0]
    # seed 0: long_old (longest); seeds 1 and 2: long_new (as long, newer); short_new never.
    assert cell["n"] == 3 and cell["mean"] == pytest.approx((50 + 70 + 70) / 3)
    assert cell["runs"] == "cooperative_communication/long_new;cooperative_communication/long_old"
    assert "`results/cooperative_communication/long_old` (MADDPG, speaker_listener, seeds 0, 25000" in markdown
    assert "short_new" not in markdown and "short_unevaluated" not in markdown


def test_smoke_runs_are_left_out_unless_asked_or_listed(tmp_path):
    smoke_dir = write_run(tmp_path, "cooperative_communication", "speaker_listener", "maddpg", (0, 1),
                          run_id="smoke_maddpg_s0-1_ep200", episodes=200,
                          evaluation={seed: {"target_reach_nearest_percent": 5.0, "final_squared_distance": 0.6} for seed in (0, 1)})
    assert load_results(tmp_path).evaluation.empty
    assert len(load_results(tmp_path, include_smoke=True).evaluation) == 4
    markdown, frame = experiment_table("cooperative_communication", tmp_path, run_dirs=[smoke_dir])
    assert frame.loc[frame["algorithm"] == "maddpg", "n"].tolist() == [2, 2]
    with pytest.raises(ValueError, match="no table"):
        experiment_table("no_such_experiment", tmp_path)


def test_learning_curve_and_update_iterations(tmp_path):
    write_run(tmp_path, "cooperative_communication", "speaker_listener", "maddpg", (0, 1, 2),
              metrics=cc_metrics({0: (0.9, 0.5, 0.3), 1: (0.8, 0.3, 0.6), 2: (0.7, 0.62, 0.2)}))
    results = load_results(tmp_path)
    curve = learning_curve(results.metrics, "cooperative_communication", "speaker_listener", "maddpg", "team",
                           "mean_episode_reward")
    assert curve["episode"].tolist() == [1000, 2000, 3000]
    assert curve["mean"].tolist() == pytest.approx([-59.0, -39.0, -29.0])  # logged values, not smoothed again
    assert curve["n"].tolist() == [3, 3, 3]
    assert (curve["low"] < curve["mean"]).all() and (curve["mean"] < curve["high"]).all()
    # Fig. 6: learned when the logged final distance is below 0.35.
    rate = success_rate_curve(results.metrics, "cooperative_communication", "speaker_listener", "maddpg")
    assert rate["learned"].tolist() == [0, 1, 2] and rate["rate"].tolist() == pytest.approx([0, 1 / 3, 2 / 3])
    # env_step = 25 x episode; updates start after 25,600 transitions, one per 100.
    updates = results.metrics.drop_duplicates("episode").set_index("episode")["update"]
    assert updates.to_dict() == {1000: 0.0, 2000: (50_000 - 25_600) / 100, 3000: (75_000 - 25_600) / 100}


# ---- the two dynamics ----------------------------------------------------------------------------------

def cc_reach_run(results_dir, dynamics, reach, episodes=3000, **fields):
    """A CC MADDPG run of seeds 0-2 whose target reach is reach + seed and average distance reach / 100."""
    return write_run(results_dir, "cooperative_communication", "speaker_listener", "maddpg", (0, 1, 2),
                     episodes=episodes, dynamics=dynamics,
                     evaluation={seed: {"target_reach_nearest_percent": reach + seed, "final_squared_distance": reach / 100}
                                 for seed in (0, 1, 2)}, **fields)


def test_paper_and_mpe2_runs_of_the_same_seeds_give_two_tables(tmp_path, capsys):
    results_dir = tmp_path / "results"
    # The paper run is longer and newer: were the dynamics one key, it would supersede the mpe2 run's seeds.
    cc_reach_run(results_dir, "paper", 80.0, episodes=25_000, created_at="2026-05-01T00:00:00+00:00",
                 metrics=cc_metrics({seed: (0.9, 0.5, 0.2) for seed in (0, 1, 2)}))
    cc_reach_run(results_dir, "mpe2", 10.0, metrics=cc_metrics({seed: (0.9, 0.7, 0.6) for seed in (0, 1, 2)}))
    code, out_dir, readme_path = run_command(tmp_path, results_dir)
    printed = capsys.readouterr().out
    assert code == 0 and "warning" not in printed
    paper, mpe2 = table_rows(out_dir, "table1"), table_rows(out_dir, "table1_mpe2")
    for frame, dynamics, reach, run in ((paper, "paper", 80.0, "paper_maddpg_s0-2_ep25000"),
                                        (mpe2, "mpe2", 10.0, "mpe2_maddpg_s0-2_ep3000")):
        cell = frame[(frame["algorithm"] == "maddpg") & (frame["metric"] == "target_reach_nearest_percent")].iloc[0]
        assert (cell["dynamics"], cell["n"], cell["runs"]) == (dynamics, 3, f"cooperative_communication/{run}")
        assert float(cell["mean"]) == pytest.approx(reach + 1)  # the CSV's not-run cells make it a text column
        assert set(frame["dynamics"]) == {dynamics}
    # Only Table 1 has mpe2 runs: no other _mpe2 table; every paper table is written, run or not.
    assert sorted(path.name for path in out_dir.glob("*_mpe2.csv")) == ["table1_mpe2.csv"]
    assert all((out_dir / f"{table}.csv").is_file() for table in TABLE_FILES)
    tables_md = flat((out_dir / "tables.md").read_text())
    paper_title = "## Table 1: cooperative communication (speaker-listener), after training (paper dynamics)"
    mpe2_title = "## Table 1: cooperative communication (speaker-listener), after training (mpe2 dynamics)"
    assert tables_md.index(paper_title) < tables_md.index(mpe2_title)
    assert "| MADDPG | 81.0 [80.0, 82.0] (n=3) |" in tables_md and "| MADDPG | 11.0 [10.0, 12.0] (n=3) |" in tables_md
    # Fig. 4 and 6 once per dynamics; the mpe2 README section follows the paper tables.
    for name in ("fig4_cc_reward_curves", "fig6_cc_policy_learning_success"):
        assert (out_dir / "figures" / f"{name}.png").is_file() and (out_dir / "figures" / f"{name}_mpe2.png").is_file()
    assert not (out_dir / "figures" / "fig8_covert_reward_curves_mpe2.png").exists()
    text = results_page(readme_path)
    # Table 1 of the other dynamics sits right under the headline Table 1, before the other tables.
    assert text.index("## Table 1: cooperative communication") < text.index("### Table 1: cooperative communication") \
        < text.index("Not run yet (paper dynamics)")
    assert "MADDPG 3 of 3 (episode 3000)" in text and "MADDPG 0 of 3 (episode 3000)" in text  # Fig. 6, each its own
    # The README's headline table has the paper-dynamics Table 1 only.
    headline = readme_path.read_text()
    assert headline.count("| [Table 1](docs/results.md#table-1-") == 1 and "(mpe2 dynamics)" not in headline


def test_a_run_that_records_no_dynamics_counts_as_mpe2(tmp_path):
    old = cc_reach_run(tmp_path, None, 30.0, metrics=cc_metrics({0: (0.9, 0.6, 0.3)}))
    meta_only = write_run(tmp_path, "cooperative_communication", "speaker_listener", "ddpg", (0,), dynamics="paper",
                          recorded_in=("meta",), evaluation={0: {"target_reach_nearest_percent": 5.0, "final_squared_distance": 0.6}})
    results = load_results(tmp_path)
    by_label = results.runs_by_label()
    assert by_label[f"cooperative_communication/{old.name}"].dynamics == "mpe2"
    # meta.json says it when config.json does not.
    assert by_label[f"cooperative_communication/{meta_only.name}"].dynamics == "paper"
    assert set(results.metrics["dynamics"]) == {"mpe2"}
    assert results.evaluation.set_index("algorithm")["dynamics"].to_dict() == {"maddpg": "mpe2", "ddpg": "paper"}
    tables = {(table.layout.name, table.dynamics): table for table in build_all_tables(results)}
    table1 = tables[("table1", "paper")].frame.set_index(["algorithm", "metric"])["n"]
    assert table1[("maddpg", "target_reach_nearest_percent")] == 0 and table1[("ddpg", "target_reach_nearest_percent")] == 1
    assert tables[("table1", "mpe2")].frame.set_index(["algorithm", "metric"])["n"][
        ("maddpg", "target_reach_nearest_percent")] == 3
    assert ("table2", "mpe2") not in tables and ("table2", "paper") in tables
    # Given only the old run, experiment_table answers with its (mpe2) table.
    markdown, frame = experiment_table("cooperative_communication", tmp_path, run_dirs=[old])
    assert set(frame["dynamics"]) == {"mpe2"} and markdown.startswith("Table 1: ") \
        and "after training (mpe2 dynamics)\n" in markdown
    assert "| MADDPG | 31.0 [30.0, 32.0] (n=3) |" in markdown


def test_rows_whose_dynamics_disagree_with_the_config_warn_and_follow_the_config(tmp_path):
    cc_reach_run(tmp_path, "paper", 40.0, rows_dynamics="mpe2")
    results = load_results(tmp_path)
    assert any("dynamics mpe2" in warning and "says paper" in warning for warning in results.warnings)
    assert set(results.evaluation["dynamics"]) == {"paper"}


def test_experiment_table_refuses_mixed_dynamics(tmp_path):
    paper_dir = cc_reach_run(tmp_path, "paper", 80.0)
    mpe2_dir = cc_reach_run(tmp_path, "mpe2", 10.0)
    with pytest.raises(ValueError, match="more than one dynamics"):
        experiment_table("cooperative_communication", tmp_path, run_dirs=[paper_dir, mpe2_dir])
    with pytest.raises(ValueError, match="more than one dynamics"):
        experiment_table("cooperative_communication", tmp_path)
    with pytest.raises(ValueError, match="not mpe2"):
        experiment_table("cooperative_communication", tmp_path, run_dirs=[paper_dir], dynamics="mpe2")
    for run_dirs, dynamics, mean in (([paper_dir], None, 81.0), ([mpe2_dir], None, 11.0), (None, "paper", 81.0),
                                     (None, "mpe2", 11.0)):
        markdown, frame = experiment_table("cooperative_communication", tmp_path, run_dirs=run_dirs,
                                           dynamics=dynamics)
        cell = frame[(frame["algorithm"] == "maddpg") & (frame["metric"] == "target_reach_nearest_percent")].iloc[0]
        assert cell["mean"] == pytest.approx(mean) and cell["n"] == 3
        assert f"({cell['dynamics']} dynamics)" in markdown.splitlines()[0]
    assert (table_stem("table1", "paper"), table_stem("table1", "mpe2")) == ("table1", "table1_mpe2")
    assert table_stem("keep_away", "mpe2") == "keep_away_mpe2"
    with pytest.raises(ValueError, match="unknown dynamics"):
        table_stem("table1", "2018")


def test_fig4_paper_markers_are_the_papers_values(tmp_path, monkeypatch):
    """The paper's Fig. 4 ends as read off the plot (MADDPG near -15, TRPO -26, DDPG -28, Actor-Critic -30, DQN
    -35, REINFORCE -45), already in our team-reward units (not halved)."""
    published = {"maddpg": -15.0, "trpo": -26.0, "ddpg": -28.0, "actor_critic": -30.0, "dqn": -35.0,
                 "reinforce": -45.0}
    for algorithm in published:
        write_run(tmp_path, "cooperative_communication", "speaker_listener", algorithm, (0, 1), dynamics="paper",
                  metrics=cc_metrics({0: (0.9, 0.6, 0.3), 1: (0.9, 0.6, 0.6)}))
    drawn = []
    monkeypatch.setattr(paper_figure_module, "_save",
                        lambda figure, figures_dir, name, dynamics: drawn.append(figure) or figures_dir / name)
    outcome = paper_figure_module.figure4(load_results(tmp_path), tmp_path / "figures")
    assert outcome.path is not None and len(drawn) == 1
    markers = [line for line in drawn[0].axes[0].lines if line.get_marker() == "X" and len(line.get_ydata())]
    assert sorted(float(line.get_ydata()[0]) for line in markers) == sorted(published.values())
    assert {float(line.get_xdata()[0]) for line in markers} == {25_000.0}
    assert paper_figure_module.fig4_paper_markers(published) == published
    assert "halved" not in outcome.caption


# ---- Fig. 3's normalisation ----------------------------------------------------------------------------

def test_normaliser_gives_the_paper_bar_heights():
    """The published tables, normalised, give the bars the paper prints in Fig. 3 left (the values below)."""
    expected = {
        "PP1: prey touches": (0.239, 1.0, 0.134, 0.0),
        "PD N=2: success difference": (0.687, 1.0, 0.0, 0.398),
        "PD N=4: success difference": (1.0, 0.946, 0.297, 0.0),
        "Covert: success difference": (0.844, 1.0, 0.0, 0.469),
    }
    assert [series.title for series in FIG3_LEFT] == list(expected)
    for series in FIG3_LEFT:
        heights = paper_scores(series)
        assert [heights[pairing] for pairing in PAIRINGS] == pytest.approx(expected[series.title], abs=6e-4)


def test_normaliser_on_partial_and_degenerate_series():
    assert min_max_normalise({"a": 2.0, "b": 4.0, "c": float("nan")}) == {"a": 0.0, "b": 1.0, "c": pytest.approx(
        float("nan"), nan_ok=True)}
    assert all(np.isnan(v) for v in min_max_normalise({"a": 3.0}).values())
    assert all(np.isnan(v) for v in min_max_normalise({"a": 3.0, "b": 3.0}).values())


# ---- the command ---------------------------------------------------------------------------------------

def test_command_writes_every_file_it_promises(tmp_path, capsys):
    full_results(tmp_path / "results", "paper")
    full_results(tmp_path / "results", "mpe2", offset=0.5)
    code, out_dir, readme_path = run_command(tmp_path, tmp_path / "results")
    printed = capsys.readouterr().out
    assert code == 0
    assert "skipped" not in printed and "warning" not in printed
    stems = [*TABLE_FILES, *(f"{table}_mpe2" for table in TABLE_FILES)]
    for name in ("tables.md", *(f"{stem}.csv" for stem in stems)):
        assert (out_dir / name).is_file() and f"wrote {out_dir / name}" in printed
    for name in (*FIGURES, *(f"{figure}_mpe2" for figure in FIGURES)):
        path = out_dir / "figures" / f"{name}.png"
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 10_000, name
        assert f"wrote {path}" in printed
    for table in TABLE_FILES:
        paper, mpe2 = table_rows(out_dir, table), table_rows(out_dir, f"{table}_mpe2")
        assert (paper["n"] == 3).all() and (mpe2["n"] == 3).all(), table
        assert set(paper["dynamics"]) == {"paper"} and set(mpe2["dynamics"]) == {"mpe2"}, table
        assert (mpe2["mean"] - paper["mean"]).to_numpy() == pytest.approx(0.5), table
        assert all(run.split("/")[1].startswith("mpe2_") for runs in mpe2["runs"] for run in runs.split(";"))
    headline = readme_path.read_text()
    assert headline.startswith("# Project\n\nintro\n\n## Results\n\n" + readme.START_MARKER)
    assert headline.endswith(readme.END_MARKER + "\n\n### Speed\n\nfast\n")
    text = results_page(readme_path)
    assert text.startswith("# Results\n\nwhat this page is\n\n" + readme.START_MARKER)
    assert text.endswith(readme.END_MARKER + "\n\n## Time\n\nlong\n")
    for name in FIGURES:  # links from docs/ to out/figures/
        assert f"](../out/figures/{name}.png)" in text and f"](../out/figures/{name}_mpe2.png)" in text
        assert text.index(f"](../out/figures/{name}.png)") < text.index("The same figures on mpe2 dynamics") \
            < text.index(f"](../out/figures/{name}_mpe2.png)")
    # The results page: the paper-dynamics tables, Table 1 of mpe2 beside its paper-dynamics twin, the other
    # mpe2 tables named with a link; the run folders behind the cells only in tables.md.
    assert text.index("## Table 1: cooperative communication (speaker-listener), after training (paper dynamics)") \
        < text.index("### Table 1: cooperative communication (speaker-listener), after training (mpe2 dynamics)") \
        < text.index("## Table 2: cooperative navigation") < text.index(
            "## Table 6: policy ensembles vs single policies (paper dynamics)") < text.index("On mpe2 dynamics")
    assert "Table 2 (mpe2 dynamics)" not in text and "Runs used" not in text
    assert "Runs used" in (out_dir / "tables.md").read_text()
    # The README is a front page: one row per paper-dynamics table, its name linking the table's section of the
    # results page; no table, figure or run folder of its own.
    rows = [line for line in headline.splitlines() if line.startswith("| [")]
    assert len(rows) == len(TABLE_FILES)
    for row, title in zip(rows, [line[3:] for line in text.splitlines() if line.startswith("## Table")
                                 or line.startswith("## Extra")]):
        assert re.search(r"\]\(docs/results\.md#([^)]*)\)", row).group(1) == heading_anchor(title), (row, title)
    # Each row counts its table's cells in our CI and the claims that hold as claims.csv has them.
    claims = pd.read_csv(out_dir / "claims.csv")
    table1_claims = claims[(claims["table"] == "table1") & (claims["dynamics"] == "paper")]
    table1_cells = table_rows(out_dir, "table1")
    inside = int((table1_cells["paper_in_ci"].astype(str) == "True").sum())
    assert rows[0].startswith("| [Table 1](docs/results.md#table-1-cooperative-communication-speaker-listener-"
                              f"after-training-paper-dynamics) | {inside} of {len(table1_cells)} | "
                              f"{(table1_claims['verdict'] == 'holds').sum()} of {len(table1_claims)}")
    assert "![" not in headline and "Runs used" not in headline and "](out/figures" not in headline
    tables_md_text = (out_dir / "tables.md").read_text()
    assert tables_md_text.index("(paper dynamics)\n") < tables_md_text.index("Policy inference (speaker-listener), "
                                                                           "evaluation reward (paper dynamics)")
    assert tables_md_text.index("evaluation reward (paper dynamics)") < tables_md_text.index("(mpe2 dynamics)")
    # The results page's tables are tables.md's, not a second rendering.
    tables_md = (out_dir / "tables.md").read_text()
    table1 = text[text.index("## Table 1"):text.index("\n\nSeeds that had learned")]
    assert "(paper dynamics)" in table1.splitlines()[0]
    assert table1.split("\n", 2)[2] in tables_md  # the table and its notes, verbatim


def test_partial_results_give_not_run_cells_and_skipped_figures(tmp_path, capsys):
    results_dir = tmp_path / "results"
    # A CC run still training (no evaluation.csv) and two of PD N=2's pairings.
    write_run(results_dir, "cooperative_communication", "speaker_listener", "maddpg", (0, 1),
              metrics=cc_metrics({0: (0.9, 0.6, 0.3), 1: (0.9, 0.6, 0.6)}), training_complete=False,
              dynamics="paper")
    for index, pairing in enumerate(PAIRINGS[:2]):
        write_run(results_dir, "physical_deception", "adversary_n2", pairing, (0, 1), dynamics="paper", evaluation={
            seed: {"agent_success_percent": 80.0, "adversary_success_percent": 30.0, "success_difference": 50.0
                   - 10 * index + seed} for seed in (0, 1)})
    (results_dir / "predator_prey" / "broken").mkdir(parents=True)
    (results_dir / "predator_prey" / "broken" / "config.json").write_text("{not json")
    # Left by an earlier call when mpe2 runs existed: removed, as tables.md no longer shows them.
    (tmp_path / "out" / "figures").mkdir(parents=True)
    (tmp_path / "out" / "table1_mpe2.csv").write_text("stale\n")
    (tmp_path / "out" / "figures" / "fig4_cc_reward_curves_mpe2.png").write_bytes(b"stale")
    code, out_dir, readme_path = run_command(tmp_path, results_dir)
    printed = capsys.readouterr().out
    assert code == 0
    assert "warning: skipped" in printed and "broken" in printed
    table1 = table_rows(out_dir, "table1")
    assert (table1["n"] == 0).all()
    tables_md = flat((out_dir / "tables.md").read_text())
    assert "| MADDPG | not run | 84.0 | - | not run | 0.133 | - |" in tables_md
    assert "Not evaluated yet (their cells say not run): `results/cooperative_communication/" \
           "paper_maddpg_s0-1_ep3000` (training)" in tables_md
    # No mpe2 run: no mpe2 table or figure at all, and no "skipped" line for one.
    assert not list(out_dir.glob("*_mpe2.csv")) and not list((out_dir / "figures").glob("*_mpe2.png"))
    assert "(mpe2 dynamics)" not in tables_md and "mpe2 dynamics" not in printed
    assert (table_rows(out_dir, "table2")["n"] == 0).all() and (table_rows(out_dir, "table6")["n"] == 0).all()
    table4 = table_rows(out_dir, "table4")
    assert table4.loc[table4["row"].isin(["N=2 | MADDPG v MADDPG", "N=2 | MADDPG v DDPG"]), "n"].eq(2).all()
    assert table4.loc[table4["row"].str.startswith("N=4"), "n"].eq(0).all()
    # Curves of an incomplete run are still drawn, and say so; Fig. 3 left is drawn from the 2 pairings.
    assert (out_dir / "figures" / "fig4_cc_reward_curves.png").is_file()
    assert (out_dir / "figures" / "fig3_left_normalised_scores.png").is_file()
    assert "note: PD N=2: success difference: ours scaled over the 2 of 4 evaluated" in printed
    for name, script in (("fig3_right_ensembles", "policy_ensembles"), ("fig7_policy_inference", "policy_inference"),
                         ("fig8_covert_reward_curves", "covert_communication")):
        assert not (out_dir / "figures" / f"{name}.png").exists()
        assert any(line.startswith("skipped Fig.") and f"python -m reproduction.{script}" in line
                   for line in printed.splitlines()), script
    text = results_page(readme_path)
    assert "## Table 4" in text and "## Table 1" not in text and "Tables on mpe2" not in text
    assert "Not run yet (paper dynamics):\n\n- Table 1: `python -m reproduction.cooperative_communication`\n" \
           "- Table 2:" in text
    assert "Not drawn yet:\n\n- Fig. 3 right" in text and "![Fig. 3 left" in text and "![Fig. 4" in text
    headline = readme_path.read_text()
    assert [line.split("](")[0] for line in headline.splitlines() if line.startswith("| [")] == ["| [Table 4"]


def test_empty_results_folder_writes_tables_and_skips_every_figure(tmp_path, capsys):
    (tmp_path / "results").mkdir()
    code, out_dir, _ = run_command(tmp_path, tmp_path / "results", "--no_readme")
    printed = capsys.readouterr().out
    assert code == 0
    assert printed.count("skipped Fig.") == len(FIGURES)
    assert all((table_rows(out_dir, table)["n"] == 0).all() for table in TABLE_FILES)
    assert (tmp_path / "README.md").read_text() == README_TEXT
    assert (tmp_path / "docs" / "results.md").read_text() == PAGE_TEXT


def test_bad_input_is_one_line_and_exit_code_2(tmp_path, capsys):
    code, out_dir, _ = run_command(tmp_path, tmp_path / "missing")
    error = capsys.readouterr().err
    assert code == 2 and error.startswith("error: results directory") and error.count("\n") == 1
    (tmp_path / "results").mkdir()
    out_dir, readme_path = tmp_path / "out", tmp_path / "NO_MARKERS.md"
    readme_path.write_text("# no markers\n")
    assert main(["paper_figures", f"--results_dir={tmp_path / 'results'}", f"--out_dir={out_dir}",
                 f"--readme={readme_path}"]) == 2
    assert "paper_figures:start" in capsys.readouterr().err and not out_dir.exists()
    # A results page without the markers: the same, naming it, and the README is left as it was.
    good_readme, page_path = tmp_path / "README.md", tmp_path / "NO_MARKERS_PAGE.md"
    good_readme.write_text(README_TEXT)
    page_path.write_text("# no markers\n")
    assert main(["paper_figures", f"--results_dir={tmp_path / 'results'}", f"--out_dir={out_dir}",
                 f"--readme={good_readme}", f"--results_page={page_path}"]) == 2
    error = capsys.readouterr().err
    assert str(page_path) in error and "paper_figures:start" in error and error.count("\n") == 1
    assert not out_dir.exists() and good_readme.read_text() == README_TEXT
    assert main(["paper_figures", f"--results_dir={tmp_path / 'results'}", f"--out_dir={out_dir}",
                 f"--readme={good_readme}", f"--results_page={good_readme}"]) == 2
    assert "same file" in capsys.readouterr().err and not out_dir.exists()
    assert main(["paper_figures", "--no_such_flag"]) == 2


def test_tables_import_neither_tensorflow_nor_seaborn():
    code = ("import sys, paper_figures.tables, paper_figures.runs, paper_figures.scores; "
            "print(sorted(m for m in ('tensorflow', 'seaborn', 'matplotlib') if m in sys.modules))")
    completed = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "[]"
