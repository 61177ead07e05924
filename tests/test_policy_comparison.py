"""paper_figures.policy_comparison: the three policy kinds side by side, from hand-written run folders."""

import math

import pandas as pd

from paper_figures import policy_comparison

COLUMNS = "experiment,scenario,algorithm,dynamics,role,seed,episode,env_step,metric,value"


def _write_run(folder, experiment, scenario, algorithm, metrics_by_seed, curve=None):
    folder.mkdir(parents=True)
    lines = [COLUMNS] + [f"{experiment},{scenario},{algorithm},paper,team,{seed},25000,625000,{metric},{value}"
                         for seed, values in metrics_by_seed.items() for metric, value in values.items()]
    (folder / "evaluation.csv").write_text("\n".join(lines) + "\n")
    curve = curve or {}
    lines = [COLUMNS] + [f"{experiment},{scenario},{algorithm},paper,team,{seed},{episode},{episode * 25},"
                         f"final_goal_distance,{value}" for seed, points in curve.items() for episode, value in points]
    (folder / "metrics.csv").write_text("\n".join(lines) + "\n")


def _cc(results, policy, reach, curve):
    suffix = "" if policy == "gumbel_softmax" else f"_{policy}"
    base = results if policy == "gumbel_softmax" else results / "policies"
    _write_run(base / "cooperative_communication" / f"paper_maddpg{suffix}_s0-2_ep25000", "cooperative_communication",
               "speaker_listener", "maddpg",
               {seed: {"target_reach_nearest_percent": value, "final_squared_distance": 0.1} for seed, value in
                enumerate(reach)}, curve)


def test_the_comparison_reads_each_kind_and_gives_the_probability_of_beating_the_paper_policy(tmp_path):
    learned = {0: [(1000, 0.6), (2000, 0.2), (3000, 0.2)], 1: [(1000, 0.6), (2000, 0.6), (3000, 0.2)],
               2: [(1000, 0.6), (2000, 0.6), (3000, 0.6)]}
    _cc(tmp_path, "gumbel_softmax", [50.0, 60.0, 70.0], learned)
    _cc(tmp_path, "deterministic", [80.0, 85.0, 90.0],
        {seed: [(1000, 0.6), (2000, 0.3), (3000, 0.3)] for seed in range(3)})
    rows = policy_comparison.comparison_rows(tmp_path)
    reach = rows[rows["metric"] == "target_reach_nearest_percent"].set_index("policy")
    assert reach.loc["gumbel_softmax", "mean"] == 60.0 and reach.loc["gumbel_softmax", "n"] == 3
    assert reach.loc["deterministic", "mean"] == 85.0
    assert reach.loc["deterministic", "p_better"] == 1.0  # every deterministic seed beats every gumbel seed
    assert reach.loc["straight_through", "n"] == 0  # not run: no folder
    assert math.isnan(reach.loc["gumbel_softmax", "p_better"])
    distance = rows[rows["metric"] == "final_squared_distance"].set_index("policy")
    assert distance.loc["deterministic", "p_better"] == 0.5  # all tied at 0.1: lower-is-better, ties count half
    seeds = policy_comparison.seeds_learned(tmp_path).set_index("policy")
    assert seeds.loc["gumbel_softmax", "learned"] == 2 and seeds.loc["gumbel_softmax", "n"] == 3
    assert math.isnan(seeds.loc["gumbel_softmax", "all_learned_from_episode"])
    assert seeds.loc["deterministic", "all_learned_from_episode"] == 2000
    text = policy_comparison.markdown(rows, policy_comparison.seeds_learned(tmp_path))
    assert "| cooperative communication (Table 1) | target reach % (higher is better) | deterministic | " \
           "85.0 [" in text
    assert "- gumbel_softmax: 2 of 3 seeds learned at the end; never all" in text


def test_nothing_is_written_until_another_kind_has_run(tmp_path):
    _cc(tmp_path, "gumbel_softmax", [50.0, 60.0, 70.0], {0: [(1000, 0.2)]})
    assert policy_comparison.write(tmp_path, tmp_path) is None
    _cc(tmp_path, "straight_through", [40.0, 45.0, 42.0], {0: [(1000, 0.2)]})
    path, full, headline = policy_comparison.write(tmp_path, tmp_path)
    assert path.read_text().endswith(full)
    assert "| cooperative communication: target reach %, higher is better | 60.0 (n=3) | 42.3 (n=3), P(better) 0.00 |" \
        " not run |" in headline
    written = pd.read_csv(tmp_path / "policy_comparison.csv")
    assert set(written["policy"]) == set(policy_comparison.POLICIES)
    assert written.loc[(written["policy"] == "straight_through")
                       & (written["metric"] == "target_reach_nearest_percent"), "p_better"].item() == 0.0
