"""MADDPG side by side with BenchMARL's: same task, same episodes, matched hyperparameters; time and return.

    bash benchmarks/benchmarl_venv.sh                      # once: BenchMARL in its own venv, .benchmarl-venv/
    python -m benchmarks.benchmarl_comparison              # 3 seeds x 2000 episodes per side
    python -m benchmarks.benchmarl_comparison --settings_only   # the hyperparameter table alone (markdown)

Task: mpe2 simple_spread_v3 with continuous actions, N=3 agents, 25 steps per episode, local_ratio 2/(N+2)
(ours' spread_n3, envs/registry.py), the same mpe2 1.1.1 on both sides. Ours is
`python -m reproduction.cooperative_navigation --variant=n3 --dynamics=mpe2 --policy=deterministic` with
the settings below; BenchMARL's MADDPG runs in BenchMARL's venv, one process per seed, through
benchmarks/benchmarl_runner.py. BenchMARL stays out of our package's dependencies: without its venv this
script prints one line saying how to make it and exits 0.

What is printed, per side, over all seeds:
- training wall time: ours, the run's recorded training time (meta.json sessions: tracing and XLA compile
  included, evaluation excluded); BenchMARL's, the time of Experiment.run() less its evaluations (building
  the Experiment excluded). Whole wall time: the processes' own, start-up and evaluation included.
- env steps per second in training: episodes x 25 steps x seeds over the training wall time (an env step:
  one step of one env, every agent acting). Ours steps 100 envs at once in one process for all seeds
  (stacked on the population axis); BenchMARL steps 10 envs one after another, a process per seed.
- final return: per seed, the mean over its evaluation episodes of the per-agent episode return (each
  agent's summed reward, averaged over the agents: BenchMARL's eval/reward/episode_reward_mean), with
  noiseless actions, then the mean over seeds with a 95% percentile-bootstrap CI (maddpg/stats.py). Ours:
  the run's evaluation on mpe2 (evaluation.csv's team mean_episode_reward, a sum over agents, / N); BenchMARL:
  its own last evaluation (evaluation_deterministic_actions), read by the runner.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from envs.registry import SPREAD_LOCAL_RATIO
from maddpg.stats import format_cell, mean_and_ci, probability_of_improvement

REPO = Path(__file__).resolve().parent.parent
DEFAULT_VENV = REPO / ".benchmarl-venv"
INSTALL_HINT = "bash benchmarks/benchmarl_venv.sh"

AGENTS = 3
EPISODE_LENGTH = 25
# Ours steps 100 envs at once (--num_envs, its default); BenchMARL collects 100 episodes (10 envs x 10) per
# iteration, so both count episodes in hundreds and add 2500 transitions between update rounds.
EPISODES_PER_BATCH = 100
FRAMES_PER_BATCH = EPISODES_PER_BATCH * EPISODE_LENGTH
UPDATE_EVERY = 100  # env steps per update of every agent (ours' --update_every: the paper's rate)
BENCHMARL_ENVS = 10  # BenchMARL's off_policy_n_envs_per_worker default

# The matched values: ours' defaults (reproduction/runner.py flags), which the BenchMARL side is set to.
LEARNING_RATE = 0.01
ADAM_EPSILON = 1e-8
GAMMA = 0.95
TAU = 0.01
BATCH_SIZE = 1024
REPLAY_CAPACITY = 1_000_000
GRAD_CLIP = 0.5
EXPLORATION_NOISE = 0.1  # ours' --exploration_noise default; mpe2's action Box is [0, 1], so also absolute


@dataclasses.dataclass(frozen=True)
class Setting:
    """One hyperparameter on both sides: its value in each, where each is set, and BenchMARL's own default."""

    name: str
    ours: str
    benchmarl: str
    ours_source: str
    benchmarl_source: str

    @property
    def matched(self) -> bool:
        return self.ours == self.benchmarl


def hyperparameters(hidden_units: int, eval_episodes: int) -> list[Setting]:
    """The table: matched rows (BenchMARL set to ours' value) and the rows the two cannot make equal."""
    net = f"2 x {hidden_units} ReLU"
    base = "ExperimentConfig"  # BenchMARL 1.5.2's conf/experiment/base_experiment.yaml holds the defaults
    return [
        Setting("actor and critic hidden layers", net, net, "--hidden_units",
                "MlpConfig num_cells, activation_class (default 2 x 256 Tanh)"),
        Setting("Adam learning rate, actor and critic", str(LEARNING_RATE), str(LEARNING_RATE),
                "--learning_rate", f"{base}.lr (default 5e-05)"),
        Setting("Adam epsilon", str(ADAM_EPSILON), str(ADAM_EPSILON), "--adam_epsilon",
                f"{base}.adam_eps (default 1e-06)"),
        Setting("discount gamma", str(GAMMA), str(GAMMA), "--gamma", f"{base}.gamma (default 0.99)"),
        Setting("target update tau (soft, every update)", str(TAU), str(TAU), "--tau",
                f"{base}.polyak_tau (default 0.005)"),
        Setting("batch size", str(BATCH_SIZE), str(BATCH_SIZE), "--batch_size",
                f"{base}.off_policy_train_batch_size (default 128)"),
        Setting("replay capacity", f"{REPLAY_CAPACITY:,}", f"{REPLAY_CAPACITY:,}", "--buffer_capacity",
                f"{base}.off_policy_memory_size (default 1,000,000)"),
        Setting("updates of every agent per env step", f"1 per {UPDATE_EVERY}", f"1 per {UPDATE_EVERY}",
                "--update_every with --num_envs=100",
                f"{base}.off_policy_n_optimizer_steps {FRAMES_PER_BATCH // UPDATE_EVERY} per "
                f"off_policy_collected_frames_per_batch {FRAMES_PER_BATCH} (default 1000 per 6000)"),
        Setting("first update", f"after {FRAMES_PER_BATCH} env steps", f"after {FRAMES_PER_BATCH} env steps",
                "--warmup_transitions (its default 25600)", "after its first collected batch"),
        Setting("exploration", f"Gaussian, std {EXPLORATION_NOISE}, constant, clipped to the Box",
                f"Gaussian, std {EXPLORATION_NOISE}, constant, clipped to the Box", "--exploration_noise",
                f"{base}.exploration_eps_init and _end (default 0.8 annealed to 0.01 over a third of the frames)"),
        Setting("actor output", "tanh mapped onto the action Box [0, 1]", "tanh mapped onto the action Box [0, 1]",
                "--policy=deterministic (maddpg/action_policies.py)", "MaddpgConfig.use_tanh_mapping (default)"),
        Setting("actors", "one per agent", "one per agent", "always",
                f"{base}.share_policy_params=False (default True: one actor shared by the agents)"),
        Setting("critics", "one per agent, on all observations and actions",
                "one per agent, on all observations and actions", "the maddpg pairing",
                "MaddpgConfig.share_param_critic=False (default True); its input is the env's state(), which "
                "mpe2 makes by concatenating the agents' observations"),
        Setting("critic loss", "mean squared TD error", "mean squared TD error", "maddpg/learner.py",
                "MaddpgConfig.loss_function l2 (default)"),
        Setting("target networks at start", "copies of the online networks", "copies of the online networks",
                "--copy_targets_at_start (its default: own initialisation, as the paper's code)",
                "TorchRL's loss modules copy them"),
        Setting("task", f"simple_spread N={AGENTS}, {EPISODE_LENGTH} steps, local_ratio "
                f"{SPREAD_LOCAL_RATIO[AGENTS]:.2f}", f"simple_spread N={AGENTS}, {EPISODE_LENGTH} steps, "
                f"local_ratio {SPREAD_LOCAL_RATIO[AGENTS]:.2f}", "--variant=n3 --dynamics=mpe2",
                "PettingZooTask.SIMPLE_SPREAD max_cycles, N, local_ratio (default 100 steps, 0.5)"),
        Setting("evaluation", f"{eval_episodes} episodes per seed, noiseless actions",
                f"{eval_episodes} episodes per seed, noiseless actions", "--eval_episodes",
                f"{base}.evaluation_episodes, evaluation_deterministic_actions (default 10, True)"),
        # What config cannot make equal:
        Setting("gradient clipping at 0.5", "each variable's gradient to norm 0.5",
                "all of one optimizer's gradients together to norm 0.5", "--grad_clip_norm (the paper's code)",
                f"{base}.clip_grad_norm, clip_grad_val=0.5 (default 5)"),
        Setting("critic target actions a'", "target actors' mu'(o')", "online actors' mu(o')",
                "maddpg/learner.py (the paper)", "TorchRL DDPGLoss delay_actor=False, which BenchMARL keeps"),
        Setting("update order", "agent by agent, each on its own batch; critic step, then the actor on the "
                "updated critic", "all agents on one batch; both losses before either step, actor step, then "
                "critic", "maddpg/learner.py (the paper's code)", "Experiment._optimizer_loop"),
        Setting("weight initialisation", "Keras Glorot uniform", "PyTorch nn.Linear default", "maddpg/networks.py",
                "torch.nn.Linear"),
        Setting("training envs", "100 envs stepped together (TF port of mpe2, checked against it); evaluation "
                "on mpe2 itself", f"{BENCHMARL_ENVS} mpe2 envs stepped one after another (TorchRL SerialEnv)",
                "--num_envs (envs/batched)", f"{base}.off_policy_n_envs_per_worker (default)"),
        Setting("seeds", "stacked in one process", "one process each", "--seeds", "Experiment(seed=...)"),
    ]


def settings_table(settings: list[Setting]) -> str:
    """The hyperparameter table as markdown, differing rows marked."""
    lines = ["| hyperparameter | ours | BenchMARL | same? | ours: set by | BenchMARL: set by (its default) |",
             "|---|---|---|---|---|---|"]
    for s in settings:
        lines.append(f"| {s.name} | {s.ours} | {s.benchmarl} | {'yes' if s.matched else '**no**'} | "
                     f"{s.ours_source} | {s.benchmarl_source} |")
    return "\n".join(lines)


def benchmarl_settings(episodes: int, hidden_units: int, eval_episodes: int) -> dict:
    """What benchmarks/benchmarl_runner.py writes over BenchMARL's yaml defaults (the matched rows above)."""
    frames = episodes * EPISODE_LENGTH
    return {
        "group": "agent",  # BenchMARL's group of simple_spread's agent_0..agent_2
        "hidden_units": hidden_units,
        "hidden_layers": 2,
        "activation": "relu",
        "task": {"max_cycles": EPISODE_LENGTH, "N": AGENTS, "local_ratio": SPREAD_LOCAL_RATIO[AGENTS]},
        "algorithm": {"share_param_critic": False, "loss_function": "l2", "delay_value": True,
                      "use_tanh_mapping": True},
        "experiment": {
            "lr": LEARNING_RATE, "adam_eps": ADAM_EPSILON, "gamma": GAMMA,
            "soft_target_update": True, "polyak_tau": TAU,
            "clip_grad_norm": True, "clip_grad_val": GRAD_CLIP,
            "exploration_eps_init": EXPLORATION_NOISE, "exploration_eps_end": EXPLORATION_NOISE,
            "share_policy_params": False, "prefer_continuous_actions": True,
            "max_n_frames": frames, "max_n_iters": None,
            "off_policy_collected_frames_per_batch": FRAMES_PER_BATCH,
            "off_policy_n_envs_per_worker": BENCHMARL_ENVS,
            "off_policy_n_optimizer_steps": FRAMES_PER_BATCH // UPDATE_EVERY,
            "off_policy_train_batch_size": BATCH_SIZE,
            "off_policy_memory_size": REPLAY_CAPACITY,
            "off_policy_init_random_frames": 0,
            "off_policy_use_prioritized_replay_buffer": False,
            # Evaluated after the first iteration (BenchMARL always does) and at the end; the runner keeps
            # the last and times both out of the training time.
            "evaluation": True, "evaluation_interval": frames, "evaluation_episodes": eval_episodes,
            "evaluation_deterministic_actions": True, "render": False,
            "loggers": [], "create_json": True,  # no logger: BenchMARL evaluates only with one, or the json
            "checkpoint_interval": 0, "checkpoint_at_end": False,
            "sampling_device": "cpu", "train_device": "cpu", "buffer_device": "cpu",
        },
    }


def our_command(episodes: int, seeds: int, hidden_units: int, eval_episodes: int, results_dir: Path,
                run_id: str) -> list[str]:
    """Our run: cooperative navigation N=3, mpe2, deterministic actors, with the matched settings."""
    return [sys.executable, "-m", "reproduction.cooperative_navigation", "--variant=n3", "--pairing=maddpg",
            "--dynamics=mpe2", "--policy=deterministic", f"--exploration_noise={EXPLORATION_NOISE}",
            f"--seeds={seeds}", f"--episodes={episodes}", f"--hidden_units={hidden_units}",
            f"--learning_rate={LEARNING_RATE}", f"--adam_epsilon={ADAM_EPSILON}", f"--gamma={GAMMA}",
            f"--tau={TAU}", f"--batch_size={BATCH_SIZE}", f"--buffer_capacity={REPLAY_CAPACITY}",
            f"--grad_clip_norm={GRAD_CLIP}", f"--update_every={UPDATE_EVERY}", f"--num_envs={EPISODES_PER_BATCH}",
            f"--warmup_transitions={FRAMES_PER_BATCH}", "--copy_targets_at_start",
            f"--eval_episodes={eval_episodes}", f"--log_every_episodes={EPISODES_PER_BATCH}",
            f"--checkpoint_every_episodes={episodes}", f"--results_dir={results_dir}", f"--run_id={run_id}",
            "--noprogress"]


def our_results(run_dir: Path, seeds: int) -> dict:
    """Training seconds (meta.json's sessions) and per seed the evaluation's per-agent episode return."""
    meta = json.loads((run_dir / "meta.json").read_text())
    train_seconds = sum(session["wall_seconds"] for session in meta["sessions"])
    returns = {}
    with open(run_dir / "evaluation.csv", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["role"] == "team" and row["metric"] == "mean_episode_reward":
                returns[int(row["seed"])] = float(row["value"]) / AGENTS  # a sum over agents -> their mean
    if len(returns) != seeds:
        raise RuntimeError(f"{run_dir / 'evaluation.csv'}: {len(returns)} seeds evaluated, expected {seeds}")
    return {"train_seconds": train_seconds, "final_returns": [returns[s] for s in sorted(returns)]}


def side_summary(train_seconds: float, wall_seconds: float, episodes: int, final_returns: list[float]) -> dict:
    """One side's figures over all its seeds: times, env steps per second in training, return mean and CI."""
    steps = episodes * EPISODE_LENGTH * len(final_returns)
    mean, low, high, n = mean_and_ci(final_returns)
    return {"train_seconds": train_seconds, "wall_seconds": wall_seconds, "env_steps": steps,
            "steps_per_second": steps / train_seconds, "return": (mean, low, high, n),
            "final_returns": list(final_returns)}


def comparison_lines(ours: dict, theirs: dict, episodes: int) -> list[str]:
    """The side-by-side figures, and ours against BenchMARL's as ratios and P(ours > BenchMARL)."""
    p, p_low, p_high = probability_of_improvement(ours["final_returns"], theirs["final_returns"])
    rows = [
        ("episodes per seed, seeds", f"{episodes}, {ours['return'][3]}", f"{episodes}, {theirs['return'][3]}"),
        ("env steps, all seeds", f"{ours['env_steps']:,}", f"{theirs['env_steps']:,}"),
        ("training wall time", f"{ours['train_seconds']:.1f} s", f"{theirs['train_seconds']:.1f} s"),
        ("whole wall time (processes)", f"{ours['wall_seconds']:.1f} s", f"{theirs['wall_seconds']:.1f} s"),
        ("env steps/s in training", f"{ours['steps_per_second']:,.0f}", f"{theirs['steps_per_second']:,.0f}"),
        ("final return (evaluation)", format_cell(*ours["return"], digits=2),
         format_cell(*theirs["return"], digits=2)),
    ]
    lines = [f"{'':30s} {'ours':>32s} {'BenchMARL':>32s}"]
    lines += [f"{name:30s} {a:>32s} {b:>32s}" for name, a, b in rows]
    speed = ours["steps_per_second"] / theirs["steps_per_second"]
    lines.append(f"ours / BenchMARL env steps/s in training: {speed:.2f}x; "
                 f"BenchMARL / ours whole wall time: {theirs['wall_seconds'] / ours['wall_seconds']:.2f}x")
    lines.append(f"P(ours' final return > BenchMARL's), over seed pairs: {p:.2f} [{p_low:.2f}, {p_high:.2f}]")
    return lines


def benchmarl_ready(venv: Path) -> bool:
    """True when the venv's python exists and can find benchmarl (without importing it: that takes seconds)."""
    python = venv / "bin" / "python"
    if not python.exists():
        return False
    check = "import importlib.util, sys; sys.exit(importlib.util.find_spec('benchmarl') is None)"
    return subprocess.run([str(python), "-c", check], capture_output=True).returncode == 0


def run_logged(command: list[str], log: Path) -> float:
    """Runs command from the repository root with its output in log; its wall seconds. Exits 1 on failure."""
    started = time.perf_counter()
    with open(log, "w") as handle:
        code = subprocess.run(command, cwd=REPO, stdout=handle, stderr=subprocess.STDOUT).returncode
    seconds = time.perf_counter() - started
    if code != 0:
        tail = log.read_text().splitlines()[-20:]
        print("\n".join(tail), file=sys.stderr)
        print(f"{command[2] if len(command) > 2 else command[0]} failed (exit {code}); its log: {log}",
              file=sys.stderr)
        sys.exit(1)
    return seconds


def run_ours(args, work: Path) -> dict:
    command = our_command(args.episodes, args.seeds, args.hidden_units, args.eval_episodes, work / "ours", "run")
    print("ours: python", " ".join(command[1:]), flush=True)
    wall = run_logged(command, work / "ours.log")
    found = our_results(work / "ours" / "cooperative_navigation" / "run", args.seeds)
    return side_summary(found["train_seconds"], wall, args.episodes, found["final_returns"])


def run_benchmarl(args, work: Path) -> dict:
    settings_file = work / "benchmarl_settings.json"
    settings_file.write_text(json.dumps(benchmarl_settings(args.episodes, args.hidden_units, args.eval_episodes),
                                        indent=1))
    python = str(args.benchmarl_venv / "bin" / "python")
    train_seconds, wall, returns = 0.0, 0.0, []
    for seed in range(args.seeds):
        out, folder = work / f"benchmarl_s{seed}.json", work / f"benchmarl_s{seed}"
        folder.mkdir()
        command = [python, "-m", "benchmarks.benchmarl_runner", "--settings", str(settings_file),
                   "--seed", str(seed), "--out", str(out), "--save_folder", str(folder)]
        print(f"BenchMARL seed {seed}:", " ".join(command), flush=True)
        wall += run_logged(command, work / f"benchmarl_s{seed}.log")
        result = json.loads(out.read_text())
        if result["frames"] != args.episodes * EPISODE_LENGTH:
            raise RuntimeError(f"BenchMARL ran {result['frames']} frames, expected {args.episodes * EPISODE_LENGTH}")
        train_seconds += result["train_seconds"]
        returns.append(sum(result["final_returns"]) / len(result["final_returns"]))
    print("BenchMARL versions:", json.loads(out.read_text())["versions"], flush=True)
    return side_summary(train_seconds, wall, args.episodes, returns)


def input_problem(args) -> str | None:
    """The first thing wrong with the command line, as one line saying what to pass instead; None if nothing."""
    if args.episodes <= 0 or args.episodes % EPISODES_PER_BATCH:
        return f"--episodes={args.episodes}: pass a positive multiple of {EPISODES_PER_BATCH}"
    if args.seeds < 2:
        return f"--seeds={args.seeds}: pass at least 2 (a confidence interval needs two seeds)"
    if args.hidden_units <= 0 or args.eval_episodes <= 0:
        return f"--hidden_units={args.hidden_units} --eval_episodes={args.eval_episodes}: pass positive counts"
    if args.work_dir is not None and args.work_dir.exists() and (not args.work_dir.is_dir()
                                                                 or any(args.work_dir.iterdir())):
        return f"--work_dir={args.work_dir} is not an empty folder: name a new or empty one"
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--episodes", type=int, default=2000, help="training episodes per seed, each side "
                        f"(a multiple of {EPISODES_PER_BATCH})")
    parser.add_argument("--seeds", type=int, default=3, help="seeds per side (0 .. seeds - 1); at least 2")
    parser.add_argument("--hidden_units", type=int, default=64, help="units in each of the two hidden layers")
    parser.add_argument("--eval_episodes", type=int, default=100, help="evaluation episodes per seed, each side")
    parser.add_argument("--benchmarl_venv", type=Path, default=DEFAULT_VENV, help="BenchMARL's venv")
    parser.add_argument("--work_dir", type=Path, default=None,
                        help="keep the runs and logs here (a new or empty folder; default: a temporary one)")
    parser.add_argument("--settings_only", action="store_true", help="print the hyperparameter table and exit")
    args = parser.parse_args()
    problem = input_problem(args)
    if problem:
        print(f"benchmarks.benchmarl_comparison: {problem}", file=sys.stderr)
        sys.exit(2)
    if args.settings_only:
        print(settings_table(hyperparameters(args.hidden_units, args.eval_episodes)))
        return
    if not benchmarl_ready(args.benchmarl_venv):
        print(f"skipped: BenchMARL is not installed in {args.benchmarl_venv}; create it with `{INSTALL_HINT}`")
        return
    print(f"MADDPG on mpe2 simple_spread, N={AGENTS}, {EPISODE_LENGTH} steps, continuous actions: "
          f"{args.episodes} episodes x {args.seeds} seeds per side", flush=True)
    print(settings_table(hyperparameters(args.hidden_units, args.eval_episodes)), flush=True)
    with tempfile.TemporaryDirectory() as scratch:
        work = args.work_dir if args.work_dir is not None else Path(scratch)
        work.mkdir(parents=True, exist_ok=True)
        ours = run_ours(args, work)
        theirs = run_benchmarl(args, work)
    print("\n".join(comparison_lines(ours, theirs, args.episodes)))


if __name__ == "__main__":
    main()
