"""No damaged file is taken silently: each case is one `error:` line naming the file and what to do, exit 2,
and nothing in the run folder overwritten or deleted.

The damaged folders are copies of one tiny run of the CC script's --smoke config, stopped after its first
checkpoint (episode 100 of 200), trained once per module; the script itself runs in this process
(runner.main with flags of its own), so a test takes seconds.
"""

import errno
import json
import shutil
from pathlib import Path

import pytest
from absl import flags

from maddpg.results import RunFolderError
from maddpg.run_folder import RunFolder
from reproduction import runner
from reproduction.cooperative_communication import EXPERIMENT

RUN_NAME = "smoke_paper_maddpg_s0-1_ep200"


def _arguments(results_dir: Path, *extra: str) -> list[str]:
    # --reference_dir is the results folder itself: no comparison table is printed.
    return ["cooperative_communication", "--smoke", "--pairing=maddpg", "--noprogress",
            f"--results_dir={results_dir}", f"--reference_dir={results_dir}", *extra]


def _script(results_dir: Path, capsys, *extra: str) -> tuple[int, list[str]]:
    """Runs the CC script on results_dir; returns (exit code, the non-blank lines it wrote on stderr)."""
    capsys.readouterr()
    code = runner.main(EXPERIMENT, _arguments(results_dir, *extra), flag_values=flags.FlagValues())
    return code, [line for line in capsys.readouterr().err.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def mid_run(tmp_path_factory):
    """A run folder of the script's --smoke MADDPG config, stopped at its checkpoint at episode 100 of 200."""
    from maddpg.run import train

    results_dir = tmp_path_factory.mktemp("source")
    options = flags.FlagValues()
    runner.define_flags(EXPERIMENT, options)
    options(_arguments(results_dir))
    ((_, config, run_dir),) = runner.build_configs(EXPERIMENT, options)
    assert run_dir.name == RUN_NAME
    train(config, run_dir, progress=False, stop_after_iterations=2)
    assert RunFolder(run_dir).checkpointed_episodes() == 100 and not RunFolder(run_dir).trained
    return config, run_dir


@pytest.fixture
def copy_of(mid_run, tmp_path):
    """(results_dir, run_dir): a fresh copy of the mid-run folder under tmp_path."""
    _, source = mid_run
    results_dir = tmp_path / "results"
    run_dir = results_dir / "cooperative_communication" / RUN_NAME
    shutil.copytree(source, run_dir)
    return results_dir, run_dir


def _snapshot(folder: Path) -> dict:
    return {path: path.read_bytes() for path in folder.rglob("*") if path.is_file()}


def _one_error(code: int, lines: list[str], *expected: str) -> str:
    assert code == 2, lines
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    for text in expected:
        assert text in lines[0], (text, lines[0])
    return lines[0]


def _finish_by_hand(run_dir: Path, config) -> None:
    """Marks the copy trained and gives it an evaluation.csv (a finished run, as a script leaves it)."""
    folder = RunFolder(run_dir)
    folder.update_meta(trained=True)
    folder.write_evaluation(config, [{"role": "team", "seed": seed, "episode": 200, "metric": "final_squared_distance",
                                      "value": 0.5} for seed in config.seeds])


def _paper_dry_run(results_dir: Path, capsys) -> tuple[int, list[str]]:
    """The paper driver's --dry_run of the smoke CC runs over results_dir: (exit code, non-empty stderr lines)."""
    from reproduction import paper

    capsys.readouterr()
    code = paper.main(["paper", "--smoke", "--dry_run", "--only=cooperative_communication",
                       f"--results_dir={results_dir}"])
    return code, [line for line in capsys.readouterr().err.splitlines() if line.strip()]


def _insert_line(path: Path, index: int, text: str) -> None:
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:index] + [text] + lines[index:]))


def test_a_garbage_line_in_a_finished_runs_evaluation_csv(mid_run, copy_of, capsys):
    """Before: exit 0, and the table listed the algorithm as "not run"."""
    config, _ = mid_run
    results_dir, run_dir = copy_of
    _finish_by_hand(run_dir, config)
    evaluation = run_dir / "evaluation.csv"
    evaluation.write_text(evaluation.read_text() + "garbage,line\n")
    before = _snapshot(results_dir)
    line = _one_error(*_script(results_dir, capsys), str(evaluation), "line 4", "delete it")
    assert "evaluates it again from its checkpoint" in line
    assert _snapshot(results_dir) == before  # no table written either


def test_the_paper_driver_refuses_the_same_folder_before_planning_anything(mid_run, copy_of, capsys):
    config, _ = mid_run
    results_dir, run_dir = copy_of
    _finish_by_hand(run_dir, config)
    evaluation = run_dir / "evaluation.csv"
    evaluation.write_text(evaluation.read_text().replace("0.5", "half", 1))
    before = _snapshot(results_dir)
    _one_error(*_paper_dry_run(results_dir, capsys), str(evaluation), "line 2", "value 'half' is not a number")
    assert _snapshot(results_dir) == before


def test_a_garbage_checkpoint_state_file(copy_of, capsys):
    """Before: TensorFlow's "Checkpoint ignored" warning, then a silent retrain from episode 0 that deleted the
    checkpoint."""
    results_dir, run_dir = copy_of
    state = run_dir / "checkpoints" / "checkpoint"
    state.write_text("this is not a checkpoint state\n")
    before = _snapshot(results_dir)
    _one_error(*_script(results_dir, capsys), str(state), 'model_checkpoint_path: "ckpt-100"',
               f"remove {run_dir / 'checkpoints'}")
    assert _snapshot(results_dir) == before


def test_invalid_meta_json(copy_of, capsys):
    """Before: a JSONDecodeError traceback."""
    results_dir, run_dir = copy_of
    meta = run_dir / "meta.json"
    meta.write_text(meta.read_text()[:-20])
    before = _snapshot(results_dir)
    _one_error(*_script(results_dir, capsys), str(meta), "is not valid JSON", "delete it")
    assert _snapshot(results_dir) == before


@pytest.mark.parametrize("entry", ["script", "paper_driver"])
def test_a_garbage_line_in_a_mid_run_metrics_csv(copy_of, capsys, entry):
    """Before: an IndexError traceback from the script's resume (keep_rows); the paper driver met the damage
    inside the run's Ray task (a failed run, exit 1)."""
    results_dir, run_dir = copy_of
    metrics = run_dir / "metrics.csv"
    _insert_line(metrics, 3, "\x00garbage\r\n")
    before = _snapshot(results_dir)
    outcome = _script(results_dir, capsys) if entry == "script" else _paper_dry_run(results_dir, capsys)
    _one_error(*outcome, str(metrics), "line 4", "fix or delete that line")
    assert _snapshot(results_dir) == before


def test_a_checkpoint_damaged_at_its_own_size(copy_of, capsys):
    """Before: a checksum OpError traceback from the restore."""
    results_dir, run_dir = copy_of
    (data,) = (run_dir / "checkpoints").glob("ckpt-100.data-*")
    damaged = bytearray(data.read_bytes())
    for i in range(1000, len(damaged), 997):
        damaged[i] ^= 0xFF
    data.write_bytes(bytes(damaged))
    before = _snapshot(results_dir)
    _one_error(*_script(results_dir, capsys), str(run_dir / "checkpoints" / "ckpt-100"), "is damaged",
               "Checksum does not match", f"remove {run_dir / 'checkpoints'}")
    assert _snapshot(results_dir) == before


def _disk_full_oserror(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


def _disk_full_tensorflow(*args, **kwargs):
    import tensorflow as tf

    raise tf.errors.ResourceExhaustedError(None, None, "ckpt-200_temp/part-00000-of-00001.data-00000-of-00001.tempstate; "
                                                       "No space left on device")


@pytest.mark.parametrize("where", ["meta.json", "checkpoint"])
def test_a_full_disk_names_the_file_and_says_to_free_space(copy_of, capsys, monkeypatch, where):
    """Before: a ResourceExhaustedError (or OSError) traceback. The disk is full when the resumed run writes
    meta.json (an OSError from the rename of its temporary file: meta.json stays whole, no temporary file is
    left; the copy's meta.json lacks the env signature, so the run writes it before training), or at the
    run's last checkpoint (TensorFlow's error: the checkpoint before stays)."""
    import os

    import maddpg.run

    results_dir, run_dir = copy_of
    if where == "meta.json":
        recorded = json.loads((run_dir / "meta.json").read_text())
        del recorded["env"]
        (run_dir / "meta.json").write_text(json.dumps(recorded))
        monkeypatch.setattr(os, "replace", _disk_full_oserror)
        named = run_dir / "meta.json"
    else:
        monkeypatch.setattr(maddpg.run, "save_checkpoint", _disk_full_tensorflow)
        named = run_dir / "checkpoints"
    meta, checkpoints = (run_dir / "meta.json").read_bytes(), _snapshot(run_dir / "checkpoints")
    line = _one_error(*_script(results_dir, capsys), f"cannot write {named}: no space left on the device",
                      "free space on that disk")
    assert "resumes from its last checkpoint" in line
    if where == "meta.json":
        assert (run_dir / "meta.json").read_bytes() == meta and not list(run_dir.glob("*.tmp"))
    else:
        assert _snapshot(run_dir / "checkpoints") == checkpoints
    RunFolder(run_dir).metrics_writer(None)  # metrics.csv still reads


def test_an_append_to_a_full_disk_writes_nothing(tmp_path, monkeypatch, make_config):
    """A batch of rows is appended whole or not at all: half a line never stays behind."""
    import pathlib

    folder = RunFolder(tmp_path / "run")
    writer = folder.metrics_writer(make_config())
    writer.write([{"role": "team", "seed": 0, "episode": 50, "metric": "mean_episode_reward", "value": -1.0}])
    before = folder.metrics_path.read_bytes()
    real_open = pathlib.Path.open

    class HalfWriter:
        def __init__(self, handle):
            self.handle = handle

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.handle.close()

        def write(self, text):
            self.handle.write(text[: len(text) // 2])
            self.handle.flush()
            raise OSError(errno.ENOSPC, "No space left on device")

    def open_half(path, mode="r", *args, **kwargs):
        handle = real_open(path, mode, *args, **kwargs)
        return HalfWriter(handle) if mode == "a" else handle

    monkeypatch.setattr(pathlib.Path, "open", open_half)
    with pytest.raises(RunFolderError, match=r"no space left on the device \(.*\); free space") as raised:
        writer.write([{"role": "team", "seed": 0, "episode": 100, "metric": "mean_episode_reward", "value": -2.0}])
    assert raised.value.path == folder.metrics_path
    assert folder.metrics_path.read_bytes() == before


@pytest.mark.parametrize("arguments,message", [
    (["--batch_size=2048", "--buffer_capacity=1024"], "batch_size (2048) must be at most buffer_capacity (1024)"),
    (["--learning_rate=inf"], "learning_rate must be a finite number, got inf"),
    (["--tau=nan"], "tau must be a finite number, got nan"),
])
def test_a_config_that_cannot_train_is_refused(tmp_path, capsys, arguments, message):
    """Before: accepted silently."""
    _one_error(*_script(tmp_path / "results", capsys, *arguments), message)
    assert not (tmp_path / "results").exists()


def test_meta_json_that_is_no_object_and_a_state_naming_a_missing_checkpoint(copy_of):
    """Valid JSON of the wrong kind, and a state file whose checkpoint is gone, are refused the same way."""
    _, run_dir = copy_of
    (run_dir / "meta.json").write_text(json.dumps(["a", "list"]))
    with pytest.raises(RunFolderError, match="holds a JSON list, not an object"):
        RunFolder(run_dir).meta
    for path in (run_dir / "checkpoints").glob("ckpt-100.*"):
        path.unlink()
    with pytest.raises(RunFolderError, match=r'names ckpt-100, which is not in .*; delete it, or remove'):
        RunFolder(run_dir).latest_checkpoint()
