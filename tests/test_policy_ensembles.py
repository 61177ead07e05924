"""Policy ensembles (paper sec. 4.3): sub-policy selection, per-sub-policy buffers, critic targets from the
sub-policy each team played, and the script's smoke run with its cross-play evaluation."""

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf
from conftest import tiny_config

from envs.batched import make_batched_env
from maddpg import results
from maddpg.learner import EnsembleOpponents, Learner
from maddpg.population_random import PopulationRandom
from maddpg.run import build_trainer
from maddpg.training import Trainer

REPO = Path(__file__).resolve().parent.parent


def _push_config(**overrides):
    fields = dict(scenario="push", critic_kinds=("maddpg", "maddpg"), num_envs=60, episodes=240,
                  log_every_episodes=60, checkpoint_every_episodes=120, warmup_transitions=120)
    return tiny_config(**{**fields, **overrides})


def test_sub_policy_zero_starts_as_plain_maddpg_and_act_picks_the_sub_policy_it_is_told():
    """Member p * K of an ensemble starts with plain MADDPG's weights for seed p, the other sub-policies from
    their own seeds; act() uses, env by env, the sub-policy given for that env."""
    seeds, sizes = (0, 1), ((8,), (5,))
    one_agent = dict(seeds=seeds, critic_kinds=("maddpg",))
    ensemble = Learner(tiny_config(**one_agent, ensemble_size=3, num_envs=60, episodes=240, log_every_episodes=60,
                                   checkpoint_every_episodes=120), sizes[0], sizes[1])
    plain = Learner(tiny_config(**one_agent), sizes[0], sizes[1])
    kernels = ensemble.actors[0].out.kernel.numpy()  # [P * K, in, out]
    np.testing.assert_array_equal(kernels[[0, 3]], plain.actors[0].out.kernel.numpy())
    assert not np.allclose(kernels[0], kernels[1]) and not np.allclose(kernels[1], kernels[2])

    observations = [tf.random.stateless_uniform([2, 6, 8], seed=[1, 2])]
    choice = tf.constant([[0, 1, 2, 0, 1, 2], [2, 2, 1, 1, 0, 0]], tf.int32)  # [P, B]
    actions = ensemble.act(observations, PopulationRandom(seeds), sub_policies=[choice])[0].numpy()
    noise = PopulationRandom(seeds).uniform([6, 5]).numpy()  # the one draw act() makes, [P, B, A]
    every = ensemble.actors[0](tf.repeat(observations[0], 3, axis=0)).numpy().reshape(2, 3, 6, 5)
    for p in range(2):
        for b in range(6):
            z = every[p, choice[p, b], b] - np.log(-np.log(noise[p, b]))
            np.testing.assert_allclose(actions[p, b], np.exp(z - z.max()) / np.exp(z - z.max()).sum(), rtol=1e-5)


@pytest.fixture
def without_graph_rewrites():
    """Grappler off while the test's tf.functions are traced: it rewrites two different graphs of the same
    arithmetic differently (measured: returns 1e-6 relative apart after one iteration, with or without
    oneDNN), and with it off the two paths compute the same float32 numbers op for op."""
    tf.config.optimizer.set_experimental_options({"disable_meta_optimizer": True})
    yield
    tf.config.optimizer.set_experimental_options({"disable_meta_optimizer": False})


def test_ensemble_of_one_is_plain_maddpg(without_graph_rewrites):
    """The ensemble path forced at K = 1 (sub-policy routing, team buffers with their stored sub-policies,
    EnsembleOpponents critic targets, per-seed loss means) gives plain MADDPG's returns, losses and every
    network weight bit for bit."""
    config = _push_config()
    plain = build_trainer(config)
    forced = Trainer(config, make_batched_env(config.scenario, dynamics=config.dynamics), ensemble=True)
    assert not hasattr(plain, "team_buffers") and len(forced.team_buffers) == 2  # two different paths
    assert isinstance(forced.learner.target_actions, EnsembleOpponents)
    assert not isinstance(plain.learner.target_actions, EnsembleOpponents)
    for _ in range(2):
        expected, got = plain.iteration(), forced.iteration()
        for key in ("episode_returns", "critic_loss_sum", "actor_loss_sum", "num_updates"):
            np.testing.assert_array_equal(got[key].numpy(), expected[key].numpy(), err_msg=key)
    assert int(expected["num_updates"]) > 0  # the comparison covers learning
    for name, variables in plain.learner.network_weights.items():
        for mine, theirs in zip(forced.learner.network_weights[name], variables):
            np.testing.assert_array_equal(mine.numpy(), theirs.numpy(), err_msg=name)


def test_each_sub_policy_buffer_holds_only_its_own_episodes():
    """Team t's buffer member p * K + k receives exactly the envs where team t played sub-policy k, B/K per
    step, and the other team's recorded draws are uniform-ish and independent of it."""
    config = _push_config(ensemble_size=3)
    trainer = build_trainer(config)
    trainer.iteration()
    size, block = 3, config.num_envs // 3
    for team, buffer in enumerate(trainer.team_buffers):
        assert buffer.write_block == block and int(buffer.size) == block * config.episode_length
        stored = buffer.sub_policies.numpy().reshape(config.members, buffer.capacity, 2)
        filled = stored[:, : int(buffer.size)]  # [P * K, rows, teams]
        for member in range(config.members):
            assert (filled[member, :, team] == member % size).all()
        other = filled[..., 1 - team]
        assert set(np.unique(other)) == {0, 1, 2}  # opponents played every sub-policy against each one


def test_critic_targets_use_the_sub_policy_the_opponent_played():
    """For agent i's batch, a teammate's a'_j comes from i's own sub-policy and an opponent's from the
    sub-policy stored with each transition."""
    config = _push_config(ensemble_size=2)
    trainer = build_trainer(config)
    trainer.iteration()
    learner, buffer = trainer.learner, trainer.team_buffers[0]  # push: adversary_0 (team 1), agent_0 (team 0)
    indices = trainer.member_rng.integers([16], buffer.size)
    _, _, _, next_observations = buffer.sample(indices)
    played = buffer.sample_sub_policies(indices).numpy()  # [P * K, 16, teams]
    uniform = PopulationRandom(config.member_seeds())
    actions = learner.ensemble_target_actions(1, next_observations, tf.constant(played), uniform)
    # Recompute with the noise the same stream gives: one draw per agent, in agent order.
    replay = PopulationRandom(config.member_seeds())
    noise = [replay.uniform([16, a]).numpy() for a in learner.action_sizes]
    for j in range(2):
        logits_all = learner.target_actors[j](tf.repeat(tf.reshape(next_observations[j], [config.population, -1,
                                              next_observations[j].shape[-1]]), 2, axis=0)).numpy()
        logits_all = logits_all.reshape(config.population, 2, 2, 16, -1)  # [P, K(net), K(buffer), batch, A]
        for member in range(config.members):
            p, k = divmod(member, 2)
            for row in range(16):
                # i = 1 is agent_0 (team 0); adversary_0 (j = 0, team 1) is its opponent.
                net = k if j == 1 else played[member, row, 1]
                z = logits_all[p, net, k, row] - np.log(-np.log(noise[j][member, row]))
                expected = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
                np.testing.assert_allclose(actions[j].numpy()[member, row], expected, rtol=1e-4, atol=1e-6)


def test_ensemble_with_policy_inference_is_refused():
    with pytest.raises(ValueError, match="cannot be combined"):
        tiny_config(ensemble_size=2, policy_inference=True)
    with pytest.raises(ValueError, match="multiple of ensemble_size"):
        tiny_config(ensemble_size=3)  # 50 envs


def _script(capsys, arguments):
    """`python -m reproduction.policy_ensembles ARGUMENTS` in this process (runner.main with flags of its own,
    as tests/test_experiment_scripts.py runs the other scripts): (exit code, what it wrote on stderr)."""
    from absl import flags

    from reproduction import policy_ensembles, runner

    capsys.readouterr()
    code = runner.main(policy_ensembles.EXPERIMENT, ["policy_ensembles", *arguments], flag_values=flags.FlagValues())
    return code, capsys.readouterr().err


def test_smoke_run_trains_both_kinds_and_cross_plays_them(tmp_path, capsys):
    """One variant, PP (K = 2, 128 units, two teams of different sizes); KA's ensembles (push, K = 3) are the
    unit tests' config above, and a smoke per variant would only repeat the same path at 50 s each."""
    arguments = [f"--results_dir={tmp_path}", "--noprogress", "--smoke", "--variant=pp"]
    code, errors = _script(capsys, arguments)
    assert code == 0, errors[-3000:]
    experiment_dir = tmp_path / "policy_ensembles"
    for variant, scenario, metric in (("pp", "ensemble_tag", "prey_touches_per_episode"),):
        configs = {kind: json.loads((experiment_dir / f"smoke_paper_{variant}_{kind}_s0-1_ep240" / "config.json").read_text())
                   for kind in ("single", "ensemble")}
        assert configs["single"]["ensemble_size"] == 1 and configs["ensemble"]["ensemble_size"] == {"ka": 3, "pp": 2}[variant]
        cross_dir = experiment_dir / f"smoke_paper_{variant}_cross_play_s0-1_ep240"
        # The folder says what it is: an evaluation of two named runs, with no training fields.
        recorded = json.loads((cross_dir / "config.json").read_text())
        assert recorded["kind"] == "cross_play" and recorded["source_runs"] == {
            kind: f"smoke_paper_{variant}_{kind}_s0-1_ep240" for kind in ("single", "ensemble")}
        assert recorded["seeds"] == [0, 1] and recorded["eval_episodes"] == 4 and recorded["dynamics"] == "paper"
        assert recorded["source_training_episodes"] == 240 and recorded["gumbel_temperature"] == 1.0
        assert not {"episodes", "learning_rate", "num_envs", "critic_kinds", "ensemble_size"} & set(recorded)
        meta = json.loads((cross_dir / "meta.json").read_text())
        assert meta["wall_seconds"] > 0  # reproduction/paper.py's estimate of a cross-play reads it
        assert meta["sources"] == {kind: str(experiment_dir / f"smoke_paper_{variant}_{kind}_s0-1_ep240")
                                   for kind in ("single", "ensemble")}  # outside the repository: absolute
        cross = pd.read_csv(cross_dir / "evaluation.csv")
        assert set(cross["scenario"]) == {scenario}
        assert set(cross["role"]) == {f"{a}_v_{b}" for a in ("single", "ensemble") for b in ("single", "ensemble")}
        assert set(cross.loc[cross["metric"] == metric, "seed"]) == {0, 1}
        # single_v_single and ensemble_v_ensemble play exactly the runs' own evaluation episodes.
        for kind in ("single", "ensemble"):
            own = pd.read_csv(experiment_dir / f"smoke_paper_{variant}_{kind}_s0-1_ep240" / "evaluation.csv")
            mine = cross[cross["role"] == f"{kind}_v_{kind}"]
            merged = own.merge(mine, on=["seed", "metric"], suffixes=("_own", "_cross"))
            assert len(merged) == len(own)
            np.testing.assert_allclose(merged["value_own"], merged["value_cross"])
    # The cross-play records the command that ran it, not the one that trained its runs: a rerun with another
    # command line evaluates it again (its runs are finished) under that line.
    shutil.rmtree(cross_dir)
    code, errors = _script(capsys, arguments + ["--eval_workers=1"])
    assert code == 0, errors[-3000:]
    assert "--eval_workers=1" in json.loads((cross_dir / "meta.json").read_text())["command"]
    ensemble_meta = json.loads((experiment_dir / "smoke_paper_pp_ensemble_s0-1_ep240" / "meta.json").read_text())
    assert "--eval_workers=1" not in ensemble_meta["command"]
    table = (experiment_dir / "smoke_table6.md").read_text()
    assert "PP N=4 L=1: collisions" in table and "not run" in table  # ka and pd were not asked for
    assert "cross-play of smoke_paper_pp_ensemble_s0-1_ep240 and smoke_paper_pp_single_s0-1_ep240" in " ".join(
        table.split())  # the runs-used paragraph is wrapped


def test_a_path_inside_the_repository_is_recorded_relative_to_it(tmp_path):
    """Committed cross-play folders name their runs without the checkout they were made in."""
    inside = REPO / "results" / "policy_ensembles" / "paper_pp_single_s0-2_ep25200"
    assert results.display_path(inside) == "results/policy_ensembles/paper_pp_single_s0-2_ep25200"
    assert results.display_path(tmp_path / "run") == str((tmp_path / "run").resolve())


def test_committed_cross_play_folders_of_the_layout_before_stay_readable_and_complete():
    """The committed mpe2 cross-play folders hold a whole TrainConfig (the layout before maddpg/cross_play.py):
    paper_figures reads them as cross-plays of their sources, and the library finds them complete."""
    from maddpg.cross_play import cross_play_run
    from paper_figures.runs import read_run

    experiment_dir = REPO / "results" / "policy_ensembles"
    for variant in ("ka", "pd", "pp"):
        cross_dir = experiment_dir / f"mpe2_{variant}_cross_play_s0-2_ep25200"
        before = {p.name: p.read_bytes() for p in cross_dir.iterdir()}
        run = read_run(cross_dir)
        assert run.algorithm == "cross_play" and run.dynamics == "mpe2" and run.evaluated and run.episodes == 25200
        assert run.cross_play_of == tuple(f"mpe2_{variant}_{kind}_s0-2_ep25200" for kind in ("ensemble", "single"))
        assert not cross_play_run(cross_dir, experiment_dir / f"mpe2_{variant}_single_s0-2_ep25200",
                                  experiment_dir / f"mpe2_{variant}_ensemble_s0-2_ep25200")
        assert before == {p.name: p.read_bytes() for p in cross_dir.iterdir()}


def test_killed_ensemble_run_resumes_exactly(tmp_path):
    """The checkpoint holds the team buffers and the sub-policies' random streams: a resumed K=2 run logs
    what an uninterrupted one logs."""
    from maddpg.run import train

    config = _push_config(ensemble_size=2, episodes=360)
    train(config, tmp_path / "whole", progress=False)
    train(config, tmp_path / "killed", progress=False, stop_after_iterations=3)  # checkpoint at episode 120
    train(config, tmp_path / "killed", progress=False)
    whole = (tmp_path / "whole" / "metrics.csv").read_text()
    assert "critic_loss" in whole
    assert (tmp_path / "killed" / "metrics.csv").read_text() == whole


def test_single_update_rate_updates_every_sub_policy_as_often_as_a_single_policy():
    """ensemble_update_rate="single" (the other reading of sec. 4.3): with K = 3 and B = 60 envs, each
    sub-policy updates once per env step (60 transitions of the seed, 20 of its own) once warm, i.e. K times
    as often as the default 1/K share; the default's count is pinned beside it."""
    warmup = 120  # per sub-policy buffer: 6 steps of its 20 transitions, so updates start at step 6
    counts = {}
    for rate in ("sub_policy", "single"):
        config = _push_config(ensemble_size=3, ensemble_update_rate=rate, update_every=60, warmup_transitions=warmup)
        trainer = build_trainer(config)
        counts[rate] = int(trainer.iteration()["num_updates"])
    steps_warm = config.episode_length - warmup // 20 + 1  # steps 6..25 have a warm buffer
    assert counts["single"] == steps_warm
    # sub_policy: one update per 60 of the sub-policy's own transitions, i.e. every third step.
    assert counts["sub_policy"] == (config.episode_length * 20) // 60 - (warmup // 20 - 1) * 20 // 60
    assert counts["single"] > 2 * counts["sub_policy"]


def test_unknown_ensemble_update_rate_is_refused():
    with pytest.raises(ValueError, match="unknown ensemble_update_rate 'often'"):
        _push_config(ensemble_size=3, ensemble_update_rate="often")
