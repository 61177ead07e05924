"""One training iteration as one tf.function: B episodes per seed, with updates interleaved as in the reference.

An iteration resets B envs for each of the P seeds, then for each of the episode's steps: every actor acts
on its own observation (decentralised), the envs step, the B transitions of each seed go into its replay
buffer, and once the buffer holds `warmup_transitions`, one update of every agent runs per `update_every`
transitions added (with the default B = 100, one update per env step: the reference's ratio and rhythm).

Policy ensembles (K = ensemble_size > 1): at the start of an iteration each team draws, per seed, a random
order of the B envs and gives the first B/K envs sub-policy 0, the next B/K sub-policy 1, and so on, for
the whole episode. Each env's draw is thus uniform over the K sub-policies and independent of the other
team's; balancing the counts keeps every sub-policy's buffer growing by exactly B/K transitions a step.
Each team keeps its own P x K buffers (a transition goes to the buffer of the sub-policy the team played),
and the rhythm above holds per sub-policy: warm-up and `update_every` count that sub-policy's own
transitions, so all sub-policies update together once per K env steps (with B = 100).
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
        self.teams = agent_teams(config.scenario, env.agents)
        self.learner = Learner(config, env.observation_sizes, env.action_sizes, teams=self.teams)
        size = config.ensemble_size
        run_transitions = config.episodes * config.episode_length // size  # per sub-policy
        buffer_args = dict(capacity=min(config.buffer_capacity, run_transitions),
                           observation_sizes=env.observation_sizes, action_sizes=env.action_sizes)
        if size == 1:
            self.buffer = ReplayBuffer(population=config.population, write_block=config.num_envs, **buffer_args)
        else:
            num_teams = max(self.teams) + 1
            # Sub-policies draw their batches and update noise from their own streams (seed p + k * 2**40).
            self.member_rng = PopulationRandom(config.member_seeds(), name="member_random")
            self.team_buffers = [
                ReplayBuffer(population=config.members, write_block=config.num_envs // size, num_teams=num_teams,
                             name=f"replay_team{team}", **buffer_args)
                for team in range(num_teams)
            ]
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
        config, env, learner = self.config, self.env, self.learner
        population, num_agents, size = config.population, len(env.agents), config.ensemble_size
        state = env.reset(self.rng, config.num_envs)
        observations = env.observe(state)
        if size > 1:
            assignments, orders = self._draw_sub_policies()
            agent_sub_policies = [assignments[team] for team in self.teams]
            team_sub_policies = tf.stack(assignments, axis=-1)  # [P, B, teams], fixed for the episode
            # Per team buffer, [P * K, B / K, teams]: what each stored transition records, the same every step.
            stored_sub_policies = [_by_sub_policy(team_sub_policies, order, size) for order in orders]
        buffer = self.buffer if size == 1 else self.team_buffers[0]  # all buffers fill alike: warm-up check
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
            if size == 1:
                actions = learner.act(observations, self.rng)  # decentralised: actor i sees only o_i
            else:
                actions = learner.act(observations, self.rng, sub_policies=agent_sub_policies)
            state, rewards = env.step(state, actions)  # rewards [P, B, N]
            next_observations = env.observe(state)
            if size == 1:
                buffer.add(observations, actions, rewards, next_observations)
            else:
                for team_buffer, order, stored in zip(self.team_buffers, orders, stored_sub_policies):
                    team_buffer.add(*_by_sub_policy([observations, actions, rewards, next_observations], order, size),
                                    sub_policies=stored)
            episode_returns += rewards
            before = self.transitions.read_value()
            self.transitions.assign_add(config.num_envs)
            # Per sub-policy (all of the seed's transitions when K = 1): B is a multiple of K.
            due = self.transitions // size // config.update_every - before // size // config.update_every
            due = tf.where(buffer.size >= config.warmup_transitions, tf.cast(due, tf.int32), 0)
            done_now = tf.constant(0)
            while done_now < due:  # a while (not tf.range) so XLA accepts the dynamic count
                done_now += 1
                if config.policy_inference:
                    approximation_losses, policy_kls = learner.update_approximations(buffer)
                    approximation_loss_sum += approximation_losses
                    policy_kl_sum += policy_kls
                if size == 1:
                    critic_losses, actor_losses = learner.update(buffer, self.rng)
                else:  # [P * K, N] -> [P, N]: a seed's mean over its sub-policies (NaN if any is NaN)
                    critic_losses, actor_losses = [
                        tf.reduce_mean(tf.reshape(losses, [population, size, num_agents]), axis=1)
                        for losses in learner.update(self.team_buffers, self.member_rng)]
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

    def _draw_sub_policies(self):
        """Each team's sub-policy per env for this iteration's episodes (see the module docstring).

        Returns:
            (assignments, orders): per team, [P, B] int32 sub-policy of each env, and [P, B] int32 the envs
            listed by sub-policy (B/K envs of sub-policy 0 first).
        """
        config = self.config
        assignments, orders = [], []
        for _ in range(max(self.teams) + 1):
            order = tf.argsort(self.rng.uniform([config.num_envs]), axis=1, stable=True)  # [P, B]
            rank = tf.argsort(order, axis=1, stable=True)  # [P, B]: each env's place in that order
            assignments.append(rank // (config.num_envs // config.ensemble_size))
            orders.append(order)
        return assignments, orders


def _by_sub_policy(values, order: tf.Tensor, size: int):
    """[P, B, ...] (or a list of them) regrouped as [P * K, B / K, ...]: member p * K + k gets the envs in
    which seed p's team played sub-policy k (order [P, B] lists them by sub-policy)."""
    if isinstance(values, (list, tuple)):
        return [_by_sub_policy(v, order, size) for v in values]
    grouped = tf.gather(values, order, axis=1, batch_dims=1)  # [P, B, ...]
    return tf.reshape(grouped, [-1, grouped.shape[1] // size, *grouped.shape[2:]])


def agent_teams(scenario: str, agents) -> tuple[int, ...]:
    """Per agent, the index of its paper team in envs.reference (0: "agents", 1: "adversaries")."""
    from envs.reference import SCENARIOS

    teams = SCENARIOS[scenario].teams if scenario in SCENARIOS else {"agents": tuple(agents)}
    names = sorted(teams, key=("agents", "adversaries").index)
    return tuple(next(t for t, name in enumerate(names) if agent in teams[name]) for agent in agents)
