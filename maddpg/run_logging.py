"""What both training loops log and check, in one place: the logging window and the loss guard.

The batched loop (maddpg/run.py) and the plain PettingZoo loop (maddpg/pettingzoo_loop.py) produce their
numbers differently (one tf.function per iteration over [P, B] envs; one env step at a time), but they log
the same things: per seed, the window's mean episode reward (team and per agent) and its mean losses per
update. Both feed a `LogWindow` with numpy sums and write its `rows()` through maddpg.results.MetricsWriter,
so their metrics.csv files share one schema and one meaning.
"""

from __future__ import annotations

from typing import Iterator, Sequence

import numpy as np


class TrainingDiverged(Exception):
    """A loss became NaN or Inf; the message names the agent, the loss and the checkpoint that was kept."""


class LogWindow:
    """Sums of one logging window, per seed: episode returns, last-step goal distance, losses per update."""

    def __init__(self, population: int, num_agents: int):
        self.returns = np.zeros((population, num_agents))
        self.goal_distance = np.zeros(population)
        self.episodes = 0
        self.critic_loss = np.zeros((population, num_agents))
        self.actor_loss = np.zeros((population, num_agents))
        self.approximation_loss = np.zeros((population, num_agents))
        self.policy_kl = np.zeros((population, num_agents))
        self.policy_kl_forward = np.zeros((population, num_agents))
        self.inference = False
        self.updates = 0

    def add_episodes(self, returns: np.ndarray, goal_distance: np.ndarray | None = None) -> None:
        """returns [P, E, N]: E finished episodes per seed; goal_distance [P, E] at their last step, if any."""
        self.returns += returns.sum(axis=1)
        self.episodes += returns.shape[1]
        if goal_distance is not None:
            self.goal_distance += goal_distance.sum(axis=1)

    def add_updates(self, critic_loss_sum: np.ndarray, actor_loss_sum: np.ndarray, count: int,
                    approximation_loss_sum: np.ndarray | None = None, policy_kl_sum: np.ndarray | None = None,
                    policy_kl_forward_sum: np.ndarray | None = None) -> None:
        """Loss sums [P, N] over `count` updates; the policy-inference ones only when the run infers policies."""
        self.critic_loss += critic_loss_sum
        self.actor_loss += actor_loss_sum
        if policy_kl_sum is not None:
            self.inference = True
            self.approximation_loss += approximation_loss_sum
            self.policy_kl += policy_kl_sum
            if policy_kl_forward_sum is not None:
                self.policy_kl_forward += policy_kl_forward_sum
        self.updates += int(count)

    def mean_returns(self) -> np.ndarray:
        """[P, N] mean episode return of each agent over the window."""
        return self.returns / self.episodes

    def rows(self, seeds: Sequence[int], agents: Sequence[str], episode: int, has_goal: bool) -> Iterator[dict]:
        """The window's metrics.csv rows (role, seed, episode, metric, value), seed by seed."""
        for p, seed in enumerate(seeds):
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
                    yield {**base, "role": agent, "metric": "policy_kl_forward",  # KL(true || approximation)
                           "value": self.policy_kl_forward[p, i] / self.updates}
                    yield {**base, "role": agent, "metric": "approximation_loss",
                           "value": self.approximation_loss[p, i] / self.updates}


def diverged(loss: str, agent: str, seed: int, value: float, when: str, checkpoint: str | None = None,
             checkpoints: bool = True) -> TrainingDiverged:
    """The TrainingDiverged of both loops: which loss of which agent and seed, when, and what was kept.

    Args:
        loss: "critic" or "actor".
        when: where in the run, e.g. "in the episodes up to 1200" or "at update 17".
        checkpoint: the last checkpoint saved (None: none yet).
        checkpoints: whether the loop writes checkpoints at all (the plain loop does not).
    """
    message = f"{loss} loss of agent {agent} (seed {seed}) became {value} {when}"
    if checkpoints:
        message += f"; the last good checkpoint {checkpoint} is kept" if checkpoint else "; no checkpoint had been saved"
    return TrainingDiverged(message)


def check_finite_losses(critic_losses: np.ndarray, actor_losses: np.ndarray, seeds: Sequence[int],
                        agents: Sequence[str], when: str, checkpoint: str | None = None,
                        checkpoints: bool = True) -> None:
    """Raises TrainingDiverged at the first (critic before actor, seed, agent) non-finite loss of [P, N]."""
    for name, losses in (("critic", critic_losses), ("actor", actor_losses)):
        bad = np.argwhere(~np.isfinite(losses))
        if len(bad):
            p, i = bad[0]
            raise diverged(name, agents[i], seeds[p], losses[p, i], when, checkpoint, checkpoints)
