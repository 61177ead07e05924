"""The paper's claims tested with the probability of improvement, and the ablation studies' command line."""

import dataclasses
import shutil
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import mannwhitneyu

from maddpg.stats import probability_of_improvement
from paper_figures.claims import CLAIMS, claim_results, summary_markdown, verdict
from paper_figures.runs import load_results
from paper_figures.table_layouts import TABLE_LAYOUTS
from paper_figures.tables import build_all_tables
from reproduction import ablations

REPO = Path(__file__).resolve().parent.parent


def test_probability_of_improvement_is_the_mann_whitney_share_with_an_interval_around_it():
    rng = np.random.default_rng(0)
    better, worse = rng.normal(1.0, 1.0, 10), rng.normal(0.0, 1.0, 10)
    estimate, low, high = probability_of_improvement(better, worse)
    assert estimate == pytest.approx(mannwhitneyu(better, worse).statistic / 100)
    assert low < estimate < high and 0.0 <= low and high <= 1.0
    assert probability_of_improvement([1, 2, 3], [1, 2, 3])[0] == 0.5  # ties count half
    assert probability_of_improvement(worse, better)[0] == pytest.approx(1 - estimate)
    assert np.isnan(probability_of_improvement([1.0], [0.0, 1.0])[0])  # one seed: no claim


def test_verdicts_read_the_interval_against_one_half():
    assert verdict(0.6, 0.9) == "holds" and verdict(0.1, 0.4) == "reversed"
    assert verdict(0.3, 0.8) == "not shown" and verdict(float("nan"), float("nan")) == "not run"
    # A "no worse" claim (as well as) fails only when the interval shows it worse.
    assert verdict(0.3, 0.8, no_worse=True) == "holds" and verdict(0.1, 0.4, no_worse=True) == "reversed"
    assert verdict(float("nan"), float("nan"), no_worse=True) == "not run"


def test_committed_policy_inference_does_as_well_as_true_policies():
    frame = claim_results(load_results(REPO / "results"), "paper")
    row = frame[frame.table == "table_policy_inference"].iloc[0]
    # results/policy_inference (paper dynamics): evaluation reward -18.79 inferred v -18.01 true, 10 seeds each.
    assert (row.better_n, row.worse_n) == (10, 10)
    assert row.ci_low < 0.5 < row.ci_high and row.verdict == "holds", row


def test_every_claim_names_cells_of_its_table():
    layouts = {layout.name: layout for layout in TABLE_LAYOUTS}
    for claim in CLAIMS:
        layout = layouts[claim.table]
        assert claim.experiment == layout.experiment, claim
        cells = {(cell.scenario, cell.metric) for cell in layout.cells}
        assert (claim.scenario, claim.metric) in cells, claim


def test_committed_table1_claims_hold_with_ten_seeds_a_side():
    results = load_results(REPO / "results")
    frame = claim_results(results, "paper")
    table1 = frame[frame.table == "table1"]
    assert len(table1) == 2 and (table1.better_n == 10).all() and (table1.worse_n == 10).all()
    # results/cooperative_communication (paper dynamics): MADDPG 79.2% v DDPG 32.6% reach.
    assert (table1.verdict == "holds").all(), table1
    tables = build_all_tables(results)
    summary = summary_markdown(tables, frame, "paper")
    table1_cells = next(t for t in tables if t.layout.name == "table1" and t.dynamics == "paper").frame
    judged = table1_cells[table1_cells.paper.notna() & table1_cells.paper_in_ci.notna()]
    # MADDPG's two cells and DDPG's reach hold the paper's numbers; DDPG's distance (0.480 v 0.456) does not.
    maddpg_ddpg = judged[judged.algorithm.isin(["maddpg", "ddpg"])]
    assert int(maddpg_ddpg.paper_in_ci.astype(bool).sum()) == 3 and len(maddpg_ddpg) == 4
    inside = int(judged.paper_in_ci.astype(bool).sum())
    assert f"| Table 1 | {inside} of {len(judged)} |" in summary


def test_ablations_list_and_bad_input(capsys):
    assert ablations.main(["ablations", "--list"]) == 0
    listed = capsys.readouterr().out
    for study in ablations.STUDIES:
        assert f"{study.name}: " in listed
        for value in study.values:
            assert " ".join(study.command(value, Path(ablations.ABLATIONS_DIR))) in listed
    assert ablations.main(["ablations", "--study=nope", "--list"]) == 2
    assert "unknown study 'nope'" in capsys.readouterr().err
    assert ablations.main(["ablations", "--study=inference_fit", "--value=relaxed_lr0.001", "--list"]) == 0
    one = capsys.readouterr().out
    assert "relaxed_lr0.001: python" in one and "latest100_step1" not in one
    assert ablations.main(["ablations", "--study=inference_fit", "--value=nope", "--list"]) == 2
    assert "unknown value 'nope' of study inference_fit" in capsys.readouterr().err
    assert ablations.main(["ablations", "--value=greedy", "--list"]) == 2
    assert "--value needs exactly one --study" in capsys.readouterr().err


def test_a_study_of_committed_runs_summarises_without_training(tmp_path):
    study = next(study for study in ablations.STUDIES if study.name == "cc_dynamics")
    frame = ablations.study_frame(study, tmp_path)
    assert set(frame["value"]) == {"paper", "mpe2"}
    assert (frame["n"] == 10).all() and set(frame["column"]) == {"target reach %", "average distance"}
    assert len(frame[frame["algorithm"].isin(["maddpg", "ddpg"])]) == 8
    text = ablations.summary_markdown(study, frame)
    for value in ("paper", "mpe2"):  # MADDPG and DDPG rows of both columns (baseline rows may come on top)
        assert text.count(f"\n| {value} | MADDPG | ") == 2 and text.count(f"\n| {value} | DDPG | ") == 2


def test_a_study_scenario_fills_the_paper_scenarios_cells(tmp_path):
    """pp_obstacles' PP1-with-2-obstacles runs report in Table 3's PP1 cells (Study.table_scenarios)."""
    study = next(study for study in ablations.STUDIES if study.name == "pp_obstacles")
    value = next(value for value in study.values if not value.committed_runs)
    source = REPO / "results" / "predator_prey" / "mpe2_pp1_maddpg_vs_maddpg_s0-2_ep25000"
    target = study.folder(value, tmp_path) / "predator_prey" / "mpe2_pp1_l2_maddpg_vs_maddpg_s0-2_ep25000"
    target.mkdir(parents=True)
    for path in source.iterdir():  # the committed PP1 run, relabelled as a run of the study's scenario
        if path.is_file():
            (target / path.name).write_text(path.read_text().replace("tag_pp1", "tag_pp1_l2"))
    mpe2_study = dataclasses.replace(study, values=(value,), dynamics="mpe2")
    frame = ablations.study_frame(mpe2_study, tmp_path)
    assert set(frame["scenario"]) == {"tag_pp1"} and (frame["n"] == 3).all() and len(frame) == 1
    assert ablations.study_frame(dataclasses.replace(mpe2_study, table_scenarios=()), tmp_path).empty


def test_the_learned_fraction_counts_seeds_below_fig6s_threshold(tmp_path):
    """learned_markdown's end column is, per run, the number of seeds whose last logged final goal distance
    is below Fig. 6's threshold (counted here from metrics.csv directly); a study without speaker-listener
    runs has no such table."""
    import pandas as pd

    from paper_figures.aggregate import LEARNED_DISTANCE_THRESHOLD

    study = next(study for study in ablations.STUDIES if study.name == "cc_length")
    value = next(value for value in study.values if not value.committed_runs)
    source = REPO / "results" / "cooperative_communication" / "paper_maddpg_s0-9_ep25000"
    target = study.folder(value, tmp_path) / "cooperative_communication" / source.name
    shutil.copytree(source, target)
    metrics = pd.read_csv(target / "metrics.csv")
    distances = metrics[(metrics["metric"] == "final_goal_distance") & (metrics["role"] == "team")]
    last = distances[distances["episode"] == distances["episode"].max()]
    learned = int((last.groupby("seed")["value"].mean() < LEARNED_DISTANCE_THRESHOLD).sum())
    assert 0 < learned < 10  # the committed run has seeds on both sides, so the count is informative
    text = ablations.learned_markdown(dataclasses.replace(study, values=(value,)), tmp_path)
    row = next(line for line in text.splitlines() if line.startswith(f"| {value.label} | maddpg |"))
    assert row.endswith(f"| {learned} of 10 (ep 25000) |")
    pd_study = next(study for study in ablations.STUDIES if study.name == "pd_dynamics")
    assert ablations.learned_markdown(pd_study, tmp_path) == ""
