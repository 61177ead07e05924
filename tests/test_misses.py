"""The measured reasons for missed cells (the README's one line, the results page's whole entry): every number
in them comes from a committed file."""

import dataclasses

import pytest

from paper_figures.claims import misses_text
from paper_figures.misses import ELSEWHERE, MISSES, REFERENCE_CODE, miss_for, unsourced_numbers
from paper_figures.reference_code import SCORES
from paper_figures.table_layouts import TABLE_LAYOUTS


@pytest.mark.parametrize("miss", MISSES, ids=lambda miss: miss.table)
def test_every_number_of_a_reason_is_in_its_sources(miss):
    assert unsourced_numbers(miss) == []


def test_a_number_no_source_holds_is_reported():
    miss = MISSES[0]
    wrong = dataclasses.replace(miss, reason=miss.reason + " Also 123.4567 and 0.4451.")
    assert unsourced_numbers(wrong) == ["123.4567", "0.4451"]


def test_a_missing_source_is_an_error():
    with pytest.raises(FileNotFoundError, match="does not exist"):
        unsourced_numbers(dataclasses.replace(MISSES[0], sources=("results/nope.md",)))


def test_entries_name_real_tables_once():
    names = {layout.name for layout in TABLE_LAYOUTS}
    assert all(miss.table in names for miss in MISSES)
    assert len({miss.table for miss in MISSES}) == len(MISSES)


def test_the_summary_cell():
    assert misses_text("table1", 0, "paper") == "-"
    assert misses_text("table1", 3, "paper") == miss_for("table1").summary  # the README's one line
    assert misses_text("table1", 3, "paper", full=True) == miss_for("table1").reason  # the results page's
    assert misses_text("table1", 3, "mpe2") == "not studied yet"
    assert misses_text("table_keep_away", 3, "paper") == "not studied yet"  # no entry for keep-away


def test_a_number_of_the_summary_is_checked_too():
    miss = MISSES[0]
    assert unsourced_numbers(dataclasses.replace(miss, summary=miss.summary + " Also 98.765.")) == ["98.765"]


def test_summaries_are_one_line_without_links():
    for miss in MISSES:
        assert "\n" not in miss.summary and "](" not in miss.summary and len(miss.summary) <= 170, miss.table


def test_the_reference_codes_scores_are_stated_as_measured_elsewhere():
    """Where an entry quotes what openai/maddpg itself scores, it says where that was measured and lists the
    file that holds those figures; no entry of a table the reference code was run for says 'not found'."""
    run_for = {score.table for score in SCORES}
    for miss in MISSES:
        quoting = "openai/maddpg itself" in miss.reason
        assert quoting == (miss.table in run_for), miss.table
        if quoting:
            assert ELSEWHERE in miss.reason and REFERENCE_CODE in miss.sources, miss.table
            assert "not found" not in miss.reason, miss.table


def test_the_reference_codes_means_and_differences_agree_with_its_seeds():
    """reference_code.py transcribes figures measured elsewhere: each mean is its seeds' mean at the reported
    precision, and each success difference is the two success rates' difference seed by seed."""
    for score in SCORES:
        if score.mean is not None and len(score.per_seed) > 1:
            decimals = len(f"{score.mean}".split(".")[1])
            assert round(sum(score.per_seed) / len(score.per_seed), decimals) == score.mean, score
    by_setting = {}
    for score in SCORES:
        by_setting.setdefault((score.table, score.setting), {})[score.metric] = score.per_seed
    checked = 0
    for metrics in by_setting.values():
        if "success difference" in metrics:
            winners, losers = [metrics[name] for name in metrics if name != "success difference"]
            assert [round(a - b, 1) for a, b in zip(winners, losers)] == list(metrics["success difference"])
            checked += 1
    assert checked == 2  # physical deception and covert communication
