"""One seed of BenchMARL's MADDPG on mpe2 simple_spread, timed; run only by BenchMARL's own venv.

    .benchmarl-venv/bin/python -m benchmarks.benchmarl_runner --settings S.json --seed 0 --out R.json --save_folder D

benchmarks/benchmarl_comparison.py writes the settings file (the ExperimentConfig, task, MaddpgConfig and MLP
fields it matches to ours) and reads the result. Nothing here imports our package or TensorFlow, and
benchmarl is imported only inside main(), so this file stays importable (and testable) without it.

The task: TorchRL 0.11's PettingZoo wrapper looks MPE tasks up in PettingZoo's registry of all families,
which since PettingZoo 1.25 no longer holds MPE (it moved to the separate mpe2 package, the one our side
steps) and fails on import. `use_mpe2_registry` puts mpe2's own table of its envs where TorchRL looks, so
BenchMARL's unchanged PettingZoo task builds mpe2's simple_spread_v3: both sides step the same env code.

The result file holds: setup_seconds (building the Experiment), train_seconds (its run() without its
evaluations), evaluation_seconds, frames (env steps; one frame is one step of one env with all agents) and
final_returns: the last evaluation's episode returns, each the mean over agents of the agent's summed
reward, as BenchMARL's own eval/reward/episode_reward_mean averages them.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import types


def use_mpe2_registry() -> None:
    """Makes `from pettingzoo.utils.all_modules import all_environments` return mpe2's envs (see the docstring).

    mpe2's table is keyed "mpe/<module>", the names TorchRL's PettingZooEnv(task="simple_spread_v3") finds.
    """
    from mpe2.all_modules import mpe_environments

    registry = types.ModuleType("pettingzoo.utils.all_modules")
    registry.all_environments = dict(mpe_environments)
    sys.modules["pettingzoo.utils.all_modules"] = registry


def episode_returns(rollouts, group: str) -> list[float]:
    """Per evaluation episode: the agents' summed rewards, averaged over the group's agents."""
    # rollout reward: [T, n_agents, 1] -> sum over time, mean over agents
    return [float(rollout.get(("next", group, "reward")).sum(0).mean()) for rollout in rollouts]


def build_experiment(settings: dict, seed: int, save_folder: str):
    """The BenchMARL Experiment: its yaml defaults with `settings`' fields written over them."""
    import torch
    from benchmarl.algorithms import MaddpgConfig
    from benchmarl.environments import PettingZooTask
    from benchmarl.experiment import Experiment, ExperimentConfig
    from benchmarl.models.mlp import MlpConfig

    experiment_config = ExperimentConfig.get_from_yaml()
    for name, value in {**settings["experiment"], "save_folder": save_folder}.items():
        if not hasattr(experiment_config, name):
            raise ValueError(f"ExperimentConfig has no field {name!r}")
        setattr(experiment_config, name, value)
    algorithm_config = MaddpgConfig.get_from_yaml()
    for name, value in settings["algorithm"].items():
        if not hasattr(algorithm_config, name):
            raise ValueError(f"MaddpgConfig has no field {name!r}")
        setattr(algorithm_config, name, value)
    task = PettingZooTask.SIMPLE_SPREAD.get_from_yaml()
    task.config.update(settings["task"])
    activation = {"relu": torch.nn.ReLU, "tanh": torch.nn.Tanh}[settings["activation"]]
    hidden = [settings["hidden_units"]] * settings["hidden_layers"]
    model_config = MlpConfig(num_cells=hidden, activation_class=activation, layer_class=torch.nn.Linear)
    critic_config = MlpConfig(num_cells=hidden, activation_class=activation, layer_class=torch.nn.Linear)
    return Experiment(task=task, algorithm_config=algorithm_config, model_config=model_config,
                      critic_model_config=critic_config, seed=seed, config=experiment_config)


def run(settings: dict, seed: int, save_folder: str) -> dict:
    """Builds and runs one seed; returns the timings and the last evaluation's returns."""
    import torch

    use_mpe2_registry()
    started = time.perf_counter()
    experiment = build_experiment(settings, seed, save_folder)
    setup_seconds = time.perf_counter() - started

    # BenchMARL evaluates inside its training loop (after the first iteration and every evaluation_interval
    # frames); timing each call lets the training time leave them out, as ours leaves its evaluation out.
    # Its callbacks are pickled into the experiment folder, so the returns are read where it notifies them.
    evaluation_seconds: list[float] = []
    evaluations: list[list[float]] = []
    evaluate, notify = experiment._evaluation_loop, experiment._on_evaluation_end

    def timed_evaluation():
        begun = time.perf_counter()
        evaluate()
        evaluation_seconds.append(time.perf_counter() - begun)

    def keep_returns(rollouts):
        evaluations.append(episode_returns(rollouts, settings["group"]))
        notify(rollouts)

    experiment._on_evaluation_end = keep_returns
    experiment._evaluation_loop = timed_evaluation
    started = time.perf_counter()
    experiment.run()
    run_seconds = time.perf_counter() - started
    if not evaluations:
        raise RuntimeError("BenchMARL ran no evaluation: check the settings' evaluation fields")
    return {
        "seed": seed,
        "setup_seconds": setup_seconds,
        "run_seconds": run_seconds,
        "evaluation_seconds": sum(evaluation_seconds),
        "evaluations": len(evaluation_seconds),
        "train_seconds": run_seconds - sum(evaluation_seconds),
        "frames": int(experiment.total_frames),
        "final_returns": evaluations[-1],
        "torch_threads": torch.get_num_threads(),
        "versions": package_versions(),
    }


def package_versions() -> dict:
    from importlib.metadata import version

    return {name: version(name) for name in ("benchmarl", "torchrl", "tensordict", "torch", "pettingzoo", "mpe2")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--settings", required=True, help="JSON file written by benchmarks.benchmarl_comparison")
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--out", required=True, help="where the result JSON goes")
    parser.add_argument("--save_folder", required=True, help="BenchMARL's experiment folder (an existing dir)")
    args = parser.parse_args()
    with open(args.settings) as handle:
        settings = json.load(handle)
    result = run(settings, args.seed, args.save_folder)
    with open(args.out, "w") as handle:
        json.dump(result, handle, indent=1)


if __name__ == "__main__":
    main()
