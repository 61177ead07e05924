"""One training iteration as one tf.function: B episodes per seed, with updates interleaved as in the reference.

An iteration resets B envs for each of the P seeds, then for each of the episode's steps: every actor acts
on its own observation (decentralised), the envs step, the B transitions of each seed go into its replay
buffer, and once the buffer holds `warmup_transitions`, one update of every agent runs per `update_every`
transitions added (with the default B = 100, one update per env step: the reference's ratio and rhythm).
"""

from __future__ import annotations

import tensorflow as tf

from maddpg.config import TrainConfig
from maddpg.learner import Learner
from maddpg.population_random import PopulationRandom
from maddpg.replay import ReplayBuffer


class Trainer(tf.Module):
    """Holds everything a checkpoint must restore: learner, replay buffer, random streams, counters."""

    def __init__(self, config: TrainConfig, env):
        super().__init__(name="trainer")
        self.config = config
        self.env = env
        self.rng = PopulationRandom(config.seeds)
        self.learner = Learner(config, env.observation_sizes, env.action_sizes)
        run_transitions = config.episodes * config.episode_length
        self.buffer = ReplayBuffer(
            population=config.population,
            capacity=min(config.buffer_capacity, run_transitions),
            observation_sizes=env.observation_sizes,
            action_sizes=env.action_sizes,
            write_block=config.num_envs,
        )
        self.transitions = tf.Variable(0, dtype=tf.int64, trainable=False, name="transitions")  # per seed
        self.episodes_done = tf.Variable(0, dtype=tf.int64, trainable=False, name="episodes_done")  # per seed
        self.updates = tf.Variable(0, dtype=tf.int64, trainable=False, name="updates")
        self.iteration = tf.function(self._iteration, jit_compile=config.jit_compile or None)

    def _iteration(self):
        """Runs B episodes per seed.

        Returns:
            dict with episode_returns [P, B, N] (each agent's return), final_goal_distance [P, B] where the
            scenario defines one, critic_loss_sum / actor_loss_sum [P, N], num_updates (scalar int32) and
            first_nonfinite_update [P, N, 2] (critic, actor; -1 while finite); with policy inference also
            approximation_loss_sum and policy_kl_sum [P, N] (per approximated agent, summed over updates).
        """
        config, env, learner, buffer = self.config, self.env, self.learner, self.buffer
        population, num_agents = config.population, len(env.agents)
        state = env.reset(self.rng, config.num_envs)
        observations = env.observe(state)
        episode_returns = tf.zeros([population, config.num_envs, num_agents])
        critic_loss_sum = tf.zeros([population, num_agents])
        actor_loss_sum = tf.zeros([population, num_agents])
        num_updates = tf.constant(0)
        approximation_loss_sum = tf.zeros([population, num_agents])  # stay zero without policy inference
        policy_kl_sum = tf.zeros([population, num_agents])
        # The update at which each (member, agent, critic|actor) loss first went NaN/Inf, else -1: a NaN
        # spreads to every agent within a few updates, and the report should name where it started.
        first_nonfinite = tf.fill([population, num_agents, 2], -1)
        for _ in tf.range(config.episode_length):
            actions = learner.act(observations, self.rng)  # decentralised: actor i sees only o_i
            state, rewards = env.step(state, actions)  # rewards [P, B, N]
            next_observations = env.observe(state)
            buffer.add(observations, actions, rewards, next_observations)
            episode_returns += rewards
            before = self.transitions.read_value()
            self.transitions.assign_add(config.num_envs)
            due = self.transitions // config.update_every - before // config.update_every
            due = tf.where(buffer.size >= config.warmup_transitions, tf.cast(due, tf.int32), 0)
            done_now = tf.constant(0)
            while done_now < due:  # a while (not tf.range) so XLA accepts the dynamic count
                done_now += 1
                if config.policy_inference:
                    approximation_losses, policy_kls = learner.update_approximations(buffer)
                    approximation_loss_sum += approximation_losses
                    policy_kl_sum += policy_kls
                critic_losses, actor_losses = learner.update(buffer, self.rng)
                nonfinite = tf.logical_not(tf.math.is_finite(tf.stack([critic_losses, actor_losses], axis=-1)))
                first_nonfinite = tf.where(nonfinite & (first_nonfinite < 0), num_updates, first_nonfinite)
                critic_loss_sum += critic_losses
                actor_loss_sum += actor_losses
                num_updates += 1
            observations = next_observations
        self.updates.assign_add(tf.cast(num_updates, tf.int64))
        self.episodes_done.assign_add(config.num_envs)
        outputs = {
            "episode_returns": episode_returns,
            "critic_loss_sum": critic_loss_sum,
            "actor_loss_sum": actor_loss_sum,
            "num_updates": num_updates,
            "first_nonfinite_update": first_nonfinite,
        }
        if config.policy_inference:
            outputs["approximation_loss_sum"] = approximation_loss_sum
            outputs["policy_kl_sum"] = policy_kl_sum
        if hasattr(env, "goal_distance"):
            outputs["final_goal_distance"] = env.goal_distance(state)
        return outputs
