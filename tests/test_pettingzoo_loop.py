"""The plain PettingZoo loop: trains on mpe2 simple_reference with Box and Discrete actions, is seeded,
sends only valid actions, rejects a changing agent set, stops bootstrapping at terminations, and its CLI."""

import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from maddpg.config import TrainConfig
from maddpg.pettingzoo_loop import ParallelEnvTrainer, build_config, train_parallel_env

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
    run_dir = tmp_path / "pettingzoo" / "smoke_mpe2_mpe2.simple_reference_v3_ddpg_s0_ep10"
    metrics = pd.read_csv(run_dir / "metrics.csv")
    assert sorted(metrics.episode.unique()) == [5, 10] and set(metrics.algorithm) == {"ddpg"}
    again = _cli("--smoke", "--nocontinuous", "--algorithm=ddpg", results_dir=tmp_path)
    assert again.returncode == 2 and "is already trained" in again.stderr


def test_cli_bad_env_is_one_line_and_exit_2(tmp_path):
    completed = _cli("--env=mpe2.no_such_env_v0", results_dir=tmp_path)
    assert completed.returncode == 2
    errors = [line for line in completed.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "cannot import env module 'mpe2.no_such_env_v0'" in errors[0], completed.stderr


@pytest.mark.parametrize("field,value,message", [
    ("episodes", 0, "episodes must be positive"),
    ("seed", -1, "--seed must be >= 0"),
    ("log_every", 0, "log_every_episodes must be positive, got 0"),
])
def test_cli_impossible_values_are_value_errors(field, value, message):
    # In process: main() turns these ValueErrors into the same one-line exit 2 as the bad env above.
    options = SimpleNamespace(env="mpe2.simple_reference_v3", algorithm="maddpg", seed=0, episodes=10,
                              log_every=5, smoke=False, dynamics="mpe2")
    setattr(options, field, value)
    with pytest.raises(ValueError, match=message):
        build_config(options, num_agents=2)
