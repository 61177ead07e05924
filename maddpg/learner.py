"""The MADDPG / DDPG learner: decentralised actors, one critic per agent, updated as openai/maddpg does.

Read top to bottom, `Learner.update_agent_on` is the algorithm (reference: maddpg/trainer/maddpg.py, `update`):

    y        = r_i + gamma * Q'_i(x', a'_1..a'_N),          a'_j = target_j(mu'_j(o'_j))
    L_critic = mean (Q_i(x, a_1..a_N) - y)^2
    L_actor  = -mean Q_i(x, a_1..a_i=differentiable_i(mu_i(o_i))..a_N) + penalty_i(mu_i(o_i))
    targets <- (1 - tau) * targets + tau * online

How an actor's output becomes an action is the agent's `ActionPolicy` (maddpg/action_policies.py, from
config.policy). With the default `gumbel_softmax` (the reference's) every action is a relaxed Gumbel-softmax
sample and the penalty is 1e-3 * mean(logits_i^2); with `deterministic` a'_j = mu'_j(o'_j) and the actor
follows dQ_i/da_i * dmu_i/dtheta_i, the algorithm as the paper derives it.

where x is every agent's observation for a `maddpg` critic and only o_i for a `ddpg` critic (and likewise
for the actions). Agents are updated one after another, each on its own freshly sampled batch, and each
agent's target networks move right after its own update, exactly in the reference order.

Which policy mu'_j supplies a'_j is the one thing the paper's three variants change, so it is one strategy
object (`TargetActions`) the learner is given, chosen once from the config (`target_actions_for`):
- `TrueTargetActors` (MADDPG, sec. 4.1): every agent's own target actor.
- `InferredPolicies` (sec. 4.2, `policy_inference`): agent i also learns an approximation mu_hat_i^j of
  every other agent j's policy (maximum log-likelihood of j's latest actions plus lambda x entropy, one
  gradient step per update) and uses the approximations' target networks for a'_j (j != i): agent i's
  update then never reads another agent's true actor.
- `EnsembleOpponents` (sec. 4.3, `ensemble_size` K > 1): every agent holds K sub-policies, each a full
  MADDPG agent (actor, critic, targets, Adam states) on the learner's population axis: member p * K + k is
  seed p's sub-policy k. In every env one sub-policy per team acts for a whole episode (`act`'s
  `sub_policies`); sub-policy k of agent i learns only from its team's buffer k, and its critic target
  draws a'_j from sub-policy k for a teammate j and from the sub-policy j's team used in that stored
  transition for an opponent j. The actor loss is divided by K: the sum over members is then the paper's
  ensemble objective J_e = 1/K sum_k J(mu_i^(k)). K = 1 is plain MADDPG, number for number.

Everything carries a leading population axis (P seeds, or P x K members); losses are summed over it (each
member's own mean), so each member's gradient is the gradient of its own loss and per-member Adam states
stay independent.
"""

from __future__ import annotations

from typing import Protocol, Sequence

import keras
import numpy as np
import tensorflow as tf

from maddpg.action_policies import action_policies_for
from maddpg.config import TrainConfig
from maddpg.gumbel import relaxed_log_density
from maddpg.networks import PopulationMLP, build_network
from maddpg.population_random import PopulationRandom
from maddpg.replay import ReplayBuffer

# Adam's betas as the float32 numbers TF1's AdamOptimizer (the reference's) holds them in: its kernel forms
# 1 - beta in float32 from them (1 - float32(0.999) = 0.00099998713), while Keras forms 1 - beta from the
# Python float (0.001). Left at 0.9 / 0.999, the second moment differs by 1.3e-5 relative and the first
# steps by ~6.5e-6 relative, which tests/test_reference_learner_parity.py sees (losses off by up to 4e-5).
# beta^t is unaffected: Keras casts beta to float32 before taking the power either way.
ADAM_BETA_1 = float(np.float32(0.9))
ADAM_BETA_2 = float(np.float32(0.999))


def clip_by_member_norm(gradient: tf.Tensor, clip_norm: float) -> tf.Tensor:
    """tf.clip_by_norm applied to each population member's slice of a [P, ...] gradient separately."""
    reduce_axes = list(range(1, len(gradient.shape)))
    norm = tf.sqrt(tf.reduce_sum(tf.square(gradient), axis=reduce_axes, keepdims=True))  # [P, 1, ...]
    return gradient * clip_norm / tf.maximum(norm, clip_norm)


def soft_update(target_variables, online_variables, tau: float) -> None:
    """target <- (1 - tau) * target + tau * online, variable by variable."""
    for target, online in zip(target_variables, online_variables):
        target.assign((1.0 - tau) * target + tau * online)


def critic_input(kind: str, agent: int, observations: Sequence[tf.Tensor], actions: Sequence[tf.Tensor]):
    """[P, batch, in]: all observations then all actions (maddpg), or the agent's own (ddpg), as the reference."""
    if kind == "maddpg":
        return tf.concat(list(observations) + list(actions), axis=-1)
    return tf.concat([observations[agent], actions[agent]], axis=-1)


def chosen_logits(network: keras.Model, observations: tf.Tensor, choice: tf.Tensor, ensemble_size: int) -> tf.Tensor:
    """[P, n, A]: row n of seed p from the sub-policy choice[p, n] of a network with P x K members.

    Every sub-policy of the seed is evaluated on all n rows and the chosen one kept (K is 2-3, and this
    keeps the graph static). observations: [P, n, O]; choice: [P, n] int32 in [0, K).
    """
    tiled = tf.repeat(observations, ensemble_size, axis=0)  # [P * K, n, O]: member p * K + k sees seed p's rows
    logits = network(tiled)  # [P * K, n, A]
    logits = tf.reshape(logits, [-1, ensemble_size, tf.shape(logits)[1], logits.shape[-1]])  # [P, K, n, A]
    logits = tf.transpose(logits, [0, 2, 1, 3])  # [P, n, K, A]
    return tf.gather(logits, choice, axis=2, batch_dims=2)  # [P, n, A]


class TargetActions(Protocol):
    """Which policy plays agent j in agent i's critic target y_i = r_i + gamma * Q'_i(x', a'_1..a'_N)."""

    def logits(self, agent: int, next_observations: Sequence[tf.Tensor], buffer: ReplayBuffer,
               indices: tf.Tensor) -> list[tf.Tensor]:
        """Per agent j [P, batch, A_j]: the logits at o'_j that a'_j is sampled from, for agent i's batch.

        Args:
            agent: i, the agent whose critic target this is.
            next_observations: per agent j [P, batch, O_j], o'_j of the batch.
            buffer, indices: where the batch came from ([P, batch] rows), for strategies that read what
                else was stored with each transition.
        """


class TrueTargetActors:
    """MADDPG (sec. 4.1): a'_j ~ mu'_j(o'_j), every agent's own target actor."""

    def __init__(self, learner: Learner):
        self.target_actors = learner.target_actors

    def logits(self, agent, next_observations, buffer, indices):
        return [network(obs) for network, obs in zip(self.target_actors, next_observations)]


class InferredPolicies:
    """Inferring policies (sec. 4.2): agent i's own target actor for itself, its target approximations
    mu_hat'_i^j of the others, so that agent i's update never reads another agent's true actor."""

    def __init__(self, learner: Learner):
        # policies[i][j]: the network that plays j in agent i's critic target.
        self.policies = [[learner.target_actors[j] if j == i else learner.target_approximations[i][j]
                          for j in range(len(learner.actors))] for i in range(len(learner.actors))]

    def logits(self, agent, next_observations, buffer, indices):
        return [network(obs) for network, obs in zip(self.policies[agent], next_observations)]


class EnsembleOpponents:
    """Policy ensembles (sec. 4.3): for member p * K + k of agent i, a teammate j plays its sub-policy k
    (the member's own: the buffer holds only episodes where i's team played k), and an opponent j plays
    the sub-policy its team played in each stored transition."""

    def __init__(self, learner: Learner):
        self.target_actors, self.teams, self.size = learner.target_actors, learner.teams, learner.ensemble_size

    def logits(self, agent, next_observations, buffer, indices):
        return self.logits_given(agent, next_observations, buffer.sample_sub_policies(indices))

    def logits_given(self, agent: int, next_observations, sub_policies: tf.Tensor) -> list[tf.Tensor]:
        """Per agent j [P x K, batch, A_j], given sub_policies [P x K, batch, teams] int32 the sub-policy
        each team played in each transition of the batch."""
        size, team = self.size, self.teams[agent]
        logits = []
        for j, (network, obs) in enumerate(zip(self.target_actors, next_observations)):
            if self.teams[j] == team:
                logits.append(network(obs))  # [P * K, batch, A_j]
                continue
            batch = tf.shape(obs)[1]
            by_seed = tf.reshape(obs, [-1, size * batch, obs.shape[-1]])  # [P, K * batch, O_j]
            choice = tf.reshape(sub_policies[..., self.teams[j]], [-1, size * batch])  # [P, K * batch]
            chosen = chosen_logits(network, by_seed, choice, size)  # [P, K * batch, A_j]
            logits.append(tf.reshape(chosen, [-1, batch, chosen.shape[-1]]))  # [P * K, batch, A_j]
        return logits


def target_actions_for(config: TrainConfig) -> type:
    """The TargetActions class a config asks for (policy inference and ensembles never combine)."""
    if config.policy_inference:
        return InferredPolicies
    if config.ensemble_size > 1:
        return EnsembleOpponents
    return TrueTargetActors


class Learner(tf.Module):
    """Actors, critics, their targets and optimizers for every agent of P populations."""

    def __init__(self, config: TrainConfig, observation_sizes: Sequence[int], action_sizes: Sequence[int],
                 teams: Sequence[int] | None = None, target_actions: type | None = None,
                 action_bounds: Sequence[tuple[np.ndarray, np.ndarray]] | None = None):
        """Args:
        config: the run's settings.
        observation_sizes, action_sizes: per agent, in the env's order.
        action_bounds: per agent (low [A_i], high [A_i]) of its action Box, for `deterministic` actors;
            default mpe2's [0, 1] (every batched port's).
        teams: per agent, the index of its team (agents of a team share their sub-policy draw); only
            needed with ensembles, default: one team.
        target_actions: the TargetActions class that picks a'_j (built on this learner); default:
            `target_actions_for(config)`. EnsembleOpponents with K = 1 must (and does) equal the default.
        """
        super().__init__(name="learner")
        if len(config.critic_kinds) != len(observation_sizes):
            raise ValueError(
                f"{len(config.critic_kinds)} critic kinds given for a scenario with {len(observation_sizes)} agents"
            )
        self.config = config
        self.observation_sizes = tuple(observation_sizes)
        self.action_sizes = tuple(action_sizes)
        self.teams = tuple(teams) if teams is not None else (0,) * len(observation_sizes)
        if len(self.teams) != len(observation_sizes):
            raise ValueError(f"{len(self.teams)} team indices given for {len(observation_sizes)} agents")
        self.ensemble_size = config.ensemble_size
        self.action_policies = action_policies_for(config, action_sizes, action_bounds)  # per agent
        seeds, units = config.member_seeds(), config.hidden_units
        self.actors, self.target_actors, self.critics, self.target_critics = [], [], [], []
        self.actor_optimizers, self.critic_optimizers = [], []
        for i, (obs_size, act_size, kind) in enumerate(zip(observation_sizes, action_sizes, config.critic_kinds)):
            critic_size = sum(observation_sizes) + sum(action_sizes) if kind == "maddpg" else obs_size + act_size
            self.actors.append(build_network(PopulationMLP(seeds, units, act_size, f"actor_{i}"), obs_size))
            self.target_actors.append(
                build_network(PopulationMLP(seeds, units, act_size, f"target_actor_{i}"), obs_size)
            )
            self.critics.append(build_network(PopulationMLP(seeds, units, 1, f"critic_{i}"), critic_size))
            self.target_critics.append(
                build_network(PopulationMLP(seeds, units, 1, f"target_critic_{i}"), critic_size)
            )
            if config.copy_targets_at_start:  # the reference code does not; its targets start from their own init
                soft_update(self.target_actors[i].trainable_variables, self.actors[i].trainable_variables, 1.0)
                soft_update(self.target_critics[i].trainable_variables, self.critics[i].trainable_variables, 1.0)
            self.actor_optimizers.append(self._optimizer(self.actors[i], f"actor_adam_{i}"))
            self.critic_optimizers.append(self._optimizer(self.critics[i], f"critic_adam_{i}"))
        # approximations[i][j] / target_approximations[i][j]: agent i's model of agent j's policy (None for j == i).
        self.approximations, self.target_approximations, self.approximation_optimizers = [], [], []
        if config.policy_inference:
            self._build_approximations()
        self.target_actions = (target_actions or target_actions_for(config))(self)
        approximation_networks = [net for row in self.approximations + self.target_approximations
                                  for net in row if net is not None]
        # tf.train.Checkpoint does not follow a tf.Module into Keras 3 models, so their weights (targets
        # included) are listed here by name; without this a resumed run would restart its target networks.
        self.network_weights = {
            network.name: list(network.weights)
            for network in self.actors + self.target_actors + self.critics + self.target_critics
            + approximation_networks
        }

    def _build_approximations(self) -> None:
        """Agent i's approximate policy of each other agent j (on o_j, logits over j's actions) and its target."""
        seeds, units = self.config.member_seeds(), self.config.hidden_units
        if len(self.observation_sizes) < 2:
            raise ValueError("policy_inference needs at least two agents (each approximates the others)")
        for i in range(len(self.observation_sizes)):
            online, target, optimizers = [], [], []
            for j, (obs_size, act_size) in enumerate(zip(self.observation_sizes, self.action_sizes)):
                if i == j:
                    online.append(None)
                    target.append(None)
                    optimizers.append(None)
                    continue
                network = build_network(PopulationMLP(seeds, units, act_size, f"approx_{i}_of_{j}"), obs_size)
                online.append(network)
                target.append(build_network(PopulationMLP(seeds, units, act_size, f"target_approx_{i}_of_{j}"),
                                            obs_size))
                # The reference inference code starts its targets as copies of the online networks.
                soft_update(target[-1].trainable_variables, network.trainable_variables, 1.0)
                optimizers.append(self._optimizer(network, f"approx_adam_{i}_of_{j}",
                                                  self.config.inference_learning_rate or None))
            self.approximations.append(online)
            self.target_approximations.append(target)
            self.approximation_optimizers.append(optimizers)

    def _optimizer(self, network: keras.Model, name: str, learning_rate: float | None = None):
        """Adam (the reference's betas and epsilon) built on the network's variables; default rate: the config's."""
        optimizer = keras.optimizers.Adam(learning_rate or self.config.learning_rate, beta_1=ADAM_BETA_1,
                                          beta_2=ADAM_BETA_2, epsilon=self.config.adam_epsilon, name=name)
        optimizer.build(network.trainable_variables)  # build now so a checkpoint can restore its slots
        return optimizer

    def act(self, observations: Sequence[tf.Tensor], rng: PopulationRandom, target: bool = False,
            sub_policies: Sequence[tf.Tensor] | None = None):
        """Every agent's action, drawn as its ActionPolicy says.

        Args:
            observations: per agent [P, B, O_i] (P: one population member per network member, or with
                `sub_policies` one per seed).
            rng: the population's random source (as many members as `observations` has).
            target: use the target actors.
            sub_policies: ensembles only: per agent [P, B] int32, the sub-policy acting in each env.

        Returns:
            per agent [P, B, A_i] actions: exploring ones of the online actors, or the targets' a'_j.
        """
        networks = self.target_actors if target else self.actors
        if sub_policies is None:
            logits = [network(obs) for network, obs in zip(networks, observations)]
        else:
            logits = [chosen_logits(network, obs, choice, self.ensemble_size)
                      for network, obs, choice in zip(networks, observations, sub_policies)]
        return self._sample_actions(logits, rng, target=target)

    def _sample_actions(self, logits: Sequence[tf.Tensor], rng: PopulationRandom, target: bool = False):
        """Per agent [P, B, A_i]: the exploring (or, target, the target) action of outputs logits[i]
        [P, B, A_i], one uniform draw [P, B, A_i] per agent."""
        noise = [rng.uniform(tf.shape(agent_logits)[1:], dtype=agent_logits.dtype) for agent_logits in logits]
        if target:
            return self._target_actions(logits, noise)
        return [policy.explore(agent_logits, agent_noise)
                for policy, agent_logits, agent_noise in zip(self.action_policies, logits, noise)]

    def _target_actions(self, logits: Sequence[tf.Tensor], uniform_noise: Sequence[tf.Tensor]):
        """Per agent j [P, batch, A_j]: a'_j from target outputs logits[j] and uniforms, both [P, batch, A_j]."""
        return [policy.target(agent_logits, noise)
                for policy, agent_logits, noise in zip(self.action_policies, logits, uniform_noise)]

    def critic_target(self, agent: int, rewards: tf.Tensor, next_observations, target_actions) -> tf.Tensor:
        """y = r_i + gamma * Q'_i(x', a'), [P, batch, 1] (no done mask: episodes only truncate)."""
        kind = self.config.critic_kinds[agent]
        target_q = self.target_critics[agent](critic_input(kind, agent, next_observations, target_actions))
        return rewards[..., agent : agent + 1] + self.config.gamma * target_q

    def critic_loss(self, agent: int, observations, actions, target: tf.Tensor) -> tf.Tensor:
        """[P] each member's mean squared TD error."""
        kind = self.config.critic_kinds[agent]
        q = self.critics[agent](critic_input(kind, agent, observations, actions))  # [P, batch, 1]
        return tf.reduce_mean(tf.square(q - target), axis=[1, 2])

    def actor_loss(self, agent: int, observations, actions, uniform_noise: tf.Tensor) -> tf.Tensor:
        """[P] -mean Q_i with agent i's action taken from its actor (differentiably), plus its policy's penalty."""
        policy = self.action_policies[agent]
        logits = self.actors[agent](observations[agent])  # [P, batch, A_i]
        policy_actions = list(actions)
        policy_actions[agent] = policy.differentiable(logits, uniform_noise)  # [P, batch, A_i]
        q = self.critics[agent](critic_input(self.config.critic_kinds[agent], agent, observations, policy_actions))
        return -tf.reduce_mean(q, axis=[1, 2]) + policy.penalty(logits)

    def update_agent(self, agent: int, buffer: ReplayBuffer, rng: PopulationRandom):
        """One critic step, one actor step and one soft target update of one agent, on a fresh batch.

        Draws the batch and every uniform the update consumes from `rng`, in the reference's order of
        consumption (batch indices; the target-action noise of agent 0, 1, ..., N-1; the actor-loss noise),
        then runs `update_agent_on`.

        Returns:
            (critic_loss [P], actor_loss [P]) each member's own loss.
        """
        batch = self.config.batch_size
        indices = rng.integers([batch], buffer.size)  # [P, batch]
        target_noise = [rng.uniform([batch, size]) for size in self.action_sizes]  # per agent j [P, batch, A_j]
        actor_noise = rng.uniform([batch, self.action_sizes[agent]])  # [P, batch, A_i]
        return self.update_agent_on(agent, buffer, indices, target_noise, actor_noise)

    def update_agent_on(self, agent: int, buffer: ReplayBuffer, indices: tf.Tensor,
                        target_noise: Sequence[tf.Tensor], actor_noise: tf.Tensor):
        """`update_agent` on a given batch with given noise; it draws nothing itself, so a replay of
        recorded draws (the reference-parity test) can drive it.

        Args:
            indices: [P, batch] int32 rows of `buffer` (the same rows for every agent's fields).
            target_noise: per agent j, [P, batch, A_j] uniforms of j's target action a'_j.
            actor_noise: [P, batch, A_i] uniforms of agent i's resampled action in the actor loss.

        Returns:
            (critic_loss [P], actor_loss [P]) each member's own loss.
        """
        config, critic, actor = self.config, self.critics[agent], self.actors[agent]
        observations, actions, rewards, next_observations = buffer.sample(indices)
        # y = r_i + gamma * Q'_i(x', a'_1..a'_N), each a'_j from the policy the strategy names.
        target_logits = self.target_actions.logits(agent, next_observations, buffer, indices)  # per j [P, batch, A_j]
        target_actions = self._target_actions(target_logits, target_noise)  # per j [P, batch, A_j]
        target = self.critic_target(agent, rewards, next_observations, target_actions)  # [P, batch, 1]

        with tf.GradientTape() as tape:  # L_critic = mean (Q_i(x, a) - y)^2
            critic_member_loss = self.critic_loss(agent, observations, actions, target)  # [P]
            critic_loss = tf.reduce_sum(critic_member_loss)  # sum over P: each member gets its own gradient
        self._apply(self.critic_optimizers[agent], tape.gradient(critic_loss, critic.trainable_variables), critic)

        with tf.GradientTape() as tape:  # L_actor = -mean Q_i(x, a_1..mu_i(o_i)..a_N) + logit penalty
            actor_member_loss = self.actor_loss(agent, observations, actions, actor_noise)  # [P]
            # 1/K: the sum over a seed's K sub-policies is the ensemble objective, their mean (exact for K = 1).
            actor_loss = tf.reduce_sum(actor_member_loss) / self.ensemble_size
        self._apply(self.actor_optimizers[agent], tape.gradient(actor_loss, actor.trainable_variables), actor)

        soft_update(self.target_actors[agent].trainable_variables, actor.trainable_variables, config.tau)
        soft_update(self.target_critics[agent].trainable_variables, critic.trainable_variables, config.tau)
        return critic_member_loss, actor_member_loss

    def ensemble_target_actions(self, agent: int, next_observations, sub_policies: tf.Tensor,
                                rng: PopulationRandom):
        """Per agent [P x K, batch, A_j], the sampled a'_j of `EnsembleOpponents` for a batch from agent i's
        team's buffers, given the sub-policies each team played (sub_policies [P x K, batch, teams] int32);
        one uniform draw per agent, in agent order, as `update_agent` draws them."""
        logits = EnsembleOpponents(self).logits_given(agent, next_observations, sub_policies)
        return self._sample_actions(logits, rng, target=True)

    def approximation_loss(self, log_probs: tf.Tensor, actions: tf.Tensor, likelihood: str | None = None) -> tf.Tensor:
        """[P] -(mean log-likelihood of j's actions + lambda x mean entropy) under mu_hat_i^j.

        Args:
            log_probs: [P, n, A_j] log-softmax of mu_hat_i^j on o_j.
            actions: [P, n, A_j] j's stored actions: relaxed samples softmax((logits_j + g) / t).
                inference_likelihood "argmax": their argmax is exactly a draw from j's categorical policy
                softmax(logits_j) (the Gumbel-max trick), so the likelihood is that of the argmax.
                "relaxed": the Gumbel-softmax (Concrete) density of the soft vector itself, which carries
                logits_j + g up to a constant (one draw of the argmax carries far less), so each stored
                action says more about j's policy. (Fitting the soft vectors as targets, sum_k a_k log pi_k,
                is neither: it converges to E[a], flatter than j's policy wherever j is confident; the unit
                test measures it.)
            likelihood: "argmax" or "relaxed" (default: the config's inference_likelihood).
        """
        if (likelihood or self.config.inference_likelihood) == "relaxed":
            log_likelihood = relaxed_log_density(log_probs, actions, self.config.gumbel_temperature)  # [P, n]
        else:
            chosen = tf.one_hot(tf.argmax(actions, axis=-1), tf.shape(actions)[-1], dtype=log_probs.dtype)
            log_likelihood = tf.reduce_sum(chosen * log_probs, axis=-1)  # [P, n]
        entropy = -tf.reduce_sum(tf.exp(log_probs) * log_probs, axis=-1)  # [P, n]
        return -tf.reduce_mean(log_likelihood + self.config.inference_entropy_weight * entropy, axis=1)

    def update_approximations(self, buffer: ReplayBuffer):
        """`inference_steps` gradient steps of every approximation on the latest `inference_samples`
        transitions, then its soft target update.

        Returns:
            (loss [P, N], kl [P, N], kl_forward [P, N]): per approximated agent j, the mean over the agents
            approximating it of the approximation loss, of KL(mu_hat || mu_j) and of KL(mu_j || mu_hat) (the
            direction maximum likelihood minimises), measured on those transitions before the first step.
        """
        config, num_agents = self.config, len(self.actors)
        observations, actions, _, _ = buffer.sample(buffer.latest_indices(config.inference_samples))
        # The true policies serve only the KL diagnostic; each is evaluated once, not once per approximator.
        true_log_probs = [tf.nn.log_softmax(actor(obs)) for actor, obs in zip(self.actors, observations)]
        losses = [[] for _ in range(num_agents)]
        kls = [[] for _ in range(num_agents)]
        forward_kls = [[] for _ in range(num_agents)]
        for i in range(num_agents):
            for j in range(num_agents):
                if i == j:
                    continue
                network = self.approximations[i][j]
                for step in range(config.inference_steps):
                    with tf.GradientTape() as tape:
                        log_probs = tf.nn.log_softmax(network(observations[j]))  # [P, n, A_j]
                        step_loss = self.approximation_loss(log_probs, actions[j])
                        loss = tf.reduce_sum(step_loss)
                    if step == 0:  # loss and KL(mu_hat_i^j || mu_j) [P] from the first forward pass, before any step
                        member_loss = step_loss
                        kl = tf.reduce_sum(tf.exp(log_probs) * (log_probs - true_log_probs[j]), axis=-1)
                        kls[j].append(tf.reduce_mean(kl, axis=1))
                        forward = tf.reduce_sum(tf.exp(true_log_probs[j]) * (true_log_probs[j] - log_probs), axis=-1)
                        forward_kls[j].append(tf.reduce_mean(forward, axis=1))
                    self._apply(self.approximation_optimizers[i][j],
                                tape.gradient(loss, network.trainable_variables), network)
                soft_update(self.target_approximations[i][j].trainable_variables, network.trainable_variables,
                            config.tau)
                losses[j].append(member_loss)
        return tuple(tf.stack([tf.add_n(values) / len(values) for values in per_agent], axis=-1)
                     for per_agent in (losses, kls, forward_kls))

    def update(self, buffer: ReplayBuffer | Sequence[ReplayBuffer], rng: PopulationRandom):
        """Updates every agent in order, each from its team's buffer (buffer[team]) or the one buffer.

        Returns:
            (critic_losses [P, N], actor_losses [P, N]), P the learner's members.
        """
        buffers = buffer if isinstance(buffer, (list, tuple)) else [buffer] * (max(self.teams) + 1)
        critic_losses, actor_losses = [], []
        for agent in range(len(self.actors)):
            critic_loss, actor_loss = self.update_agent(agent, buffers[self.teams[agent]], rng)
            critic_losses.append(critic_loss)
            actor_losses.append(actor_loss)
        return tf.stack(critic_losses, axis=-1), tf.stack(actor_losses, axis=-1)

    def _apply(self, optimizer, gradients, network) -> None:
        clipped = [clip_by_member_norm(g, self.config.grad_clip_norm) for g in gradients]
        optimizer.apply_gradients(zip(clipped, network.trainable_variables))


def actor_weights(learner: Learner):
    """Per agent, the actor's layers as numpy [(kernel [P, in, out], bias [P, out]), ...] (for evaluation)."""
    return [
        [(layer.kernel.numpy(), layer.bias.numpy()) for layer in actor.hidden + [actor.out]]
        for actor in learner.actors
    ]
