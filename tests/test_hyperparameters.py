"""Each experiment script's default configs are the paper's settings (its appendix and openai/maddpg), every
TrainConfig field is a flag of every script, a passed flag reaches the config, and docs/hyperparameters.md is
the generator's current output."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
from absl import flags

from maddpg.config import TrainConfig
from maddpg.results import UsageError
from reproduction import runner
from reproduction.hyperparameters import EXPERIMENT_MODULES, experiments, hyperparameter_table

REPO = Path(__file__).resolve().parent.parent
EXPERIMENTS = {experiment.name: experiment for experiment in experiments()}

# The paper's appendix, the same for every experiment (lr, tau, gamma, batch, replay, update rate, 25 steps),
# and where the paper is silent, openai/maddpg's code.
COMMON = dict(learning_rate=0.01, tau=0.01, gamma=0.95, batch_size=1024, buffer_capacity=1_000_000,
              update_every=100, episode_length=25, warmup_transitions=25_600, grad_clip_norm=0.5,
              logit_penalty=1e-3, gumbel_temperature=1.0, adam_epsilon=1e-8, copy_targets_at_start=False,
              eval_episodes=1000, dynamics="paper")
# experiment -> (hidden units, seeds, episodes): 128 units for Tables 2-3; 10 seeds for CC, PD and covert
# communication, 3 for the rest; covert communication 60000 episodes (Fig. 8). Where the paper is silent
# (keep-away's single runs, the ensembles' length), the scripts' documented choices.
PER_EXPERIMENT = {
    "cooperative_communication": (64, 10, 25_000),
    "cooperative_navigation": (128, 3, 25_000),
    "predator_prey": (128, 3, 25_000),
    "physical_deception": (64, 10, 25_000),
    "covert_communication": (64, 10, 60_000),
    "keep_away": (64, 3, 25_000),
    "policy_inference": (64, 10, 25_000),
    "policy_ensembles": (None, 3, 25_200),  # units per variant, below
}
ENSEMBLE_UNITS = {"ka": 64, "pd": 64, "pp": 128}  # pp is Table 3's predator-prey, 128 units
ENSEMBLE_SIZES = {"ka": 3, "pd": 3, "pp": 2}  # paper sec. 4.3


def test_every_experiment_script_is_covered():
    scripts = {path.stem for path in (REPO / "reproduction").glob("*.py")}
    not_experiments = {"__init__", "runner", "request", "hyperparameters", "independent_baselines", "paper",
                       "ablations"}
    assert scripts - not_experiments == set(EXPERIMENT_MODULES) == set(PER_EXPERIMENT)


@pytest.mark.parametrize("name", PER_EXPERIMENT)
def test_default_configs_are_the_papers(name):
    units, seeds, episodes = PER_EXPERIMENT[name]
    configs = runner.default_configs(EXPERIMENTS[name])
    assert configs
    for label, config in configs.items():
        for field, value in COMMON.items():
            assert getattr(config, field) == value, (label, field)
        assert config.seeds == tuple(range(seeds)) and config.episodes == episodes, label
        if name == "policy_ensembles":
            variant, kind = label.split("_")
            assert config.hidden_units == ENSEMBLE_UNITS[variant], label
            assert config.ensemble_size == (ENSEMBLE_SIZES[variant] if kind == "ensemble" else 1), label
        else:
            assert config.hidden_units == units and config.ensemble_size == 1, label
        assert config.policy_inference == (label == "inferred_policies"), label


def _parse(experiment, *arguments) -> flags.FlagValues:
    flag_values = flags.FlagValues()
    runner.define_flags(experiment, flag_values)
    flag_values(["script", *arguments])
    return flag_values


def test_every_config_field_is_a_flag_with_its_help_and_source():
    flag_values = _parse(EXPERIMENTS["cooperative_communication"])
    for field in dataclasses.fields(TrainConfig):
        if field.name in runner.SCRIPT_SET_FIELDS:
            continue
        flag = flag_values[field.name]
        assert field.metadata["help"] in flag.help and f"source: {field.metadata['source']}" in flag.help
    # The defaults shown are the experiment's, not TrainConfig's.
    assert flag_values["jit_compile"].default is True and flag_values["episodes"].default == 25_000


@pytest.mark.parametrize("arguments,expected", [
    (["--learning_rate=0.001"], {"learning_rate": 0.001}),
    (["--tau=0.05", "--batch_size=512"], {"tau": 0.05, "batch_size": 512}),
    (["--logit_penalty=0"], {"logit_penalty": 0.0}),
    (["--nojit_compile", "--gamma=0.9"], {"jit_compile": False, "gamma": 0.9}),
    (["--smoke", "--batch_size=32", "--hidden_units=8"], {"batch_size": 32, "hidden_units": 8, "episodes": 200}),
])
def test_a_passed_flag_reaches_every_config(arguments, expected):
    experiment = EXPERIMENTS["physical_deception"]
    plans = runner.build_configs(experiment, _parse(experiment, *arguments))
    assert len(plans) == 8
    defaults = runner.default_configs(experiment)
    for label, config, _ in plans:
        for field, value in expected.items():
            assert getattr(config, field) == value, (label, field)
        if "--smoke" not in arguments:  # every field not passed keeps its default
            assert set(config.differences(defaults[label])) == set(expected), label


def test_a_flag_overrides_a_per_run_default():
    experiment = EXPERIMENTS["policy_ensembles"]
    plans = runner.build_configs(experiment, _parse(experiment, "--hidden_units=32", "--variant=pp"))
    assert {label: config.hidden_units for label, config, _ in plans} == {"pp_single": 32, "pp_ensemble": 32}
    plans = runner.build_configs(experiment, _parse(experiment, "--variant=ka,pp"))
    assert {label: config.hidden_units for label, config, _ in plans} == {
        "ka_single": 64, "ka_ensemble": 64, "pp_single": 128, "pp_ensemble": 128}


@pytest.mark.parametrize("argument,message", [
    ("--tau=0", "tau must lie in (0, 1]"),
    ("--learning_rate=-1", "learning_rate must be positive"),
    ("--gamma=1.5", "gamma must lie in [0, 1]"),
])
def test_a_bad_value_is_refused_by_train_config(argument, message):
    experiment = EXPERIMENTS["cooperative_communication"]
    with pytest.raises(UsageError, match=re.escape(message)):
        runner.build_configs(experiment, _parse(experiment, argument))


def test_docs_hyperparameters_is_current():
    """Regenerate with: python -m reproduction.hyperparameters > docs/hyperparameters.md"""
    assert (REPO / "docs" / "hyperparameters.md").read_text() == hyperparameter_table()
