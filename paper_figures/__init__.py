"""Every table and figure of the paper that results/ supports, ours beside the published numbers.

    python -m paper_figures            # see --help

Modules: paper_numbers (the paper's published numbers, which every table prints beside ours), runs (find run
folders, one run per seed), aggregate (means, bootstrap intervals, curves, Fig. 6's success rate, Fig. 3's
normaliser), table_layouts and tables (Tables 1-6 and extras as markdown and CSV; `tables.experiment_table`
for the experiment scripts), claims (the paper's "A beats B" claims tested on our seeds), misses (what we
measured about each table's missed cells), reference_code (what openai/maddpg itself scores under our
readings, measured outside this repository), scores (Fig. 3's bars), figures (seaborn PNGs; the only module
that imports matplotlib), readme (the generated sections of the README and docs/results.md).
Every table and figure shows one dynamics (runs.DYNAMICS: "paper", the headline, or "mpe2"), never both.
Nothing here imports TensorFlow.
"""
