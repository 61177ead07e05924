"""The BenchMARL comparison without BenchMARL: the skip line, refused input, both sides' settings agreeing, the
hyperparameter table, our run folder's reading, and the summary arithmetic (steps/s, CI, ratios)."""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from absl import flags

from benchmarks import benchmarl_comparison as comparison
from benchmarks import benchmarl_runner as runner
from envs.registry import scenario_spec
from maddpg.stats import mean_and_ci

REPO = Path(__file__).resolve().parent.parent


def run_main(monkeypatch, capsys, *argv):
    """main() in this process with argv; (exit code, stdout, stderr)."""
    monkeypatch.setattr(sys, "argv", ["benchmarl_comparison", *argv])
    code = 0
    try:
        comparison.main()
    except SystemExit as stop:
        code = stop.code
    out, err = capsys.readouterr()
    return code, out, err


def test_skips_in_one_line_without_the_venv(tmp_path):
    # A real process: the skip must also hold without anything the test session imported.
    done = subprocess.run([sys.executable, "-m", "benchmarks.benchmarl_comparison",
                           f"--benchmarl_venv={tmp_path / 'absent'}"], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("\n") == 1 and done.stdout.startswith("skipped")
    assert "bash benchmarks/benchmarl_venv.sh" in done.stdout
    assert "tensorflow" not in done.stderr.lower()


def test_a_venv_without_benchmarl_is_skipped_too(tmp_path, monkeypatch, capsys):
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").symlink_to(sys.executable)  # a python that has no benchmarl
    assert not comparison.benchmarl_ready(venv)
    code, out, _ = run_main(monkeypatch, capsys, f"--benchmarl_venv={venv}")
    assert code == 0 and out.startswith("skipped") and out.count("\n") == 1


@pytest.mark.parametrize("argv, named", [
    (["--episodes=150"], "--episodes=150"),
    (["--episodes=0"], "--episodes=0"),
    (["--seeds=1"], "--seeds=1"),
    (["--eval_episodes=0"], "--eval_episodes=0"),
])
def test_bad_values_get_one_line_and_exit_2(monkeypatch, capsys, argv, named):
    code, out, err = run_main(monkeypatch, capsys, *argv, "--benchmarl_venv=/nonexistent")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and named in err


def test_a_non_empty_work_dir_is_refused_untouched(tmp_path, monkeypatch, capsys):
    (tmp_path / "kept.txt").write_text("mine")
    code, _, err = run_main(monkeypatch, capsys, f"--work_dir={tmp_path}", "--benchmarl_venv=/nonexistent")
    assert code == 2 and str(tmp_path) in err
    assert [p.name for p in tmp_path.iterdir()] == ["kept.txt"]


def our_flags(episodes=2000, seeds=3, hidden=64, eval_episodes=100):
    """Our command parsed by the experiment script's own flag definitions (an unknown flag raises)."""
    from reproduction.cooperative_navigation import EXPERIMENT
    from reproduction.runner import define_flags

    values = flags.FlagValues()
    define_flags(EXPERIMENT, values)
    command = comparison.our_command(episodes, seeds, hidden, eval_episodes, Path("/tmp/unused"), "run")
    assert command[1:3] == ["-m", "reproduction.cooperative_navigation"]
    values(["prog", *command[3:]])
    return values


def test_both_sides_get_the_same_values():
    episodes, hidden, eval_episodes = 3000, 128, 50
    ours = our_flags(episodes, 3, hidden, eval_episodes)
    theirs = comparison.benchmarl_settings(episodes, hidden, eval_episodes)
    exp = theirs["experiment"]
    assert ours.policy == "deterministic" and ours.dynamics == "mpe2" and ours.variant == ["n3"]
    assert ours.pairing == ["maddpg"] and ours.copy_targets_at_start
    assert (ours.learning_rate, ours.adam_epsilon, ours.gamma, ours.tau) == (
        exp["lr"], exp["adam_eps"], exp["gamma"], exp["polyak_tau"])
    assert ours.batch_size == exp["off_policy_train_batch_size"]
    assert ours.buffer_capacity == exp["off_policy_memory_size"]
    assert ours.grad_clip_norm == exp["clip_grad_val"] and exp["clip_grad_norm"]
    assert ours.exploration_noise == exp["exploration_eps_init"] == exp["exploration_eps_end"]
    assert ours.hidden_units == theirs["hidden_units"] and theirs["hidden_layers"] == 2
    assert theirs["activation"] == "relu"
    # The same update rate, the same first update, the same run length, in env steps.
    frames_per_batch = exp["off_policy_collected_frames_per_batch"]
    assert frames_per_batch / exp["off_policy_n_optimizer_steps"] == ours.update_every
    assert ours.num_envs * ours.episode_length == frames_per_batch == ours.warmup_transitions
    assert exp["max_n_frames"] == ours.episodes * ours.episode_length == episodes * 25
    # BenchMARL evaluates at the end only if the interval divides the run (its validate() insists on batches).
    assert exp["evaluation_interval"] == exp["max_n_frames"]
    assert exp["evaluation_interval"] % frames_per_batch == 0
    assert exp["evaluation_episodes"] == ours.eval_episodes == eval_episodes
    assert exp["evaluation_deterministic_actions"] and not exp["render"]
    assert not exp["share_policy_params"] and not theirs["algorithm"]["share_param_critic"]
    # The task: our spread_n3 as the registry builds it for mpe2.
    spec = scenario_spec("spread_n3")
    assert spec.module == "simple_spread_v3"
    assert theirs["task"]["N"] == spec.kwargs["N"] and theirs["task"]["local_ratio"] == spec.kwargs["local_ratio"]
    assert theirs["task"]["max_cycles"] == ours.episode_length


def test_the_table_marks_what_differs():
    settings = comparison.hyperparameters(hidden_units=64, eval_episodes=100)
    table = comparison.settings_table(settings).splitlines()
    assert len(table) == len(settings) + 2
    differing = {s.name for s in settings if not s.matched}
    assert differing == {"gradient clipping at 0.5", "critic target actions a'", "update order",
                         "weight initialisation", "training envs", "seeds"}
    for line, setting in zip(table[2:], settings):
        assert line.startswith(f"| {setting.name} |")
        assert ("| **no** |" in line) == (setting.name in differing)
    rows = {s.name: s for s in settings}
    assert rows["Adam learning rate, actor and critic"].ours == str(comparison.LEARNING_RATE)
    assert rows["actor and critic hidden layers"].benchmarl == "2 x 64 ReLU"
    assert rows["evaluation"].ours.startswith("100 episodes")


def write_run(folder: Path, team_returns: dict, sessions=(12.5, 7.5)):
    folder.mkdir(parents=True)
    (folder / "meta.json").write_text(json.dumps({"sessions": [{"wall_seconds": s} for s in sessions]}))
    lines = ["experiment,scenario,algorithm,dynamics,role,seed,episode,env_step,metric,value"]
    for seed, value in team_returns.items():
        lines.append(f"cooperative_navigation,spread_n3,maddpg,mpe2,team,{seed},200,5000,mean_episode_reward,{value}")
        lines.append(f"cooperative_navigation,spread_n3,maddpg,mpe2,team,{seed},200,5000,average_distance,9.0")
    (folder / "evaluation.csv").write_text("\n".join(lines) + "\n")


def test_our_results_are_per_agent_returns_in_seed_order(tmp_path):
    write_run(tmp_path / "run", {1: -60.0, 0: -90.0, 2: -30.0})
    found = comparison.our_results(tmp_path / "run", seeds=3)
    assert found["train_seconds"] == 20.0
    assert found["final_returns"] == [-30.0, -20.0, -10.0]  # team sums / 3 agents
    with pytest.raises(RuntimeError, match="2 seeds evaluated, expected 3"):
        write_run(tmp_path / "short", {0: -90.0, 1: -60.0})
        comparison.our_results(tmp_path / "short", seeds=3)


def test_side_summary_arithmetic():
    returns = [-10.0, -12.0, -17.0]
    summary = comparison.side_summary(train_seconds=50.0, wall_seconds=80.0, episodes=200, final_returns=returns)
    assert summary["env_steps"] == 200 * 25 * 3
    assert summary["steps_per_second"] == pytest.approx(15000 / 50.0)
    mean, low, high, n = summary["return"]
    assert (mean, low, high, n) == mean_and_ci(returns)
    assert mean == pytest.approx(-13.0) and n == 3 and -17.0 <= low < mean < high <= -10.0


def test_comparison_lines_give_the_ratios():
    ours = comparison.side_summary(50.0, 80.0, 200, [-10.0, -11.0, -12.0])
    theirs = comparison.side_summary(200.0, 240.0, 200, [-20.0, -21.0, -22.0])
    text = "\n".join(comparison.comparison_lines(ours, theirs, 200))
    assert "4.00x" in text  # 300 steps/s against 75
    assert "3.00x" in text  # 240 s against 80 s
    assert "P(ours' final return > BenchMARL's), over seed pairs: 1.00 [1.00, 1.00]" in text
    assert "-11.00 [" in text and "-21.00 [" in text and "(n=3)" in text


def test_benchmarl_stays_out_of_our_environment():
    # Our venv has no benchmarl, and the runner was imported above all the same: it imports benchmarl in main().
    assert importlib.util.find_spec("benchmarl") is None
    dependencies = (REPO / "setup.cfg").read_text().lower()
    assert "benchmarl" not in dependencies and "torch" not in dependencies
    assert ".benchmarl-venv/" in (REPO / ".gitignore").read_text().splitlines()


def test_runner_episode_return_is_the_mean_over_agents_of_summed_rewards():
    class Rollout:
        def __init__(self, reward):
            self.reward = reward

        def get(self, key):
            assert key == ("next", "agent", "reward")
            return self.reward

    rewards = np.arange(2 * 25 * 3, dtype=float).reshape(2, 25, 3, 1)  # [episodes, T, agents, 1]
    returns = runner.episode_returns([Rollout(r) for r in rewards], "agent")
    assert returns == pytest.approx(rewards.sum(axis=1).mean(axis=(1, 2)))


def test_runner_points_the_pettingzoo_lookup_at_mpe2(monkeypatch):
    monkeypatch.setitem(sys.modules, "pettingzoo.utils.all_modules", None)  # restored after the test
    runner.use_mpe2_registry()
    from pettingzoo.utils.all_modules import all_environments

    import mpe2.simple_spread_v3

    assert all_environments["mpe/simple_spread_v3"] is mpe2.simple_spread_v3
    # TorchRL finds a task name that is no key by the module's last name.
    assert all_environments["mpe/simple_spread_v3"].__name__.split(".")[-1] == "simple_spread_v3"
