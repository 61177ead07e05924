"""The whole-paper driver (reproduction.paper): its plan, a smoke paper on a two-node cluster on this machine,
a worker killed mid-run on the driver's own local Ray, and bad input. Ray's start-up here: about 5 s for a local
instance, 10-15 s for a head plus a second node."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

pytest.importorskip("ray")

from reproduction import paper  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
ENV.pop("RAY_ADDRESS", None)


def _paper(*args, timeout=400, env=ENV):
    """Runs `python -m reproduction.paper` in a subprocess; returns (exit code, stdout, stderr)."""
    done = subprocess.run([sys.executable, "-m", "reproduction.paper", *args], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)
    return done.returncode, done.stdout, done.stderr


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _stop_cluster(marks):
    """SIGKILLs the Ray processes of this test's cluster only, by id: those whose command line names its temp
    dirs or port, and their children. (`ray stop --force` would also end every other Ray on the machine, such
    as another test's local one running beside this under pytest-xdist.)"""
    table = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                command = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode() + " "
                parent = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError):
                continue
            table[int(entry)] = (parent, command)
    ours = {pid for pid, (_, command) in table.items() if "ray" in command and any(m in command for m in marks)}
    while True:
        children = {pid for pid, (parent, _) in table.items() if parent in ours} - ours
        if not children:
            break
        ours |= children
    ours.discard(os.getpid())
    for pid in ours:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _files(folder: Path):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) if folder.exists() else []


def _assert_cc_smoke_done(results_dir: Path, stdout: str):
    import tensorflow as tf

    for pairing in ("maddpg", "ddpg"):
        run_dir = results_dir / "cooperative_communication" / f"smoke_paper_{pairing}_s0-1_ep200"
        meta = json.loads((run_dir / "meta.json").read_text())
        assert meta["training_complete"] and meta["evaluation_complete"], run_dir
        assert meta["command"].startswith("python -m reproduction.paper")
        assert meta["intra_op_threads"] == 1 and meta["sessions"][-1]["intra_op_threads"] == 1  # one per Ray CPU
        assert (run_dir / "evaluation.csv").exists()
        names = [name for name, _ in tf.train.list_variables(tf.train.latest_checkpoint(str(run_dir / "checkpoints")))]
        assert not [name for name in names if name.startswith(("replay/", "trainer/buffer/"))]  # finished: no replay
        assert f"[started] cooperative_communication/{run_dir.name}" in stdout
        assert f"[finished] cooperative_communication/{run_dir.name} in " in stdout
    assert "[2/2 runs done]" in stdout and "left" in stdout
    assert not list(results_dir.glob(".paper_driver_*"))  # the shared-path token is removed


def test_full_smoke_plan_dry_run_lists_every_experiment(tmp_path, capsys):
    assert paper.main(["paper", "--smoke", "--dry_run", f"--results_dir={tmp_path}", "--machines=3"]) == 0
    out = capsys.readouterr().out
    for experiment in paper.EXPERIMENTS:
        assert f"  new " in out and f" {experiment}/smoke_paper_" in out, experiment
    assert "policy_ensembles/smoke_paper_pp_cross_play_s0-1_ep240" in out
    assert "independent_baselines/smoke_paper_trpo_s0-1_ep100" in out
    lines = [line for line in out.splitlines() if line.startswith("  new ")]
    assert len(lines) == 45  # 2+8+4+2+4+8+4+9 MADDPG runs and cross-plays, 4 baselines
    assert "critical path on 3 machines" in out and "longest single run:" in out
    assert _files(tmp_path) == []  # a dry run creates nothing
    from benchmarks.paper_time import PLAN_LINE  # benchmarks/paper_time.py reads these lines

    assert all(PLAN_LINE.match(line) for line in lines)


def test_memory_estimates_and_the_next_run_that_fits():
    """Runs ask Ray for memory by their replay buffer; the driver skips a run that would not fit beside
    those in flight (two 10-seed PD N=4 runs were OOM-killed side by side on a 24 GB machine)."""
    paper.main(["paper", "--dry_run", "--only=physical_deception", "--dynamics=paper", "--results_dir=/nonexistent/x"])
    plan = {run.name: run for run in paper.plan_runs(paper.FLAGS)}
    big = plan["physical_deception/paper_n4_maddpg_vs_maddpg_s0-9_ep25000"]
    small = plan["physical_deception/paper_n2_maddpg_vs_maddpg_s0-9_ep25000"]
    baseline = paper.PlannedRun("independent_baselines", "dqn", "baseline", Path("/nonexistent/dqn"), None)
    # PD N=4: 5 agents, 206 floats a row, 625000 rows x 10 seeds (measured peak 10.9 GB)
    assert 10.9e9 < paper.memory_bytes(big) < 12.5e9
    assert paper.memory_bytes(small) < paper.memory_bytes(big) / 2
    assert paper.memory_bytes(baseline) == paper.OTHER_TASK_BYTES
    requests = {run.run_dir: float(paper.memory_bytes(run)) for run in (big, small)}
    budget = 20e9
    assert paper.next_run([big, small], requests, held=requests[big.run_dir], budget=budget, running=True) is small
    assert paper.next_run([big], requests, held=requests[big.run_dir], budget=budget, running=True) is None
    assert paper.next_run([big], requests, held=0.0, budget=1e9, running=False) is big  # alone, it may start


def test_a_cross_play_is_estimated_from_a_committed_cross_plays_wall_time(tmp_path):
    """Its rate is per evaluated episode (4 combinations x eval_episodes x seeds), from the wall_seconds a
    cross-play folder records, an ablation study's included; no training run's rate is taken from it."""
    paper.main(["paper", "--dry_run", "--only=policy_ensembles", "--dynamics=paper", "--results_dir=/nonexistent/x"])
    pp_runs = [run for run in paper.plan_runs(paper.FLAGS) if run.label.startswith("pp_")]
    plan = {run.label: run for run in pp_runs}  # pp_single, pp_ensemble, pp_cross_play
    cross = tmp_path / "ablations" / "a_study" / "value" / "policy_ensembles" / "paper_pp_cross_play_s0-2_ep25200"
    cross.mkdir(parents=True)
    (cross / "config.json").write_text(json.dumps({"scenario": "ensemble_tag", "eval_episodes": 1000,
                                                   "seeds": [0, 1, 2]}))
    (cross / "meta.json").write_text(json.dumps({"kind": "cross_play", "wall_seconds": 1200.0}))
    rates = paper.calibration(tmp_path)
    assert rates == [{"experiment": "policy_ensembles", "scenario": "ensemble_tag", "algorithm": "cross_play",
                      "rate": 1200.0 / (4 * 1000 * 3)}]
    paper.estimate(pp_runs, rates)
    cross = plan["pp_cross_play"]
    assert cross.units == 4 * 1000 * 3
    assert cross.seconds == pytest.approx(paper.START_SECONDS + 1200.0)
    # The training runs found no training rate: the default, not the cross-play's.
    single = plan["pp_single"]
    assert single.seconds == pytest.approx(paper.START_SECONDS + 1e-4 * single.units)
    guess = paper.PlannedRun("policy_ensembles", "pp_cross_play", "cross_play", tmp_path / "x", cross.config,
                             units=12000)
    paper.estimate([guess], [])  # no cross-play recorded its time: the flat guess, not the one above
    assert guess.seconds != pytest.approx(cross.seconds)


def test_a_resumed_run_counts_only_what_its_checkpoint_has_not_done(tmp_path):
    """The plan's work left and the schedule count a resumed run from its latest checkpoint (ckpt-<episode>)."""
    from maddpg.run_folder import RunFolder

    run = paper.PlannedRun("physical_deception", "n2", "maddpg", tmp_path / "run", None, seconds=1000.0)
    assert RunFolder(run.run_dir).checkpointed_episodes() == 0
    (run.run_dir / "checkpoints").mkdir(parents=True)
    (run.run_dir / "checkpoints" / "checkpoint").write_text(
        'model_checkpoint_path: "ckpt-10000"\nall_model_checkpoint_paths: "ckpt-10000"\n')
    (run.run_dir / "checkpoints" / "ckpt-10000.index").write_bytes(b"")  # the state names a checkpoint that is there
    assert RunFolder(run.run_dir).checkpointed_episodes() == 10000
    run.done_fraction = 10000 / 25000
    assert run.seconds_left == pytest.approx(600.0)
    other = paper.PlannedRun("covert_communication", "mvm", "maddpg", tmp_path / "other", None, seconds=700.0)
    assert paper.schedule([run, other], slots=1) == pytest.approx(1300.0)
    assert paper.schedule([run, other], slots=2) == pytest.approx(700.0)


def test_the_baselines_plan_twice_in_one_process():
    """independent_baselines defines its flags in absl's global FLAGS at import, once: a second plan in the same
    process (a notebook, a test run) must find them again."""
    for _ in range(2):
        paper.main(["paper", "--dry_run", "--only=independent_baselines", "--results_dir=/nonexistent/x"])
        assert len(paper.plan_runs(paper.FLAGS)) == 4


def test_paper_seed_counts():
    """The paper's seeds: 10 for CC (and its baselines), PD, covert and policy inference; 3 elsewhere."""
    options = paper.FLAGS
    paper.main(["paper", "--dry_run", "--only=keep_away", "--results_dir=/nonexistent/x"])
    plan = paper.plan_runs(options)
    assert {len(run.config.seeds) for run in plan} == {3}
    ten = {"cooperative_communication", "independent_baselines", "physical_deception", "covert_communication",
           "policy_inference"}
    assert {name for name, seeds in paper.PAPER_SEEDS.items() if seeds == 10} == ten
    assert all(seeds == 3 for name, seeds in paper.PAPER_SEEDS.items() if name not in ten)


def test_smoke_paper_on_a_two_node_cluster_then_a_rerun_skips_it(tmp_path):
    """The driver on a cluster (a head and a second node on this machine), then paper_figures on its results,
    then a rerun that finds every run finished. The driver's own local Ray (no --address) is started by
    paper.connect in test_a_worker_killed_mid_run_is_retried_and_resumes_to_identical_metrics: one smoke paper
    here instead of one per way of reaching Ray (each costs a TensorFlow start and trace per Ray worker)."""
    ray_cli = str(Path(sys.executable).parent / "ray")
    port = _free_port()
    head_dir = tempfile.mkdtemp(prefix="rh", dir="/tmp")  # Ray's socket paths must stay short
    node_dir = tempfile.mkdtemp(prefix="rn", dir="/tmp")
    results_dir = tmp_path / "results"
    env = {**ENV, "RAY_AUTH_MODE": "token"}  # ray start --head turns token auth on; joiners read ~/.ray/auth_token
    try:
        subprocess.run([ray_cli, "start", "--head", f"--port={port}", "--num-cpus=1", f"--temp-dir={head_dir}",
                        "--include-dashboard=false", "--disable-usage-stats"], check=True, env=env,
                       capture_output=True, timeout=120)
        subprocess.run([ray_cli, "start", f"--address=127.0.0.1:{port}", "--num-cpus=1", f"--temp-dir={node_dir}",
                        "--disable-usage-stats"], check=True, env=env, capture_output=True, timeout=120)
        code, out, err = _paper("--smoke", "--only=cooperative_communication", f"--results_dir={results_dir}",
                                f"--address=127.0.0.1:{port}", f"--figures_dir={tmp_path / 'figures'}", env=env)
        assert code == 0, out + err
        assert "running 2 runs on 2 CPUs, 2 at once" in out
        _assert_cc_smoke_done(results_dir, out)
        nodes = {line.rsplit("node ", 1)[1] for line in out.splitlines() if line.startswith("[finished]")}
        assert len(nodes) == 2, out  # one run on each node
        assert (tmp_path / "figures" / "table1.csv").exists()  # paper_figures ran on the same results
    finally:
        _stop_cluster((head_dir, node_dir, f":{port} "))
        shutil.rmtree(head_dir, ignore_errors=True)
        shutil.rmtree(node_dir, ignore_errors=True)
    metrics = {p: p.read_bytes() for p in results_dir.rglob("metrics.csv")}
    code, out, err = _paper("--smoke", "--only=cooperative_communication", f"--results_dir={results_dir}",
                            "--nofigures")
    assert code == 0, out + err
    assert out.count("finished already") == 2 and "[started]" not in out
    assert metrics == {p: p.read_bytes() for p in results_dir.rglob("metrics.csv")}


def test_a_worker_killed_mid_run_is_retried_and_resumes_to_identical_metrics(tmp_path, make_config):
    import ray

    config = make_config(episodes=300, log_every_episodes=50, checkpoint_every_episodes=100)
    announce = tmp_path / "announce.txt"
    tasks = {name: paper.RunTask("maddpg", "test", str(tmp_path / "test" / name), config,
                                 announce_file=str(announce) if name == "killed" else None)
             for name in ("whole", "killed")}
    paper.connect(ray, None)  # the driver's own local Ray: every CPU, one TensorFlow thread per run
    try:
        remote = paper.remote_run_task(ray, max_retries=2)
        assert remote._default_options["max_calls"] == 1  # every run in a new worker: no memory carried over
        refs = {name: remote.remote(task) for name, task in tasks.items()}
        deadline = time.time() + 240
        while not (announce.exists() and announce.read_text().strip()):
            assert time.time() < deadline, "no checkpoint announced"
            time.sleep(0.05)
        pid = int(announce.read_text().split()[0])
        os.kill(pid, signal.SIGKILL)  # the worker process, after its first checkpoint (episode 100 of 300)
        reports = {name: ray.get(ref, timeout=300) for name, ref in refs.items()}
    finally:
        ray.shutdown()
    assert reports["killed"]["pid"] != pid  # the retry ran in a new worker
    pids = {int(line.split()[0]) for line in announce.read_text().splitlines()}
    assert pid in pids and len(pids) == 2
    killed, whole = tmp_path / "test" / "killed", tmp_path / "test" / "whole"
    assert (killed / "metrics.csv").read_text() == (whole / "metrics.csv").read_text()
    meta = json.loads((killed / "meta.json").read_text())
    assert meta["training_complete"] and meta["evaluation_complete"]
    assert meta["sessions"][-1]["from_episode"] >= 100  # resumed from the checkpoint, not from scratch
    assert meta["intra_op_threads"] == 1 and meta["sessions"][-1]["intra_op_threads"] == 1  # one per Ray CPU
    assert (killed / "evaluation.csv").read_text() == (whole / "evaluation.csv").read_text()


def test_unknown_experiment_is_one_error_line(tmp_path, capsys):
    assert paper.main(["paper", "--only=cooperative_communication,table9", f"--results_dir={tmp_path}"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: unknown experiment 'table9'")
    assert _files(tmp_path) == []


def test_unreachable_address_is_one_error_line(tmp_path, capsys):
    port = _free_port()
    started = time.time()
    code = paper.main(["paper", "--smoke", "--only=keep_away", f"--results_dir={tmp_path}",
                       f"--address=127.0.0.1:{port}", "--nofigures"])
    assert code == 2 and time.time() - started < 30
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: no Ray head answers at 127.0.0.1:{port}")
    assert _files(tmp_path) == []


def test_results_folder_of_another_config_is_refused_before_anything_runs(tmp_path, capsys, make_config):
    run_dir = tmp_path / "keep_away" / "smoke_paper_ddpg_vs_ddpg_s0-1_ep200"
    run_dir.mkdir(parents=True)
    (run_dir / "config.json").write_text(json.dumps(make_config(experiment="keep_away").to_json()))
    before = _files(tmp_path)
    code = paper.main(["paper", "--smoke", "--only=cooperative_communication,keep_away", f"--results_dir={tmp_path}"])
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: {run_dir} was made with another config")
    assert _files(tmp_path) == before  # nothing trained, nothing created
