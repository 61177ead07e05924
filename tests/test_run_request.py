"""One way to build a config (reproduction/request.py): the script flags, the paper driver and the ablation
studies all make a RunRequest, and the same request plans the same TrainConfigs and folders whoever made it."""

import importlib
import json
from pathlib import Path

import pytest
from absl import flags

from maddpg.config import TrainConfig
from maddpg.evaluation import EvaluationSettings
from reproduction import ablations, independent_baselines, paper, runner
from reproduction.request import RunRequest


def _script_plan(name: str, argv: list[str]):
    """(label, config as JSON, run_dir) of what the script `name` plans when given argv, through its flags."""
    if name == paper.BASELINES:
        options = flags.FlagValues()
        independent_baselines.define_flags(options)
        options(["script", *argv])
        request = independent_baselines.request_from_flags(options)
        return [(config.algorithm, config.to_json(), run_dir)
                for config, run_dir in independent_baselines.plan_request(request)]
    experiment = importlib.import_module(f"reproduction.{name}").EXPERIMENT
    options = flags.FlagValues()
    runner.define_flags(experiment, options)
    options(["script", *argv])
    return [(label, config.to_json(), run_dir) for label, config, run_dir in runner.build_configs(experiment, options)]


def _driver_plan(argv: list[str]):
    """The paper driver's plan for its command line argv (its flags parsed as main parses them)."""
    for name in list(paper.FLAGS):
        paper.FLAGS[name].unparse()
    paper.FLAGS(["paper", *argv])
    return paper.plan_runs(paper.FLAGS)


@pytest.mark.parametrize("argv", [
    [],
    ["--smoke", "--dynamics=mpe2"],
    ["--seeds=2"],
])
def test_the_paper_drivers_plan_and_the_script_flags_give_equal_configs(argv, tmp_path):
    """Every run the driver plans (cross-plays aside: they train nothing) is the run its script plans for the
    same request given as flags: the same label, TrainConfig and folder."""
    results_dir = str(tmp_path / "results")
    plan = _driver_plan([*argv, f"--results_dir={results_dir}"])
    for name in paper.EXPERIMENTS:
        ours = [(run.label, run.config.to_json(), run.run_dir) for run in plan
                if run.experiment == name and run.kind != "cross_play"]
        seeds = 2 if "--seeds=2" in argv else paper.PAPER_SEEDS[name]
        request = paper._request(name, paper.FLAGS, seeds)
        assert isinstance(request, RunRequest) and request.results_dir == results_dir
        assert ours and ours == _script_plan(name, request.argv()), name


def test_a_request_goes_through_the_script_flags_unchanged():
    """RunRequest.argv is a command line the script parses back into the same request (lists, booleans and
    floats included), and its JSON form reads back equal."""
    experiment = importlib.import_module("reproduction.policy_inference").EXPERIMENT
    request = RunRequest(experiment="policy_inference", variants=("default",), pairings=("inferred_policies",),
                         seeds=3, first_seed=2, dynamics="mpe2",
                         overrides={"inference_learning_rate": 0.0, "learning_rate": 0.001, "jit_compile": False,
                                    "inference_likelihood": "relaxed", "episodes": 5000},
                         results_dir="/tmp/somewhere", smoke=True, run_id="x")
    argv = request.argv()
    assert "--inference_learning_rate=0" in argv and "--nojit_compile" in argv and "--variant=default" in argv
    options = flags.FlagValues()
    runner.define_flags(experiment, options)
    options(["script", *argv])
    assert runner.request_from_flags(experiment, options) == request
    assert RunRequest.from_json(request.to_json()) == request
    ((_, config, run_dir),) = runner.plan_request(experiment, request)
    assert config.inference_learning_rate == 0.0 and config.learning_rate == 0.001 and config.episodes == 5000
    assert config.seeds == (2, 3) and run_dir == Path("/tmp/somewhere/policy_inference/smoke_x")  # --smoke: 2 seeds


def test_a_bad_request_is_refused_by_name():
    experiment = importlib.import_module("reproduction.cooperative_communication").EXPERIMENT
    with pytest.raises(runner.UsageError, match="'nope' is not a TrainConfig field"):
        runner.plan_request(experiment, RunRequest("cooperative_communication", overrides={"nope": 1}))
    with pytest.raises(runner.UsageError, match="unknown pairing 'nope'"):
        runner.plan_request(experiment, RunRequest("cooperative_communication", pairings=("nope",)))
    with pytest.raises(runner.UsageError, match="tau must lie in"):
        runner.plan_request(experiment, RunRequest("cooperative_communication", overrides={"tau": 0.0}))


@pytest.mark.parametrize("study", ablations.STUDIES, ids=lambda study: study.name)
def test_each_ablation_value_is_a_request_equal_to_its_command(study, tmp_path):
    """A value's RunRequest holds names and typed values, no flag strings, and plans what the command it
    records (study.command) plans through the script's flags."""
    for value in study.values:
        request = study.request(value, tmp_path)
        assert isinstance(request, RunRequest) and request.experiment == study.experiment
        assert not any(str(item).startswith("--") for item in
                       [*request.overrides, *request.overrides.values(), *(request.variants or ()),
                        *(request.pairings or ())])
        assert set(request.overrides) <= {field.name for field in runner.config_flag_fields()}
        experiment = importlib.import_module(f"reproduction.{study.experiment}").EXPERIMENT
        # as config.json would hold them: 0.0 and 0 differ there
        planned = [(label, json.dumps(config.to_json()), Path(run_dir).resolve())
                   for label, config, run_dir in runner.plan_request(experiment, request)]
        command = study.command(value, tmp_path)
        scripted = [(label, json.dumps(config), Path(run_dir).resolve()) for label, config, run_dir
                    in _script_plan(study.experiment, [arg for arg in command[3:] if arg != "--noprogress"])]
        assert planned == scripted, value.label


def test_the_ablation_path_runs_a_request(monkeypatch, tmp_path, capsys):
    """run_study hands each value's RunRequest to the script's own path (runner.run_and_tabulate) with the
    command it records; no flag strings, no script subprocess. A failing value is reported and the others
    run."""
    import subprocess

    def no_subprocess(*args, **kwargs):
        raise AssertionError("an ablation value was run as a subprocess")

    calls = []

    def run_and_tabulate(experiment, request, command, **kwargs):
        calls.append((experiment.name, request, command, kwargs))
        return 2 if len(calls) == 1 else 0

    monkeypatch.setattr(subprocess, "run", no_subprocess)
    monkeypatch.setattr(runner, "run_and_tabulate", run_and_tabulate)
    study = next(study for study in ablations.STUDIES if study.name == "pd_length")
    assert ablations.run_study(study, tmp_path, isolate=False) is False  # the first value "exited" 2
    assert "error: [pd_length] ep25000 exited 2" in capsys.readouterr().err
    assert [request for _, request, _, _ in calls] == [study.request(value, tmp_path) for value in study.values]
    name, request, command, kwargs = calls[1]
    assert name == "physical_deception" and kwargs == {"progress": False}
    assert request.variants == ("n2",) and request.pairings == ("maddpg_vs_maddpg",)
    assert dict(request.overrides) == {"episodes": 5000}
    assert command == " ".join(study.command(study.values[1], tmp_path))
    assert command.startswith("python -m reproduction.physical_deception --variant=n2 --pairing=maddpg_vs_maddpg "
                              "--episodes=5000 --results_dir=")


def test_evaluation_settings_are_a_runs_own():
    config = TrainConfig(experiment="x", scenario="speaker_listener", algorithm="maddpg",
                         critic_kinds=("maddpg", "maddpg"), seeds=(0,), dynamics="paper", eval_actions="greedy",
                         eval_episodes=7, policy="straight_through")
    assert EvaluationSettings.of(config) == EvaluationSettings(7, config.gumbel_temperature, "paper", True,
                                                               "straight_through")
    assert EvaluationSettings.of(config, episodes=3, greedy=False).episodes == 3
    assert not EvaluationSettings.of(config, greedy=False).greedy
    json.dumps(EvaluationSettings.of(config).__dict__)  # plain values: a worker process gets them pickled


def test_an_isolated_ablation_value_gets_its_request_as_json(monkeypatch, tmp_path):
    """The process of a value (run_isolated) is given the RunRequest as JSON, which reads back equal, and the
    command it records; its exit code is the value's."""
    started = []

    class Process:
        def __init__(self, target, args):
            started.append((target, args))
            self.exitcode = 3

        def start(self):
            pass

        def join(self):
            pass

    context = type("Context", (), {"Process": Process})
    monkeypatch.setattr(ablations.multiprocessing, "get_context", lambda method: context)
    study = next(study for study in ablations.STUDIES if study.name == "cc_length")
    assert ablations.run_study(study, tmp_path) is False
    assert [RunRequest.from_json(args[0]) for _, args in started] == [study.request(v, tmp_path)
                                                                     for v in study.values]
    assert [args[1] for _, args in started] == [" ".join(study.command(v, tmp_path)) for v in study.values]
    assert all(target is ablations._run_value_json for target, _ in started)
    assert "--" not in started[1][1][0]  # the request, not flags
