"""Evaluating a seed's trained baseline on mpe2 in the run's dynamics: greedy play, Table 1's metrics.

Each agent acts with its tf-agents agent's `policy`, which for all four baselines is greedy: the argmax of
the Q-values (DQN) or the mode of the categorical action distribution (REINFORCE, Actor-Critic, PPO), no
exploration. (MADDPG's evaluation samples its Gumbel-softmax actions as the reference code did; for these
discrete-action agents greedy play is the usual evaluation.) The episodes are mpe2's own
(envs.reference.make_reference_env, discrete choice -> one-hot action, see pettingzoo_agents), built in the
dynamics the policies trained in (the two differ in the action sign, so a policy played in the other one
would move the wrong way, and the 2017 rewards differ in some scenarios), with env reset seeds drawn from
the seed's salted evaluation stream (maddpg.evaluation.EVALUATION_SALT). They are not the episodes MADDPG's
evaluation plays: that stream also feeds MADDPG's action noise between resets, so only the first reset seed
coincides. The metric definitions are those of maddpg.metrics (for speaker-listener Table 1's
target_reach_nearest_percent and final_squared_distance, and the alternatives beside them) plus
mean_episode_reward, the sum over the agents of the episode return, averaged over episodes.
"""

from __future__ import annotations

import numpy as np

from tf_agents_baselines.process import require_legacy_keras

require_legacy_keras()

import tensorflow as tf  # noqa: E402

from tf_agents_baselines.pettingzoo_agents import BatchedParallelEnvAgents  # noqa: E402

EVAL_BATCH = 50  # mpe2 envs played in lockstep, so each policy call acts for 50 episodes


def evaluate_policies(scenario: str, policies, seed: int, episodes: int, episode_length: int = 25,
                      batch: int = EVAL_BATCH, *, dynamics: str) -> dict[str, float]:
    """Plays `episodes` greedy mpe2 episodes in `dynamics` with one seed's policies (one per agent, env order).

    dynamics ("paper" or "mpe2") has no default: it must be the one the policies trained in.

    Returns:
        {metric: value averaged over the episodes}: the scenario's table metrics and mean_episode_reward.
    """
    from envs.reference import make_reference_env
    from maddpg.evaluation import EVALUATION_SALT
    from maddpg.metrics import scenario_metrics

    rng = np.random.default_rng([int(seed), EVALUATION_SALT])
    reset_seeds = [int(rng.integers(2**31 - 1)) for _ in range(episodes)]  # [episodes]
    act = tf.function(lambda time_steps: [policy.action(step).action for policy, step in zip(policies, time_steps)])
    envs = None
    summaries, totals = [], []  # one summary per episode (its own metrics accumulator)
    for start in range(0, episodes, batch):
        seeds = reset_seeds[start:start + batch]
        if envs is None or envs.batch_size != len(seeds):
            if envs is not None:
                envs.close()
            envs = BatchedParallelEnvAgents([make_reference_env(scenario, dynamics=dynamics,
                                                                max_cycles=episode_length) for _ in seeds])
        metrics = [scenario_metrics(scenario) for _ in seeds]
        time_steps = envs.reset(seeds)
        for accumulator, world in zip(metrics, envs.worlds()):
            accumulator.start_episode(world)
        returns = np.zeros((len(seeds), len(envs.agents)))
        for _ in range(episode_length):
            actions = act([tf.nest.map_structure(tf.convert_to_tensor, time_steps[agent]) for agent in envs.agents])
            time_steps = envs.step({agent: action.numpy() for agent, action in zip(envs.agents, actions)})
            returns += np.stack([time_steps[agent].reward for agent in envs.agents], axis=1)
            for accumulator, world in zip(metrics, envs.worlds()):
                accumulator.after_step(world)
        if not all(time_steps[agent].is_last().all() for agent in envs.agents):
            raise RuntimeError(f"mpe2 episodes did not end after {episode_length} steps")
        for accumulator, world in zip(metrics, envs.worlds()):
            accumulator.end_episode(world)
            summaries.append(accumulator.summary())
        totals.append(returns.sum(axis=1))
    envs.close()
    values = {name: float(np.mean([summary[name] for summary in summaries]))
              for name in summaries[0]}
    values["mean_episode_reward"] = float(np.mean(np.concatenate(totals)))
    return values
