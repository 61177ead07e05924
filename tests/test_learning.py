"""A short training run on the batched speaker-listener clearly beats a random policy."""

import numpy as np
import tensorflow as tf

from envs.batched.speaker_listener import BatchedSpeakerListener
from maddpg.gumbel import gumbel_softmax
from maddpg.population_random import PopulationRandom
from maddpg.run import train


def _random_policy_team_reward(episodes=2000):
    """Mean team episode reward of uniform Gumbel-softmax actions (zero logits) on the batched env."""
    env, rng = BatchedSpeakerListener(), PopulationRandom([123])
    state = env.reset(rng, episodes)
    total = tf.zeros([1, episodes, 2])
    for _ in range(25):
        actions = [gumbel_softmax(tf.zeros([1, episodes, a]), rng.uniform([episodes, a])) for a in env.action_sizes]
        state, rewards = env.step(state, actions)
        total += rewards
    return float(tf.reduce_mean(tf.reduce_sum(total, -1)))


def test_short_maddpg_run_beats_random(make_config, tmp_path):
    import pandas as pd

    config = make_config(seeds=(0, 1), episodes=4000, num_envs=100, hidden_units=64, batch_size=256,
                         warmup_transitions=25_600, log_every_episodes=1000, checkpoint_every_episodes=4000)
    train(config, tmp_path / "run", progress=False)
    metrics = pd.read_csv(tmp_path / "run" / "metrics.csv")
    final = metrics[(metrics.episode == 4000) & (metrics.role == "team") & (metrics.metric == "mean_episode_reward")]
    random_reward = _random_policy_team_reward()
    assert random_reward < -50  # sanity: a random listener drifts far from the goal
    # Each seed's last 1000 episodes: at most 60% of the random policy's squared-distance cost.
    assert np.all(final.value.to_numpy() > 0.6 * random_reward), (final.value.tolist(), random_reward)
