"""What moves each table: one factor changed at a time from the faithful default, at the table's seed count.

    python -m reproduction.ablations                        # every study (resumes; finished runs are skipped)
    python -m reproduction.ablations --study=ensemble_update_rate
    python -m reproduction.ablations --study=inference_fit --value=relaxed_lr0.001   # one value of a study
    python -m reproduction.ablations --list                 # the studies, their values and commands
    python -m reproduction.ablations --summarize            # rebuild the summaries and the results page section only

A study is one experiment script run once per value of one factor, each value into its own folder
results/ablations/<study>/<value>/ (the script's own run folders inside), with every other setting at the
script's defaults. A value is a few settings (a variant, a pairing, the dynamics, TrainConfig fields): a
RunRequest (reproduction/request.py) that runs through the script's own path (runner.run_and_tabulate), in
a process of its own that is given the request as JSON; its command, the script's flags for the same request, is what --list prints and
what each run's meta.json records (a user can rerun it). A value whose runs are the experiment's committed
ones (e.g. the dynamics study of Table 1) points at results/ itself: it finds the runs finished and trains
nothing.

Output per study: summary.csv and summary.md (per value, the study's table cells: mean and 95% seed
interval beside the paper's number, the first and last logged values of the series it follows, the paper's
claims per value, and for the speaker-listener studies Fig. 6's count of seeds that learned over training),
paper_figures/figures/ablation_<study>.png (the team's training reward per value, or that series), and the section
of docs/results.md between the `ablations` markers ("What moves each table"), generated from every summary.
Exit codes: 0 done, 1 a study's script failed, 2 bad input.
"""

from __future__ import annotations

import dataclasses
import importlib
import multiprocessing
import os
import sys
import traceback
from pathlib import Path
from typing import Sequence

from absl import flags

from maddpg.results import display_path
from reproduction.request import RunRequest, flag_text

REPO_ROOT = Path(__file__).resolve().parent.parent
ABLATIONS_DIR = REPO_ROOT / "results" / "ablations"
START_MARKER = "<!-- ablations:start -->"
END_MARKER = "<!-- ablations:end -->"


# Settings of a study or a value that are the script's own (RunRequest fields), not TrainConfig fields.
REQUEST_SETTINGS = ("variant", "pairing", "dynamics")


@dataclasses.dataclass(frozen=True)
class Value:
    """One value of a study's factor: its label, the settings that make it, and where its runs live.

    settings: (name, value) pairs in the order they are listed (and shown): "variant" and "pairing" (a name
    or a tuple of names), "dynamics", or a TrainConfig field.
    """

    label: str
    settings: tuple[tuple[str, object], ...] = ()
    committed_runs: bool = False  # True: the experiment's own runs in results/ (nothing new to train)

    @property
    def flags(self) -> tuple[str, ...]:
        """The script flags that set this value (as summaries and commands show them)."""
        return tuple(flag_text(name, setting) for name, setting in self.settings)


def value(label: str, committed_runs: bool = False, **settings) -> Value:
    """A Value from keyword settings, in the order given: value("ep5000", variant="n2", episodes=5000)."""
    return Value(label, tuple(settings.items()), committed_runs)


# folder -> paper_figures.runs.Results read from it, for one summarize (read-only: callers filter, never mutate)
_LOADED: dict = {}


@dataclasses.dataclass(frozen=True)
class Study:
    """One factor of one experiment, the table it moves and the values it takes (the first is the default)."""

    name: str
    question: str
    experiment: str
    table: str  # the paper_figures table layout the summary reports
    base: tuple[tuple[str, object], ...]  # settings of every value (as Value.settings), before the value's own
    values: tuple[Value, ...]
    dynamics: str = "paper"
    # metrics.csv series whose first and last logged values the summary also reports, per role (and the
    # first one is what curves.png draws instead of the team reward)
    trajectories: tuple[str, ...] = ()
    # a study scenario -> the paper scenario whose table cells its runs fill (e.g. PP1 with 2 obstacles -> PP1)
    table_scenarios: tuple[tuple[str, str], ...] = ()

    def folder(self, value: Value, root: Path) -> Path:
        return REPO_ROOT / "results" if value.committed_runs else root / self.name / value.label

    def results(self, value: Value, root: Path):
        """The value's runs (paper_figures.runs.Results), study scenarios renamed to the table's; None if the
        value has no folder yet."""
        from paper_figures.runs import load_results

        folder = self.folder(value, root)
        if not folder.is_dir():
            return None
        # results/ holds every committed run: most values read it, so one summarize would load it about 70 times
        if folder not in _LOADED:
            _LOADED[folder] = load_results(folder)
        results = _LOADED[folder]
        if not self.table_scenarios:
            return results
        renamed = dict(self.table_scenarios)
        return dataclasses.replace(results, evaluation=results.evaluation.replace({"scenario": renamed}),
                                   metrics=results.metrics.replace({"scenario": renamed}))

    def dynamics_of(self, value: Value) -> str:
        """The dynamics a value's runs train in: its own dynamics setting, else the study's."""
        return dict(value.settings).get("dynamics", self.dynamics)

    def request(self, value: Value, root: Path) -> RunRequest:
        """What the value asks of the study's script: its settings over the study's, into its folder. The
        folder is named as the command names it when this process runs in the repository (as a script
        started there would see it), else by its absolute path."""
        settings = {**dict(self.base), **dict(value.settings)}
        names = {name: (setting,) if isinstance(setting, str) else tuple(setting)
                 for name, setting in settings.items() if name in ("variant", "pairing")}
        folder = self.folder(value, root)
        in_repo = Path.cwd().resolve() == REPO_ROOT.resolve()
        return RunRequest(experiment=self.experiment, variants=names.get("variant"), pairings=names.get("pairing"),
                          dynamics=self.dynamics_of(value),
                          overrides={name: setting for name, setting in settings.items()
                                     if name not in REQUEST_SETTINGS},
                          results_dir=display_path(folder) if in_repo else str(folder))

    def command(self, value: Value, root: Path) -> list[str]:
        """The script's command line for the value's request: --list prints it, its runs record it."""
        folder = self.folder(value, root)
        base = tuple(flag_text(name, setting) for name, setting in self.base)
        return ["python", "-m", f"reproduction.{self.experiment}", *base, *value.flags,
                f"--results_dir={display_path(folder)}", "--noprogress"]


STUDIES: tuple[Study, ...] = (
    Study("cc_dynamics", "Table 1: does the 2017 physics (velocity before position, 2017 action sign and "
          "rewards) move MADDPG's and DDPG's target reach?", "cooperative_communication", "table1", (),
          (value("paper", dynamics="paper", committed_runs=True),
           value("mpe2", dynamics="mpe2", committed_runs=True))),
    # Both values of a dynamics study are the experiment's own runs in results/ (the paper driver makes them).
    *(Study(f"{short}_dynamics", f"{table_label}: does the 2017 physics move it?", experiment, table, (),
            (value("paper", dynamics="paper", committed_runs=True),
             value("mpe2", dynamics="mpe2", committed_runs=True)))
      for short, table_label, experiment, table in (
          ("cn", "Table 2", "cooperative_navigation", "table2"), ("pp", "Table 3", "predator_prey", "table3"),
          ("pd", "Table 4", "physical_deception", "table4"), ("covert", "Table 5", "covert_communication", "table5"),
          ("ka", "Keep-away", "keep_away", "table_keep_away"))),
    Study("cc_length", "Table 1: does training 60000 episodes (openai/maddpg's default length) instead of the "
          "paper's 25000 change the reach? (MADDPG)", "cooperative_communication", "table1", (),
          (value("ep25000", episodes=25_000, committed_runs=True),
           value("ep60000", episodes=60_000, pairing="maddpg"))),
    Study("cc_shared_reward", "Table 1: does the 2018 original's summed reward (each agent trains on both agents' "
          "-d2, i.e. twice it), which users of openai/maddpg run today, move the reach?",
          "cooperative_communication", "table1", (),
          (value("own_2017", shared_reward=False, committed_runs=True), value("summed_2018", shared_reward=True))),
    Study("cc_eval_actions", "Table 1: does evaluating with each policy's argmax instead of sampled actions "
          "(the paper does not say which) move the cells?", "cooperative_communication", "table1", (),
          (value("sampled", eval_actions="sampled", committed_runs=True),
           value("greedy", eval_actions="greedy"))),
    Study("cc_num_envs", "Table 1: does stepping one env per seed (the paper's code) instead of our 100 in "
          "lockstep (the same updates per transition) move the reach? (MADDPG)",
          "cooperative_communication", "table1", (),
          (value("envs100", num_envs=100, committed_runs=True),
           value("envs1", num_envs=1, pairing="maddpg"))),
    Study("pp_obstacles", "Table 3: does PP1 with 2 obstacles (mpe2's and openai/maddpg's default) instead of "
          "the paper's stated 3 move the prey touches? (MADDPG v MADDPG)", "predator_prey", "table3", (),
          (value("obstacles3", variant="pp1", committed_runs=True),
           value("obstacles2", variant="pp1_l2", pairing="maddpg_vs_maddpg")),
          table_scenarios=(("tag_pp1_l2", "tag_pp1"),)),
    # Our predators touch PP1's prey about as often as scripted pursuit of a fleeing prey (1.5 an episode), the
    # paper's about as often as pursuit of a motionless one (11): would a prey no faster than them be caught so?
    Study("pp_prey_speed", "Table 3: does a prey no faster than the predators (max_speed 1.0 like theirs, "
          "instead of PP1's 1.3) bring the touches to the paper's PP1 counts? (MADDPG v MADDPG)",
          "predator_prey", "table3", (),
          (value("prey1.3", variant="pp1", committed_runs=True),
           value("prey1.0", variant="pp_even", pairing="maddpg_vs_maddpg")),
          table_scenarios=(("tag_pp_even", "tag_pp1"),)),
    # In training, the good agent nearest the goal ends 0.09 from it at episode 4000 and 0.22 at 25000 (PD N=2,
    # MADDPG v MADDPG, 10 seeds): the paper says only "until convergence" for PD's length.
    Study("pd_length", "Table 4: do shorter runs (5000 or 10000 episodes instead of our 25000; the paper gives "
          "PD's length only as 'until convergence') give the paper's success rates? (N=2, MADDPG v MADDPG)",
          "physical_deception", "table4", (),
          (value("ep25000", variant="n2", committed_runs=True),
           value("ep5000", variant="n2", pairing="maddpg_vs_maddpg", episodes=5000),
           value("ep10000", variant="n2", pairing="maddpg_vs_maddpg", episodes=10_000))),
    # The rewards are the one part of the paper dynamics that differs by scenario; these separate them from
    # the physics (the run's physics stays the 2017 one, only the reward the agents train on changes).
    Study("pd_rewards", "Table 4: does training on mpe2's Euclidean adversary reward instead of the 2017 squared "
          "one, on the 2017 physics, move the success rates? (N=2, MADDPG v MADDPG)",
          "physical_deception", "table4", (),
          (value("squared_2017", variant="n2", committed_runs=True),
           value("euclidean_mpe2", variant="n2", pairing="maddpg_vs_maddpg", train_rewards="mpe2"))),
    Study("cn_rewards", "Table 2: does training on mpe2's blended reward (no self-collision, local_ratio "
          "2/(N+2)) instead of the 2017 one, on the 2017 physics, move distance and collisions? (N=3)",
          "cooperative_navigation", "table2", (),
          (value("self_counted_2017", variant="n3", committed_runs=True),
           value("blended_mpe2", variant="n3", train_rewards="mpe2"))),
    Study("inference_fit", "Fig. 7: does the approximations' fit (how many of the latest actions, their "
          "learning rate, steps per update, the likelihood of a soft action) make the KL fall?",
          "policy_inference", "table_policy_inference",
          (("pairing", "inferred_policies"),),
          (value("latest100_step1", inference_samples=100, inference_steps=1, inference_learning_rate=0.0),
           value("latest1024_step1", inference_samples=1024, inference_steps=1, inference_learning_rate=0.0),
           # why each value is here, and what it measured: docs/extensions.md
           value("latest100_lr0.001", inference_samples=100, inference_steps=1, inference_learning_rate=0.001),
           value("latest100_step5_lr0.001", inference_samples=100, inference_steps=5,
                 inference_learning_rate=0.001),
           value("latest1024_lr0.001", inference_samples=1024, inference_steps=1, inference_learning_rate=0.001),
           # the script's default; its run is the committed paper run (results/policy_inference)
           value("relaxed_lr0.001", inference_samples=100, inference_steps=1, inference_learning_rate=0.001,
                 inference_likelihood="relaxed", log_every_episodes=100, committed_runs=True),
           value("relaxed_step5_lr0.001", inference_samples=100, inference_steps=5, inference_learning_rate=0.001,
                 inference_likelihood="relaxed", log_every_episodes=100)),
          trajectories=("policy_kl", "policy_kl_forward", "approximation_loss")),
    Study("ensemble_update_rate", "Table 6: do ensembles beat single policies when every sub-policy updates at "
          "the single policy's rate (the other reading of sec. 4.3) instead of 1/K of it?", "policy_ensembles",
          "table6", (("variant", ("ka", "pd", "pp")),),
          # sub_policy is the script's default: its runs are the paper run's (an earlier copy of its KA and PD
          # runs under results/ablations/ was byte-identical to them and has been removed)
          (value("sub_policy", ensemble_update_rate="sub_policy", committed_runs=True),
           value("single", ensemble_update_rate="single"))),
)
STUDY_NAMES = tuple(study.name for study in STUDIES)

FLAGS = flags.FlagValues()
flags.DEFINE_list("study", [], f"studies to run (default: all), from: {', '.join(STUDY_NAMES)}", flag_values=FLAGS)
flags.DEFINE_string("results_dir", str(ABLATIONS_DIR), "where the studies' folders go", flag_values=FLAGS)
flags.DEFINE_list("value", [], "with one --study: only these of its values (default: all of them)",
                  flag_values=FLAGS)
flags.DEFINE_boolean("list", False, "print the studies, their values and commands, and stop", flag_values=FLAGS)
flags.DEFINE_boolean("summarize", False, "only rebuild the summaries and the results page section",
                     flag_values=FLAGS)
flags.DEFINE_string("figures_dir", str(REPO_ROOT / "paper_figures" / "figures"), "where each study's "
                    "curves go (ablation_<study>.png; results/ keeps only the small files tables are built from)",
                    flag_values=FLAGS)
flags.DEFINE_string("readme", str(REPO_ROOT / "docs" / "results.md"), "page whose ablations section is "
                    "rewritten ('' to leave it)", flag_values=FLAGS)


class UsageError(Exception):
    """Bad input: one line, exit 2."""


def chosen_studies(names: Sequence[str]) -> list[Study]:
    unknown = [name for name in names if name not in STUDY_NAMES]
    if unknown:
        raise UsageError(f"unknown study {unknown[0]!r}; choose from {', '.join(STUDY_NAMES)}")
    return [study for study in STUDIES if not names or study.name in names]


def chosen_values(studies: Sequence[Study], labels: Sequence[str]) -> list[Study]:
    """The studies with only the values `labels` names (all of them if it names none); UsageError otherwise."""
    if not labels:
        return list(studies)
    if len(studies) != 1:
        raise UsageError("--value needs exactly one --study")
    study = studies[0]
    known = [value.label for value in study.values]
    unknown = [label for label in labels if label not in known]
    if unknown:
        raise UsageError(f"unknown value {unknown[0]!r} of study {study.name}; choose from {', '.join(known)}")
    return [dataclasses.replace(study, values=tuple(value for value in study.values if value.label in labels))]


def run_study(study: Study, root: Path, isolate: bool = True) -> bool:
    """Runs every value (each resumes or skips what is done); True if all succeeded.

    isolate: each value in a fresh process (run_isolated), else in this one (run_value).
    """
    ok = True
    for value in study.values:
        command = " ".join(study.command(value, root))
        print(f"[{study.name}] {value.label}: {command}", flush=True)
        request = study.request(value, root)
        code = run_isolated(request, command) if isolate else run_value(request, command)
        if code:
            print(f"error: [{study.name}] {value.label} exited {code}", file=sys.stderr)
            ok = False
    return ok


def run_value(request: RunRequest, command: str) -> int:
    """The request's runs and table, made by the script's own path (runner.run_and_tabulate) in this
    process; returns the script's exit code: a bad value is its one error line (2), anything else its
    traceback (1), so that the other values still run."""
    from maddpg.cli import run_command
    from reproduction import runner

    experiment = importlib.import_module(f"reproduction.{request.experiment}").EXPERIMENT
    try:
        return run_command(runner.run_and_tabulate, experiment, request, command, progress=False)
    except Exception:  # noqa: BLE001 - as a failed script process was: reported, and the other values still run
        traceback.print_exc()
        return 1


def run_isolated(request: RunRequest, command: str) -> int:
    """run_value in a fresh (spawned) process, given the request as JSON; returns its exit code. A value's
    memory goes back when it ends (a process that trained keeps what TensorFlow allocated), and a value
    killed for memory ends only itself, as a script process of its own did."""
    process = multiprocessing.get_context("spawn").Process(target=_run_value_json,
                                                           args=(request.to_json(), command))
    process.start()
    process.join()
    return process.exitcode


def _run_value_json(request_json: str, command: str) -> None:
    from maddpg.cli import quiet_tensorflow

    quiet_tensorflow()  # before TensorFlow loads in this process
    sys.exit(run_value(RunRequest.from_json(request_json), command))


def study_frame(study: Study, root: Path):
    """The study's table cells per value (pandas; value column first), from the values' evaluation.csv."""
    import pandas as pd

    from paper_figures.table_layouts import TABLE_LAYOUTS
    from paper_figures.tables import build_table

    layout = next(layout for layout in TABLE_LAYOUTS if layout.name == study.table)
    frames = []
    for value in study.values:
        results = study.results(value, root)
        if results is None:
            continue
        dynamics = study.dynamics_of(value)
        frame = build_table(layout, results, dynamics).frame
        frames.append(frame[frame["n"] > 0].assign(value=value.label))
    if not frames:
        return pd.DataFrame()
    frame = pd.concat(frames, ignore_index=True)
    return frame[["value"] + [column for column in frame.columns if column != "value"]]


def _value_metrics(study: Study, value: Value, root: Path):
    """The value's metrics.csv rows of the study's experiment (its dynamics), or None without runs."""
    results = study.results(value, root)
    if results is None:
        return None
    metrics = results.of_dynamics(study.dynamics_of(value)).metrics
    return metrics[metrics["experiment"] == study.experiment]


def trajectory_markdown(study: Study, root: Path) -> str:
    """Per value, metric and role: the first and last logged value, mean [95% CI] over seeds."""
    from maddpg.stats import format_cell, mean_and_ci

    lines = ["| value | metric | role | first logged | last logged |", "|---|---|---|---|---|"]
    for value in study.values:
        metrics = _value_metrics(study, value, root)
        if metrics is None:
            continue
        for metric in study.trajectories:
            rows = metrics[metrics["metric"] == metric]
            for role, by_role in rows.groupby("role"):
                first, last = (by_role[by_role["episode"] == episode].groupby("seed")["value"].mean()
                               for episode in (by_role["episode"].min(), by_role["episode"].max()))
                cells = [format_cell(*mean_and_ci(series.to_numpy()), 3) for series in (first, last)]
                lines.append(f"| {value.label} | `{metric}` | {role} | "
                             f"{cells[0]} (ep {by_role['episode'].min()}) | {cells[1]} (ep {by_role['episode'].max()}) |")
    return "\n".join(lines)


def claims_markdown(study: Study, root: Path) -> str:
    """Per value, the paper's claims about the study's table (paper_figures.claims), or '' if it has none."""
    from paper_figures.claims import CLAIMS, claim_results, probability_text

    if not any(claim.table == study.table for claim in CLAIMS):
        return ""
    lines = ["| value | the paper's claim | P(improvement) [95% CI] | seeds | verdict |", "|---|---|---|---|---|"]
    for value in study.values:
        results = study.results(value, root)
        if results is None:
            continue
        frame = claim_results(results, study.dynamics_of(value))
        for row in frame[(frame["table"] == study.table) & (frame["verdict"] != "not run")].itertuples():
            lines.append(f"| {value.label} | {row.claim} | {probability_text(row)} | {row.better_n} v "
                         f"{row.worse_n} | {row.verdict} |")
    return "\n".join(lines) if len(lines) > 2 else ""

# Fig. 6's "learned" fraction, read at these episodes and at each value's last logging point.
LEARNED_AT_EPISODES = (5000, 10000, 15000, 20000)


def learned_markdown(study: Study, root: Path) -> str:
    """Fig. 6 per value: of the seeds of each run, how many had learned (paper_figures.aggregate's final goal
    distance below its threshold) at LEARNED_AT_EPISODES and at the end; '' without speaker-listener runs (Fig.
    6's criterion is calibrated on the listener, so it exists only for CC and policy inference)."""
    from paper_figures.aggregate import LEARNED_DISTANCE_THRESHOLD, success_rate_curve

    header = " | ".join(f"ep {episode}" for episode in LEARNED_AT_EPISODES)
    lines = [f"Seeds that learned (Fig. 6: the logged final goal distance below {LEARNED_DISTANCE_THRESHOLD}):", "",
             f"| value | run | {header} | end |", "|---|---|" + "---|" * (len(LEARNED_AT_EPISODES) + 1)]
    for value in study.values:
        metrics = _value_metrics(study, value, root)
        if metrics is None:
            continue
        # the threshold is calibrated on the listener's plateau (paper_figures.aggregate): speaker_listener only
        for algorithm in sorted(set(metrics.loc[metrics["scenario"] == "speaker_listener", "algorithm"])):
            curve = success_rate_curve(metrics, study.experiment, "speaker_listener", algorithm).set_index("episode")
            if curve.empty:
                continue
            counts = {episode: f"{int(row.learned)} of {int(row.n)}" for episode, row in curve.iterrows()}
            cells = [counts.get(episode, "-") for episode in LEARNED_AT_EPISODES]
            cells.append(f"{counts[curve.index[-1]]} (ep {curve.index[-1]})")
            lines.append(f"| {value.label} | {algorithm} | {' | '.join(cells)} |")
    return "\n".join(lines) if len(lines) > 4 else ""


def summary_markdown(study: Study, frame) -> str:
    """One study: its question and, per value and cell, mean [95% CI] (n) beside the paper."""
    from maddpg.stats import format_cell

    lines = [f"### {study.name}", "", study.question, "",
             f"Values (first: the paper's literal reading): "
             + "; ".join(f"`{value.label}` = `{' '.join(value.flags) or 'defaults'}`" for value in study.values),
             "", "| value | row | column | ours | paper |", "|---|---|---|---|---|"]
    for row in frame.itertuples():
        paper = "-" if row.paper != row.paper or row.paper is None else f"{row.paper:g}"
        lines.append(f"| {row.value} | {row.row} | {row.column} | "
                     f"{format_cell(row.mean, row.ci_low, row.ci_high, int(row.n), 3)} | {paper} |")
    return "\n".join(lines)


def curves_figure(study: Study, root: Path, path: Path) -> bool:
    """Per value, the team's training reward (or the study's first trajectory metric, per role): mean over
    seeds with its 95% band."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from paper_figures.aggregate import learning_curve

    metric = study.trajectories[0] if study.trajectories else "mean_episode_reward"
    figure, axis = plt.subplots(figsize=(6.5, 3.6))
    drawn = False
    for value in study.values:
        metrics = _value_metrics(study, value, root)
        if metrics is None:
            continue
        rows = metrics[metrics["metric"] == metric]
        if not study.trajectories:
            rows = rows[rows["role"] == "team"]
        for (scenario, algorithm, role), _ in rows.groupby(["scenario", "algorithm", "role"]):
            curve = learning_curve(rows, study.experiment, scenario, algorithm, role, metric)
            if curve.empty:
                continue
            line, = axis.plot(curve["episode"], curve["mean"], label=f"{value.label}: {scenario} {algorithm} {role}")
            axis.fill_between(curve["episode"], curve["low"], curve["high"], color=line.get_color(), alpha=0.2)
            drawn = True
    if drawn:
        axis.set_xlabel("episode")
        axis.set_ylabel(metric if study.trajectories else "team reward (mean of last 1000 episodes)")
        axis.set_title(study.name, fontsize=10)
        axis.legend(fontsize=6)
        figure.tight_layout()
        path.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(path, dpi=110)
    plt.close(figure)
    return drawn


def summarize(root: Path, readme: str, figures_dir: Path) -> None:
    """Writes every study's summary.csv / summary.md / curves.png (those with runs) and the README section."""
    _LOADED.clear()  # runs may have landed since an earlier call in this process
    sections = []
    for study in STUDIES:
        frame = study_frame(study, root)
        if frame.empty:
            continue
        out = root / study.name
        out.mkdir(parents=True, exist_ok=True)
        frame.to_csv(out / "summary.csv", index=False)
        text = summary_markdown(study, frame)
        if study.trajectories:
            text += "\n\n" + trajectory_markdown(study, root)
        for extra in (claims_markdown(study, root), learned_markdown(study, root)):
            if extra:
                text += "\n\n" + extra
        values = ", ".join(f"{label} ({count} cells)" for label, count in frame.groupby("value", sort=False).size().items())
        summary_path = out / "summary.md"
        missing = [value.label for value in study.values if value.label not in set(frame["value"])]
        values += f"; not run yet: {', '.join(missing)}" if missing else ""
        readme_text = (f"- **{study.name}**: {study.question} Run: {values}. "
                       f"[{display_path(summary_path)}]({_link(summary_path, readme)})")
        figure = figures_dir / f"ablation_{study.name}.png"
        if curves_figure(study, root, figure):
            text += f"\n\nCurves: `{display_path(figure)}`."
            readme_text += f", curves [{display_path(figure)}]({_link(figure, readme)})"
        readme_text += "."
        (out / "summary.md").write_text(text + "\n")
        print(f"wrote {display_path(out)}/summary.md")
        sections.append(readme_text)
    if readme:
        write_readme(Path(readme), sections)


def _link(path: Path, page: str) -> str:
    """A link target to path from the page the section goes into (its folder), with forward slashes."""
    if not page:
        return display_path(path)
    return Path(os.path.relpath(Path(path).resolve(), Path(page).resolve().parent)).as_posix()


def write_readme(path: Path, sections: Sequence[str]) -> None:
    """Replaces the page's text between the ablations markers (markers kept)."""
    text = path.read_text()
    if START_MARKER not in text or END_MARKER not in text:
        raise UsageError(f"{path} has no {START_MARKER} ... {END_MARKER} section to write")
    body = "\n".join([START_MARKER, "<!-- Generated by `python -m reproduction.ablations --summarize`; edits "
                       "here are overwritten. -->", "", *sections, "", END_MARKER])
    head, rest = text.split(START_MARKER, 1)
    path.write_text(head + body + rest.split(END_MARKER, 1)[1])
    print(f"wrote {path.name} (the section between the ablations markers)")


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv if argv is None else argv)
    if any(arg in ("--help", "-h", "--helpfull") for arg in argv[1:]):
        print(__doc__.strip() + "\n\nflags:\n" + FLAGS.get_help())
        return 0
    for name in list(FLAGS):
        FLAGS[name].unparse()
    try:
        remaining = FLAGS(argv)
        if len(remaining) > 1:
            raise UsageError(f"unexpected arguments {remaining[1:]}; see --help")
        studies = chosen_studies(FLAGS.study)
        root = Path(FLAGS.results_dir)
        to_run = chosen_values(studies, FLAGS.value)
        if FLAGS.list:
            for study in to_run:
                print(f"{study.name}: {study.question}")
                for value in study.values:
                    print(f"  {value.label}: {' '.join(study.command(value, root))}")
            return 0
        ok = FLAGS.summarize or all([run_study(study, root) for study in to_run])
        summarize(root, FLAGS.readme, Path(FLAGS.figures_dir))
    except (flags.Error, UsageError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0 if ok else 1


if __name__ == "__main__":
    from maddpg.cli import quiet_tensorflow

    quiet_tensorflow()
    sys.exit(main())
