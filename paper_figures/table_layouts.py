"""What each paper table holds: its rows, columns, and for every cell the evaluation.csv value and paper number.

A table is a list of cells; a cell names the (scenario, algorithm, role, metric) of evaluation.csv whose
per-seed values it aggregates, and the paper's number for it (None where the paper has none).
"""

from __future__ import annotations

import dataclasses

from paper_figures import paper_numbers

ALGORITHM_LABELS = {
    "maddpg": "MADDPG", "ddpg": "DDPG", "dqn": "DQN", "actor_critic": "Actor-Critic",
    "trpo": "TRPO (PPO in tf-agents)", "reinforce": "REINFORCE",
    "true_policies": "true policies", "inferred_policies": "inferred policies",
}


def algorithm_label(algorithm: str) -> str:
    """Display name: 'maddpg' -> 'MADDPG', 'maddpg_vs_ddpg' -> 'MADDPG v DDPG'; unknown labels unchanged."""
    if "_vs_" in algorithm:
        return " v ".join(algorithm_label(part) for part in algorithm.split("_vs_"))
    return ALGORITHM_LABELS.get(algorithm, algorithm)


def script_command(experiment: str) -> str:
    """The command that produces an experiment's runs."""
    return f"python -m reproduction.{experiment}"


@dataclasses.dataclass(frozen=True)
class Cell:
    """One table cell: which evaluation values it aggregates and the paper's number beside them."""

    row: tuple[str, ...]  # row label, one part per row header
    column: str
    scenario: str
    algorithm: str | None  # None: any algorithm label of the experiment (Table 6's rows are roles)
    metric: str
    digits: int
    paper: float | None
    role: str = "team"


@dataclasses.dataclass(frozen=True)
class TableLayout:
    """A paper table (or an extra one): file name, title, the experiment whose runs fill it, its cells."""

    name: str
    title: str
    experiment: str
    row_headers: tuple[str, ...]
    cells: tuple[Cell, ...]
    notes: tuple[str, ...] = ()
    short_name: str = ""  # how text refers to it; default: the title up to its colon ("Table 1")

    @property
    def display_name(self) -> str:
        return self.short_name or self.title.split(":")[0]

    @property
    def has_paper(self) -> bool:
        return any(cell.paper is not None for cell in self.cells)

    @property
    def columns(self) -> list[str]:
        return list(dict.fromkeys(cell.column for cell in self.cells))

    @property
    def rows(self) -> list[tuple[str, ...]]:
        return list(dict.fromkeys(cell.row for cell in self.cells))


def _table1() -> TableLayout:
    # The paper's two columns under the readings its own DDPG row calibrates (benchmarks/metric_calibration.py):
    # reach = the listener ends nearer its goal than any other landmark; distance = the final step's, squared.
    columns = (("target reach %", "target_reach_nearest_percent", 1),
               ("average distance", "final_squared_distance", 3))
    cells = tuple(
        Cell((algorithm_label(algorithm),), header, "speaker_listener", algorithm, metric, digits,
             paper_numbers.TABLE1[algorithm][metric])
        for algorithm in paper_numbers.TABLE1 for header, metric, digits in columns)
    return TableLayout(
        "table1", "Table 1: cooperative communication (speaker-listener), after training",
        "cooperative_communication", ("algorithm",), cells,
        ("Paper: 25000 episodes. DQN, Actor-Critic, TRPO and REINFORCE were never released; our TRPO row "
         "is tf-agents' PPO. Target reach: the listener ends nearer its goal than any other landmark; average "
         "distance: the final step's squared listener-goal distance (the readings under which a listener "
         "parked at the landmarks' centre, the paper's DDPG failure mode, gives the paper's DDPG row; "
         "results/metric_calibration.md).",))


def _table2() -> TableLayout:
    columns = (("average distance", "average_distance", 3), ("collisions / episode", "collisions_per_episode", 3))
    cells = tuple(
        Cell((f"N={scenario[-1]}", algorithm_label(algorithm)), header, scenario, algorithm, metric, digits,
             paper_numbers.TABLE2[scenario][algorithm][metric])
        for scenario in ("spread_n3", "spread_n6") for algorithm in ("maddpg", "ddpg")
        for header, metric, digits in columns)
    return TableLayout("table2", "Table 2: cooperative navigation (spread), 128-unit networks",
                       "cooperative_navigation", ("N", "algorithm"), cells)


def _table3() -> TableLayout:
    columns = (("PP1 prey touches / episode", "tag_pp1", 1), ("PP2 prey touches / episode", "tag_pp2", 3))
    cells = tuple(
        Cell((algorithm_label(pairing),), header, scenario, pairing, "prey_touches_per_episode", digits,
             paper_numbers.TABLE3[scenario][pairing]["prey_touches_per_episode"])
        for pairing in paper_numbers.PAIRINGS for header, scenario, digits in columns)
    return TableLayout(
        "table3", "Table 3: predator-prey (tag), 128-unit networks", "predator_prey", ("predators v prey",),
        cells, ("PP1: prey 30% faster than the predators (mpe2's default); PP2: prey 100% faster.",))


def _table4() -> TableLayout:
    columns = (("AG success %", "agent_success_percent"), ("ADV success %", "adversary_success_percent"),
               ("difference", "success_difference"))
    cells = tuple(
        Cell((f"N={scenario[-1]}", algorithm_label(pairing)), header, scenario, pairing, metric, 1,
             paper_numbers.TABLE4[scenario][pairing][metric])
        for scenario in ("adversary_n2", "adversary_n4") for pairing in paper_numbers.PAIRINGS
        for header, metric in columns)
    return TableLayout(
        "table4", "Table 4: physical deception (adversary)", "physical_deception", ("N", "agents v adversary"),
        cells, ("The paper prints 49.4 as the N=4 MADDPG v DDPG difference (69.6 - 19.8 = 49.8); we quote it "
                "as printed.",))


def _table5() -> TableLayout:
    columns = (("Bob success %", "bob_success_percent"), ("Eve success %", "eve_success_percent"),
               ("difference", "success_difference"))
    cells = tuple(
        Cell((algorithm_label(pairing),), header, "crypto", pairing, metric, 1,
             paper_numbers.TABLE5[pairing][metric])
        for pairing in paper_numbers.PAIRINGS for header, metric in columns)
    return TableLayout("table5", "Table 5: covert communication (crypto)", "covert_communication",
                       ("Alice+Bob v Eve",), cells)


# Table 6's scenarios: (label, scenario, metric, digits).
TABLE6_SCENARIOS = (
    ("KA: adversary goal frames", "push", "adversary_goal_frames", 2),
    ("PD N=2: adversary goal frames", "adversary_n2", "adversary_goal_frames", 2),
    ("PP N=4 L=1: collisions", "ensemble_tag", "prey_touches_per_episode", 3),
)
POLICY_KINDS = ("single", "ensemble")


def _table6() -> TableLayout:
    cells = tuple(
        Cell((label, f"{adversaries} adversary"), f"{agents} agents", scenario, None, metric, digits,
             paper_numbers.TABLE6[scenario][f"{agents}_v_{adversaries}"][metric], role=f"{agents}_v_{adversaries}")
        for label, scenario, metric, digits in TABLE6_SCENARIOS for adversaries in POLICY_KINDS
        for agents in POLICY_KINDS)
    return TableLayout(
        "table6", "Table 6: policy ensembles vs single policies", "policy_ensembles", ("scenario", "adversary"),
        cells, ("Rows: the adversaries' kind; columns: the agents' kind (PP: the predators are the agents).",))


def _keep_away() -> TableLayout:
    columns = (("adversary goal frames", "adversary_goal_frames"), ("agent goal frames", "agent_goal_frames"))
    cells = tuple(
        Cell((algorithm_label(pairing),), header, "push", pairing, metric, 2, None)
        for pairing in paper_numbers.PAIRINGS for header, metric in columns)
    return TableLayout(
        "table_keep_away", "Extra: Keep-away (push), single policies", "keep_away", ("agent v adversary",),
        cells, ("The paper reports keep-away only with ensembles (Table 6a), so there is no paper column.",),
        short_name="Keep-away (extra)")


def _policy_inference() -> TableLayout:
    cells = tuple(
        Cell((algorithm_label(algorithm),), "mean episode reward (evaluation)", "speaker_listener", algorithm,
             "mean_episode_reward", 2, None)
        for algorithm in ("true_policies", "inferred_policies"))
    return TableLayout(
        "table_policy_inference", "Extra: Policy inference (speaker-listener), evaluation reward",
        "policy_inference", ("critic's view of the other agent",), cells,
        ("The paper shows policy inference only as curves (Fig. 7), so there is no paper column.",),
        short_name="Policy inference (extra)")


TABLE_LAYOUTS: tuple[TableLayout, ...] = (
    _table1(), _table2(), _table3(), _table4(), _table5(), _table6(), _keep_away(), _policy_inference())


def layouts_for(experiment: str) -> list[TableLayout]:
    """The tables an experiment's runs fill.

    Raises:
        ValueError: no table is filled by that experiment.
    """
    layouts = [layout for layout in TABLE_LAYOUTS if layout.experiment == experiment]
    if not layouts:
        known = ", ".join(dict.fromkeys(layout.experiment for layout in TABLE_LAYOUTS))
        raise ValueError(f"no table for experiment {experiment!r}; tables exist for: {known}")
    return layouts
