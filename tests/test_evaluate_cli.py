"""`python -m maddpg.evaluate RUN_DIR [--render FILE.gif]` as a user runs it, and the GIF writer."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from maddpg.animation import GIF_SIZE, write_gif

REPO = Path(__file__).resolve().parent.parent


def _evaluate(*args):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.run([sys.executable, "-m", "maddpg.evaluate", *map(str, args)], cwd=REPO,
                          capture_output=True, text=True, env=env, timeout=300)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    from conftest import tiny_config
    from maddpg.run import train

    directory = tmp_path_factory.mktemp("results") / "test" / "tiny_run"
    train(tiny_config(scenario="speaker_listener"), directory, progress=False)
    return directory


def _snapshot(directory):
    return {p: p.read_bytes() for p in directory.rglob("*") if p.is_file()}


def _rendering_arguments(gif):
    return "--episodes=3", f"--render={gif}", "--render_episodes=2", "--render_seed=1"


@pytest.fixture(scope="module")
def rendered(run_dir, tmp_path_factory):
    """One evaluation with a GIF, as a user asks for it: (completed process, the GIF, run_dir's files before)."""
    before = _snapshot(run_dir)
    gif = tmp_path_factory.mktemp("render") / "watch.gif"
    return _evaluate(run_dir, *_rendering_arguments(gif)), gif, before


def test_evaluate_prints_every_seed_and_writes_nothing(run_dir, rendered):
    completed, gif, before = rendered
    assert completed.returncode == 0, completed.stderr[-2000:]
    table = completed.stdout.split("mean [95%")[0]
    assert "target_reach_percent" in table and "mean_squared_distance" in table
    seed_rows = [line.split()[0] for line in table.splitlines() if line.strip() and line.split()[0].isdigit()]
    assert seed_rows == ["0", "1"]
    assert _snapshot(run_dir) == before
    with Image.open(gif) as image:
        assert image.size == (GIF_SIZE, GIF_SIZE) and image.n_frames == 2 * 26  # reset frame + 25 steps each


def test_evaluation_from_the_checkpoint_is_deterministic(run_dir, rendered):
    """The same command again (the rendering one: one evaluation process fewer than two of its own) prints the
    same table."""
    first, gif, _ = rendered
    second = _evaluate(run_dir, *_rendering_arguments(gif))
    assert first.returncode == 0 and first.stdout == second.stdout


def test_greedy_evaluation_of_a_sampled_run(run_dir):
    """(That greedy play differs from sampled play is tested in-process, tests/test_evaluation.py.)"""
    greedy = _evaluate(run_dir, "--episodes=2", "--actions=greedy")
    assert greedy.returncode == 0, greedy.stderr[-2000:]
    assert "2 reference-env episodes per seed, greedy actions" in greedy.stdout and "mean [95%" in greedy.stdout


@pytest.mark.parametrize("tamper,message", [
    ("not_a_run", "is not a run folder"),
    ("other_sizes", "does not match scenario speaker_listener (observation_sizes"),
    ("bad_seed", "--render_seed 7 is not one of the run's seeds"),
])
def test_bad_input_is_one_line_and_exit_2(run_dir, tmp_path, tamper, message):
    target, extra = run_dir, []
    if tamper == "not_a_run":
        target = tmp_path
    elif tamper == "other_sizes":
        target = tmp_path / "copy"
        target.mkdir()
        for path in run_dir.iterdir():
            if path.is_file():
                (target / path.name).write_bytes(path.read_bytes())
        (target / "checkpoints").symlink_to(run_dir / "checkpoints")
        meta = json.loads((target / "meta.json").read_text())
        meta["env"]["observation_sizes"] = [3, 12]
        (target / "meta.json").write_text(json.dumps(meta))
    else:
        extra = ["--render=/tmp/never.gif", "--render_seed=7"]
    completed = _evaluate(target, *extra)
    assert completed.returncode == 2
    errors = [line for line in completed.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and message in errors[0], completed.stderr[-1500:]


def test_the_help_example_is_the_folder_the_smoke_command_above_it_makes():
    """--help's example run folder is the one its first line's command trains (under the default runs/)."""
    from absl import flags

    import maddpg.evaluate
    from reproduction import runner
    from reproduction.cooperative_communication import EXPERIMENT

    lines = [line.split("#")[0].split() for line in maddpg.evaluate.__doc__.splitlines() if "python -m" in line]
    assert lines[0][:3] == ["python", "-m", "reproduction.cooperative_communication"]
    assert lines[1][:3] == ["python", "-m", "maddpg.evaluate"]
    options = flags.FlagValues()
    runner.define_flags(EXPERIMENT, options)
    options(["cooperative_communication", *lines[0][3:]])
    made = [run_dir for _, config, run_dir in runner.build_configs(EXPERIMENT, options) if config.algorithm == "maddpg"]
    assert made == [REPO / lines[1][3]]


def test_gif_writer_frames_have_the_documented_size(tmp_path):
    frames = [np.full((700, 700, 3), value, dtype=np.uint8) for value in (0, 128, 255)]
    path = tmp_path / "frames.gif"
    assert write_gif(frames, path, fps=5) == 3
    with Image.open(path) as image:
        assert image.size == (GIF_SIZE, GIF_SIZE) and image.n_frames == 3
        assert image.info["duration"] == 200
    assert not list(tmp_path.glob("*.partial"))
    with pytest.raises(ValueError):
        write_gif([], tmp_path / "empty.gif")
