"""Every paper experiment script's --smoke run: one run folder per (variant, pairing) with the documented files,
the scenario's table metrics in evaluation.csv, and the printed paper table; and a bad variant or pairing.

Each script runs in this process through its own entry, runner.main with flags of its own (as
tests/test_damaged_files.py runs the CC script): what `python -m reproduction.<script>` runs after runner.cli's
set-up, which tests/test_cooperative_communication_cli.py runs as a subprocess. A subprocess per script would
cost each one a TensorFlow import and autograph's conversion of the training step again.

Each smoke run costs about 10 s of graph tracing, so each script is smoked on one variant and, for the
competitive ones, on the two mixed pairings (MADDPG v DDPG and DDPG v MADDPG: both critic kinds on both
teams; the same-kind pairings differ only in the critic_kinds tuple, which the hyperparameter tests pin).
The other variants differ only in the scenario key, whose port has its own parity tests; the variant smoked is
the one with the fewest agents (the trace grows with them): CN N=3, PD N=2.
"""

import importlib
import json
from types import SimpleNamespace

import pandas as pd
import pytest
from absl import flags

from reproduction import runner

# script -> (extra flags, run folder labels, metrics its evaluation.csv must hold, table file stem)
MIXED = ("maddpg_vs_ddpg", "ddpg_vs_maddpg")
MIXED_FLAG = f"--pairing={','.join(MIXED)}"
SCRIPTS = {
    "cooperative_navigation": (["--variant=n3"], [f"n3_{p}" for p in ("maddpg", "ddpg")],
                               {"average_distance", "collisions_per_episode"}, "table2"),
    "physical_deception": (["--variant=n2", MIXED_FLAG], [f"n2_{p}" for p in MIXED],
                           {"agent_success_percent", "adversary_success_percent", "success_difference"},
                           "table4"),
    "predator_prey": (["--variant=pp2", MIXED_FLAG], [f"pp2_{p}" for p in MIXED], {"prey_touches_per_episode"},
                      "table3"),
    "covert_communication": ([MIXED_FLAG], list(MIXED), {"bob_success_percent", "eve_success_percent"}, "table5"),
    "keep_away": ([MIXED_FLAG], list(MIXED), {"adversary_goal_frames", "agent_goal_frames"}, "keep_away"),
    "policy_inference": ([], ["true_policies", "inferred_policies"], {"target_reach_nearest_percent"},
                         "policy_inference"),
}


def _run(capsys, script, *args, results_dir):
    """`python -m reproduction.<script> --results_dir=... --noprogress ARGS`, in this process: its returncode,
    stdout and stderr."""
    experiment = importlib.import_module(f"reproduction.{script}").EXPERIMENT
    capsys.readouterr()
    code = runner.main(experiment, [script, f"--results_dir={results_dir}", "--noprogress", *args],
                       flag_values=flags.FlagValues())
    captured = capsys.readouterr()
    return SimpleNamespace(returncode=code, stdout=captured.out, stderr=captured.err)


@pytest.mark.parametrize("script", list(SCRIPTS))
def test_smoke_run_writes_every_pairing_and_the_table(script, tmp_path, capsys):
    extra, labels, metrics, table = SCRIPTS[script]
    completed = _run(capsys, script, "--smoke", *extra, results_dir=tmp_path)
    assert completed.returncode == 0, completed.stderr[-3000:]
    experiment_dir = tmp_path / script
    for label in labels:
        run_dir = experiment_dir / f"smoke_paper_{label}_s0-1_ep200"
        for name in ("config.json", "meta.json", "metrics.csv", "evaluation.csv"):
            assert (run_dir / name).is_file(), f"{run_dir.name}/{name}"
        evaluation = pd.read_csv(run_dir / "evaluation.csv")
        assert metrics <= set(evaluation.metric), sorted(set(evaluation.metric))
        assert set(evaluation.seed) == {0, 1}
        assert evaluation.value.notna().all()
        meta = json.loads((run_dir / "meta.json").read_text())
        assert meta["command"].startswith(f"python -m reproduction.{script} ") and "--smoke" in meta["command"]
    assert sorted(p.name for p in experiment_dir.iterdir() if p.is_dir()) == sorted(
        f"smoke_paper_{label}_s0-1_ep200" for label in labels)
    assert (experiment_dir / f"smoke_{table}.md").is_file() and (experiment_dir / f"smoke_{table}.csv").is_file()
    assert (experiment_dir / f"smoke_{table}.md").read_text().strip() in completed.stdout


@pytest.mark.parametrize("args,message", [
    (["--variant=n5"], "unknown variant 'n5'; choose from n2, n4"),
    (["--pairing=maddpg_vs_qmix"], "unknown pairing 'maddpg_vs_qmix'"),
    (["--variant="], "--variant is empty"),
])
def test_bad_variant_or_pairing_is_one_line_and_exit_2(tmp_path, capsys, args, message):
    completed = _run(capsys, "physical_deception", "--smoke", *args, results_dir=tmp_path)
    assert completed.returncode == 2
    errors = [line for line in completed.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and message in errors[0], completed.stderr[-1500:]
    assert not any(tmp_path.iterdir())
