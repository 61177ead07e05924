"""Every table and figure of the paper that your results/ support, ours beside the published numbers.

    python -m paper_figures                                   # results/ -> paper_figures/, README.md, docs/results.md
    python -m paper_figures --no_readme --out_dir /tmp/pf     # elsewhere, README and docs/results.md untouched

Writes <out_dir>/tables.md, one CSV per table (table1.csv .. table6.csv, table_keep_away.csv,
table_policy_inference.csv), <out_dir>/figures/*.png, and, unless --no_readme, the generated text between
<!-- paper_figures:start --> and <!-- paper_figures:end --> of two pages: the README's headline table (one
line per paper table) and the results page's full account (docs/results.md: the tables, the paper's claims,
what we measured about each miss, the figures). Those names hold the runs on the
paper dynamics; runs on mpe2 dynamics go to the same names with _mpe2 added (table1_mpe2.csv,
fig4_cc_reward_curves_mpe2.png), written only where mpe2 runs exist. The two dynamics are never pooled.
Committed plain-loop runs beyond the paper (results/pettingzoo/) get pettingzoo_runs.md and .csv and a
learning-curve figure each (paper_figures/pettingzoo_runs.py).
Prints one line per file written and one per figure skipped, naming the command whose runs would produce it.
Runs in smoke_* folders are left out unless --include_smoke. Any subset of runs works; missing cells read
"not run".
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Sequence

from absl import flags

REPO_ROOT = Path(__file__).resolve().parent.parent


def _define_flags(flag_values: flags.FlagValues) -> None:
    flags.DEFINE_string("results_dir", str(REPO_ROOT / "results"), "folder holding <experiment>/<run_id>/ runs",
                        flag_values=flag_values)
    flags.DEFINE_string("out_dir", str(REPO_ROOT / "paper_figures"), "where tables.md, the CSVs and figures/ go",
                        flag_values=flag_values)
    flags.DEFINE_boolean("include_smoke", False, "also read smoke_* run folders", flag_values=flag_values)
    flags.DEFINE_boolean("no_readme", False, "touch neither the README nor the results page",
                         flag_values=flag_values)
    flags.DEFINE_string("readme", str(REPO_ROOT / "README.md"), "README whose generated section is replaced",
                        flag_values=flag_values)
    flags.DEFINE_string("results_page", str(REPO_ROOT / "docs" / "results.md"),
                        "results page whose generated section is replaced", flag_values=flag_values)


def _shown(path: Path) -> str:
    """The path relative to the working directory when it lies under it (shorter lines)."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _error(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the command; returns its exit code (0 done, 2 bad input)."""
    argv = list(sys.argv if argv is None else argv)
    flag_values = flags.FlagValues()  # our own, so repeated calls (tests) start from the defaults
    _define_flags(flag_values)
    if any(arg in ("--help", "-h", "-help", "--helpshort", "--helpfull") for arg in argv[1:]):
        print(__doc__.strip() + "\n\nflags:\n" + flag_values.get_help())
        return 0
    try:
        remaining = flag_values(argv)
    except flags.Error as error:
        return _error(f"{error}; see --help")
    if len(remaining) > 1:
        return _error(f"unexpected arguments {remaining[1:]}; see --help")

    results_dir, out_dir = Path(flag_values.results_dir), Path(flag_values.out_dir)
    if not results_dir.is_dir():
        return _error(f"results directory {results_dir} does not exist; run an experiment first "
                      "(e.g. python -m reproduction.cooperative_communication) or pass --results_dir")
    # Imported here so that --help and bad input answer without loading pandas and matplotlib.
    from paper_figures import readme
    from paper_figures.figures import make_figures
    from paper_figures.runs import load_results
    from paper_figures.tables import build_all_tables, write_tables
    import pandas as pd

    from paper_figures.claims import claim_results
    from paper_figures.runs import DYNAMICS

    pages = [] if flag_values.no_readme else [Path(flag_values.readme), Path(flag_values.results_page)]
    try:
        for page in pages:
            readme.check_markers(page)
    except ValueError as error:
        return _error(str(error))
    if pages and pages[0].resolve() == pages[1].resolve():
        return _error(f"--readme and --results_page are the same file ({pages[0]}); give the results page its own")

    results = load_results(results_dir, include_smoke=flag_values.include_smoke)
    for warning in results.warnings:
        print(f"warning: {warning}")
    tables = build_all_tables(results)
    for path in write_tables(tables, out_dir):
        print(f"wrote {_shown(path)}")
    claims = pd.concat([claim_results(results, dynamics) for dynamics in DYNAMICS], ignore_index=True)
    claims_path = out_dir / "claims.csv"
    claims.to_csv(claims_path, index=False)
    print(f"wrote {_shown(claims_path)}")
    figures = make_figures(results, out_dir / "figures")
    for figure in figures:
        if figure.path is None:
            print(f"skipped {figure.skip_message}")
            continue
        print(f"wrote {_shown(figure.path)}")
        for note in figure.notes:
            print(f"  note: {note}")
    from paper_figures import policy_comparison

    comparison = policy_comparison.write(results_dir, out_dir)  # None until another policy kind has run
    full, short = (None, None) if comparison is None else comparison[1:]
    if comparison is not None:
        print(f"wrote {_shown(comparison[0])} and policy_comparison.csv")
    from paper_figures import pettingzoo_runs

    beyond = pettingzoo_runs.write(results_dir, out_dir)  # None until a plain-loop run is committed
    if beyond is not None:
        print(f"wrote {_shown(beyond)}, pettingzoo_runs.csv and its figures")
    if pages:
        readme_path, page_path = pages
        sections = {page_path: readme.results_page_section(tables, figures, results, claims, out_dir / "tables.md",
                                                            page_path, policies=full),
                    readme_path: readme.readme_section(tables, claims, page_path, readme_path, policies=short)}
        for path, section in sections.items():
            readme.write_section(path, section)
            print(f"wrote {_shown(path)} (the section between the paper_figures markers)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
