"""The tf-agents baselines (issue 6): a smoke run of all four, the PettingZoo -> tf-agents wrapper checked by
hand against mpe2, process isolation (Keras 3 here, Keras 2 only in the baselines' subprocess), bad input, and
the dynamics (the smoke run is on the default, paper; every env a run builds gets its config's dynamics).

Everything that imports tf-agents runs in a subprocess with TF_USE_LEGACY_KERAS=1, as the baselines do: this
pytest process must keep Keras 3. The tests skip only when tf-agents is not installed (CI installs it with
scripts/install_baselines.sh, so they run there).
"""

import fcntl
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from tf_agents_baselines.process import LEGACY_KERAS_VARIABLE, legacy_keras_environment

REPO = Path(__file__).resolve().parent.parent
SCRIPT = [sys.executable, "-m", "reproduction.independent_baselines"]
ALGORITHMS = ("dqn", "actor_critic", "trpo", "reinforce")
SMOKE_RUN = "smoke_paper_{}_s0-0_ep100"  # the default dynamics is paper; folders are <dynamics>_<baseline>_...

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("tf_agents") is None,
    reason="tf-agents is not installed (the optional `baselines` extra: bash scripts/install_baselines.sh)")


def _run(*args, results_dir):
    environment = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.run(SCRIPT + [f"--results_dir={results_dir}", *args], cwd=REPO, capture_output=True,
                          text=True, env=environment, timeout=600)


def _once_per_session(tmp_path_factory, name, produce):
    """produce(directory) -> JSON-able, run once per test session even when pytest-xdist splits the tests
    over several workers (they share the parent of their base temp folder): the first worker runs it under a
    file lock, the others wait and read its result. Without xdist the base temp folder itself is the session's
    (its parent is shared by every session of this user, whose results may come from other code)."""
    basetemp = tmp_path_factory.getbasetemp()
    shared = basetemp.parent if os.environ.get("PYTEST_XDIST_WORKER") else basetemp
    directory, result = shared / name, shared / f"{name}.json"
    with open(shared / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not result.exists():
            directory.mkdir(exist_ok=True)
            result.write_text(json.dumps(produce(directory)))
    return json.loads(result.read_text()), directory


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    """One smoke run of all four baselines, one seed (one subprocess trains all four): (completed, results_dir)."""
    def produce(results_dir):
        completed = _run("--smoke", "--seeds=1", results_dir=results_dir)
        return {"returncode": completed.returncode, "stdout": completed.stdout, "stderr": completed.stderr}

    outcome, results_dir = _once_per_session(tmp_path_factory, "baselines_smoke", produce)
    return subprocess.CompletedProcess(SCRIPT, outcome["returncode"], outcome["stdout"], outcome["stderr"]), results_dir


def test_smoke_run_of_every_baseline_writes_metrics_and_evaluation(smoke):
    completed, results_dir = smoke
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    for algorithm in ALGORITHMS:
        run_dir = results_dir / "cooperative_communication" / SMOKE_RUN.format(algorithm)
        config = json.loads((run_dir / "config.json").read_text())
        assert (config["experiment"], config["scenario"], config["algorithm"]) == (
            "cooperative_communication", "speaker_listener", algorithm)
        assert config["seeds"] == [0] and config["episodes"] == 100 and config["settings"]["gamma"] == 0.95
        meta = json.loads((run_dir / "meta.json").read_text())
        assert meta["training_complete"] and meta["evaluation_complete"] and meta["seeds_done"] == [0]
        assert meta["command"].startswith("python -m reproduction.independent_baselines --results_dir=")
        assert meta["keras_in_baseline_process"].startswith("tf_keras 2.")
        assert meta["baseline_packages"]["tf-agents"] == "0.19.0"

        metrics = pd.read_csv(run_dir / "metrics.csv")
        assert list(metrics.columns) == ["experiment", "scenario", "algorithm", "dynamics", "role", "seed",
                                         "episode", "env_step", "metric", "value"]
        assert set(metrics.dynamics) == {"paper"}
        assert sorted(metrics.episode.unique()) == [50, 100] and set(metrics.seed) == {0}
        assert set(metrics.algorithm) == {algorithm}
        assert (metrics.env_step == 25 * metrics.episode).all()
        logged = set(zip(metrics.role, metrics.metric))
        assert logged == {("team", "mean_episode_reward"), ("team", "final_goal_distance"),
                          ("speaker_0", "mean_episode_reward"), ("listener_0", "mean_episode_reward")}
        for _, window in metrics.groupby("episode"):  # the team reward is the sum of the agents' rewards
            values = {(row.role, row.metric): row.value for row in window.itertuples()}
            assert values[("team", "mean_episode_reward")] == pytest.approx(
                values[("speaker_0", "mean_episode_reward")] + values[("listener_0", "mean_episode_reward")])
            assert values[("team", "mean_episode_reward")] < 0 and values[("team", "final_goal_distance")] > 0

        evaluation = pd.read_csv(run_dir / "evaluation.csv")
        assert set(evaluation.metric) == {"target_reach_nearest_percent", "final_squared_distance",
                                          "target_reach_percent", "mean_squared_distance", "final_distance",
                                          "mean_episode_reward"}  # maddpg.metrics.speaker_listener's names
        assert set(evaluation.role) == {"team"} and set(evaluation.episode) == {100}
        values = dict(zip(evaluation.metric, evaluation.value))
        assert 0 <= values["target_reach_percent"] <= 100 and values["mean_squared_distance"] > 0
        # Both agents receive -(listener-goal distance)^2 per step: the episode reward is -2 x 25 x the average.
        assert values["mean_episode_reward"] == pytest.approx(-2 * 25 * values["mean_squared_distance"], rel=1e-5)
    for label in ("| DQN |", "| Actor-Critic |", "| TRPO (PPO in tf-agents) |", "| REINFORCE |"):
        row = next(line for line in completed.stdout.splitlines() if line.startswith(label))
        assert "(n=1)" in row
    assert "(paper dynamics)" in completed.stdout and "(mpe2 dynamics)" not in completed.stdout  # the run's table


def test_a_smoke_run_records_its_dynamics(smoke):
    completed, results_dir = smoke
    assert completed.returncode == 0, completed.stderr[-3000:]
    for algorithm in ALGORITHMS:
        run_dir = results_dir / "cooperative_communication" / SMOKE_RUN.format(algorithm)
        assert json.loads((run_dir / "config.json").read_text())["dynamics"] == "paper"
        assert json.loads((run_dir / "meta.json").read_text())["dynamics"] == "paper"
        evaluation = pd.read_csv(run_dir / "evaluation.csv")
        assert list(evaluation.columns[2:5]) == ["algorithm", "dynamics", "role"]
        assert set(evaluation.dynamics) == {"paper"}


def test_paper_figures_shows_the_rows_and_curves(smoke, tmp_path):
    _, results_dir = smoke
    completed = subprocess.run(
        [sys.executable, "-m", "paper_figures", f"--results_dir={results_dir}", f"--out_dir={tmp_path}",
         "--include_smoke", "--no_readme"], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr[-2000:]
    table = pd.read_csv(tmp_path / "table1.csv")  # paper dynamics: the headline table keeps the plain name
    ours = table[table.algorithm.isin(ALGORITHMS)]
    assert set(ours.algorithm) == set(ALGORITHMS) and set(ours.n) == {1} and set(ours.dynamics) == {"paper"}
    assert not (tmp_path / "table1_mpe2.csv").exists()  # no mpe2 run here, so no mpe2 table
    assert (tmp_path / "figures" / "fig4_cc_reward_curves.png").stat().st_size > 0
    assert "TRPO (PPO in tf-agents)" in (tmp_path / "tables.md").read_text()


def test_this_process_keeps_keras_3_after_the_baselines_ran(smoke):
    assert smoke[0].returncode == 0
    import keras

    assert keras.__version__.startswith("3."), keras.__version__
    assert LEGACY_KERAS_VARIABLE not in os.environ
    assert "tf_agents" not in sys.modules


def test_the_legacy_keras_switch_is_set_only_for_the_child():
    child = legacy_keras_environment()
    assert child[LEGACY_KERAS_VARIABLE] == "1"
    assert LEGACY_KERAS_VARIABLE not in os.environ


def test_rerunning_a_finished_run_reuses_it(smoke):
    _, results_dir = smoke
    metrics = results_dir / "cooperative_communication" / SMOKE_RUN.format("dqn") / "metrics.csv"
    before = metrics.read_text()
    completed = _run("--smoke", "--seeds=1", "--baseline=dqn", "--notable", results_dir=results_dir)
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert "finished already" in completed.stdout and metrics.read_text() == before


def test_a_folder_of_another_config_is_refused(smoke):
    _, results_dir = smoke
    completed = _run("--smoke", "--seeds=1", "--baseline=dqn", "--train_env=mpe2", results_dir=results_dir)
    assert completed.returncode == 2
    assert completed.stderr.strip().startswith("error: ") and "another config" in completed.stderr
    assert len(completed.stderr.strip().splitlines()) == 1


def test_a_folder_of_the_other_dynamics_is_refused(smoke):
    _, results_dir = smoke
    run_dir = results_dir / "cooperative_communication" / SMOKE_RUN.format("dqn")
    before = {path: path.read_bytes() for path in run_dir.rglob("*") if path.is_file()}
    # --run_id names the paper run's folder (smoke_ is prefixed), so this mpe2 run would resume it.
    completed = _run("--smoke", "--seeds=1", "--baseline=dqn", "--dynamics=mpe2", "--run_id=paper_dqn_s0-0_ep100",
                     results_dir=results_dir)
    assert completed.returncode == 2
    error = completed.stderr.strip()
    assert len(error.splitlines()) == 1 and error.startswith("error: ")
    assert "dynamics 'paper', not 'mpe2'" in error and "--dynamics=paper" in error
    assert {path: path.read_bytes() for path in run_dir.rglob("*") if path.is_file()} == before


def test_a_config_without_dynamics_is_an_mpe2_run():
    from tf_agents_baselines.run_config import BaselineRunConfig, make_config

    config = make_config("dqn", [0], 100, 4, "batched_port", True, 50, dynamics="paper")
    data = config.to_json()
    assert data["dynamics"] == "paper" and BaselineRunConfig.from_json(data) == config
    del data["dynamics"]  # as in the config.json of a run made before the field existed
    assert BaselineRunConfig.from_json(data).dynamics == "mpe2"
    assert make_config("dqn", [0], 100, 4, "batched_port", True, 50, dynamics="2017").problems() == [
        "unknown dynamics '2017'; choose from paper, mpe2"]


# Run in a legacy-Keras subprocess: builds both training env kinds and runs a tiny greedy evaluation in each
# dynamics, recording the dynamics every env factory call received (and the port's own), so a dynamics that
# is dropped on its way to any env shows. Prints what the test checks.
ENV_DYNAMICS = r"""
import json
import envs.batched, envs.reference
from tf_agents_baselines.evaluation import evaluate_policies
from tf_agents_baselines.joint_envs import make_joint_env
import tensorflow as tf

calls = []
def spy(factory, kind):
    def wrapped(*args, **kwargs):
        calls.append([kind, kwargs.get("dynamics", "unset")])
        return factory(*args, **kwargs)
    return wrapped
envs.batched.make_batched_env = spy(envs.batched.make_batched_env, "batched")
envs.reference.make_reference_env = spy(envs.reference.make_reference_env, "reference")

class Constant:  # a policy that always makes the same choice
    def __init__(self, choice):
        self.choice = choice
    def action(self, time_step):
        return type("PolicyStep", (), {"action": tf.fill(tf.shape(time_step.step_type), self.choice)})

out = {}
for dynamics in ("paper", "mpe2"):
    calls.clear()
    port = make_joint_env("batched_port", "speaker_listener", 2, 0, dynamics=dynamics)
    mpe2 = make_joint_env("mpe2", "speaker_listener", 2, 0, dynamics=dynamics)
    # From rest, the listener's choice 1 moves it 0.05 along +x in the same step in the 2017 physics; in mpe2
    # (position before velocity, the other sign) it has not moved yet after the first step.
    mpe2.reset()
    start = [world.agents[1].state.p_pos.copy() for world in mpe2.envs.worlds()]
    mpe2.step([tf.zeros([2], tf.int32), tf.ones([2], tf.int32)])
    moved = [(world.agents[1].state.p_pos - p).tolist() for world, p in zip(mpe2.envs.worlds(), start)]
    evaluate_policies("speaker_listener", [Constant(0), Constant(1)], 0, 2, batch=2, dynamics=dynamics)
    out[dynamics] = {"calls": list(calls), "port": port.port.dynamics, "moved": moved}
print("RESULT " + json.dumps(out))
"""


def test_every_env_of_a_run_is_built_in_its_dynamics(legacy_probes):
    outcome = legacy_probes["dynamics"]
    for dynamics, expected_move in (("paper", [0.05, 0.0]), ("mpe2", [0.0, 0.0])):
        seen = outcome[dynamics]
        # the port, the 2 mpe2 training envs, the 2 evaluation envs
        assert seen["calls"] == [["batched", dynamics]] + [["reference", dynamics]] * 4
        assert seen["port"] == dynamics
        for move in seen["moved"]:
            assert move == pytest.approx(expected_move, abs=1e-6)


@pytest.mark.parametrize("arguments, message", [
    (["--baseline=ddpg"], "unknown baseline 'ddpg'"),
    (["--seeds=0"], "--seeds must be positive"),
    (["--episodes=1500"], "must be a multiple of log_every_episodes"),
    (["--no_such_flag"], "no_such_flag"),
    (["--dynamics=2017"], "dynamics"),
])
def test_bad_input_is_one_line_and_exit_code_2(tmp_path, arguments, message):
    completed = _run(*arguments, results_dir=tmp_path)
    assert completed.returncode == 2
    assert completed.stderr.strip().startswith("error: ") and message in completed.stderr
    assert len(completed.stderr.strip().splitlines()) == 1
    assert not any(tmp_path.iterdir())  # nothing written


def test_keep_rows_drops_an_unfinished_seeds_rows(tmp_path):
    from maddpg.results import keep_rows

    path = tmp_path / "metrics.csv"
    path.write_text("experiment,seed,value\ncc,0,1.0\ncc,1,2.0\ncc,0,3.0\n")
    keep_rows(path, "seed", lambda seed: seed in {0})
    assert path.read_text().splitlines() == ["experiment,seed,value", "cc,0,1.0", "cc,0,3.0"]


# Run in a legacy-Keras subprocess: wraps mpe2's speaker-listener (continuous_actions=True, the factory's, so the
# wrapper maps each choice to a one-hot vector) and plays 25 fixed joint choices; beside it, mpe2 built with
# continuous_actions=False receives the same choices as plain integers. Prints what the test checks.
WRAPPER_EPISODE = r"""
import json
import numpy as np
from mpe2 import simple_speaker_listener_v4
from tf_agents_baselines.pettingzoo_agents import ParallelEnvAgents
from envs.reference import make_reference_env

def spec(s):
    return {"shape": list(s.shape), "dtype": str(np.dtype(s.dtype)),
            "minimum": np.asarray(getattr(s, "minimum", np.nan)).tolist(),
            "maximum": np.asarray(getattr(s, "maximum", np.nan)).tolist()}

joint = ParallelEnvAgents(make_reference_env("speaker_listener"))
discrete = simple_speaker_listener_v4.parallel_env(max_cycles=25, continuous_actions=False)
out = {"agents": list(joint.agents), "specs": {}}
for agent, environment in joint.environments.items():
    step_spec = environment.time_step_spec()
    out["specs"][agent] = {"observation": spec(environment.observation_spec()),
                           "action": spec(environment.action_spec()), "reward": spec(step_spec.reward),
                           "discount": spec(step_spec.discount), "step_type": spec(step_spec.step_type)}
first = joint.reset(seed=123)
observations, _ = discrete.reset(seed=123)
out["first"] = {a: [int(t.step_type), float(t.reward), float(t.discount)] for a, t in first.items()}
out["first_observation_equal"] = all(np.array_equal(first[a].observation, observations[a]) for a in joint.agents)
out["current_is_first"] = int(joint.environments["listener_0"].current_time_step().step_type)
world = joint.env.unwrapped.world
rows = []
for t in range(25):
    choices = {"speaker_0": t % 3, "listener_0": (t // 2) % 5}
    steps = joint.step(choices)
    observations, rewards, terminations, truncations, _ = discrete.step(choices)
    goal = world.agents[0].goal_b.state.p_pos
    hand = -float(np.sum(np.square(world.agents[1].state.p_pos - goal)))  # -|listener - goal|^2, by hand
    rows.append({"step_types": [int(steps[a].step_type) for a in joint.agents],
                 "discounts": [float(steps[a].discount) for a in joint.agents],
                 "rewards": [float(steps[a].reward) for a in joint.agents],
                 "reward_dtypes": [str(np.asarray(steps[a].reward).dtype) for a in joint.agents],
                 "discrete_rewards": [float(rewards[a]) for a in joint.agents],
                 "hand_reward": hand,
                 "observation_gap": max(float(np.max(np.abs(steps[a].observation - observations[a])))
                                        for a in joint.agents),
                 "truncated": [bool(truncations[a]) for a in joint.agents]})
out["steps"] = rows
out["after_last"] = [int(t.step_type) for t in joint.step({"speaker_0": 0, "listener_0": 0}).values()]
try:
    joint.environments["speaker_0"].step(0)
    out["single_step"] = "allowed"
except RuntimeError as error:
    out["single_step"] = str(error)
print("RESULT " + json.dumps(out))
"""


@pytest.fixture(scope="module")
def legacy_probes(tmp_path_factory):
    """WRAPPER_EPISODE then ENV_DYNAMICS, each in a namespace of its own, in one legacy-Keras subprocess (one
    TensorFlow and tf-agents start for both): {"wrapper": its RESULT, "dynamics": its RESULT}."""
    def produce(_):
        script = f"exec({WRAPPER_EPISODE!r}, {{}})\nexec({ENV_DYNAMICS!r}, {{}})"
        completed = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True,
                                   env=legacy_keras_environment(), timeout=300)
        lines = [line[len("RESULT "):] for line in completed.stdout.splitlines() if line.startswith("RESULT ")]
        if completed.returncode or len(lines) != 2:
            return {"error": completed.stderr[-3000:]}
        return {"wrapper": json.loads(lines[0]), "dynamics": json.loads(lines[1])}

    outcome, _ = _once_per_session(tmp_path_factory, "baselines_legacy_probes", produce)
    assert "error" not in outcome, outcome.get("error")
    return outcome


@pytest.fixture
def wrapper_episode(legacy_probes):
    return legacy_probes["wrapper"]


def test_wrapper_specs_are_per_agent(wrapper_episode):
    specs = wrapper_episode["specs"]
    assert wrapper_episode["agents"] == ["speaker_0", "listener_0"]
    assert specs["speaker_0"]["observation"]["shape"] == [3] and specs["listener_0"]["observation"]["shape"] == [11]
    assert {agent: (s["action"]["shape"], s["action"]["dtype"], s["action"]["minimum"], s["action"]["maximum"])
            for agent, s in specs.items()} == {"speaker_0": ([], "int32", 0, 2), "listener_0": ([], "int32", 0, 4)}
    for agent_specs in specs.values():
        assert agent_specs["observation"]["dtype"] == "float32"
        assert (agent_specs["reward"]["shape"], agent_specs["reward"]["dtype"]) == ([], "float32")
        assert agent_specs["discount"] == {"shape": [], "dtype": "float32", "minimum": 0.0, "maximum": 1.0}
        assert (agent_specs["step_type"]["shape"], agent_specs["step_type"]["dtype"]) == ([], "int32")


def test_wrapper_episode_checked_by_hand(wrapper_episode):
    first, steps = wrapper_episode["first"], wrapper_episode["steps"]
    assert first == {"speaker_0": [0, 0.0, 1.0], "listener_0": [0, 0.0, 1.0]}  # FIRST, reward 0, discount 1
    assert wrapper_episode["first_observation_equal"] and wrapper_episode["current_is_first"] == 0
    assert len(steps) == 25
    for index, step in enumerate(steps, start=1):
        expected_type = 2 if index == 25 else 1  # LAST at the 25th step, MID before
        assert step["step_types"] == [expected_type, expected_type], index
        assert step["discounts"] == [1.0, 1.0]  # mpe2 truncates: a time limit, never a terminal state
        assert step["truncated"] == [index == 25, index == 25]
        assert step["reward_dtypes"] == ["float32", "float32"]
        # Each agent's reward is mpe2's (the discrete-action env, given the same choices) ...
        assert step["rewards"] == pytest.approx(step["discrete_rewards"], rel=1e-6, abs=1e-6)
        # ... and equals -|listener - goal|^2 computed from the world by hand.
        assert step["rewards"] == pytest.approx([step["hand_reward"]] * 2, rel=1e-6, abs=1e-6)
        assert step["observation_gap"] < 1e-6  # one-hot choices move mpe2 exactly as discrete actions
    assert len({round(step["rewards"][0], 4) for step in steps}) > 5  # the listener really moved
    assert wrapper_episode["after_last"] == [0, 0]  # stepping after LAST resets: FIRST again
    assert "together with ParallelEnvAgents" in wrapper_episode["single_step"]  # one agent alone cannot step
