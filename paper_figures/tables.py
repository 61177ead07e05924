"""The paper's Tables 1-6 (and two extras) from results/: ours beside the paper's, as markdown and CSV.

Each cell reads "mean [95% CI] (n=seeds)" beside the paper's number, with a column saying whether the
paper's number lies inside our interval. A cell no evaluated seed supports reads "not run".

Every table is built once per dynamics (paper_figures.runs.DYNAMICS), from that dynamics' runs only: the
paper-dynamics table is the headline and keeps the plain name (table1.csv); the mpe2 one is written beside
it as table1_mpe2.csv, and only when some mpe2 run of the table's experiment exists (`table_stem`).

Importable without TensorFlow and without seaborn: the experiment scripts call `experiment_table` to print
their table after training.
"""

from __future__ import annotations

import dataclasses
import re
import textwrap
from pathlib import Path

import pandas as pd

from maddpg.stats import format_cell
from paper_figures.aggregate import cell_stats, per_seed, select_rows
from paper_figures.runs import DYNAMICS, HEADLINE_DYNAMICS, Results, check_dynamics, load_results
from paper_figures.table_layouts import TABLE_LAYOUTS, TableLayout, algorithm_label, layouts_for, script_command

NOT_RUN = "not run"
CSV_COLUMNS = ("table", "dynamics", "row", "column", "scenario", "algorithm", "role", "metric", "mean", "ci_low",
               "ci_high", "n", "paper", "paper_in_ci", "runs")
HOW_TO_READ = (
    "Ours: mean over seeds [95% percentile-bootstrap confidence interval] (n=number of seeds), each seed's "
    "value its evaluation after training (never the best point of training). \"in CI\": whether the paper's "
    "number lies inside our interval (n/a with a single seed, which has no interval). \"not run\": no "
    "evaluated seed yet."
)
DYNAMICS_TEXT = (
    "Each table is given twice where both have runs: on the paper dynamics (the 2017 particle physics and "
    "rewards the paper ran on; the headline tables, files table1.csv ...) and on the mpe2 dynamics (the "
    "maintained mpe2 package as installed, which integrates position before velocity, flips the action sign "
    "and changed two rewards; files table1_mpe2.csv ...). Runs of the two are never pooled."
)


def table_stem(table_name: str, dynamics: str) -> str:
    """The file stem of a table of one dynamics: the name itself for paper, '<name>_<dynamics>' otherwise.

    Raises:
        ValueError: dynamics is not one of paper_figures.runs.DYNAMICS.
    """
    check_dynamics(dynamics)
    return table_name if dynamics == HEADLINE_DYNAMICS else f"{table_name}_{dynamics}"


def titled(title: str, dynamics: str) -> str:
    """A table or figure title that says its dynamics: 'Table 1: ... (paper dynamics)'."""
    return f"{title} ({dynamics} dynamics)"


def heading_anchor(heading: str) -> str:
    """The fragment GitHub gives a markdown heading: lower case, punctuation dropped, spaces as hyphens
    ('Table 1: cooperative (x), y' -> 'table-1-cooperative-x-y')."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def wrap(paragraph: str, width: int = 110) -> str:
    """A prose paragraph wrapped like the rest of the README (words are never split)."""
    return textwrap.fill(paragraph, width=width, break_long_words=False, break_on_hyphens=False)


@dataclasses.dataclass
class TableResult:
    """A filled table of one dynamics: its layout, one CSV row per cell, and its markdown (table, notes, runs)."""

    layout: TableLayout
    dynamics: str
    frame: pd.DataFrame
    body: str

    @property
    def stem(self) -> str:
        """The CSV's file name without .csv (table_stem)."""
        return table_stem(self.layout.name, self.dynamics)

    @property
    def title(self) -> str:
        return titled(self.layout.title, self.dynamics)

    @property
    def has_results(self) -> bool:
        return bool((self.frame["n"] > 0).any())

    def markdown(self, heading: str = "##") -> str:
        """The table's section: a heading with its title, then its body."""
        return f"{heading} {self.title}\n\n{self.body}"

    def compact_markdown(self, heading: str = "##") -> str:
        """The table and its notes under a heading, without the runs-used paragraph (the results page's form;
        tables.md keeps the full body)."""
        parts = [f"{heading} {self.title}", markdown_table(self.layout, self.frame)]
        parts += [wrap(note) for note in self.layout.notes]
        return "\n\n".join(parts)


def build_table(layout: TableLayout, results: Results, dynamics: str = HEADLINE_DYNAMICS,
                root: str = "results") -> TableResult:
    """Aggregates every cell of a layout from the chosen evaluation rows of one dynamics (the others ignored);
    root: how the runs-used paragraph names the folder the runs are in."""
    results = results.of_dynamics(dynamics)
    records = []
    for cell in layout.cells:
        rows = select_rows(results.evaluation, experiment=layout.experiment, scenario=cell.scenario,
                           algorithm=cell.algorithm, role=cell.role, metric=cell.metric)
        stats = cell_stats(per_seed(rows).to_numpy())
        records.append({
            "table": layout.name, "dynamics": dynamics, "row": " | ".join(cell.row), "column": cell.column,
            "scenario": cell.scenario, "algorithm": cell.algorithm or "", "role": cell.role, "metric": cell.metric,
            "mean": stats.mean, "ci_low": stats.low, "ci_high": stats.high, "n": stats.n, "paper": cell.paper,
            "paper_in_ci": stats.contains(cell.paper), "runs": ";".join(sorted(rows["run"].unique())),
        })
    frame = pd.DataFrame(records, columns=list(CSV_COLUMNS))
    return TableResult(layout, dynamics, frame, _body(layout, frame, results, root))


def _in_ci_text(n: int, inside: bool | None) -> str:
    if n == 0:
        return "-"
    if inside is None:
        return "n/a"
    return "yes" if inside else "no"


def markdown_table(layout: TableLayout, frame: pd.DataFrame) -> str:
    """The layout's rows and columns as a markdown table; paper and in-CI columns only if the paper has numbers."""
    header = list(layout.row_headers)
    for column in layout.columns:
        header += [f"{column} (ours)", "(paper)", "in CI"] if layout.has_paper else [f"{column} (ours)"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    by_cell = {(record["row"], record["column"]): record for record in frame.to_dict("records")}
    digits = {(" | ".join(cell.row), cell.column): cell.digits for cell in layout.cells}
    for row in layout.rows:
        key_row = " | ".join(row)
        parts = list(row)
        for column in layout.columns:
            record = by_cell.get((key_row, column))
            if record is None:  # a layout need not fill every row x column
                parts += ["", "", ""] if layout.has_paper else [""]
                continue
            places = digits[(key_row, column)]
            n = int(record["n"])
            ours = format_cell(record["mean"], record["ci_low"], record["ci_high"], n, places) if n else NOT_RUN
            parts.append(ours)
            if layout.has_paper:
                paper = record["paper"]
                parts.append("-" if paper is None or pd.isna(paper) else f"{paper:.{places}f}")
                parts.append(_in_ci_text(n, record["paper_in_ci"]))
        lines.append("| " + " | ".join(parts) + " |")
    return "\n".join(lines)


def format_seeds(seeds) -> str:
    """'0-9' for a contiguous range, else '0, 2, 5'."""
    seeds = sorted(int(seed) for seed in seeds)
    if not seeds:
        return "none"
    if len(seeds) > 2 and seeds == list(range(seeds[0], seeds[-1] + 1)):
        return f"{seeds[0]}-{seeds[-1]}"
    return ", ".join(str(seed) for seed in seeds)


def runs_used(layout: TableLayout, frame: pd.DataFrame, results: Results, root: str = "results") -> str:
    """Which run folders filled the table (with their seeds and episodes), and which are not evaluated yet."""
    by_label = results.runs_by_label()
    used = sorted({label for labels in frame["runs"] for label in labels.split(";") if label})
    lines = []
    if used:
        described = []
        for label in used:
            run = by_label[label]
            seeds = select_rows(results.evaluation, run=label)["seed"].unique()
            evaluated = f", {run.eval_episodes} evaluation episodes per seed" if run.eval_episodes else ""
            trained = (f"cross-play of {' and '.join(run.cross_play_of)}, trained {run.episodes} episodes"
                       if run.cross_play_of else f"{run.episodes} training episodes")
            text = (f"`{root}/{label}` ({algorithm_label(run.algorithm)}, {run.scenario}, seeds "
                    f"{format_seeds(seeds)}, {trained}{evaluated})")
            described.append(text + (f", made by `{run.command}`" if run.command else ""))
        lines.append("Runs used: " + "; ".join(described) + ".")
    waiting = [run for run in results.runs
               if run.experiment == layout.experiment and not run.evaluated and run.label in results.sources]
    if waiting:
        lines.append("Not evaluated yet (their cells say not run): " + "; ".join(
            f"`{root}/{run.label}` ({'training complete' if run.training_complete else 'training'})"
            for run in waiting) + ".")
    command = f"`{script_command(layout.experiment)}`"
    if used or waiting:
        lines.append(f"Produced by {command}.")
    else:
        lines.append(f"Not run yet: {command} produces these runs.")
    return " ".join(lines)


def _body(layout: TableLayout, frame: pd.DataFrame, results: Results, root: str = "results") -> str:
    parts = [markdown_table(layout, frame)]
    parts += [wrap(note) for note in layout.notes]
    parts.append(wrap(runs_used(layout, frame, results, root)))
    return "\n\n".join(parts)


def build_all_tables(results: Results) -> list[TableResult]:
    """Every table of TABLE_LAYOUTS per dynamics: all paper-dynamics ones first, in the paper's order, extras
    last; then the same for each other dynamics, for the tables whose experiment has a run of it."""
    tables = []
    for dynamics in DYNAMICS:
        tables += [build_table(layout, results, dynamics) for layout in TABLE_LAYOUTS
                   if dynamics == HEADLINE_DYNAMICS or dynamics in results.dynamics_present(layout.experiment)]
    return tables


def tables_document(tables: list[TableResult]) -> str:
    """The text of tables.md."""
    parts = ["# The paper's tables: our results beside the published numbers",
             "Generated by `python -m paper_figures` from results/; do not edit by hand.", wrap(HOW_TO_READ),
             wrap(DYNAMICS_TEXT),
             wrap("Where several run folders hold the same seed of the same experiment, scenario, algorithm and "
                  "dynamics, the one with more training episodes counts, then the newer one; each table lists "
                  "the folders it used.")]
    order = {dynamics: index for index, dynamics in enumerate(DYNAMICS)}
    parts += [table.markdown("##") for table in sorted(tables, key=lambda table: order[table.dynamics])]
    return "\n\n".join(parts) + "\n"


def write_tables(tables: list[TableResult], out_dir: Path) -> list[Path]:
    """Writes tables.md and <table_stem>.csv per table into out_dir; returns the paths written.

    A table of a non-headline dynamics that is not in tables (its runs are gone) has its CSV from an earlier
    call removed, so out_dir never shows numbers tables.md no longer has.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    path = out_dir / "tables.md"
    path.write_text(tables_document(tables))
    written.append(path)
    for table in tables:
        path = out_dir / f"{table.stem}.csv"
        table.frame.to_csv(path, index=False)
        written.append(path)
    for layout in TABLE_LAYOUTS:
        for dynamics in DYNAMICS:
            path = out_dir / f"{table_stem(layout.name, dynamics)}.csv"
            if dynamics != HEADLINE_DYNAMICS and path not in written:
                path.unlink(missing_ok=True)
    return written


def experiment_table(experiment: str, results_dir: Path, run_dirs: list[Path] | None = None,
                     dynamics: str | None = None, root: str = "results") -> tuple[str, pd.DataFrame]:
    """The markdown and rows of one experiment's paper table, on the dynamics its runs ran on.

    Args:
        experiment: results/<experiment>/ name, e.g. "cooperative_communication".
        results_dir: the results/ folder.
        run_dirs: the run folders to read (smoke ones included as given), all of one dynamics; None reads
            every non-smoke run under results_dir.
        dynamics: the table's dynamics. None: the one dynamics of the runs read (of the experiment's runs
            when run_dirs is None); "paper" when there are none.
        root: how the runs-used paragraph names results_dir (e.g. "runs" for a user's runs).

    Returns:
        (markdown: title naming the dynamics, how to read it, table, notes and runs used; one CSV row per
        cell as a DataFrame, with a dynamics column). Name its files with table_stem(name, dynamics).

    Raises:
        ValueError: no table is filled by that experiment; the runs read are of more than one dynamics
            (run_dirs mixes them, or dynamics is None and the experiment has runs of both); or dynamics
            differs from that of the given run_dirs.
    """
    layouts = layouts_for(experiment)
    if run_dirs is None:
        results = load_results(Path(results_dir))
        present = results.dynamics_present(experiment)
        where = f"{Path(results_dir) / experiment}"
    else:
        results = load_results(Path(results_dir), run_dirs=[Path(run_dir) for run_dir in run_dirs])
        present = results.dynamics_present()
        where = "the given run folders"
    if len(present) > 1 and (dynamics is None or run_dirs is not None):
        by_dynamics = "; ".join(f"{name}: " + ", ".join(run.label for run in results.runs if run.dynamics == name)
                                for name in present)
        raise ValueError(f"{where} hold runs of more than one dynamics ({by_dynamics}); a table shows one"
                         + ("; pass dynamics=" if run_dirs is None else ""))
    if dynamics is None:
        dynamics = present[0] if present else HEADLINE_DYNAMICS
    check_dynamics(dynamics)
    if run_dirs is not None and present and present != [dynamics]:
        raise ValueError(f"the given run folders ran on {present[0]} dynamics, not {dynamics}")
    tables = [build_table(layout, results, dynamics, root) for layout in layouts]
    markdown = "\n\n".join(f"{table.title}\n\n{HOW_TO_READ}\n\n{table.body}" for table in tables)
    return markdown, pd.concat([table.frame for table in tables], ignore_index=True)


def comparison_markdown(experiment: str, fresh: pd.DataFrame, reference: pd.DataFrame, reference_label: str) -> str:
    """This run's numbers beside the committed reference's and the paper's, one line per filled cell.

    Args:
        experiment: the experiment both tables are of.
        fresh: experiment_table's rows of this command's runs.
        reference: experiment_table's rows of the committed reference runs (same dynamics).
        reference_label: where the reference runs are, for the heading.

    Returns:
        markdown: per table, | <row headers> | column | ours (this run) | ours (committed) | paper |, for the
        cells this command filled (n > 0).
    """
    by_key = {(record["table"], record["row"], record["column"]): record for record in reference.to_dict("records")}
    parts = [f"This run beside the committed reference ({reference_label}) and the paper: mean [95% CI] (n seeds)."]
    for layout in layouts_for(experiment):
        digits = {(" | ".join(cell.row), cell.column): cell.digits for cell in layout.cells}
        header = [*layout.row_headers, "column", "ours (this run)", "ours (committed)", "paper"]
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        for record in fresh[(fresh["table"] == layout.name) & (fresh["n"] > 0)].to_dict("records"):
            places = digits[(record["row"], record["column"])]
            committed = by_key.get((record["table"], record["row"], record["column"]))

            def cell(values):
                if values is None or not int(values["n"]):
                    return NOT_RUN
                return format_cell(values["mean"], values["ci_low"], values["ci_high"], int(values["n"]), places)

            paper = record["paper"]
            paper_text = "-" if paper is None or pd.isna(paper) else f"{paper:.{places}f}"
            lines.append("| " + " | ".join([record["row"], record["column"], cell(record), cell(committed),
                                            paper_text]) + " |")
        if len(lines) > 2:
            parts.append(f"{layout.display_name}\n\n" + "\n".join(lines))
    return "\n\n".join(parts)
