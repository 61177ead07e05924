"""Drives a training run: resume from the last checkpoint, iterate, log, checkpoint, stop on NaN.

Checkpoints (run_dir/checkpoints/ckpt-<episodes done>, only the latest kept) come in two kinds:
- resume (written every checkpoint_every_episodes while the run is unfinished): `trainer/...`, every
  tracked part of the Trainer but its replay buffers (networks, target networks, optimizer states, random
  streams, counters), plus `replay/<buffer>/<field>`, only the filled rows of each buffer ([P * size, width])
  with its size and pointer. Resuming from it continues bit-exactly.
- finished (written when the last episode is done): `trainer/...` alone. What evaluation, rendering and
  further use need, without the replay buffer (about 0.95 GB for a 10-seed speaker-listener run; the finished
  checkpoint is a few MB).
Checkpoints of the layout before these two (whole buffers under trainer/, maddpg/legacy_layout.py) are still
resumed; a finished run's old checkpoint is rewritten in the finished layout the next time train() opens the run.

The run folder's files are read, checked and written through maddpg/run_folder.py; a resumed run says from
which episode it resumes.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import tensorflow as tf
from tqdm import tqdm

from envs.batched import make_batched_env
from maddpg import legacy_layout, results
from maddpg.config import TrainConfig
from maddpg.replay import ReplayBuffer
from maddpg.run_folder import RunFolder, env_signature
from maddpg.run_logging import LogWindow, TrainingDiverged, diverged  # noqa: F401  (TrainingDiverged: re-exported)
from maddpg.training import Trainer


def _add_outputs(window: LogWindow, outputs: dict) -> None:
    """One iteration's outputs into the window (numpy sums, as the plain loop's episodes)."""
    window.add_episodes(outputs["episode_returns"].numpy(),  # [P, B, N]
                        outputs["final_goal_distance"].numpy() if "final_goal_distance" in outputs else None)
    inference = "policy_kl_sum" in outputs
    window.add_updates(outputs["critic_loss_sum"].numpy(), outputs["actor_loss_sum"].numpy(),
                       int(outputs["num_updates"]),
                       outputs["approximation_loss_sum"].numpy() if inference else None,
                       outputs["policy_kl_sum"].numpy() if inference else None,
                       outputs["policy_kl_forward_sum"].numpy() if inference else None)


def _check_finite(outputs: dict, config: TrainConfig, agents, episode: int, checkpoint: str | None) -> None:
    first = outputs["first_nonfinite_update"].numpy()  # [P, N, 2], -1 while finite
    if (first < 0).all():
        return
    p, i, which = np.argwhere(first == first[first >= 0].min())[0]  # the earliest update that went bad
    loss_name = ("critic_loss_sum", "actor_loss_sum")[which]
    raise diverged(loss_name.split("_")[0], agents[i], config.seeds[p], outputs[loss_name].numpy()[p, i],
                   f"in the episodes up to {episode}", checkpoint)


def build_trainer(config: TrainConfig) -> Trainer:
    """The trainer for a config, on the config's batched scenario in the config's dynamics (and, with
    train_rewards set, a second port of the scenario whose rewards the agents train on)."""
    env = make_batched_env(config.scenario, dynamics=config.dynamics)
    reward_env = (None if config.train_rewards == "dynamics"
                  else make_batched_env(config.scenario, dynamics=config.train_rewards))
    return Trainer(config, env, reward_env=reward_env)


def train(config: TrainConfig, run_dir: Path | RunFolder, *, progress: bool = True,
          stop_after_iterations: int | None = None, on_checkpoint=None, command: str | None = None, log=print):
    """Trains (or resumes) the run in run_dir until config.episodes episodes per seed are done.

    Args:
        config: the run's settings.
        run_dir: results/<experiment>/<run_id> (or its RunFolder); created, or resumed when it holds a run
            with the same config.
        progress: show a progress bar.
        stop_after_iterations: stop early after this many iterations (used to test resuming).
        on_checkpoint: called with each checkpoint's path once it is saved (the paper driver's tests kill a
            worker at that point).
        command: the command line that asked for the run, recorded in meta.json when this call ends.
        log: called with one line (str) when the run resumes from a checkpoint (None: silent).

    Returns:
        The Trainer, holding the trained networks.

    Raises:
        results.UsageError: run_dir holds a run of another config, or a file of it is damaged
            (results.RunFolderError; every file is checked before anything in the folder is written).
        TrainingDiverged: a loss became NaN or Inf.
    """
    folder = RunFolder.of(run_dir)
    folder.open_for(config)
    # Every file is read (and checked) before anything in the folder is written.
    latest = folder.latest_checkpoint()
    sessions = folder.meta.get("sessions", [])
    writer = folder.metrics_writer(config)
    trainer = build_trainer(config)
    folder.check_env(trainer.env)
    if latest:
        folder.check_checkpoint()
        with folder.reading_checkpoint(latest):
            restore_checkpoint(trainer, latest)
    episodes_done = int(trainer.episodes_done.numpy())
    if latest and episodes_done >= config.episodes and checkpoint_holds_replay(latest):
        with results.writing(folder.checkpoint_dir):
            latest = save_checkpoint(trainer, folder.checkpoint_dir, finished=True)  # a finished run keeps no replay
    writer.truncate_after(episodes_done)  # rows written after the checkpoint are produced again below
    folder.update_meta(trained=episodes_done >= config.episodes, env=env_signature(trainer.env),
                       dynamics=config.dynamics)
    if latest and episodes_done < config.episodes and log is not None:
        log(f"{folder.path}: resuming from its checkpoint at episode {episodes_done} of {config.episodes} "
            f"({Path(latest).name})")
    # A resumed run can span commits: each session records its own (the top-level git_commit is the first's).
    session = {"started_at": results.now(), "from_episode": episodes_done,
               "intra_op_threads": results.intra_op_threads(),  # it changes the numbers: see results.py
               **results.git_state()}
    started = time.perf_counter()
    summary_writer = tf.summary.create_file_writer(str(folder.tensorboard_dir))
    agents = trainer.env.agents
    has_goal = hasattr(trainer.env, "goal_distance")
    window = LogWindow(config.population, len(agents))
    bar = tqdm(total=config.episodes, initial=episodes_done, unit="ep", disable=not progress,
               desc=f"{config.experiment}/{config.algorithm}", dynamic_ncols=True)
    iterations = 0
    while episodes_done < config.episodes:
        outputs = trainer.iteration()
        episodes_done = int(trainer.episodes_done.numpy())
        _check_finite(outputs, config, agents, episodes_done, latest)
        _add_outputs(window, outputs)
        bar.update(config.num_envs)
        if episodes_done % config.log_every_episodes == 0:
            rows = list(window.rows(config.seeds, agents, episodes_done, has_goal))
            writer.write(rows)
            with results.writing(folder.tensorboard_dir):
                write_summaries(summary_writer, rows, episodes_done)
            team = np.mean([r["value"] for r in rows if r["role"] == "team" and r["metric"] == "mean_episode_reward"])
            bar.set_postfix(reward=f"{team:.2f}", updates=int(trainer.updates.numpy()))
            window = LogWindow(config.population, len(agents))
        if episodes_done % config.checkpoint_every_episodes == 0 or episodes_done >= config.episodes:
            with results.writing(folder.checkpoint_dir):
                latest = save_checkpoint(trainer, folder.checkpoint_dir, finished=episodes_done >= config.episodes)
            if on_checkpoint is not None:
                on_checkpoint(latest)
        iterations += 1
        if stop_after_iterations is not None and iterations >= stop_after_iterations:
            break
    bar.close()
    session.update(to_episode=episodes_done, wall_seconds=round(time.perf_counter() - started, 2))
    folder.update_meta(trained=episodes_done >= config.episodes, sessions=sessions + [session],
                       **({"command": command} if command else {}))
    return trainer


def write_summaries(summary_writer, rows, episode: int) -> None:
    """The window's rows as TensorBoard scalars, seed<seed>/<role>/<metric>."""
    with summary_writer.as_default(step=episode):
        for row in rows:
            tf.summary.scalar(f"seed{row['seed']}/{row['role']}/{row['metric']}", row["value"])
    summary_writer.flush()


def replay_buffers(trainer: Trainer) -> list[tuple[str, ReplayBuffer]]:
    """(checkpoint path, buffer) of every replay buffer the trainer holds: "buffer", or "team_buffers/<t>"."""
    found = []
    for name, value in vars(trainer).items():
        if isinstance(value, ReplayBuffer):
            found.append((name, value))
        elif isinstance(value, (list, tuple)) and value and all(isinstance(v, ReplayBuffer) for v in value):
            found += [(f"{name}/{i}", buffer) for i, buffer in enumerate(value)]
    return found


def _state_without_replay(trainer: Trainer) -> tf.Module:
    """A stand-in for the trainer in a checkpoint: the same tracked attributes (so the same `trainer/...`
    keys as a checkpoint of the whole trainer), less the replay buffers."""
    buffers = {id(buffer) for _, buffer in replay_buffers(trainer)}
    state = tf.Module(name="trainer_state")
    for name, value in vars(trainer).items():
        if name.startswith("_"):
            continue
        items = value if isinstance(value, (list, tuple)) else [value]
        if any(id(item) in buffers for item in items):
            continue
        if items and all(isinstance(item, (tf.Module, tf.Variable)) for item in items):
            setattr(state, name, value)
    return state


def save_checkpoint(trainer: Trainer, directory: Path, *, finished: bool) -> str:
    """Saves ckpt-<episodes done> in directory (the older one is deleted); returns its path.

    finished: write the finished layout (no replay); else the resume layout (the buffers' filled rows).
    """
    root = tf.train.Checkpoint(trainer=_state_without_replay(trainer))
    if not finished:
        replay = tf.Module(name="replay")
        for path, buffer in replay_buffers(trainer):
            rows = buffer.filled_rows()
            saved = tf.Module(name="filled_rows")
            for field in list(rows):  # popped one by one: one copy of the rows in memory, not two
                setattr(saved, field, tf.Variable(rows.pop(field), trainable=False))
            owner, _, index = path.partition("/")
            if index:
                if not hasattr(replay, owner):
                    setattr(replay, owner, [])
                getattr(replay, owner).append(saved)
            else:
                setattr(replay, owner, saved)
        root.replay = replay
    manager = tf.train.CheckpointManager(root, str(directory), max_to_keep=1)
    return manager.save(checkpoint_number=int(trainer.episodes_done.numpy()))


def checkpoint_holds_replay(path: str) -> bool:
    """Whether a checkpoint holds replay rows (a resume checkpoint, or one of the layout before it)."""
    return any(name.startswith("replay/") or legacy_layout.is_whole_buffer_key(name)
               for name, _ in tf.train.list_variables(path))


def restore_checkpoint(trainer: Trainer, path: str) -> None:
    """Restores a checkpoint of either layout (or of the one before them) into a freshly built trainer.

    Raises:
        results.UsageError: the checkpoint is a finished one (no replay) of a run that is not finished.
    """
    names = [name for name, _ in tf.train.list_variables(path)]
    if any(legacy_layout.is_whole_buffer_key(name) for name in names):  # the layout before: whole buffers
        tf.train.Checkpoint(trainer=trainer).restore(path).assert_existing_objects_matched()
        return
    tf.train.Checkpoint(trainer=_state_without_replay(trainer)).restore(path).expect_partial() \
        .assert_existing_objects_matched()
    if any(name.startswith("replay/") for name in names):
        reader = tf.train.load_checkpoint(path)
        for buffer_path, buffer in replay_buffers(trainer):
            fields = [name for name, _ in buffer.fields()] + ["size", "pointer"]
            buffer.restore_filled_rows(
                {field: reader.get_tensor(f"replay/{buffer_path}/{field}/.ATTRIBUTES/VARIABLE_VALUE")
                 for field in fields})
    elif int(trainer.episodes_done.numpy()) < trainer.config.episodes:
        raise results.UsageError(f"{path} is a finished run's checkpoint (no replay buffer) but holds only "
                                 f"{int(trainer.episodes_done.numpy())} of {trainer.config.episodes} episodes")
