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
transitions, so all sub-policies update together once per K env steps (with B = 100). With
`ensemble_update_rate="single"` (the other reading of the paper) they update together once per env step,
as a single policy does, each on its own buffers.

The iteration is written once, as act / step / store / update; where plain MADDPG and ensembles differ
(who acts in which env, which buffer a transition goes to, which buffers and random stream an update
uses) it asks the trainer's routing: `SinglePolicies` or `SubPolicyEnsemble`, the one place that knows
about sub-policies. With K = 1 the ensemble routing gives plain MADDPG's numbers exactly (a test holds
it), so it adds nothing but its plumbing.
"""

from __future__ import annotations

import tensorflow as tf

from maddpg.config import TrainConfig
from maddpg.learner import EnsembleOpponents, Learner
from maddpg.population_random import PopulationRandom
from maddpg.replay import ReplayBuffer


class Trainer(tf.Module):
    """Holds everything a checkpoint must restore: learner, replay buffer(s), random streams, counters."""

    def __init__(self, config: TrainConfig, env, ensemble: bool | None = None, reward_env=None):
        """Args:
        config: the run's settings.
        env: a batched port (envs.batched.BatchedEnv) of config.scenario.
        ensemble: route through the policy-ensemble path (per-team sub-policy draws, buffers and critic
            targets); default: exactly when config.ensemble_size > 1. Forcing it at K = 1 must give plain
            MADDPG's numbers (tests/test_policy_ensembles.py checks it).
        reward_env: with config.train_rewards set, a port of the same scenario in the dynamics whose rewards
            the agents train on: its `rewards(state)` is read on env's states (the two share a state layout).
        """
        super().__init__(name="trainer")
        ensemble = config.ensemble_size > 1 if ensemble is None else ensemble
        if ensemble and config.policy_inference:
            raise ValueError("policy_inference and policy ensembles cannot be combined (the paper never does)")
        if (reward_env is None) != (config.train_rewards == "dynamics"):
            raise ValueError(f"train_rewards={config.train_rewards} needs a reward_env in those rewards' dynamics, "
                             "and train_rewards=dynamics none")
        self.config = config
        self.env = env
        self.reward_env = reward_env
        self.rng = PopulationRandom(config.seeds)
        self.teams = agent_teams(env)
        self.learner = Learner(config, env.observation_sizes, env.action_sizes, teams=self.teams,
                               target_actions=EnsembleOpponents if ensemble else None)
        run_transitions = config.episodes * config.episode_length // config.ensemble_size  # per sub-policy
        buffer_args = dict(capacity=min(config.buffer_capacity, run_transitions),
                           observation_sizes=env.observation_sizes, action_sizes=env.action_sizes)
        # The buffers and streams stay attributes of the trainer (their checkpoint paths); the routing
        # objects are plain Python and only point at them.
        if ensemble:
            num_teams = max(self.teams) + 1
            if config.ensemble_size > 1:  # sub-policy k of seed p draws its updates from seed p + k * 2**40
                self.member_rng = PopulationRandom(config.member_seeds(), name="member_random")
            self.team_buffers = [
                ReplayBuffer(population=config.members, write_block=config.num_envs // config.ensemble_size,
                             num_teams=num_teams, name=f"replay_team{team}", **buffer_args)
                for team in range(num_teams)
            ]
            # With K = 1 the only sub-policy of seed p is seed p itself, whose stream is self.rng.
            update_rng = self.member_rng if config.ensemble_size > 1 else self.rng
            self.routing = SubPolicyEnsemble(config, self.learner, self.rng, update_rng, self.team_buffers,
                                             self.teams)
        else:
            self.buffer = ReplayBuffer(population=config.population, write_block=config.num_envs, **buffer_args)
            self.routing = SinglePolicies(self.learner, self.rng, self.buffer)
        self.transitions = tf.Variable(0, dtype=tf.int64, trainable=False, name="transitions")  # per seed
        self.episodes_done = tf.Variable(0, dtype=tf.int64, trainable=False, name="episodes_done")  # per seed
        self.updates = tf.Variable(0, dtype=tf.int64, trainable=False, name="updates")
        self.iteration = tf.function(self._iteration, jit_compile=config.jit_compile or None)

    def _iteration(self):
        """Runs B episodes per seed: act, step, store, and the updates due, episode_length times.

        Returns:
            dict with episode_returns [P, B, N] (each agent's return), final_goal_distance [P, B] where the
            scenario defines one, critic_loss_sum / actor_loss_sum [P, N], num_updates (scalar int32) and
            first_nonfinite_update [P, N, 2] (critic, actor; -1 while finite); with policy inference also
            approximation_loss_sum, policy_kl_sum and policy_kl_forward_sum [P, N] (per approximated agent,
            summed over updates).
        """
        config, env, routing = self.config, self.env, self.routing
        state = env.reset(self.rng, config.num_envs)
        observations = env.observe(state)
        episodes = routing.start_episodes()  # who plays each env this iteration (ensembles only)
        episode_returns = tf.zeros([config.population, config.num_envs, len(env.agents)])
        totals = self._zero_totals()
        for _ in tf.range(config.episode_length):
            actions = routing.act(observations, episodes)  # decentralised: actor i sees only o_i
            state, rewards = env.step(state, actions)  # rewards [P, B, N]
            next_observations = env.observe(state)
            trained_rewards = self._trained_rewards(state, rewards)  # [P, B, N]
            routing.store(episodes, observations, actions, trained_rewards, next_observations)
            episode_returns += rewards
            due = self._updates_due()
            done_now = tf.constant(0)
            while done_now < due:  # a while (not tf.range) so XLA accepts the dynamic count
                done_now += 1
                totals = self._update(totals)
            observations = next_observations
        self.updates.assign_add(tf.cast(totals["num_updates"], tf.int64))
        self.episodes_done.assign_add(config.num_envs)
        outputs = {"episode_returns": episode_returns, "critic_loss_sum": totals["critic_loss_sum"],
                   "actor_loss_sum": totals["actor_loss_sum"], "num_updates": totals["num_updates"],
                   "first_nonfinite_update": totals["first_nonfinite_update"]}
        if config.policy_inference:
            outputs["approximation_loss_sum"] = totals["approximation_loss_sum"]
            outputs["policy_kl_sum"] = totals["policy_kl_sum"]
            outputs["policy_kl_forward_sum"] = totals["policy_kl_forward_sum"]
        if hasattr(env, "goal_distance"):
            outputs["final_goal_distance"] = env.goal_distance(state)
        return outputs

    def _trained_rewards(self, state, rewards: tf.Tensor) -> tf.Tensor:
        """[P, B, N]: the rewards stored for training; the logged returns stay the env's own `rewards`.

        With train_rewards, the other dynamics' rewards of the same next state (the physics stays the run's).
        With shared_reward, every agent gets the sum of all agents' (the 2018 original's).
        """
        if self.reward_env is not None:
            rewards = self.reward_env.rewards(state)
        if self.config.shared_reward:
            rewards = tf.broadcast_to(tf.reduce_sum(rewards, axis=-1, keepdims=True), tf.shape(rewards))
        return rewards

    def _zero_totals(self) -> dict:
        """The update sums an iteration accumulates, [P, N] each (the approximation ones stay zero without
        policy inference), the update count, and first_nonfinite_update [P, N, 2]: the update at which each
        (seed, agent, critic|actor) loss first went NaN/Inf, else -1 (a NaN spreads to every agent within a
        few updates, and the report should name where it started)."""
        shape = [self.config.population, len(self.env.agents)]
        return {"critic_loss_sum": tf.zeros(shape), "actor_loss_sum": tf.zeros(shape),
                "approximation_loss_sum": tf.zeros(shape), "policy_kl_sum": tf.zeros(shape),
                "policy_kl_forward_sum": tf.zeros(shape),
                "num_updates": tf.constant(0), "first_nonfinite_update": tf.fill(shape + [2], -1)}

    def _updates_due(self) -> tf.Tensor:
        """Counts this step's B transitions per seed; returns how many updates are now due (int32).

        One update per `update_every` transitions of each sub-policy (all of the seed's when K = 1; B is a
        multiple of K; with ensemble_update_rate "single", per `update_every` of the seed's), none before its
        buffer holds `warmup_transitions`.
        """
        config = self.config
        # "single": every sub-policy updates at the single policy's rate (once per update_every transitions
        # of the seed, K times its own share), the other reading of the paper's sec. 4.3.
        size = config.ensemble_size if config.ensemble_update_rate == "sub_policy" else 1
        before = self.transitions.read_value()
        self.transitions.assign_add(config.num_envs)
        due = self.transitions // size // config.update_every - before // size // config.update_every
        return tf.where(self.routing.stored() >= config.warmup_transitions, tf.cast(due, tf.int32), 0)

    def _update(self, totals: dict) -> dict:
        """One update of every agent (after the approximations' step, with policy inference); new totals."""
        totals = dict(totals)
        if self.config.policy_inference:
            approximation_losses, policy_kls, forward_kls = self.learner.update_approximations(self.buffer)
            totals["approximation_loss_sum"] += approximation_losses
            totals["policy_kl_sum"] += policy_kls
            totals["policy_kl_forward_sum"] += forward_kls
        critic_losses, actor_losses = self.routing.update()  # [P, N] each
        num_updates, first = totals["num_updates"], totals["first_nonfinite_update"]
        nonfinite = tf.logical_not(tf.math.is_finite(tf.stack([critic_losses, actor_losses], axis=-1)))
        totals["first_nonfinite_update"] = tf.where(nonfinite & (first < 0), num_updates, first)
        totals["critic_loss_sum"] += critic_losses
        totals["actor_loss_sum"] += actor_losses
        totals["num_updates"] = num_updates + 1
        return totals


class SinglePolicies:
    """Plain MADDPG routing: seed p's one policy per agent plays all B envs, every transition goes to the
    seed's buffer, and updates draw from the seed's own stream."""

    def __init__(self, learner: Learner, rng: PopulationRandom, buffer: ReplayBuffer):
        self.learner, self.rng, self.buffer = learner, rng, buffer

    def start_episodes(self):
        return ()  # nothing to draw

    def act(self, observations, episodes):
        """Per agent [P, B, A_i] sampled actions."""
        return self.learner.act(observations, self.rng)

    def store(self, episodes, observations, actions, rewards, next_observations) -> None:
        self.buffer.add(observations, actions, rewards, next_observations)

    def stored(self) -> tf.Tensor:
        """Transitions each member's buffer holds (the warm-up check)."""
        return self.buffer.size

    def update(self):
        """(critic_losses, actor_losses) [P, N]."""
        return self.learner.update(self.buffer, self.rng)


class SubPolicyEnsemble:
    """Policy-ensemble routing (see the module docstring): per team a sub-policy per env for the whole
    episode, per team P x K buffers (member p * K + k: the envs where the team played sub-policy k), and
    updates of every sub-policy on its own team buffers with its own stream."""

    def __init__(self, config: TrainConfig, learner: Learner, rng: PopulationRandom, update_rng: PopulationRandom,
                 team_buffers, teams):
        self.config, self.learner, self.rng, self.update_rng = config, learner, rng, update_rng
        self.team_buffers, self.teams = team_buffers, teams

    def start_episodes(self):
        """What the iteration's episodes keep fixed: (per agent [P, B] the sub-policy acting in each env,
        per team [P, B] the envs listed by sub-policy, per team buffer [P * K, B / K, teams] the sub-policies
        every stored transition records)."""
        assignments, orders = self._draw_sub_policies()
        team_sub_policies = tf.stack(assignments, axis=-1)  # [P, B, teams]
        stored = [_by_sub_policy(team_sub_policies, order, self.config.ensemble_size) for order in orders]
        return [assignments[team] for team in self.teams], orders, stored

    def act(self, observations, episodes):
        agent_sub_policies, _, _ = episodes
        return self.learner.act(observations, self.rng, sub_policies=agent_sub_policies)

    def store(self, episodes, observations, actions, rewards, next_observations) -> None:
        _, orders, stored = episodes
        transition = [observations, actions, rewards, next_observations]
        for team_buffer, order, sub_policies in zip(self.team_buffers, orders, stored):
            team_buffer.add(*_by_sub_policy(transition, order, self.config.ensemble_size), sub_policies=sub_policies)

    def stored(self) -> tf.Tensor:
        return self.team_buffers[0].size  # all buffers fill alike

    def update(self):
        """(critic_losses, actor_losses) [P, N]: a seed's mean over its sub-policies (NaN if any is NaN)."""
        config = self.config
        losses = self.learner.update(self.team_buffers, self.update_rng)  # [P * K, N] each
        return [tf.reduce_mean(tf.reshape(member_losses, [config.population, config.ensemble_size, -1]), axis=1)
                for member_losses in losses]

    def _draw_sub_policies(self):
        """Each team's sub-policy per env for this iteration's episodes (see the module docstring).

        Returns:
            (assignments, orders): per team, [P, B] int32 sub-policy of each env, and [P, B] int32 the envs
            listed by sub-policy (B/K envs of sub-policy 0 first).
        """
        config, num_teams = self.config, max(self.teams) + 1
        if config.ensemble_size == 1:  # one sub-policy: nothing to draw, so K = 1 consumes what plain MADDPG does
            order = tf.tile(tf.range(config.num_envs)[None, :], [config.population, 1])  # [P, B]
            return [tf.zeros_like(order)] * num_teams, [order] * num_teams
        assignments, orders = [], []
        for _ in range(num_teams):
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


def agent_teams(env) -> tuple[int, ...]:
    """Per agent, the index of its paper team in env.teams (0: "agents", 1: "adversaries" where there are any)."""
    roles = sorted(env.teams, key=("agents", "adversaries").index)
    return tuple(next(t for t, role in enumerate(roles) if i in env.teams[role]) for i in range(len(env.agents)))
