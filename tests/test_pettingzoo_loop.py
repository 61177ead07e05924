"""The plain PettingZoo loop: trains on mpe2 simple_reference with Box and Discrete actions, is seeded,
sends only valid actions, rejects a changing agent set, stops bootstrapping at terminations, stacks seeds whose
episodes end on different steps, acts with deterministic actors inside a [-1, 1] Box (sisl multiwalker), refuses
policies that cannot act on a space, evaluates against a random policy, and its CLI (any env module, pursuit's
Discrete actions, one line and exit 2 on bad input)."""

import os
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from maddpg.config import TrainConfig
from maddpg.pettingzoo_loop import (ParallelEnvTrainer, build_config, check_action_spaces, env_choice,
                                    parse_env_kwargs, train_parallel_env)

REPO = Path(__file__).resolve().parent.parent

# 12 episodes of 25 steps: updates at transitions 200, 225, ..., 300 (5 updates).
TINY = dict(experiment="test", scenario="simple_reference", seeds=(0,), episodes=12, num_envs=1,
            hidden_units=16, batch_size=32, warmup_transitions=200, update_every=25, log_every_episodes=4,
            checkpoint_every_episodes=4, jit_compile=False)


class CheckingEnv:
    """Wraps a ParallelEnv: asserts each action lies in its space; can end an episode or drop an agent."""

    def __init__(self, env, terminate_at: int | None = None, drop_agent_at: int | None = None):
        self.env = env
        self.terminate_at = terminate_at
        self.drop_agent_at = drop_agent_at
        self.steps = 0
        self.dropped = False

    def __getattr__(self, name):
        return getattr(self.env, name)

    @property
    def agents(self):
        return self.env.agents[1:] if self.dropped else self.env.agents

    def reset(self, seed=None, options=None):
        self.steps, self.dropped = 0, False
        return self.env.reset(seed=seed, options=options)

    def step(self, actions):
        for agent, action in actions.items():
            space = self.env.action_space(agent)
            assert space.contains(action), f"{agent}: {action!r} not in {space}"
        observations, rewards, terminations, truncations, infos = self.env.step(actions)
        self.steps += 1
        if self.steps == self.terminate_at:
            terminations = dict.fromkeys(terminations, True)
        if self.steps == self.drop_agent_at:
            self.dropped = True
            observations = {a: o for a, o in observations.items() if a != self.env.possible_agents[0]}
        return observations, rewards, terminations, truncations, infos


def make_reference(continuous: bool, **wrapper_options):
    from mpe2 import simple_reference_v3

    return lambda: CheckingEnv(simple_reference_v3.parallel_env(max_cycles=25, continuous_actions=continuous),
                               **wrapper_options)


def make_references_ending_at(*steps: int):
    """A make_env whose k-th env ends every episode (a termination) after steps[k] steps."""
    built = iter(steps)
    return lambda: make_reference(True, terminate_at=next(built))()


def train(continuous: bool, **overrides):
    """(trainer, initial actor kernels, history) of a tiny run."""
    trainer = ParallelEnvTrainer(make_reference(continuous), TrainConfig(**{**TINY, **overrides}))
    initial = [actor.trainable_variables[0].numpy().copy() for actor in trainer.learner.actors]
    history = trainer.train(progress=False, log=None)
    return trainer, initial, history


@pytest.fixture(scope="module")
def box_run():
    return train(continuous=True)


@pytest.mark.parametrize("continuous", [True, False], ids=["box", "discrete"])
def test_trains_and_updates(continuous, box_run):
    trainer, initial, history = box_run if continuous else train(continuous=False,
                                                                 critic_kinds=("maddpg", "ddpg"))
    assert [row["episode"] for row in history] == [4, 8, 12]
    assert trainer.updates == 5 and history[-1]["env_steps"] == 300
    for initial_kernel, actor in zip(initial, trainer.learner.actors):
        assert not np.allclose(initial_kernel, actor.trainable_variables[0].numpy())
    last = history[-1]
    losses = [v for key in ("critic_loss", "actor_loss") for values in last[key].values() for v in values]
    assert len(losses) == 4 and np.all(np.isfinite(losses))
    assert np.isfinite(last["mean_episode_reward"]).all()
    # The replay holds the soft samples (on the simplex, not one-hot), whatever the env received.
    stored = trainer.buffer.actions[0].numpy()[: int(trainer.buffer.size)]  # [transitions, A]
    np.testing.assert_allclose(stored.sum(axis=-1), 1.0, rtol=1e-5)
    assert (stored.max(axis=-1) < 0.999).mean() > 0.5


def test_same_seed_gives_the_same_history(box_run):
    _, _, history = box_run
    _, _, again = train(continuous=True)
    assert again == history


def test_stacked_seeds_match_a_separate_run(box_run):
    _, _, history = box_run
    _, _, stacked = train(continuous=True, seeds=(0, 1))  # member 0 is seed 0, as the box run
    for alone, both in zip(history, stacked):
        np.testing.assert_allclose(both["mean_episode_reward"][0], alone["mean_episode_reward"][0], rtol=1e-5)
        assert both["mean_episode_reward"][1] != both["mean_episode_reward"][0]
    np.testing.assert_allclose(stacked[-1]["critic_loss"]["agent_0"][0], history[-1]["critic_loss"]["agent_0"][0],
                               rtol=1e-4)


def test_seeds_whose_episodes_end_on_different_steps_stack_as_separate_runs():
    """Member 0 ends its episodes every 3 steps, member 1 every 5: each resets on its own, and member 0 logs
    what it logs alone; the run ends when member 1 has its 12 episodes (member 0 plays on meanwhile)."""
    fast = dict(warmup_transitions=20, update_every=5)
    alone = ParallelEnvTrainer(make_references_ending_at(3), TrainConfig(**{**TINY, **fast}))
    alone_history = alone.train(progress=False, log=None)
    stacked = ParallelEnvTrainer(make_references_ending_at(3, 5), TrainConfig(**{**TINY, **fast, "seeds": (0, 1)}))
    stacked_history = stacked.train(progress=False, log=None)
    assert alone.transitions == 36 and stacked.transitions == 60
    assert list(stacked.member_episodes) == [20, 12]
    assert [row["episode"] for row in stacked_history] == [4, 8, 12]
    assert [row["env_steps"] for row in stacked_history] == [20, 40, 60]  # when member 1 closes each window
    assert [row["mean_episode_length"] for row in stacked_history] == [[3.0, 5.0]] * 3
    for one, both in zip(alone_history, stacked_history):
        np.testing.assert_allclose(both["mean_episode_reward"][0], one["mean_episode_reward"][0], rtol=1e-5)
    np.testing.assert_allclose(stacked_history[-1]["critic_loss"]["agent_0"][0],
                               alone_history[-1]["critic_loss"]["agent_0"][0], rtol=1e-4)


def test_train_parallel_env_returns_learner_and_history():
    lines = []
    learner, history = train_parallel_env(make_reference(True), TrainConfig(**{**TINY, "episodes": 2,
                                          "log_every_episodes": 2, "checkpoint_every_episodes": 2}),
                                          progress=False, log=lines.append)
    assert len(learner.actors) == 2 and len(history) == 1 and lines[0].startswith("episode 2: mean episode reward")


def test_a_termination_ends_the_episode_and_stops_bootstrapping():
    trainer = ParallelEnvTrainer(make_reference(True, terminate_at=5), TrainConfig(**TINY))
    episode = trainer.run_episode()
    assert episode.steps == 5 and trainer.transitions == 5
    rewards_and_continuations = trainer.buffer.rewards.numpy()[:5]  # [5, 2N]: r_1 r_2 c_1 c_2
    np.testing.assert_array_equal(rewards_and_continuations[:, 2:], [[1, 1]] * 4 + [[0, 0]])
    # y = r + c * gamma * Q': with c = 0 the target is the reward alone.
    learner = trainer.learner
    observations = [np.ones((1, 3, size), np.float32) for size in trainer.observation_sizes]
    actions = [np.full((1, 3, size), 1.0 / size, np.float32) for size in trainer.action_sizes]
    rewards = np.array([[[0.5, -1.0, 0.0, 0.0], [0.5, -1.0, 1.0, 1.0], [0.5, -1.0, 1.0, 1.0]]], np.float32)
    target = learner.critic_target(1, rewards, observations, actions).numpy()[0, :, 0]  # [3]
    q = learner.target_critics[1](np.concatenate(observations + actions, axis=-1)).numpy()[0, :, 0]
    np.testing.assert_allclose(target, [-1.0, -1.0 + 0.95 * q[1], -1.0 + 0.95 * q[2]], rtol=1e-6)


def test_an_agent_leaving_mid_episode_is_a_clear_error():
    trainer = ParallelEnvTrainer(make_reference(True, drop_agent_at=3), TrainConfig(**TINY))
    with pytest.raises(ValueError, match="agent set changed"):
        trainer.run_episode()


def test_a_run_folder_gets_metrics_csv_in_the_batched_schema(tmp_path, box_run):
    """Given a run folder, the plain loop writes config.json, meta.json and metrics.csv with the batched loop's
    columns and metrics, its values those of the history; the same run without a folder logs the same."""
    import pandas as pd

    from maddpg.results import COLUMNS

    _, _, history = box_run
    trainer = ParallelEnvTrainer(make_reference(True), TrainConfig(**TINY))
    assert trainer.train(progress=False, log=None, run_dir=tmp_path / "run") == history
    for name in ("config.json", "meta.json"):
        assert (tmp_path / "run" / name).is_file()
    metrics = pd.read_csv(tmp_path / "run" / "metrics.csv")
    assert tuple(metrics.columns) == COLUMNS
    assert set(metrics.experiment) == {"test"} and set(metrics.dynamics) == {TrainConfig(**TINY).dynamics} and set(metrics.seed) == {0}
    assert sorted(metrics.episode.unique()) == [4, 8, 12] and set(metrics.env_step) == {100, 200, 300}
    assert set(metrics.role) == {"team", "agent_0", "agent_1"}
    last = metrics[metrics.episode == 12].set_index(["role", "metric"])["value"]
    np.testing.assert_allclose(last["team", "mean_episode_reward"], history[-1]["mean_episode_reward"][0])
    np.testing.assert_allclose(last["agent_1", "critic_loss"], history[-1]["critic_loss"]["agent_1"][0])
    assert np.isfinite(metrics.value).all() and "critic_loss" not in set(metrics[metrics.episode == 4].metric)


def make_multiwalker():
    from pettingzoo.sisl import multiwalker_v9

    return lambda: CheckingEnv(multiwalker_v9.parallel_env(max_cycles=60))


def test_deterministic_actors_act_inside_a_minus_one_one_box():
    """multiwalker's torques Box(-1, 1, (4,)): every action sent (CheckingEnv asserts) and stored lies in the
    Box and uses its negative half (not a [0, 1] squash); two seeds whose walkers fall on different steps
    train side by side; the evaluation runs the trained actors and a random policy on the same resets."""
    config = TrainConfig(**{**TINY, "policy": "deterministic", "critic_kinds": ("maddpg",) * 3, "seeds": (0, 1),
                            "episodes": 6, "episode_length": 60,
                            "log_every_episodes": 3, "checkpoint_every_episodes": 3, "warmup_transitions": 50})
    trainer = ParallelEnvTrainer(make_multiwalker(), config)
    initial = trainer.learner.actors[0].trainable_variables[0].numpy().copy()
    history = trainer.train(progress=False, log=None)
    assert [row["episode"] for row in history] == [3, 6] and trainer.updates > 0
    assert not np.allclose(initial, trainer.learner.actors[0].trainable_variables[0].numpy())
    stored = np.concatenate([a.numpy()[: int(trainer.buffer.size)] for a in trainer.buffer.actions])  # [.., 4]
    assert stored.min() >= -1.0 and stored.max() <= 1.0 and (stored < -0.05).mean() > 0.2
    evaluation = trainer.evaluate(2)
    assert evaluation["trained"].shape == evaluation["random"].shape == (2, 3)
    assert np.isfinite(evaluation["trained"]).all() and not np.allclose(evaluation["trained"], evaluation["random"])
    rows = trainer.evaluation_rows()
    assert {(row["role"], row["metric"]) for row in rows} >= {("team", "mean_episode_reward"),
                                                              ("team", "random_mean_episode_reward")}


@pytest.mark.parametrize("policy,space,message", [
    ("deterministic", "discrete", "agent 'a' has a Discrete(5) action space: --policy=deterministic needs Box "
                                  "actions; use --policy=gumbel_softmax or --policy=straight_through"),
    ("deterministic", "unbounded", "infinite bounds"),
    ("gumbel_softmax", "torques", "use --policy=deterministic"),
    ("straight_through", "torques", "use --policy=deterministic"),
    ("gumbel_softmax", "soft_vector_elsewhere", "use --policy=deterministic"),
])
def test_a_policy_that_cannot_act_on_a_space_is_refused(policy, space, message):
    from gymnasium import spaces

    boxes = {"discrete": spaces.Discrete(5), "unbounded": spaces.Box(-np.inf, np.inf, (2,)),
             "torques": spaces.Box(-1.0, 1.0, (4,)), "soft_vector_elsewhere": spaces.Box(0.0, 1.0, (5,))}
    with pytest.raises(ValueError, match=re.escape(message)):
        check_action_spaces(policy, ["a"], [boxes[space]], soft_vectors=space != "soft_vector_elsewhere")


def test_spaces_each_policy_acts_on_pass():
    from gymnasium import spaces

    check_action_spaces("deterministic", ["a", "b"], [spaces.Box(-1.0, 1.0, (4,)), spaces.Box(0.0, 1.0, (5,))])
    for policy in ("gumbel_softmax", "straight_through"):
        check_action_spaces(policy, ["a", "b"], [spaces.Discrete(5), spaces.Box(0.0, 1.0, (5,))])


def test_continuous_actions_goes_only_to_envs_that_take_it():
    """mpe2 gets continuous_actions (True for every policy: its soft vector, or the deterministic Box) and
    max_cycles=25; sisl envs take no continuous_actions and keep their own max_cycles (500)."""
    for policy in ("gumbel_softmax", "deterministic"):
        choice = env_choice("mpe2.simple_reference_v3", policy)
        assert choice.kwargs == {"continuous_actions": True, "max_cycles": 25} and choice.is_mpe
    discrete = env_choice("mpe2.simple_reference_v3", "gumbel_softmax", continuous=False)
    assert discrete.kwargs["continuous_actions"] is False
    pursuit = env_choice("pettingzoo.sisl.pursuit_v5", "gumbel_softmax", env_kwargs={"n_pursuers": 2})
    assert pursuit.kwargs == {"n_pursuers": 2} and pursuit.max_cycles == 500 and not pursuit.is_mpe
    assert len(pursuit.make_env().possible_agents) == 2
    walkers = env_choice("pettingzoo.sisl.multiwalker_v9", "deterministic", env_kwargs={"max_cycles": 80})
    assert walkers.kwargs == {"max_cycles": 80} and walkers.max_cycles == 80
    with pytest.raises(ValueError, match="takes no continuous_actions"):
        env_choice("pettingzoo.sisl.pursuit_v5", "gumbel_softmax", continuous=True)
    unknown = re.escape('cannot build pettingzoo.sisl.pursuit_v5.parallel_env(**{"no_such": 1})')
    with pytest.raises(ValueError, match=unknown):
        env_choice("pettingzoo.sisl.pursuit_v5", "gumbel_softmax", env_kwargs={"no_such": 1}).make_env()


@pytest.mark.parametrize("text,message", [
    ("{max_cycles: 10}", "--env_kwargs is not valid JSON"),
    ("[1, 2]", "--env_kwargs must be a JSON object"),
])
def test_env_kwargs_must_be_a_json_object(text, message):
    assert parse_env_kwargs('{"max_cycles": 10}') == {"max_cycles": 10}
    with pytest.raises(ValueError, match=message):
        parse_env_kwargs(text)


def _cli(*args, results_dir):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.run([sys.executable, "-m", "maddpg.pettingzoo_loop", "--noprogress",
                           f"--results_dir={results_dir}", *args], check=False,
                          cwd=REPO, capture_output=True, text=True, env=env, timeout=300)


def test_cli_smoke_runs_into_its_run_folder(tmp_path):
    import pandas as pd

    completed = _cli("--smoke", "--nocontinuous", "--algorithm=ddpg", results_dir=tmp_path)
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert "episode 10: mean episode reward" in completed.stdout
    run_dir = tmp_path / "pettingzoo" / "smoke_mpe2_mpe2.simple_reference_v3_ddpg_gumbel_softmax_discrete_s0_ep10"
    metrics = pd.read_csv(run_dir / "metrics.csv")
    assert sorted(metrics.episode.unique()) == [5, 10] and set(metrics.algorithm) == {"ddpg"}
    evaluation = pd.read_csv(run_dir / "evaluation.csv")
    assert set(evaluation.metric) == {"mean_episode_reward", "random_mean_episode_reward"}
    assert "evaluation, uniform random policy: mean episode reward" in completed.stdout
    again = _cli("--smoke", "--nocontinuous", "--algorithm=ddpg", results_dir=tmp_path)
    assert again.returncode == 2 and "is already trained" in again.stderr


def test_cli_pursuit_smoke_trains_on_discrete_actions(tmp_path):
    """The issue's command (with two pursuers, for speed): no continuous_actions reaches pursuit, the sample's
    argmax is sent, and the folder records the policy and the action kind."""
    import json

    import pandas as pd

    completed = _cli("--env=pettingzoo.sisl.pursuit_v5", "--smoke", '--env_kwargs={"n_pursuers": 2}',
                     results_dir=tmp_path)
    assert completed.returncode == 0, completed.stderr[-2000:]
    run_dir = tmp_path / "pettingzoo" / "smoke_pettingzoo.sisl.pursuit_v5_maddpg_gumbel_softmax_discrete_s0_ep10"
    assert json.loads((run_dir / "meta.json").read_text())["env_kwargs"] == {"n_pursuers": 2}
    metrics = pd.read_csv(run_dir / "metrics.csv")
    assert set(metrics.role) == {"team", "pursuer_0", "pursuer_1"} and "critic_loss" in set(metrics.metric)


@pytest.mark.parametrize("args,message", [
    (["--policy=foo"], "flag --policy=foo"),
    (["--env=pettingzoo.sisl.pursuit_v5", "--policy=deterministic"],
     "agent 'pursuer_0' has a Discrete(5) action space: --policy=deterministic needs Box actions; use "
     "--policy=gumbel_softmax"),
    (["--env=pettingzoo.sisl.pursuit_v5", "--env_kwargs={max_cycles: 5}"], "--env_kwargs is not valid JSON"),
], ids=["unknown_policy", "deterministic_on_discrete", "bad_env_kwargs"])
def test_cli_bad_values_are_one_line_and_exit_2(tmp_path, args, message):
    completed = _cli(*args, results_dir=tmp_path)
    assert completed.returncode == 2
    errors = [line for line in completed.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and message in errors[0], completed.stderr
    assert "Traceback" not in completed.stderr and not (tmp_path / "pettingzoo").exists()


def test_cli_bad_env_is_one_line_and_exit_2(tmp_path):
    completed = _cli("--env=mpe2.no_such_env_v0", results_dir=tmp_path)
    assert completed.returncode == 2
    errors = [line for line in completed.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "cannot import env module 'mpe2.no_such_env_v0'" in errors[0], completed.stderr


@pytest.mark.parametrize("field,value,message", [
    ("episodes", 0, "episodes must be positive"),
    ("seed", -1, "--seed must be >= 0"),
    ("log_every", 0, "log_every_episodes must be positive, got 0"),
    ("seeds", 0, "--seeds must be positive"),
])
def test_cli_impossible_values_are_value_errors(field, value, message):
    # In process: main() turns these ValueErrors into the same one-line exit 2 as the bad env above.
    options = SimpleNamespace(env="mpe2.simple_reference_v3", algorithm="maddpg", seed=0, seeds=1, episodes=10,
                              log_every=5, smoke=False, dynamics="mpe2")
    setattr(options, field, value)
    with pytest.raises(ValueError, match=message):
        build_config(options, num_agents=2)


def test_an_env_module_may_be_an_attribute_of_a_package(tmp_path, monkeypatch):
    """Gymnasium-Robotics' MaMuJoCo is `gymnasium_robotics.mamujoco_v1`, an attribute, not a submodule."""
    from maddpg.pettingzoo_loop import load_env_module

    package = tmp_path / "fake_envs"
    package.mkdir()
    (package / "__init__.py").write_text("import types\n"
                                         "suite_v1 = types.SimpleNamespace(parallel_env=lambda **kwargs: kwargs)\n"
                                         "not_an_env = 3\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert load_env_module("fake_envs.suite_v1").parallel_env(a=1) == {"a": 1}
    with pytest.raises(ValueError, match="has no parallel_env"):
        load_env_module("fake_envs.not_an_env")
    with pytest.raises(ValueError, match="cannot import env module 'fake_envs.missing_v1'"):
        load_env_module("fake_envs.missing_v1")
