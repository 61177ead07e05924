"""Run folders of the older layouts (maddpg/legacy_layout.py) read through that one module, as committed.

The committed results/ hold a folder of each older layout; these tests read them (never write) through the
readers that meet them: maddpg.run_folder.RunFolder, maddpg.config.TrainConfig, the baselines' run config and
paper_figures.runs. That the committed tables rebuild byte-identically is `python -m paper_figures`'s check.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from maddpg import legacy_layout
from maddpg.results import COLUMNS, LEGACY_COLUMNS, UsageError
from maddpg.run_folder import RunFolder
from paper_figures import runs
from tf_agents_baselines.run_config import BaselineRunConfig

RESULTS = Path(__file__).resolve().parent.parent / "results"
# A MADDPG-side run written before dynamics existed (config.json, meta.json, its env signature, its CSVs).
OLD_RUN = RESULTS / "cooperative_navigation" / "mpe2_n3_ddpg_s0-2_ep25000"
# A cross-play folder of the layout before: a whole TrainConfig, the sources in meta.json, no dynamics.
OLD_CROSS_PLAY = RESULTS / "policy_ensembles" / "mpe2_ka_cross_play_s0-2_ep25200"
OLD_BASELINE = RESULTS / "cooperative_communication" / "mpe2_dqn_s0-9_ep25000"
CURRENT_RUN = RESULTS / "cooperative_navigation" / "paper_n3_ddpg_s0-2_ep25000"


def _json(path: Path) -> dict:
    return json.loads(path.read_text())


def test_the_committed_folders_are_of_the_layouts_these_tests_name():
    for folder in (OLD_RUN, OLD_CROSS_PLAY, OLD_BASELINE):
        assert "dynamics" not in _json(folder / "config.json")
        assert "dynamics" not in _json(folder / "meta.json")
    assert "dynamics" not in _json(OLD_RUN / "meta.json")["env"]
    assert (OLD_RUN / "evaluation.csv").read_text().splitlines()[0] == ",".join(LEGACY_COLUMNS)
    assert "kind" not in _json(OLD_CROSS_PLAY / "config.json")
    assert "sources" in _json(OLD_CROSS_PLAY / "meta.json")
    assert _json(CURRENT_RUN / "config.json")["dynamics"] == "paper"


def test_a_run_written_before_dynamics_reads_as_mpe2_everywhere():
    folder = RunFolder(OLD_RUN)
    assert folder.dynamics == "mpe2"
    assert folder.train_config().dynamics == "mpe2"
    assert folder.finished
    assert sorted(folder.evaluation()) == [0, 1, 2]  # the header without dynamics is accepted
    run = runs.read_run(OLD_RUN)
    assert run.dynamics == "mpe2"
    assert run.command.endswith(" --dynamics=mpe2")  # remakes the run today
    rows = runs.read_rows(OLD_RUN / "evaluation.csv")
    assert set(rows["dynamics"]) == {"mpe2"}
    assert BaselineRunConfig.from_json(_json(OLD_BASELINE / "config.json")).dynamics == "mpe2"


def test_a_current_folder_keeps_its_own_dynamics_and_command():
    assert RunFolder(CURRENT_RUN).dynamics == "paper"
    run = runs.read_run(CURRENT_RUN)
    assert run.dynamics == "paper"
    assert "--dynamics=mpe2" not in run.command
    assert (CURRENT_RUN / "evaluation.csv").read_text().splitlines()[0] == ",".join(COLUMNS)


def test_an_old_cross_play_folder_reads_as_one():
    folder = RunFolder(OLD_CROSS_PLAY)
    assert folder.is_cross_play and folder.trained and folder.dynamics == "mpe2"
    source = RunFolder(OLD_CROSS_PLAY.parent / "mpe2_ka_single_s0-2_ep25200").train_config().to_json()
    folder.check_cross_play_of(source)  # the dynamics it lacks in config.json comes from meta.json (none: mpe2)
    with pytest.raises(UsageError, match="dynamics"):
        folder.check_cross_play_of({**source, "dynamics": "paper"})
    assert runs.read_run(OLD_CROSS_PLAY).cross_play_of == ("mpe2_ka_ensemble_s0-2_ep25200",
                                                           "mpe2_ka_single_s0-2_ep25200")


def test_an_env_signature_without_dynamics_matches_mpe2_only():
    signature = _json(OLD_RUN / "meta.json")["env"]
    env = SimpleNamespace(name="spread_n3", dynamics="mpe2", **signature)
    RunFolder(OLD_RUN).check_env(env)
    with pytest.raises(UsageError, match="dynamics"):
        RunFolder(OLD_RUN).check_env(SimpleNamespace(**{**vars(env), "dynamics": "paper"}))


def test_the_answers_leave_current_layouts_alone():
    assert legacy_layout.recorded_dynamics({"dynamics": "paper"}, {"dynamics": "mpe2"}) == "paper"
    assert legacy_layout.recorded_dynamics({}, {"dynamics": "paper"}) == "paper"
    assert legacy_layout.with_dynamics({"dynamics": "paper"}) == {"dynamics": "paper"}
    assert legacy_layout.command_today("python -m x", "paper", {}) == "python -m x"
    assert legacy_layout.command_today("python -m x --dynamics=mpe2", "mpe2", {}) == "python -m x --dynamics=mpe2"
    assert legacy_layout.command_today("python -m x", "mpe2", {"dynamics": "mpe2"}) == "python -m x"
    assert legacy_layout.cross_play_sources({"algorithm": "maddpg"}, {"sources": {"a": "b"}}) is None
    assert legacy_layout.is_whole_buffer_key("trainer/team_buffers/0/obs/.ATTRIBUTES/VARIABLE_VALUE")
    assert not legacy_layout.is_whole_buffer_key("replay/buffer/obs/.ATTRIBUTES/VARIABLE_VALUE")


def test_the_module_imports_nothing_of_the_project():
    tree = ast.parse(Path(legacy_layout.__file__).read_text())
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                 and node.module}
    assert not imported & {"maddpg", "envs", "paper_figures", "reproduction", "tf_agents_baselines", "benchmarks"}
