"""Evaluation of trained actors on the reference env of their dynamics, with the paper's table metrics.

TensorFlow-free on purpose: the actors run as numpy MLPs (25-40 us a call against 1-10 ms for a Keras call
per step), and the module can run in worker processes without loading TensorFlow. Actions are sampled
(relaxed Gumbel-softmax, temperature 1) as in the reference code's benchmark mode, or, with greedy=True, the
one-hot argmax of each policy's logits (no noise: the paper does not say which it evaluated). The other
policy kinds (maddpg/action_policies.py) act as they do in training, without exploration noise:
straight_through sends the one-hot of its sample (or, greedy, of its argmax), deterministic sends mu(o).

Metric definitions live with each scenario's metrics in maddpg/metrics/ (and in docs/metrics.md). This loop adds
the episode returns itself:
- mean_episode_reward: the sum over all agents of each episode's return (the reference's training metric),
  averaged over episodes;
- <team>_episode_reward for each of the paper's teams ("agents", and "adversaries" where there are any):
  the sum over the team's agents of each episode's return, averaged over episodes.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
from typing import Sequence

import numpy as np

# A fixed salt separates evaluation's random stream from training's for the same seed.
EVALUATION_SALT = 2017

# One network: [(kernel [in, out], bias [out]) per layer]. An agent's policy is one Network, or (policy
# ensembles) a list of K sub-policy Networks; one member: one policy per agent.
Network = list[tuple[np.ndarray, np.ndarray]]


@dataclasses.dataclass(frozen=True)
class EvaluationSettings:
    """How a member is evaluated: the same for every seed of a run, and for every job of a cross-play.

    Attributes:
        episodes: reference-env episodes per member.
        temperature: of the sampled (relaxed Gumbel-softmax) actions.
        dynamics: the reference env's, "paper" or "mpe2" (always the dynamics the actors were trained in:
            the two read movement actions with opposite signs).
        greedy: act by each policy's argmax instead of sampling (TrainConfig.eval_actions "greedy").
        policy: the actors' kind (TrainConfig.policy), see `evaluation_action`.
    """

    episodes: int
    temperature: float = 1.0
    dynamics: str = "mpe2"
    greedy: bool = False
    policy: str = "gumbel_softmax"

    @classmethod
    def of(cls, config, episodes: int | None = None, greedy: bool | None = None) -> EvaluationSettings:
        """A run's own settings (a TrainConfig's eval_episodes, gumbel_temperature, dynamics, eval_actions and
        policy); `episodes` and `greedy`, where given, replace the run's."""
        return cls(episodes=config.eval_episodes if episodes is None else episodes,
                   temperature=config.gumbel_temperature, dynamics=config.dynamics,
                   greedy=config.eval_actions == "greedy" if greedy is None else greedy, policy=config.policy)


def member_networks(population_weights: Sequence[Sequence[tuple[np.ndarray, np.ndarray]]], member: int):
    """Slices member p out of per-agent population weights [(kernel [P, in, out], bias [P, out]), ...]."""
    return [[(kernel[member], bias[member]) for kernel, bias in agent] for agent in population_weights]


def member_policies(population_weights, seed_index: int, ensemble_size: int = 1):
    """Seed p's policy per agent: its Network, or with ensembles the list of its K sub-policy Networks
    (learner members p * K .. p * K + K - 1)."""
    if ensemble_size == 1:
        return member_networks(population_weights, seed_index)
    members = [member_networks(population_weights, seed_index * ensemble_size + k) for k in range(ensemble_size)]
    return [[sub_policies[i] for sub_policies in members] for i in range(len(population_weights))]


def sub_policies(policy) -> list[Network]:
    """An agent's policy as a list of sub-policy Networks (one for a single policy)."""
    return [policy] if isinstance(policy[0], tuple) else list(policy)


def team_groups(scenario: str) -> list[list[int]]:
    """Agent indices of each of the scenario's paper teams (the agents that share a sub-policy draw), as the
    scenario registry has them ("agents" first; the same as the batched port's `teams`)."""
    from envs.registry import scenario_teams

    return [list(members) for members in scenario_teams(scenario).values()]


def actor_logits(network: Network, observation: np.ndarray) -> np.ndarray:
    """The paper's MLP in numpy: ReLU hidden layers, linear output. [O] -> [A]."""
    x = observation
    for kernel, bias in network[:-1]:
        x = np.maximum(x @ kernel + bias, 0.0)
    kernel, bias = network[-1]
    return x @ kernel + bias


def sample_soft_action(logits: np.ndarray, rng: np.random.Generator | None, temperature: float = 1.0,
                       uniform: np.ndarray | None = None) -> np.ndarray:
    """A relaxed Gumbel-softmax sample, the action the reference code sends to the env.

    Args:
        logits: [A] one agent's logits.
        rng: draws the [A] uniforms (rng.random(logits.shape)) unless `uniform` is given.
        temperature: softmax temperature.
        uniform: [A] uniforms to use instead of drawing them (tests feed maddpg.gumbel the same draw).
    """
    if uniform is None:
        uniform = rng.random(logits.shape)
    uniform = np.maximum(uniform, 1e-20)
    z = (logits - np.log(-np.log(uniform))) / temperature
    z = np.exp(z - z.max())
    return z / z.sum()


def greedy_action(logits: np.ndarray) -> np.ndarray:
    """[A] the one-hot vector of the most probable action (ties: the first)."""
    action = np.zeros_like(logits, dtype=np.float64)
    action[int(np.argmax(logits))] = 1.0
    return action


def evaluation_action(policy: str, outputs: np.ndarray, rng: np.random.Generator, temperature: float = 1.0,
                      greedy: bool = False) -> np.ndarray:
    """[A] what an evaluated actor of kind `policy` (a config.POLICIES name) sends, from its outputs [A].

    deterministic: mu = (tanh(x) + 1) / 2, inside mpe2's [0, 1] action Box, with no noise and no draw (the
    batched ports and every reference env here use that Box). Gumbel kinds: greedy gives the one-hot
    argmax; otherwise one relaxed sample (one rng.random([A]) draw), sent as is (gumbel_softmax) or as its
    one-hot (straight_through).
    """
    if policy == "deterministic":
        return (np.tanh(outputs.astype(np.float64)) + 1.0) / 2.0
    if greedy:
        return greedy_action(outputs)
    soft = sample_soft_action(outputs, rng, temperature)
    return greedy_action(soft) if policy == "straight_through" else soft


def evaluate_member(scenario: str, networks: Sequence[Network], seed: int, episodes: int,
                    temperature: float = 1.0, dynamics: str = "mpe2", greedy: bool = False,
                    policy: str = "gumbel_softmax") -> dict[str, float]:
    """Runs `episodes` reference-env episodes with one member's actors and returns its table metrics.

    Args:
        scenario: a key of envs.registry.SCENARIOS (which names its metrics class).
        networks: one policy per agent, in the env's agent order: a Network, or a list of sub-policy
            Networks (each episode, each team draws one sub-policy uniformly for all its agents).
        seed: the member's seed (drives env resets and action sampling, apart from training's stream).
        episodes: how many episodes.
        dynamics: the reference env's dynamics, "paper" or "mpe2" (always the dynamics the actors were
            trained in: the two read movement actions with opposite signs).
        greedy: act by each policy's argmax instead of sampling.
        policy: the actors' kind (config.policy), see `evaluation_action`.
    """
    from envs.reference import make_reference_env
    from envs.registry import SCENARIOS
    from maddpg.metrics import scenario_metrics

    metrics = scenario_metrics(scenario)
    env = make_reference_env(scenario, dynamics=dynamics)
    world = env.unwrapped.world
    teams = SCENARIOS[scenario].teams
    team_returns = {team: [] for team in teams}
    total_returns = []
    for returns in play_episodes(env, networks, seed, episodes, temperature, on_reset=metrics.start_episode,
                                 after_step=metrics.after_step, teams=team_groups(scenario), greedy=greedy,
                                 policy=policy):
        metrics.end_episode(world)
        total_returns.append(sum(returns.values()))
        for team, members in teams.items():
            team_returns[team].append(sum(returns[a] for a in members))
    env.close()
    summary = metrics.summary()
    summary["mean_episode_reward"] = float(np.mean(total_returns))
    for team, values in team_returns.items():
        summary[f"{team}_episode_reward"] = float(np.mean(values))
    return summary


def play_episodes(env, networks: Sequence, seed: int, episodes: int, temperature: float = 1.0,
                  on_reset=None, after_step=None, teams: Sequence[Sequence[int]] | None = None,
                  greedy: bool = False, policy: str = "gumbel_softmax"):
    """Plays `episodes` episodes of an mpe2 parallel env with one member's actors, sampling soft actions
    (or, greedy, sending each policy's one-hot argmax; other policy kinds: `evaluation_action`).

    The seed drives the env resets, the sub-policy draws and the action noise (salted apart from training's
    stream), so a member's evaluation and its rendering play the very same episodes.

    Args:
        networks: per agent a Network, or a list of sub-policy Networks.
        teams: agent indices that share one sub-policy draw per episode (default: each agent alone); the
            agents of a group must hold the same number of sub-policies.
        on_reset, after_step: optional callbacks given the mpe2 world after each reset / each step.
        greedy: one-hot argmax actions; the env resets and sub-policy draws stay those of sampled play.

    Yields:
        {agent: return} after each episode.
    """
    from envs.reference import to_env_actions

    world = env.unwrapped.world
    agents = env.possible_agents
    policies = [sub_policies(policy) for policy in networks]
    groups = teams or [[i] for i in range(len(agents))]
    rng = np.random.default_rng([int(seed), EVALUATION_SALT])
    for _ in range(episodes):
        observations, _ = env.reset(seed=int(rng.integers(2**31 - 1)))
        acting = [policy[0] for policy in policies]
        for group in groups:  # single policies draw nothing, so their episodes stay as before ensembles
            if len(policies[group[0]]) > 1:
                k = int(rng.integers(len(policies[group[0]])))
                for i in group:
                    acting[i] = policies[i][k]
        if on_reset:
            on_reset(world)
        returns = dict.fromkeys(agents, 0.0)
        while env.agents:
            logits = [actor_logits(acting[i], observations[agent]) for i, agent in enumerate(agents)]
            actions = {agent: evaluation_action(policy, logits[i], rng, temperature, greedy)
                       for i, agent in enumerate(agents)}
            observations, rewards, _, _, _ = env.step(to_env_actions(actions))
            for agent, reward in rewards.items():
                returns[agent] += float(reward)
            if after_step:
                after_step(world)
        yield returns


def _evaluate_job(job):
    scenario, policies, seed, settings = job
    return evaluate_member(scenario, policies, seed, **dataclasses.asdict(settings))


def evaluate_population(scenario: str, population_weights, seeds: Sequence[int], settings: EvaluationSettings,
                        workers: int | None = None, ensemble_size: int = 1) -> dict[int, dict[str, float]]:
    """Evaluates every seed, in parallel worker processes (spawned: they never load TensorFlow).

    Args:
        population_weights: per agent [(kernel [P x K, in, out], bias [P x K, out]), ...].
        settings: how each seed is evaluated (EvaluationSettings.of(config): the run's own).
        ensemble_size: K sub-policies per seed (each team draws one per episode).

    Returns:
        {seed: {metric: value}}.
    """
    jobs = [(scenario, member_policies(population_weights, p, ensemble_size), seed, settings)
            for p, seed in enumerate(seeds)]
    return dict(zip(seeds, evaluate_jobs(jobs, workers)))


def evaluate_jobs(jobs: Sequence[tuple], workers: int | None = None) -> list[dict[str, float]]:
    """evaluate_member of each job, in spawned worker processes when there are several workers.

    Args:
        jobs: (scenario, policies, seed, EvaluationSettings) tuples; each worker builds its own reference env
            of the settings' dynamics through envs.reference (nothing is patched process-wide).
        workers: processes (None: one per CPU core).

    Returns:
        per job {metric: value}, in the jobs' order.
    """
    workers = min(workers or multiprocessing.cpu_count() or 1, len(jobs))
    if workers <= 1:
        return [_evaluate_job(job) for job in jobs]
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        return pool.map(_evaluate_job, jobs)


def render_member(scenario: str, networks: Sequence[Network], seed: int,
                  settings: EvaluationSettings) -> list[np.ndarray]:
    """Frames of settings.episodes reference-env episodes played by one member's actors as its evaluation
    plays them (the first frame after each reset), in the settings' dynamics.

    Returns:
        [H, W, 3] uint8 frames from mpe2's rgb_array renderer (700 x 700), episode after episode.
    """
    from envs.reference import make_reference_env

    env = make_reference_env(scenario, dynamics=settings.dynamics, render_mode="rgb_array")
    frames = []
    for _ in play_episodes(env, networks, seed, settings.episodes, settings.temperature,
                           on_reset=lambda world: frames.append(env.render()),
                           after_step=lambda world: frames.append(env.render()), teams=team_groups(scenario),
                           greedy=settings.greedy, policy=settings.policy):
        pass
    env.close()
    return frames
