"""Restoring a run's actors from its latest checkpoint, without its replay buffer (for evaluation).

Both checkpoint layouts (maddpg/run.py: finished, networks only; resume, with the filled replay rows) and the
one before them (whole buffers) keep the networks under the same `trainer/learner/...` keys, so one partial
restore of the learner reads them all.
"""

from __future__ import annotations

import json
from pathlib import Path

from maddpg.results import CHECKPOINT_DIR, CONFIG_FILE, UsageError


def load_actor_weights(run_dir: Path):
    """(config, per-agent population actor weights as numpy) restored from run_dir's latest checkpoint.

    Raises:
        UsageError: run_dir is not a run folder, has no checkpoint, or its checkpoint does not match the
            scenario's agents or observation/action sizes.
    """
    import tensorflow as tf

    from envs.batched import make_batched_env
    from maddpg.config import TrainConfig
    from maddpg.learner import Learner, actor_weights
    from maddpg.run import check_env_signature

    config_path = run_dir / CONFIG_FILE
    if not config_path.is_file():
        raise UsageError(f"{run_dir} is not a run folder (no {CONFIG_FILE}); pass results/<experiment>/<run_id>")
    try:
        config = TrainConfig.from_json(json.loads(config_path.read_text()))
    except (TypeError, ValueError) as error:
        raise UsageError(f"{config_path} is not a config this version can read ({error})") from None
    latest = tf.train.latest_checkpoint(str(run_dir / CHECKPOINT_DIR))
    if latest is None:
        raise UsageError(f"{run_dir} has no checkpoint in {CHECKPOINT_DIR}/ (was it trained here?)")
    env = make_batched_env(config.scenario, dynamics=config.dynamics)
    check_env_signature(run_dir, env)
    holder = tf.Module()  # the checkpoint's `trainer`, with only the learner (no replay buffer to allocate)
    holder.learner = Learner(config, env.observation_sizes, env.action_sizes)
    try:
        tf.train.Checkpoint(trainer=holder).restore(latest).expect_partial().assert_existing_objects_matched()
    except (AssertionError, ValueError, tf.errors.OpError) as error:
        # TensorFlow's message lists the unmatched variables with their values: too long for one line.
        summary = str(error).split(":")[0].strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise UsageError(f"the checkpoint {latest} does not match {config.scenario}'s networks ({summary}); "
                         "was it written by another version of this code?") from None
    return config, actor_weights(holder.learner)
