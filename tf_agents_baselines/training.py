"""Training one seed of an independent-learner baseline: collection, updates, metrics.csv rows.

Every env agent has its own tf-agents agent, fed only its own time steps (its observation and reward).
Collection is the tf-agents driver's loop written out for a parallel env: at each step every agent's
collect policy acts on its own batched time step [B], the joint env steps, and each agent receives the
Trajectory (time_step, its policy step, next_time_step). After the LAST step of an episode the policy still
acts (the action is never applied) and a LAST -> FIRST boundary item is recorded, as tf-agents' drivers
record one, its FIRST a placeholder (reward 0, discount 1, the LAST observation): DQN masks boundary items out
of its loss and the on-policy agents out of their returns, so no loss reads the placeholder. The next
iteration starts from a fresh reset.

- off-policy (DQN): items go into one replay ring buffer per agent (`TransitionReplay`); after the warm-up,
  every env step (num_envs = 100 transitions) is followed by one update of each agent on a sampled batch of
  2-step sequences (the paper's ratio of one update per 100 transitions).
- on-policy (REINFORCE, Actor-Critic, PPO): each iteration collects num_envs whole episodes, as
  [B, 26] trajectories (25 transitions and the boundary item), and trains each agent once on them (PPO:
  num_epochs passes).

Logged every log_every_episodes episodes, per seed, the mean over those episodes of: each agent's episode
return (role = agent), their sum (role team, the reference's "mean episode reward"), and the Euclidean
listener-goal distance after the last step (role team, final_goal_distance), as maddpg.run logs them.
"""

from __future__ import annotations

import time
from typing import Callable

import numpy as np

from tf_agents_baselines.process import require_legacy_keras

require_legacy_keras()

import tensorflow as tf  # noqa: E402
from tf_agents.trajectories import time_step as ts  # noqa: E402
from tf_agents.trajectories import trajectory  # noqa: E402

from tf_agents_baselines.algorithms import OFF_POLICY, build_agent  # noqa: E402
from tf_agents_baselines.joint_envs import make_joint_env  # noqa: E402
from tf_agents_baselines.run_config import BaselineRunConfig  # noqa: E402


def boundary_time_step(last: ts.TimeStep) -> ts.TimeStep:
    """The FIRST time step recorded after a LAST one (reward 0, discount 1; its observation is never used)."""
    return ts.TimeStep(tf.fill(tf.shape(last.step_type), tf.constant(ts.StepType.FIRST, tf.int32)),
                       tf.zeros_like(last.reward), tf.ones_like(last.discount), last.observation)


class TransitionReplay(tf.Module):
    """A ring buffer of trajectory items [max_length, B, ...] that samples 2-step sequences for DQN.

    tf-agents' TFUniformReplayBuffer guards every add and sample with a tf.CriticalSection; with two buffers
    (one per agent) on this 2-core machine its calls hung within a few steps (reproducibly, in TF 2.21), so
    this plain variable ring buffer takes its place. It samples what TFUniformReplayBuffer's
    get_next(num_steps=2) samples: uniformly over (row t, env b) whose items t and t + 1 are both held.
    Pairs that straddle an episode end (item t is the LAST -> FIRST boundary) are sampled too, and the
    DqnAgent masks them out of its loss, as it does with tf-agents' own buffers.
    """

    def __init__(self, data_spec, batch_size: int, max_length: int, name: str = "transition_replay"):
        super().__init__(name=name)
        self.batch_size, self.max_length = batch_size, max_length
        self.storage = tf.nest.map_structure(
            lambda spec: tf.Variable(tf.zeros([max_length, batch_size, *spec.shape], spec.dtype), trainable=False),
            data_spec)
        self.rows_written = tf.Variable(0, dtype=tf.int64, trainable=False)

    def add_batch(self, items) -> None:
        """items: a trajectory nest of [B, ...] tensors, written as row rows_written mod max_length."""
        row = self.rows_written % self.max_length
        tf.nest.map_structure(lambda variable, item: variable[row].assign(item), self.storage, items)
        self.rows_written.assign_add(1)

    def sample_pairs(self, sample_batch_size: int):
        """A trajectory nest of [sample_batch_size, 2, ...]: items (t, t + 1) of one env column each."""
        written = self.rows_written
        oldest = tf.maximum(written - self.max_length, 0)
        # t uniform in [oldest, written - 2], so that item t + 1 is held too.
        starts = tf.random.uniform([sample_batch_size], oldest, written - 1, dtype=tf.int64)
        columns = tf.random.uniform([sample_batch_size], 0, self.batch_size, dtype=tf.int64)
        first = tf.stack([starts % self.max_length, columns], axis=1)
        second = tf.stack([(starts + 1) % self.max_length, columns], axis=1)
        return tf.nest.map_structure(
            lambda variable: tf.stack([tf.gather_nd(variable, first), tf.gather_nd(variable, second)], axis=1),
            self.storage)


class TrainingDiverged(Exception):
    """A loss became NaN or Inf."""


class SeedTrainer:
    """One seed's learners (one tf-agents agent per env agent) and its training env.

    Attributes:
        agents: env agent names in env order; learners: their tf-agents agents, in the same order.
    """

    def __init__(self, config: BaselineRunConfig, seed: int):
        self.config = config
        self.seed = seed
        self.settings = config.settings
        tf.keras.backend.clear_session()
        tf.random.set_seed(seed)
        np.random.seed(seed)
        self.env = make_joint_env(config.train_env, config.scenario, self.settings.num_envs, seed,
                                  config.episode_length, dynamics=config.dynamics)
        self.agents = self.env.agents
        self.learners = [build_agent(config.algorithm, spec, action_spec, self.settings, name)
                         for name, spec, action_spec in zip(self.agents, self.env.time_step_specs,
                                                            self.env.action_specs)]
        self.off_policy = config.algorithm in OFF_POLICY
        self._act = tf.function(self._act_graph)
        if self.off_policy:
            batch = self.settings.num_envs
            # One item per env step plus one boundary item per episode.
            items = config.episodes * (config.episode_length + 1)
            max_length = max(2, min(self.settings.replay_capacity, items) // batch + 1)
            self.buffers = [TransitionReplay(learner.collect_data_spec, batch, max_length, name=f"{name}_replay")
                            for learner, name in zip(self.learners, self.agents)]
            self._store = tf.function(self._store_graph)
            self._update = tf.function(self._update_graph)
        else:
            self._train_on_policy = tf.function(self._train_on_policy_graph)
        self.transitions = 0
        self.updates = 0

    # -- graphs -----------------------------------------------------------------------------------------
    def _act_graph(self, time_steps):
        return [learner.collect_policy.action(step) for learner, step in zip(self.learners, time_steps)]

    def _store_graph(self, time_steps, policy_steps, next_time_steps):
        for buffer, step, policy_step, next_step in zip(self.buffers, time_steps, policy_steps, next_time_steps):
            buffer.add_batch(trajectory.from_transition(step, policy_step, next_step))

    def _update_graph(self):
        losses = []
        for learner, buffer in zip(self.learners, self.buffers):
            experience = buffer.sample_pairs(self.settings.batch_size)
            losses.append(learner.train(experience).loss)
        return tf.stack(losses)

    def _train_on_policy_graph(self, experiences):
        return tf.stack([learner.train(experience).loss for learner, experience in zip(self.learners, experiences)])

    # -- one iteration: num_envs episodes -----------------------------------------------------------------
    def iteration(self) -> dict:
        """Collects num_envs episodes (and trains); returns per-episode returns [B, N] and final distances [B]."""
        batch, length = self.settings.num_envs, self.config.episode_length
        returns = np.zeros((batch, len(self.agents)))
        time_steps = self.env.reset()
        items = []  # on-policy: per step, per agent, a Trajectory [B]
        losses = []
        for step in range(length + 1):
            policy_steps = self._act(time_steps)
            if step < length:
                next_time_steps = self.env.step([policy_step.action for policy_step in policy_steps])
            else:  # the boundary item LAST -> FIRST (reward 0, discount 1); the action is never applied
                next_time_steps = [boundary_time_step(time_step) for time_step in time_steps]
            if step == length - 1:
                final_distance = self.env.goal_distance()
            if self.off_policy:
                self._store(time_steps, policy_steps, next_time_steps)
            else:
                items.append([trajectory.from_transition(*parts)
                              for parts in zip(time_steps, policy_steps, next_time_steps)])
            if step < length:
                returns += np.stack([next_step.reward.numpy() for next_step in next_time_steps], axis=1)
                self.transitions += batch
                if self.off_policy and self.transitions >= self.settings.warmup_transitions:
                    losses.append(self._update().numpy())
                    self.updates += 1
            time_steps = next_time_steps
        if not self.off_policy:
            experiences = [tf.nest.map_structure(lambda *xs: tf.stack(xs, axis=1), *(item[i] for item in items))
                           for i in range(len(self.agents))]  # per agent: Trajectory [B, T + 1]
            losses.append(self._train_on_policy(experiences).numpy())
            self.updates += 1
        losses = np.array(losses)
        if losses.size and not np.all(np.isfinite(losses)):
            bad = int(np.argwhere(~np.isfinite(losses))[0][1])
            raise TrainingDiverged(f"the loss of {self.agents[bad]} (seed {self.seed}) became {losses[:, bad]}")
        return {"returns": returns, "final_distance": final_distance,
                "loss": losses.mean(axis=0) if losses.size else None}


def window_rows(seed: int, episode: int, agents, returns: np.ndarray, final_distances: np.ndarray,
                has_goal: bool = True):
    """metrics.csv rows of one logging window: returns [episodes, N], final_distances [episodes]."""
    mean_returns = returns.mean(axis=0)  # [N]
    rows = [{"role": "team", "seed": seed, "episode": episode, "metric": "mean_episode_reward",
             "value": float(mean_returns.sum())}]
    if has_goal:
        rows.append({"role": "team", "seed": seed, "episode": episode, "metric": "final_goal_distance",
                     "value": float(final_distances.mean())})
    rows += [{"role": agent, "seed": seed, "episode": episode, "metric": "mean_episode_reward",
              "value": float(mean_returns[i])} for i, agent in enumerate(agents)]
    return rows


def train_seed(config: BaselineRunConfig, seed: int, write_rows: Callable[[list[dict]], None],
               report: Callable[[str], None] = print) -> SeedTrainer:
    """Trains one seed for config.episodes episodes, writing a window of rows every log_every_episodes.

    Args:
        write_rows: receives each window's metrics.csv rows.
        report: receives one progress line per window.

    Returns:
        The trained SeedTrainer (its learners' greedy policies are what is evaluated).
    """
    trainer = SeedTrainer(config, seed)
    started = time.perf_counter()
    window_returns, window_distances = [], []
    episodes = 0
    while episodes < config.episodes:
        outputs = trainer.iteration()
        episodes += trainer.settings.num_envs
        window_returns.append(outputs["returns"])
        window_distances.append(outputs["final_distance"])
        if episodes % config.log_every_episodes == 0:
            returns, distances = np.concatenate(window_returns), np.concatenate(window_distances)
            rows = window_rows(seed, episodes, trainer.agents, returns, distances,
                               has_goal=config.scenario == "speaker_listener")
            write_rows(rows)
            elapsed = time.perf_counter() - started
            rate = episodes / elapsed
            report(f"[{config.algorithm}] seed {seed}: episode {episodes}/{config.episodes}, team reward "
                   f"{rows[0]['value']:.2f}, final distance {distances.mean():.3f}, {rate:.0f} episodes/s, "
                   f"{trainer.updates} updates, {(config.episodes - episodes) / rate:.0f} s left for this seed")
            window_returns, window_distances = [], []
    return trainer
