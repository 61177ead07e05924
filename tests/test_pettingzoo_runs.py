"""paper_figures.pettingzoo_runs: the committed plain-loop runs' table and figure, from hand-made run folders."""

import json

import numpy as np
import pandas as pd
import pytest

from paper_figures import pettingzoo_runs

COLUMNS = "experiment,scenario,algorithm,dynamics,role,seed,episode,env_step,metric,value\n"


def _run(results_dir, name, trained, random):
    run_dir = results_dir / "pettingzoo" / name
    run_dir.mkdir(parents=True)
    (run_dir / "config.json").write_text(json.dumps({"scenario": "some.env_v1", "policy": "deterministic",
                                                     "algorithm": "maddpg", "episodes": 20, "episode_length": 5}))
    (run_dir / "meta.json").write_text(json.dumps({"env_module": "some.env_v1", "env_kwargs": {"size": 2}}))
    prefix = "pettingzoo,some.env_v1,maddpg,mpe2"
    evaluation = [f"{prefix},team,{seed},20,100,{metric},{value}"
                  for seed, (t, r) in enumerate(zip(trained, random))
                  for metric, value in (("mean_episode_reward", t), ("random_mean_episode_reward", r))]
    evaluation.append(f"{prefix},agent_0,0,20,100,mean_episode_reward,999")  # an agent's row is not the team's
    (run_dir / "evaluation.csv").write_text(COLUMNS + "\n".join(evaluation) + "\n")
    metrics = [f"{prefix},team,{seed},{episode},{episode * 5},mean_episode_reward,{episode * (seed + 1)}"
               for seed in range(len(trained)) for episode in (10, 20)]
    (run_dir / "metrics.csv").write_text(COLUMNS + "\n".join(metrics) + "\n")
    return run_dir


def test_the_table_holds_team_returns_over_seeds_and_the_probability_of_beating_random(tmp_path):
    _run(tmp_path, "env_deterministic_s0-2_ep20", trained=[10.0, 12.0, 14.0], random=[-5.0, -4.0, 11.0])
    _run(tmp_path, "smoke_env_s0_ep2", trained=[1.0], random=[0.0])  # smoke runs are left out
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    path = pettingzoo_runs.write(tmp_path, out_dir)
    table = pd.read_csv(out_dir / "pettingzoo_runs.csv")
    assert list(table["run"]) == ["env_deterministic_s0-2_ep20"]
    row = table.iloc[0]
    assert row["trained_mean"] == pytest.approx(12.0) and row["random_mean"] == pytest.approx(2 / 3)
    # 9 pairs (trained seed, random seed): only 10 < 11 is lost
    assert row["p_better"] == pytest.approx(8 / 9)
    assert row["env_kwargs"] == '{"size": 2}' and row["seeds"] == 3
    text = path.read_text()
    assert "| 3 x 20 (5) |" in text and "figures/pettingzoo_env_deterministic_s0-2_ep20.png" in text
    assert (out_dir / "figures" / "pettingzoo_env_deterministic_s0-2_ep20.png").stat().st_size > 0


def test_the_learning_curve_is_the_teams_exploring_return_per_logged_episode(tmp_path):
    run_dir = _run(tmp_path, "r", trained=[1.0, 2.0], random=[0.0, 0.0])
    curve = pettingzoo_runs.learning_curve(run_dir)
    assert sorted(curve["episode"].unique()) == [10, 20]
    assert np.allclose(curve[curve["episode"] == 20].sort_values("seed")["value"], [20.0, 40.0])


def test_no_committed_run_writes_nothing(tmp_path):
    assert pettingzoo_runs.write(tmp_path, tmp_path) is None
    assert not (tmp_path / "pettingzoo_runs.md").exists()
