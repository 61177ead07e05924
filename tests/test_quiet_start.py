"""Entry points start with nothing but our own lines on screen: TensorFlow's start-up logging is silenced
before TensorFlow is imported (maddpg.cli.quiet_tensorflow), and --verbose brings it back. A damaged
checkpoint is one `error:` line and exit code 2.

The experiment scripts' own smoke run is checked for a clean screen in tests/test_cooperative_communication_cli.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
# Fragments of TensorFlow's start-up lines (absl-logged C++ and the CUDA probe on a CPU-only machine).
TENSORFLOW_LOG_MARKERS = ("cudart_stub", "oneDNN", "absl::InitializeLog", "I0000", "E0000", "W0000",
                          "cpu_feature_guard", "cuInit", "tensorflow/")


def tensorflow_lines(text: str) -> list[str]:
    """The lines of `text` that TensorFlow printed."""
    return [line for line in text.splitlines() if any(marker in line for marker in TENSORFLOW_LOG_MARKERS)]


def _environment() -> dict[str, str]:
    """os.environ without the variables that would quiet TensorFlow on their own."""
    return {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "TF_CPP_MAX_VLOG_LEVEL")}


@pytest.fixture(scope="module")
def truncated_run(tmp_path_factory):
    """A folder whose checkpoint's data file is cut short (written by a tiny tf.train.Checkpoint)."""
    import tensorflow as tf

    run_dir = tmp_path_factory.mktemp("truncated") / "run"
    holder = tf.Module()
    holder.weights = tf.Variable(tf.zeros([256, 64]))
    tf.train.CheckpointManager(tf.train.Checkpoint(trainer=holder), str(run_dir / "checkpoints"), 1).save()
    (data,) = (run_dir / "checkpoints").glob("*.data-*")
    data.write_bytes(data.read_bytes()[:100])
    return run_dir


def _evaluate(run_dir: Path, *arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "maddpg.evaluate", str(run_dir), *arguments], cwd=REPO,
                          capture_output=True, text=True, env=_environment(), timeout=300)


def test_a_truncated_checkpoint_is_one_line_and_exit_2_on_a_clean_screen(truncated_run):
    before = {path: path.read_bytes() for path in truncated_run.rglob("*") if path.is_file()}
    completed = _evaluate(truncated_run)
    assert completed.returncode == 2, completed.stderr[-2000:]
    lines = [line for line in completed.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and "truncated" in lines[0], completed.stderr
    assert not tensorflow_lines(completed.stdout + completed.stderr)
    assert before == {path: path.read_bytes() for path in truncated_run.rglob("*") if path.is_file()}


def test_verbose_brings_tensorflow_logging_back(truncated_run):
    completed = _evaluate(truncated_run, "--verbose")
    assert completed.returncode == 2
    assert tensorflow_lines(completed.stderr), completed.stderr[-2000:]


def test_quiet_tensorflow_keeps_a_value_the_user_set(monkeypatch):
    from maddpg.cli import quiet_tensorflow

    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "1")
    assert quiet_tensorflow(["prog", "--verbose"]) is True
    assert quiet_tensorflow(["prog"]) is False and os.environ["TF_CPP_MIN_LOG_LEVEL"] == "1"
