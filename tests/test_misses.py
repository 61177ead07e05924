"""The README's measured reasons for missed cells: every number in them comes from a committed file."""

import dataclasses

import pytest

from paper_figures.claims import _misses_cell
from paper_figures.misses import MISSES, miss_for, unsourced_numbers
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
    assert _misses_cell("table1", 0, "paper") == "-"
    assert _misses_cell("table1", 3, "paper") == miss_for("table1").reason
    assert _misses_cell("table1", 3, "mpe2") == "not studied yet"
    assert _misses_cell("table_keep_away", 3, "paper") == "not studied yet"  # no entry for keep-away
