"""Drives a training run: resume from the last checkpoint, iterate, log, checkpoint, stop on NaN."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import tensorflow as tf
from tqdm import tqdm

from envs.batched import make_batched_env
from maddpg import results
from maddpg.config import LEGACY_DYNAMICS, TrainConfig
from maddpg.training import Trainer


class TrainingDiverged(Exception):
    """A loss became NaN or Inf; the message names the agent, the loss and the checkpoint that was kept."""


class _Window:
    """Sums of one logging window, per seed: episode returns, last-step goal distance, losses."""

    def __init__(self, population: int, num_agents: int):
        self.returns = np.zeros((population, num_agents))
        self.goal_distance = np.zeros(population)
        self.episodes = 0
        self.critic_loss = np.zeros((population, num_agents))
        self.actor_loss = np.zeros((population, num_agents))
        self.approximation_loss = np.zeros((population, num_agents))
        self.policy_kl = np.zeros((population, num_agents))
        self.inference = False
        self.updates = 0

    def add(self, outputs: dict) -> None:
        returns = outputs["episode_returns"].numpy()  # [P, B, N]
        self.returns += returns.sum(axis=1)
        self.episodes += returns.shape[1]
        if "final_goal_distance" in outputs:
            self.goal_distance += outputs["final_goal_distance"].numpy().sum(axis=1)
        self.critic_loss += outputs["critic_loss_sum"].numpy()
        self.actor_loss += outputs["actor_loss_sum"].numpy()
        if "policy_kl_sum" in outputs:
            self.inference = True
            self.approximation_loss += outputs["approximation_loss_sum"].numpy()
            self.policy_kl += outputs["policy_kl_sum"].numpy()
        self.updates += int(outputs["num_updates"])

    def rows(self, config: TrainConfig, agents, episode: int, has_goal: bool):
        for p, seed in enumerate(config.seeds):
            base = {"seed": seed, "episode": episode}
            mean_returns = self.returns[p] / self.episodes
            # The reference's "mean episode reward": the sum over agents of each episode's return.
            yield {**base, "role": "team", "metric": "mean_episode_reward", "value": mean_returns.sum()}
            if has_goal:
                yield {**base, "role": "team", "metric": "final_goal_distance",
                       "value": self.goal_distance[p] / self.episodes}
            for i, agent in enumerate(agents):
                yield {**base, "role": agent, "metric": "mean_episode_reward", "value": mean_returns[i]}
                if self.updates:
                    yield {**base, "role": agent, "metric": "critic_loss", "value": self.critic_loss[p, i] / self.updates}
                    yield {**base, "role": agent, "metric": "actor_loss", "value": self.actor_loss[p, i] / self.updates}
                if self.updates and self.inference:  # agent i as approximated by the others (Fig. 7)
                    yield {**base, "role": agent, "metric": "policy_kl", "value": self.policy_kl[p, i] / self.updates}
                    yield {**base, "role": agent, "metric": "approximation_loss",
                           "value": self.approximation_loss[p, i] / self.updates}


def _check_finite(outputs: dict, config: TrainConfig, agents, episode: int, checkpoint: str | None) -> None:
    first = outputs["first_nonfinite_update"].numpy()  # [P, N, 2], -1 while finite
    if (first < 0).all():
        return
    p, i, which = np.argwhere(first == first[first >= 0].min())[0]
    loss_name = ("critic_loss_sum", "actor_loss_sum")[which]
    kept = f"the last good checkpoint {checkpoint} is kept" if checkpoint else "no checkpoint had been saved"
    raise TrainingDiverged(
        f"{loss_name.split('_')[0]} loss of agent {agents[i]} (seed {config.seeds[p]}) became "
        f"{outputs[loss_name].numpy()[p, i]} in the episodes up to {episode}; {kept}"
    )


def build_trainer(config: TrainConfig) -> Trainer:
    """The trainer for a config, on the config's batched scenario in the config's dynamics."""
    return Trainer(config, make_batched_env(config.scenario, dynamics=config.dynamics))


def env_signature(env) -> dict:
    """What a checkpoint's networks depend on: the agents, their observation and action sizes, and the
    dynamics they were trained in (the action sign differs between the two)."""
    return {"agents": list(env.agents), "observation_sizes": list(env.observation_sizes),
            "action_sizes": list(env.action_sizes), "dynamics": env.dynamics}


def check_env_signature(run_dir: Path, env) -> None:
    """Raises UsageError when run_dir's checkpoints were made for other agents or observation/action sizes.

    meta.json records the signature of the env a run was trained on; a port whose layout changed since
    would otherwise fail deep inside the checkpoint restore with a shape error.
    """
    recorded = results.read_meta(run_dir).get("env")
    current = env_signature(env)
    if recorded is None:
        return
    recorded = {"dynamics": LEGACY_DYNAMICS, **recorded}  # signatures written before dynamics existed
    if recorded == current:
        return
    different = [key for key in current if recorded.get(key) != current[key]]
    details = "; ".join(f"{key}: checkpoint {recorded.get(key)} vs scenario {current[key]}" for key in different)
    raise results.UsageError(f"the checkpoint in {run_dir} does not match scenario {env.name} ({details})")


def train(config: TrainConfig, run_dir: Path, *, progress: bool = True, stop_after_iterations: int | None = None):
    """Trains (or resumes) the run in run_dir until config.episodes episodes per seed are done.

    Args:
        config: the run's settings.
        run_dir: results/<experiment>/<run_id>; created, or resumed when it holds a run with the same config.
        progress: show a progress bar.
        stop_after_iterations: stop early after this many iterations (used to test resuming).

    Returns:
        The Trainer, holding the trained networks.

    Raises:
        results.UsageError: run_dir holds a run of another config.
        TrainingDiverged: a loss became NaN or Inf.
    """
    run_dir = Path(run_dir)
    results.prepare_run_dir(run_dir, config)
    trainer = build_trainer(config)
    check_env_signature(run_dir, trainer.env)
    results.update_meta(run_dir, env=env_signature(trainer.env), dynamics=config.dynamics)
    checkpoint = tf.train.Checkpoint(trainer=trainer)
    manager = tf.train.CheckpointManager(checkpoint, run_dir / results.CHECKPOINT_DIR, max_to_keep=1)
    if manager.latest_checkpoint:
        checkpoint.restore(manager.latest_checkpoint).assert_existing_objects_matched()
    episodes_done = int(trainer.episodes_done.numpy())
    writer = results.MetricsWriter(run_dir / results.METRICS_FILE, config)
    writer.truncate_after(episodes_done)  # rows written after the checkpoint are produced again below
    summary_writer = tf.summary.create_file_writer(str(run_dir / results.TENSORBOARD_DIR))
    agents = trainer.env.agents
    has_goal = hasattr(trainer.env, "goal_distance")
    meta = results.update_meta(run_dir, training_complete=episodes_done >= config.episodes)
    sessions = meta.get("sessions", [])
    session = {"started_at": results.now(), "from_episode": episodes_done}
    started = time.perf_counter()
    window = _Window(config.population, len(agents))
    bar = tqdm(total=config.episodes, initial=episodes_done, unit="ep", disable=not progress,
               desc=f"{config.experiment}/{config.algorithm}", dynamic_ncols=True)
    iterations = 0
    while episodes_done < config.episodes:
        outputs = trainer.iteration()
        episodes_done = int(trainer.episodes_done.numpy())
        _check_finite(outputs, config, agents, episodes_done, manager.latest_checkpoint)
        window.add(outputs)
        bar.update(config.num_envs)
        if episodes_done % config.log_every_episodes == 0:
            rows = list(window.rows(config, agents, episodes_done, has_goal))
            writer.write(rows)
            _write_summaries(summary_writer, rows, episodes_done)
            team = np.mean([r["value"] for r in rows if r["role"] == "team" and r["metric"] == "mean_episode_reward"])
            bar.set_postfix(reward=f"{team:.2f}", updates=int(trainer.updates.numpy()))
            window = _Window(config.population, len(agents))
        if episodes_done % config.checkpoint_every_episodes == 0 or episodes_done >= config.episodes:
            manager.save(checkpoint_number=episodes_done)
        iterations += 1
        if stop_after_iterations is not None and iterations >= stop_after_iterations:
            break
    bar.close()
    session.update(to_episode=episodes_done, wall_seconds=round(time.perf_counter() - started, 2))
    results.update_meta(run_dir, sessions=sessions + [session], training_complete=episodes_done >= config.episodes)
    return trainer


def _write_summaries(summary_writer, rows, episode: int) -> None:
    with summary_writer.as_default(step=episode):
        for row in rows:
            tf.summary.scalar(f"seed{row['seed']}/{row['role']}/{row['metric']}", row["value"])
    summary_writer.flush()
