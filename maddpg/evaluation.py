"""Evaluation of trained actors on the reference mpe2 environment, with the paper's table metrics.

TensorFlow-free on purpose: the actors run as numpy MLPs (25-40 us a call against 1-10 ms for a Keras call
per step), and the module can run in worker processes without loading TensorFlow. Actions are sampled
(relaxed Gumbel-softmax, temperature 1) as in the reference code's benchmark mode.

Metric definitions (the paper does not publish them; shared/PAPER.md section 5). Fixed; change only with a
new metric name:

Cooperative communication (Table 1), per episode of 25 steps on simple_speaker_listener_v4:
- average_distance: the mean over the 25 steps of the squared Euclidean listener-to-goal distance, i.e.
  minus the per-step reward, which is exactly the value openai/maddpg's benchmark mode records for this
  scenario (`benchmark_data` returns the reward). Averaged over episodes.
- target_reach_percent: the percentage of episodes whose last step ends with the listener within
  2 x its own size (2 x 0.075 = 0.15) of the goal landmark's centre; the factor 2 follows the
  success test of the reference ensemble code (closest agent within 2 x agent size of the goal).
- final_distance: the Euclidean listener-to-goal distance after the last step, averaged over episodes.
- mean_episode_reward: the sum over agents of each episode's return (the reference's training metric).
"""

from __future__ import annotations

import multiprocessing
from typing import Sequence

import numpy as np

# A fixed salt separates evaluation's random stream from training's for the same seed.
EVALUATION_SALT = 2017
REACH_SIZE_FACTOR = 2.0

# One network: [(kernel [in, out], bias [out]) per layer]; one member: one network per agent.
Network = list[tuple[np.ndarray, np.ndarray]]


def member_networks(population_weights: Sequence[Sequence[tuple[np.ndarray, np.ndarray]]], member: int):
    """Slices member p out of per-agent population weights [(kernel [P, in, out], bias [P, out]), ...]."""
    return [[(kernel[member], bias[member]) for kernel, bias in agent] for agent in population_weights]


def actor_logits(network: Network, observation: np.ndarray) -> np.ndarray:
    """The paper's MLP in numpy: ReLU hidden layers, linear output. [O] -> [A]."""
    x = observation
    for kernel, bias in network[:-1]:
        x = np.maximum(x @ kernel + bias, 0.0)
    kernel, bias = network[-1]
    return x @ kernel + bias


def sample_soft_action(logits: np.ndarray, rng: np.random.Generator, temperature: float = 1.0) -> np.ndarray:
    """A relaxed Gumbel-softmax sample, the action the reference code sends to the env."""
    uniform = np.maximum(rng.random(logits.shape), 1e-20)
    z = (logits - np.log(-np.log(uniform))) / temperature
    z = np.exp(z - z.max())
    return z / z.sum()


class SpeakerListenerMetrics:
    """Table 1's metrics; see the module docstring for the definitions."""

    names = ("target_reach_percent", "average_distance", "final_distance", "mean_episode_reward")

    def __init__(self):
        self.squared_distances, self.final_distances, self.reached, self.returns = [], [], [], []

    def record_episode(self, step_distances: list[float], episode_return: float, world) -> None:
        """step_distances: the listener-goal distance after each step of the episode."""
        distances = np.asarray(step_distances)
        self.squared_distances.append(np.mean(distances**2))
        self.final_distances.append(distances[-1])
        listener_size = world.agents[1].size
        self.reached.append(distances[-1] < REACH_SIZE_FACTOR * listener_size)
        self.returns.append(episode_return)

    @staticmethod
    def step_value(world) -> float:
        """The Euclidean listener-to-goal distance in the world's current state."""
        speaker = world.agents[0]
        return float(np.linalg.norm(speaker.goal_a.state.p_pos - speaker.goal_b.state.p_pos))

    def summary(self) -> dict[str, float]:
        return {
            "target_reach_percent": 100.0 * float(np.mean(self.reached)),
            "average_distance": float(np.mean(self.squared_distances)),
            "final_distance": float(np.mean(self.final_distances)),
            "mean_episode_reward": float(np.mean(self.returns)),
        }


SCENARIO_METRICS = {"speaker_listener": SpeakerListenerMetrics}


def evaluate_member(scenario: str, networks: Sequence[Network], seed: int, episodes: int,
                    temperature: float = 1.0) -> dict[str, float]:
    """Runs `episodes` mpe2 episodes with one member's actors and returns its table metrics.

    Args:
        scenario: a key of envs.reference.SCENARIOS with metrics in SCENARIO_METRICS.
        networks: one actor per agent, in the env's agent order.
        seed: the member's seed (drives env resets and action sampling, apart from training's stream).
        episodes: how many episodes.
    """
    from envs.reference import make_reference_env, to_env_actions

    if scenario not in SCENARIO_METRICS:
        raise ValueError(f"no evaluation metrics for scenario {scenario!r}; have: {', '.join(SCENARIO_METRICS)}")
    env = make_reference_env(scenario)
    world = env.unwrapped.world
    agents = env.possible_agents
    rng = np.random.default_rng([int(seed), EVALUATION_SALT])
    metrics = SCENARIO_METRICS[scenario]()
    for _ in range(episodes):
        observations, _ = env.reset(seed=int(rng.integers(2**31 - 1)))
        step_values, episode_return = [], 0.0
        while env.agents:
            actions = {
                agent: sample_soft_action(actor_logits(networks[i], observations[agent]), rng, temperature)
                for i, agent in enumerate(agents)
            }
            observations, rewards, _, _, _ = env.step(to_env_actions(actions))
            episode_return += float(sum(rewards.values()))
            step_values.append(metrics.step_value(world))
        metrics.record_episode(step_values, episode_return, world)
    env.close()
    return metrics.summary()


def _evaluate_member_args(args):
    return evaluate_member(*args)


def evaluate_population(scenario: str, population_weights, seeds: Sequence[int], episodes: int,
                        temperature: float = 1.0, workers: int | None = None) -> dict[int, dict[str, float]]:
    """Evaluates every member, in parallel worker processes (spawned: they never load TensorFlow).

    Returns:
        {seed: {metric: value}}.
    """
    jobs = [(scenario, member_networks(population_weights, p), seed, episodes, temperature)
            for p, seed in enumerate(seeds)]
    workers = min(workers or multiprocessing.cpu_count() or 1, len(jobs))
    if workers <= 1:
        values = [_evaluate_member_args(job) for job in jobs]
    else:
        with multiprocessing.get_context("spawn").Pool(workers) as pool:
            values = pool.map(_evaluate_member_args, jobs)
    return dict(zip(seeds, values))
