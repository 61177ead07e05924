"""Population stacking, determinism, resume, and refusals of a training run."""

import json
import shutil

import numpy as np
import pytest
import tensorflow as tf

from maddpg.learner import actor_weights
from maddpg.results import UsageError
from maddpg.run import TrainingDiverged, build_trainer, train
from conftest import tiny_config

# The module's trained folders are made once (a train() costs seconds of graph tracing, its iterations a tenth
# of a second each) and copied by a test that changes them; conftest.py keeps the module on one xdist worker.


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """Two runs of tiny_config(episodes=300) made once for the module: "whole_300" (finished; its Trainer is
    "whole_300_trainer") and "stopped_300" (stopped after 3 of 6 iterations: checkpoint at episode 100, rows up
    to episode 150). Read them; copy (_copy) one to change it."""
    root = tmp_path_factory.mktemp("trained")
    trainer = train(tiny_config(episodes=300), root / "whole_300", progress=False)
    train(tiny_config(episodes=300), root / "stopped_300", progress=False, stop_after_iterations=3)
    return {"whole_300": root / "whole_300", "whole_300_trainer": trainer, "stopped_300": root / "stopped_300"}


def _copy(source, destination):
    shutil.copytree(source, destination)
    return destination


def _run_iterations(config, iterations):
    trainer = build_trainer(config)
    outputs = [trainer.iteration() for _ in range(iterations)]
    return trainer, outputs


def test_stacked_seeds_match_separate_runs(make_config):
    """P=3 in one graph gives each member what a run with only its seed gives, through several updates."""
    seeds = (4, 5, 6)
    config = make_config(seeds=seeds, warmup_transitions=100, update_every=25)
    stacked, stacked_outputs = _run_iterations(config, 2)
    assert int(stacked_outputs[-1]["num_updates"]) > 10  # the comparison spans many updates
    for p, seed in enumerate(seeds):
        alone, alone_outputs = _run_iterations(make_config(seeds=(seed,), warmup_transitions=100, update_every=25), 2)
        for key in ("episode_returns", "critic_loss_sum", "actor_loss_sum"):
            np.testing.assert_allclose(stacked_outputs[-1][key].numpy()[p], alone_outputs[-1][key].numpy()[0],
                                       rtol=1e-4, atol=1e-4, err_msg=key)
        for stacked_net, alone_net in zip(actor_weights(stacked.learner), actor_weights(alone.learner)):
            for (k_s, b_s), (k_a, b_a) in zip(stacked_net, alone_net):
                np.testing.assert_allclose(k_s[p], k_a[0], rtol=1e-4, atol=1e-5)


def test_same_seed_twice_gives_identical_metrics(make_config, tmp_path, trained):
    train(make_config(episodes=300), tmp_path / "b", progress=False)  # the same config as trained["whole_300"]
    first = (trained["whole_300"] / "metrics.csv").read_text()
    assert first == (tmp_path / "b" / "metrics.csv").read_text()
    assert "critic_loss" in first  # updates happened, so the comparison covers learning too


def test_xla_iteration_is_deterministic(make_config):
    config = make_config(jit_compile=True, episodes=100)
    _, first = _run_iterations(config, 1)
    _, second = _run_iterations(config, 1)
    np.testing.assert_array_equal(first[0]["episode_returns"].numpy(), second[0]["episode_returns"].numpy())


def test_killed_run_resumes_without_gap_or_duplicate(make_config, tmp_path, trained):
    config = make_config(episodes=300)
    # Stop after 3 of 6 iterations: checkpoint at episode 100, rows up to episode 150 written. (Not a copy of
    # trained["stopped_300"]: both sessions must run the same commit, which a module-long gap would not ensure
    # in a checkout being committed to.)
    train(config, tmp_path / "killed", progress=False, stop_after_iterations=3)
    rows_before = (tmp_path / "killed" / "metrics.csv").read_text().count("\n")
    assert rows_before > 1
    said = []
    train(config, tmp_path / "killed", progress=False, log=said.append)
    assert said == [f"{tmp_path / 'killed'}: resuming from its checkpoint at episode 100 of 300 (ckpt-100)"]
    whole = (trained["whole_300"] / "metrics.csv").read_text()
    assert (tmp_path / "killed" / "metrics.csv").read_text() == whole
    meta = json.loads((tmp_path / "killed" / "meta.json").read_text())
    assert meta["training_complete"] and meta["sessions"][-1]["from_episode"] == 100
    # each session names the code it ran (a resumed run may span commits)
    assert all(session["git_commit"] == meta["git_commit"] and "git_dirty" in session for session in meta["sessions"])


def test_resume_into_a_folder_of_another_config_is_refused(make_config, tmp_path, trained):
    _copy(trained["whole_300"], tmp_path / "run")
    before = {p.name: p.read_bytes() for p in (tmp_path / "run").iterdir() if p.is_file()}
    with pytest.raises(UsageError, match="batch_size"):
        train(make_config(episodes=300, batch_size=64), tmp_path / "run", progress=False)
    assert before == {p.name: p.read_bytes() for p in (tmp_path / "run").iterdir() if p.is_file()}


def test_nan_loss_stops_with_agent_and_loss_named_and_keeps_checkpoint(make_config, tmp_path, monkeypatch):
    from envs.batched.speaker_listener import BatchedSpeakerListener

    config = make_config(episodes=300, warmup_transitions=100)
    original = BatchedSpeakerListener.rewards
    poisoned = tf.Variable(False)

    def rewards(self, state):  # a NaN reward for the listener once `poisoned` is set
        values = original(self, state)
        nan = tf.constant([0.0, np.nan], values.dtype)
        return tf.where(poisoned, values + nan, values)

    monkeypatch.setattr(BatchedSpeakerListener, "rewards", rewards)
    run_dir = tmp_path / "run"
    train(config, run_dir, progress=False, stop_after_iterations=2)  # checkpoint at episode 100
    poisoned.assign(True)
    with pytest.raises(TrainingDiverged, match=r"critic loss of agent listener_0 .*ckpt-100 is kept"):
        train(config, run_dir, progress=False)
    assert (run_dir / "checkpoints" / "ckpt-100.index").exists()
    assert not list((run_dir / "checkpoints").glob("ckpt-150*"))


def test_resume_of_a_checkpoint_made_for_other_observation_sizes_is_refused(make_config, tmp_path, trained):
    """A port whose layout changed since the checkpoint was written: refused by name, nothing touched."""
    config = make_config(episodes=300)
    _copy(trained["whole_300"], tmp_path / "run")
    meta_path = tmp_path / "run" / "meta.json"
    meta = json.loads(meta_path.read_text())
    assert meta["env"] == {"agents": ["speaker_0", "listener_0"], "observation_sizes": [3, 11], "action_sizes": [3, 5],
                           "dynamics": "paper"}
    meta["env"]["observation_sizes"] = [3, 12]
    meta_path.write_text(json.dumps(meta))
    before = {p: p.read_bytes() for p in (tmp_path / "run").rglob("*") if p.is_file()}
    with pytest.raises(UsageError, match=r"observation_sizes: checkpoint \[3, 12\] vs scenario \[3, 11\]"):
        train(config, tmp_path / "run", progress=False)
    assert before == {p: p.read_bytes() for p in (tmp_path / "run").rglob("*") if p.is_file()}


def _checkpoint_shapes(run_dir):
    return dict(tf.train.list_variables(tf.train.latest_checkpoint(str(run_dir / "checkpoints"))))


def test_finished_run_checkpoint_holds_no_replay_rows(trained):
    shapes = _checkpoint_shapes(trained["whole_300"])
    assert not [name for name in shapes if name.startswith(("replay/", "trainer/buffer/"))]
    assert any(name.startswith("trainer/learner/") for name in shapes)  # networks and optimizer states
    assert any(name.startswith("trainer/rng/") for name in shapes)  # random streams
    assert "trainer/episodes_done/.ATTRIBUTES/VARIABLE_VALUE" in shapes


def test_resume_checkpoint_holds_only_the_filled_rows(make_config, trained):
    config = make_config(episodes=300)  # P=2; checkpoint at episode 100: 100 x 25 transitions per seed
    shapes = _checkpoint_shapes(trained["stopped_300"])
    filled = 100 * config.episode_length
    assert shapes["replay/buffer/obs_1/.ATTRIBUTES/VARIABLE_VALUE"] == [2 * filled, 11]
    assert shapes["replay/buffer/act_0/.ATTRIBUTES/VARIABLE_VALUE"] == [2 * filled, 3]
    assert shapes["replay/buffer/rewards/.ATTRIBUTES/VARIABLE_VALUE"] == [2 * filled, 2]
    assert not [name for name in shapes if name.startswith("trainer/buffer/")]


def test_checkpoint_of_the_layout_before_resumes_and_is_compacted_when_finished(make_config, tmp_path, trained):
    """A checkpoint with the whole buffer under trainer/ (written before the two layouts) still resumes to
    the same metrics, and the finished run then keeps no replay."""
    from maddpg.run import restore_checkpoint

    config = make_config(episodes=300)
    run_dir = _copy(trained["stopped_300"], tmp_path / "old")
    trainer = build_trainer(config)
    checkpoints = run_dir / "checkpoints"
    restore_checkpoint(trainer, tf.train.latest_checkpoint(str(checkpoints)))
    for path in checkpoints.iterdir():
        path.unlink()
    manager = tf.train.CheckpointManager(tf.train.Checkpoint(trainer=trainer), str(checkpoints), max_to_keep=1)
    manager.save(checkpoint_number=100)
    assert _checkpoint_shapes(run_dir)["trainer/buffer/observations/0/.ATTRIBUTES/VARIABLE_VALUE"] == [2 * 7500, 3]
    train(config, run_dir, progress=False)
    assert (run_dir / "metrics.csv").read_text() == (trained["whole_300"] / "metrics.csv").read_text()
    assert not [name for name in _checkpoint_shapes(run_dir) if name.startswith(("replay/", "trainer/buffer/"))]


def test_actors_load_from_finished_checkpoints_of_both_layouts(tmp_path, trained):
    from maddpg.restore import load_actor_weights

    trainer = trained["whole_300_trainer"]
    _copy(trained["whole_300"], tmp_path / "run")
    expected = actor_weights(trainer.learner)
    _, loaded = load_actor_weights(tmp_path / "run")
    old_dir = tmp_path / "run" / "checkpoints"
    for path in old_dir.iterdir():
        path.unlink()
    tf.train.CheckpointManager(tf.train.Checkpoint(trainer=trainer), str(old_dir), max_to_keep=1).save(100)
    _, loaded_old = load_actor_weights(tmp_path / "run")
    for weights in (loaded, loaded_old):
        for net, expected_net in zip(weights, expected):
            for (kernel, bias), (expected_kernel, expected_bias) in zip(net, expected_net):
                np.testing.assert_array_equal(kernel, expected_kernel)
                np.testing.assert_array_equal(bias, expected_bias)


def test_shared_reward_stores_the_sum_and_logs_each_agents_own(make_config):
    """Every stored row holds the agents' summed reward for each agent; the logged returns stay each agent's own
    (so the stored rewards, summed, are N times the returns summed over agents)."""
    shared, outputs = _run_iterations(make_config(scenario="spread_n3", critic_kinds=("maddpg",) * 3, num_envs=10,
                                                  warmup_transitions=10**6, shared_reward=True), 1)
    rows = int(shared.buffer.size)  # [rows, N]: every filled row of member 0
    stored = shared.buffer.rewards[:rows].numpy()
    np.testing.assert_array_equal(stored[:, 0], stored[:, 1])
    np.testing.assert_array_equal(stored[:, 0], stored[:, 2])
    returns = outputs[0]["episode_returns"].numpy()[0]  # [B, N] member 0
    assert not np.allclose(returns[:, 0], returns[:, 1])  # each agent's own return was logged
    np.testing.assert_allclose(stored.sum(), 3 * returns.sum(), rtol=1e-4)


def test_train_rewards_store_the_other_dynamics_rewards_on_the_same_physics(make_config):
    """Physical deception in paper physics, trained on mpe2's rewards: the logged returns (paper rewards) and
    so the trajectory equal a default run's, while the stored adversary reward is mpe2's -d instead of -d^2;
    the good agents' reward is the same in both."""
    fields = dict(scenario="adversary_n2", critic_kinds=("maddpg",) * 3, num_envs=10, warmup_transitions=10**6,
                  dynamics="paper")
    default, default_outputs = _run_iterations(make_config(**fields), 1)
    mixed, mixed_outputs = _run_iterations(make_config(**fields, train_rewards="mpe2"), 1)
    np.testing.assert_array_equal(mixed_outputs[0]["episode_returns"].numpy(),
                                  default_outputs[0]["episode_returns"].numpy())
    rows = int(mixed.buffer.size)
    paper_stored = default.buffer.rewards[:rows].numpy()  # [rows, N]: adversary first
    mpe2_stored = mixed.buffer.rewards[:rows].numpy()
    np.testing.assert_array_equal(mpe2_stored[:, 1:], paper_stored[:, 1:])
    assert (paper_stored[:, 0] < 0).all()
    np.testing.assert_allclose(mpe2_stored[:, 0], -np.sqrt(-paper_stored[:, 0]), rtol=1e-5)


@pytest.mark.parametrize("fields, message", [
    (dict(scenario="speaker_listener", train_rewards="mpe2"), "rewards are the same in both dynamics"),
    (dict(scenario="spread_n3", critic_kinds=("maddpg",) * 3, dynamics="paper", train_rewards="paper"),
     "is what train_rewards=dynamics already gives"),
    (dict(scenario="spread_n3", critic_kinds=("maddpg",) * 3, train_rewards="2017"), "unknown train_rewards"),
])
def test_train_rewards_refuses_what_changes_nothing(make_config, fields, message):
    with pytest.raises(ValueError, match=message):
        make_config(**fields)


def test_shared_reward_is_refused_for_competitive_scenarios(make_config):
    with pytest.raises(ValueError, match="shared_reward is the original's for"):
        make_config(scenario="push", shared_reward=True)
