"""The CC script as a user runs it: --smoke writes the documented files; bad input exits 2, overwriting nothing.

The smoke run (and its screen), an unwritable results folder and --help run as `python -m` subprocesses; the
other commands run in this process through runner.main with flags of their own, the code `python -m` runs
after runner.cli's set-up, which spares each one a TensorFlow start.
"""

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from tests.test_quiet_start import tensorflow_lines

REPO = Path(__file__).resolve().parent.parent
SCRIPT = [sys.executable, "-m", "reproduction.cooperative_communication"]
REFERENCE = REPO / "results" / "cooperative_communication"  # the committed reference runs the script only reads


def _run(*args, results_dir):
    # Without TF_CPP_MIN_LOG_LEVEL: the script itself must keep TensorFlow quiet (test_smoke_screen_is_ours).
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    return subprocess.run(SCRIPT + [f"--results_dir={results_dir}", "--noprogress", *args], cwd=REPO,
                          capture_output=True, text=True, env=env, timeout=600)


def _in_process(capfd, *args, results_dir):
    """_run's command in this process: its returncode, stdout and stderr (the file descriptors, so that a
    C-level write would show as in a subprocess)."""
    from absl import flags

    # Imported before the capture: TensorFlow's start-up lines, which runner.cli silences in a subprocess.
    import maddpg.run  # noqa: F401
    from reproduction import runner
    from reproduction.cooperative_communication import EXPERIMENT

    capfd.readouterr()
    try:
        code = runner.main(EXPERIMENT, ["cooperative_communication", f"--results_dir={results_dir}", "--noprogress",
                                        *args], flag_values=flags.FlagValues())
    except SystemExit as exit:  # a flag absl cannot parse: one error line, exit 2 (maddpg.cli.parse_flags)
        code = exit.code
    captured = capfd.readouterr()
    return SimpleNamespace(returncode=code, stdout=captured.out, stderr=captured.err)


def _snapshot(folder: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def reference_before():
    """The committed reference folder's files before the smoke run (which compares itself with them)."""
    return _snapshot(REFERENCE)


@pytest.fixture(scope="module")
def smoke(tmp_path_factory, reference_before):
    """The smoke run as a user starts it: default --reference_dir (results/), --results_dir a fresh folder."""
    results_dir = tmp_path_factory.mktemp("results")
    return _run("--smoke", results_dir=results_dir), results_dir / "cooperative_communication"


def test_smoke_writes_the_documented_files(smoke):
    completed, experiment_dir = smoke
    assert completed.returncode == 0, completed.stderr[-2000:]
    for pairing in ("maddpg", "ddpg"):
        run_dir = experiment_dir / f"smoke_paper_{pairing}_s0-1_ep200"
        for name in ("config.json", "meta.json", "metrics.csv", "evaluation.csv"):
            assert (run_dir / name).is_file(), name
        assert list((run_dir / "checkpoints").glob("ckpt-200.index"))
        assert list((run_dir / "tensorboard").iterdir())
        meta = json.loads((run_dir / "meta.json").read_text())
        assert meta["training_complete"] and meta["evaluation_complete"] and meta["packages"]["mpe2"] == "1.1.1"
        metrics = pd.read_csv(run_dir / "metrics.csv")
        assert list(metrics.columns) == ["experiment", "scenario", "algorithm", "dynamics", "role", "seed",
                                         "episode", "env_step", "metric", "value"]
        assert set(metrics.dynamics) == {"paper"} and meta["dynamics"] == "paper"
        assert sorted(metrics.episode.unique()) == [100, 200] and set(metrics.seed) == {0, 1}
        evaluation = pd.read_csv(run_dir / "evaluation.csv")
        assert {"target_reach_nearest_percent", "final_squared_distance", "target_reach_percent"} <= set(
            evaluation.metric) and set(evaluation.dynamics) == {"paper"}
    table = pd.read_csv(experiment_dir / "smoke_table1.csv")
    run = table[table.n > 0]
    assert set(run.algorithm) == {"maddpg", "ddpg"} and set(run.n) == {2}
    assert set(run.metric) == {"target_reach_nearest_percent", "final_squared_distance"}
    assert "| MADDPG |" in completed.stdout and "| 84.0 |" in completed.stdout


def test_smoke_screen_is_ours(smoke):
    """Nothing TensorFlow prints at start-up reaches the screen (no TF_CPP_MIN_LOG_LEVEL in the environment)."""
    completed, _ = smoke
    assert not tensorflow_lines(completed.stdout + completed.stderr), tensorflow_lines(completed.stderr)


def test_an_unwritable_results_dir_is_one_line_and_exit_2(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("")  # a folder cannot be made under a file, whoever runs the test (root included)
    completed = _run("--smoke", "--pairings=maddpg", results_dir=blocker / "results")
    assert completed.returncode == 2
    lines = [line for line in completed.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: cannot write results to"), completed.stderr[-1500:]
    assert blocker.read_text() == ""


def test_a_truncated_checkpoint_is_one_line_and_exit_2(smoke, tmp_path, capfd):
    """A finished run whose evaluation is missing resumes from its checkpoint: cut short, it is refused and
    nothing in the folder changes."""
    import shutil

    _, experiment_dir = smoke
    results_dir = tmp_path / "results"
    shutil.copytree(experiment_dir, results_dir / "cooperative_communication")
    run_dir = results_dir / "cooperative_communication" / "smoke_paper_maddpg_s0-1_ep200"
    (run_dir / "evaluation.csv").unlink()
    (data,) = (run_dir / "checkpoints").glob("ckpt-200.data-*")
    data.write_bytes(data.read_bytes()[:100])
    before = {p: p.read_bytes() for p in run_dir.rglob("*") if p.is_file()}
    completed = _in_process(capfd, "--smoke", "--pairings=maddpg", results_dir=results_dir)
    assert completed.returncode == 2
    errors = [line for line in completed.stderr.splitlines() if line.strip()]
    assert len(errors) == 1 and errors[0].startswith("error: the checkpoint") and "truncated" in errors[0], \
        completed.stderr[-1500:]
    assert before == {p: p.read_bytes() for p in run_dir.rglob("*") if p.is_file()}


def test_rerunning_a_finished_run_reuses_it(smoke, capfd):
    """...and the table it rewrites still has the finished DDPG run beside it, though only MADDPG was asked for."""
    _, experiment_dir = smoke
    metrics = experiment_dir / "smoke_paper_maddpg_s0-1_ep200" / "metrics.csv"
    before = metrics.read_text()
    completed = _in_process(capfd, "--smoke", "--pairings=maddpg", results_dir=experiment_dir.parent)
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert metrics.read_text() == before
    table = pd.read_csv(experiment_dir / "smoke_table1.csv")
    run = table[table.n > 0]
    assert set(run.algorithm) == {"maddpg", "ddpg"} and set(run.n) == {2}


@pytest.mark.parametrize("args,message", [
    (["--pairings=maddpg,qmix"], "unknown pairing 'qmix'"),
    (["--seeds=0"], "--seeds must be positive"),
    (["--episodes=-100"], "episodes must be positive"),
    (["--episodes=150"], "multiple of num_envs"),
    (["--num_envs=abc"], "error:"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, capfd, args, message):
    completed = _in_process(capfd, *args, results_dir=tmp_path)
    assert completed.returncode == 2
    error_lines = [l for l in completed.stderr.splitlines() if l.startswith("error:")]
    assert len(error_lines) == 1 and message in error_lines[0], completed.stderr[-1500:]
    assert not any(tmp_path.iterdir())


def test_resume_into_another_config_exits_2_and_keeps_files(smoke, capfd):
    _, experiment_dir = smoke
    run_dir = experiment_dir / "smoke_paper_maddpg_s0-1_ep200"
    before = {p.name: p.read_bytes() for p in run_dir.iterdir() if p.is_file()}
    # Same folder (the --run_id of the smoke run), other seeds: a different config.
    completed = _in_process(capfd, "--smoke", "--pairings=maddpg", "--run_id=paper_maddpg_s0-1_ep200",
                            "--first_seed=1", results_dir=experiment_dir.parent)
    assert completed.returncode == 2
    assert "made with another config (differs in: seeds)" in completed.stderr
    assert before == {p.name: p.read_bytes() for p in run_dir.iterdir() if p.is_file()}


def test_help_lists_the_flags():
    completed = subprocess.run(SCRIPT + ["--help"], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert "--seeds" in completed.stdout and "--smoke" in completed.stdout and "--episodes" in completed.stdout


def test_a_finished_unevaluated_run_is_evaluated_from_its_checkpoint_without_training(smoke, tmp_path,
                                                                                       monkeypatch):
    """The actors come from the finished checkpoint (maddpg.restore), never from maddpg.run.train (which would
    allocate and restore the replay); the evaluation is the one the run got right after training."""
    import shutil

    from absl import flags

    import maddpg.run
    from reproduction import runner
    from reproduction.cooperative_communication import EXPERIMENT

    _, experiment_dir = smoke
    results_dir = tmp_path / "results"
    source = experiment_dir / "smoke_paper_maddpg_s0-1_ep200"
    run_dir = results_dir / "cooperative_communication" / source.name
    shutil.copytree(source, run_dir)
    (run_dir / "evaluation.csv").unlink()

    def no_training(*args, **kwargs):
        raise AssertionError("a finished run was sent back through train()")

    monkeypatch.setattr(maddpg.run, "train", no_training)
    options = flags.FlagValues()
    runner.define_flags(EXPERIMENT, options)
    options(["test", "--smoke", "--pairings=maddpg", f"--results_dir={results_dir}", "--noprogress"])
    assert runner.run_experiment(EXPERIMENT, options) == [run_dir]
    assert (run_dir / "evaluation.csv").read_text() == (source / "evaluation.csv").read_text()


def test_a_fresh_run_leaves_the_committed_reference_alone_and_prints_both(smoke, reference_before):
    """A user's run goes to --results_dir (default runs/, not results/); the reference folder (default: the
    committed results/) is only read, and the printed comparison has this run's number, the reference's and
    the paper's on one line. The smoke fixture's run is that fresh run (a run of its own cost a smoke training
    more)."""
    from absl import flags

    from paper_figures.tables import experiment_table
    from reproduction import runner
    from reproduction.cooperative_communication import EXPERIMENT
    from maddpg.stats import format_cell

    options = flags.FlagValues()
    runner.define_flags(EXPERIMENT, options)
    assert options["results_dir"].default == str(REPO / "runs")
    assert options["reference_dir"].default == str(REPO / "results")
    assert "/runs/" in (REPO / ".gitignore").read_text().splitlines()

    completed, experiment_dir = smoke
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert reference_before and reference_before == _snapshot(REFERENCE)
    fresh_dirs = [experiment_dir / f"smoke_paper_{pairing}_s0-1_ep200" for pairing in ("maddpg", "ddpg")]
    assert (fresh_dirs[0] / "evaluation.csv").is_file()

    _, committed = experiment_table("cooperative_communication", REPO / "results", dynamics="paper")
    _, fresh = experiment_table("cooperative_communication", experiment_dir.parent, fresh_dirs)

    def shown(rows):
        (record,) = rows[(rows.row == "MADDPG") & (rows.column == "target reach %")].to_dict("records")
        return format_cell(record["mean"], record["ci_low"], record["ci_high"], int(record["n"]), 1)

    assert shown(fresh) != shown(committed)  # two seeds of a smoke run against the committed ten
    assert "| algorithm | column | ours (this run) | ours (committed) | paper |" in completed.stdout
    assert f"| MADDPG | target reach % | {shown(fresh)} | {shown(committed)} | 84.0 |" in completed.stdout
    assert (experiment_dir / "smoke_table1_vs_reference.md").is_file()
    assert f"`{experiment_dir}/smoke_paper_maddpg_s0-1_ep200`" in completed.stdout
