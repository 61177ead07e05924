"""Restoring a run's actors from its latest checkpoint, without its replay buffer (for evaluation).

Both checkpoint layouts (maddpg/run.py: finished, networks only; resume, with the filled replay rows) and the
one before them (whole buffers) keep the networks under the same `trainer/learner/...` keys, so one partial
restore of the learner reads them all.
"""

from __future__ import annotations

from pathlib import Path

from maddpg.results import UsageError
from maddpg.run_folder import RunFolder


def load_actor_weights(run_dir: Path | RunFolder):
    """(config, per-agent population actor weights as numpy) restored from run_dir's latest checkpoint.

    Raises:
        UsageError: run_dir is not a run folder, has no checkpoint, or its checkpoint does not match the
            scenario's agents or observation/action sizes; results.RunFolderError: a file of it is damaged
            (the checkpoint state file, a truncated or corrupted checkpoint, meta.json).
    """
    import tensorflow as tf

    from envs.batched import make_batched_env
    from maddpg.learner import Learner, actor_weights

    folder = RunFolder.of(run_dir)
    config = folder.train_config()
    latest = folder.latest_checkpoint()
    if latest is None:
        raise UsageError(f"{folder.path} has no checkpoint in {folder.checkpoint_dir.name}/ (was it trained here? "
                         "the committed runs under results/ keep none)")
    folder.check_checkpoint()  # a truncated checkpoint: one line, not a traceback from the restore
    env = make_batched_env(config.scenario, dynamics=config.dynamics)
    folder.check_env(env)
    holder = tf.Module()  # the checkpoint's `trainer`, with only the learner (no replay buffer to allocate)
    holder.learner = Learner(config, env.observation_sizes, env.action_sizes)
    try:
        with folder.reading_checkpoint(latest):
            tf.train.Checkpoint(trainer=holder).restore(latest).expect_partial().assert_existing_objects_matched()
    except (AssertionError, ValueError, tf.errors.OpError) as error:  # (damaged bytes: reading_checkpoint's error)
        # TensorFlow's message lists the unmatched variables with their values: too long for one line.
        summary = str(error).split(":")[0].strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise UsageError(f"the checkpoint {latest} does not match {config.scenario}'s networks ({summary}); "
                         "was it written by another version of this code?") from None
    return config, actor_weights(holder.learner)
