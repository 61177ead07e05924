"""MADDPG / DDPG on any PettingZoo ParallelEnv, through a plain per-step loop.

    python -m maddpg.pettingzoo_loop --env MODULE [--env_kwargs JSON] [--policy KIND] [--episodes 2000]
        [--seed 0] [--seeds 1] [--algorithm maddpg|ddpg] [--episode_length N] [--eval_episodes 100] [--smoke]

    # mpe2's simple_reference with the paper code's relaxed Gumbel-softmax policy (the default)
    python -m maddpg.pettingzoo_loop --env mpe2.simple_reference_v3 --episodes 2000
    # Discrete actions: the env gets the sample's argmax, a draw of the categorical policy
    python -m maddpg.pettingzoo_loop --env pettingzoo.sisl.pursuit_v5 --env_kwargs '{"n_pursuers": 4}' --smoke
    # torques in [-1, 1]: deterministic actors a = mu(o) inside each agent's Box, three seeds side by side
    python -m maddpg.pettingzoo_loop --env pettingzoo.sisl.multiwalker_v9 --policy=deterministic --seeds 3

The env is MODULE.parallel_env(**--env_kwargs). `continuous_actions` goes only to envs whose signatures
(behind parallel_env) take it: True for --policy=deterministic and, for the Gumbel kinds, on mpe2 modules
(mpe2's soft action vector, the reference's action); --[no]continuous overrides it. mpe2 modules get
max_cycles=25, the paper's episode length. What each policy kind acts on (check_action_spaces):
- deterministic: a Box with finite bounds; mu(o) lies inside them (a scaled tanh per dimension),
  exploration noise is clipped to them, and the env gets the action as it is.
- gumbel_softmax / straight_through: Discrete(n), sent argmax(s) (+ start) of the sample s (the Gumbel-max
  trick: an exact draw from softmax(logits); straight_through's one-hot has the same argmax); or mpe2's
  soft vector Box(0, 1), sent s as is. Any other Box (torques) is refused: s is a point of the simplex.
  The replay stores s itself, the input the actor loss and the target actions feed the critic too (the
  executed action is a function of s, so Q(x, s) is a well-defined value of what happened).

The run folder <results_dir>/pettingzoo/<run_id>/ (run_id by default [<dynamics>_]<env module>_<algorithm>_
<policy>_<box|discrete>_s<first>[-<last>]_ep<episodes>, the dynamics on mpe2 modules only) gets config.json,
meta.json (with the env's kwargs), metrics.csv (the batched loop's schema: maddpg/results.py) and then
evaluation.csv: each seed's mean episode reward (the sum over agents) over --eval_episodes episodes without
exploration noise, and a uniform random policy's on the same env resets, printed as mean [95% bootstrap CI]
over seeds. No checkpoint is kept: an interrupted run starts over when run again; a finished one is refused.

How a step, an episode's end and the seed population work: ParallelEnvTrainer.
"""

from __future__ import annotations

from maddpg.cli import quiet_tensorflow

if __name__ == "__main__":
    quiet_tensorflow()  # before TensorFlow is imported below; --verbose keeps its logging

import dataclasses  # noqa: E402
import importlib  # noqa: E402
import inspect  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable, Mapping, Sequence  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from gymnasium import spaces  # noqa: E402
from tqdm import tqdm  # noqa: E402

from maddpg.cli import parse_flags  # noqa: E402
from maddpg.config import CRITIC_KINDS, EVAL_ACTIONS, POLICIES, TrainConfig  # noqa: E402
from maddpg.evaluation import EVALUATION_SALT, evaluation_action  # noqa: E402
from maddpg.learner import Learner  # noqa: E402
from maddpg.population_random import PopulationRandom  # noqa: E402
from maddpg.replay import ReplayBuffer  # noqa: E402
from maddpg import results  # noqa: E402
from maddpg.run_folder import RunFolder  # noqa: E402
from maddpg.run_logging import LogWindow, TrainingDiverged, check_finite_losses  # noqa: E402  (shared with run.py)
from maddpg.stats import format_cell, mean_and_ci  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parent.parent
# Separates the env-reset seed stream from every other stream drawn from the same config seed.
RESET_SALT = 31_337
# mpe2's modules: their continuous Box(0, 1) actions are the reference code's soft action vectors.
MPE_PREFIX = "mpe2."
MPE_MAX_CYCLES = 25  # the paper's episode length


# --------------------------------------------------------------------------------------------------
# Spaces: sizes, what each policy kind can act on, and the conversion of an action into what the env accepts.


def observation_size(agent: str, space) -> int:
    """The flattened size of a Box observation space; ValueError for any other space."""
    if not isinstance(space, spaces.Box):
        raise ValueError(f"agent {agent!r}: observation space {space} is not a Box; only Box is supported")
    return int(np.prod(space.shape))


def action_size(agent: str, space) -> int:
    """Actor output size: the flattened Box size, or n for Discrete(n); ValueError for any other space."""
    if isinstance(space, spaces.Box):
        return int(np.prod(space.shape))
    if isinstance(space, spaces.Discrete):
        return int(space.n)
    raise ValueError(f"agent {agent!r}: action space {space} is neither Box nor Discrete")


def is_soft_vector_box(space) -> bool:
    """mpe2's continuous action space: a 1-D Box(0, 1), which reads a soft one-hot (or message) vector."""
    return (isinstance(space, spaces.Box) and len(space.shape) == 1 and bool(np.all(space.low == 0.0))
            and bool(np.all(space.high == 1.0)))


def check_action_spaces(policy: str, agents: Sequence[str], action_spaces: Sequence, soft_vectors: bool = True) -> None:
    """Raises ValueError (naming the agent and what to use) when a policy kind cannot act on an agent's space.

    soft_vectors: whether the env's Box(0, 1) actions are mpe2's soft vectors (a Gumbel sample then is the
    reference's action); False refuses every Box to the Gumbel kinds.
    """
    for agent, space in zip(agents, action_spaces):
        if policy == "deterministic":
            if isinstance(space, spaces.Discrete):
                raise ValueError(f"agent {agent!r} has a {space} action space: --policy=deterministic needs Box "
                                 "actions; use --policy=gumbel_softmax or --policy=straight_through")
            if isinstance(space, spaces.Box) and not (np.all(np.isfinite(space.low))
                                                      and np.all(np.isfinite(space.high))):
                raise ValueError(f"agent {agent!r}: action space {space} has infinite bounds; --policy=deterministic "
                                 "maps mu(o) onto a Box with finite bounds")
        elif isinstance(space, spaces.Box) and not (soft_vectors and is_soft_vector_box(space)):
            raise ValueError(f"agent {agent!r}: action space {space} is not mpe2's soft action vector, and "
                             f"--policy={policy} can only send points of the simplex there; use --policy=deterministic")


def action_bounds(space, size: int) -> tuple[np.ndarray, np.ndarray]:
    """(low [A], high [A]) of a Box flattened; [0, 1] for a Discrete space (unused by the Gumbel kinds)."""
    if isinstance(space, spaces.Box):
        return space.low.reshape(-1).astype(np.float32), space.high.reshape(-1).astype(np.float32)
    return np.zeros(size, np.float32), np.ones(size, np.float32)


def action_kind(action_spaces: Sequence) -> str:
    """"box", "discrete" or "mixed": the run folder's name records it."""
    kinds = {"box" if isinstance(space, spaces.Box) else "discrete" for space in action_spaces}
    return kinds.pop() if len(kinds) == 1 else "mixed"


def to_env_action(space, action: np.ndarray):
    """What the env gets for one action [A]: clipped into a Box, or the argmax index for Discrete."""
    if isinstance(space, spaces.Discrete):
        return int(np.argmax(action)) + int(space.start)
    # float32 (the space's dtype): mpe2 warns on every float64 action.
    return np.clip(action.reshape(space.shape), space.low, space.high).astype(space.dtype)


# --------------------------------------------------------------------------------------------------
# Termination-aware replay and learner (the shared ones assume episodes only truncate).


class _ContinuationReplay(ReplayBuffer):
    """A ReplayBuffer whose reward rows are [r_1..r_N, c_1..c_N], c_i = 0 where agent i terminated.

    The continuation flags ride in the reward field because `Learner.update_agent` passes the sampled
    rewards, and only them, to `critic_target`; this way neither shared module needs a change.
    """

    def __init__(self, population: int, capacity: int, observation_sizes: Sequence[int],
                 action_sizes: Sequence[int]):
        super().__init__(population, capacity, observation_sizes, action_sizes, write_block=1)
        self.rewards = tf.Variable(tf.zeros([population * self.capacity, 2 * len(observation_sizes)]),
                                   trainable=False, name="rewards_and_continuations")


class _ContinuationLearner(Learner):
    """The shared Learner with y_i = r_i + c_i * gamma * Q'_i (c_i read from the reward rows)."""

    def critic_target(self, agent: int, rewards: tf.Tensor, next_observations, target_actions) -> tf.Tensor:
        num_agents = len(self.actors)
        own_rewards = rewards[..., agent : agent + 1]  # [P, batch, 1]
        continuation = rewards[..., num_agents + agent : num_agents + agent + 1]  # [P, batch, 1]
        # The shared target with zero reward is exactly gamma * Q'_i; with c = 1 the sum below is
        # bit-identical to the shared learner's target.
        bootstrap = super().critic_target(agent, tf.zeros_like(rewards), next_observations, target_actions)
        return own_rewards + continuation * bootstrap


# --------------------------------------------------------------------------------------------------
# The loop.


@dataclasses.dataclass
class EpisodeResult:
    """run_episode's result: each member's first finished episode's returns [P, N], loss sums [P, N] over
    the updates meanwhile, their count and the lockstep env steps taken."""

    returns: np.ndarray
    critic_loss_sum: np.ndarray
    actor_loss_sum: np.ndarray
    updates: int
    steps: int


@dataclasses.dataclass
class StepResult:
    """One lockstep env step: the episodes it ended, as (member, returns [N], steps), and the update's losses
    ([P, N] each) if one ran."""

    finished: list[tuple[int, np.ndarray, int]]
    critic_losses: np.ndarray | None = None
    actor_losses: np.ndarray | None = None


class ParallelEnvTrainer:
    """MADDPG/DDPG learner, replay and P envs (one per seed), trained by a plain per-step loop.

    Each env step is ONE tf.function call for every agent's action, the envs' steps in Python, one small
    tf.function storing the transition, and once the buffer holds `warmup_transitions`, one `learner.update`
    every `update_every` transitions (the "plain loop" benchmarks/plain_vs_batched.py times the batched path
    against). The env needs a fixed agent set (every agent of `possible_agents` from reset until the episode
    ends for all at once: one actor and critic per agent) and Box observations (flattened); else ValueError.
    An episode ends when every agent is terminated or truncated, or after `config.episode_length` steps; a
    termination stops bootstrapping (y_i = r_i + gamma * c_i * Q'_i, c_i = 0 where agent i terminated), the
    flags c_i riding in the replay's reward rows (_ContinuationReplay, _ContinuationLearner).

    Population: the P = len(config.seeds) members each own an env, networks, replay, random stream and env
    seeds, and step in lockstep (one transition each per step: the replay's shared write pointer). A member
    whose episode ends resets at once, so member p draws what seed p alone would, even where episode lengths
    differ (multiwalker's walkers fall); the run ends when every member has config.episodes episodes, the
    faster ones playing (and training) on meanwhile, unlogged.
    """

    def __init__(self, make_env: Callable[[], object], config: TrainConfig, soft_vectors: bool = True):
        """Builds the envs (make_env() once per seed), the learner and the replay buffer.

        soft_vectors: whether the env's Box(0, 1) actions are mpe2's soft vectors (check_action_spaces).

        Raises:
            ValueError: unsupported spaces or spaces the policy cannot act on, envs with different agents,
                or a number of critic kinds other than the number of agents.
        """
        self.config = config
        self.envs = [make_env() for _ in config.seeds]
        self.agents = tuple(self.envs[0].possible_agents)
        for env in self.envs[1:]:
            if tuple(env.possible_agents) != self.agents:
                raise ValueError(f"make_env() built envs with different agents: {env.possible_agents} vs {self.agents}")
        if len(config.critic_kinds) != len(self.agents):
            raise ValueError(f"{len(config.critic_kinds)} critic kinds given for {len(self.agents)} agents "
                             f"{list(self.agents)}")
        env = self.envs[0]
        self.action_spaces = [env.action_space(agent) for agent in self.agents]
        self.observation_sizes = [observation_size(a, env.observation_space(a)) for a in self.agents]
        self.action_sizes = [action_size(a, space) for a, space in zip(self.agents, self.action_spaces)]
        check_action_spaces(config.policy, self.agents, self.action_spaces, soft_vectors)
        self.action_bounds = [action_bounds(space, size) for space, size in zip(self.action_spaces, self.action_sizes)]
        self.rng = PopulationRandom(config.seeds)
        self.learner = _ContinuationLearner(config, self.observation_sizes, self.action_sizes,
                                            action_bounds=self.action_bounds)
        self.buffer = _ContinuationReplay(
            config.population, min(config.buffer_capacity, config.episodes * config.episode_length),
            self.observation_sizes, self.action_sizes)
        self._reset_rngs = [np.random.default_rng([int(seed), RESET_SALT]) for seed in config.seeds]
        self.transitions = 0  # per member
        self.updates = 0
        self.member_episodes = np.zeros(config.population, dtype=np.int64)  # [P] episodes each member finished
        self._observations = None  # per agent [P, 1, O_i] of the episodes in progress; None: every env is due a reset
        self._episode_returns = np.zeros((config.population, len(self.agents)))  # [P, N] of the episodes in progress
        self._episode_steps = np.zeros(config.population, dtype=np.int64)  # [P]
        self.evaluation: dict[str, np.ndarray] | None = None  # evaluate()'s result, once run
        observation_specs = [tf.TensorSpec([config.population, 1, size], tf.float32)
                             for size in self.observation_sizes]
        self._act = tf.function(self._act_graph, input_signature=[observation_specs])
        self._outputs = tf.function(self._outputs_graph, input_signature=[observation_specs])
        num_agents = len(self.agents)
        # One transition as one row: every extra argument of a tf.function call costs a conversion, and
        # one array instead of 3N + 1 halves the store's call overhead.
        self._transition_widths = (self.observation_sizes + self.action_sizes + [2 * num_agents]
                                   + self.observation_sizes)
        transition_spec = tf.TensorSpec([config.population, 1, sum(self._transition_widths)], tf.float32)
        self._store = tf.function(self._store_graph, input_signature=[transition_spec])
        self._update = tf.function(self._update_graph, jit_compile=config.jit_compile or None)

    @property
    def episodes_done(self) -> int:
        """The episodes every member has finished (the slowest member's count)."""
        return int(self.member_episodes.min())

    def _act_graph(self, observations):
        """Per agent [P, 1, O_i] -> per agent [P, 1, A_i] exploring actions (decentralised: actor i sees o_i)."""
        return self.learner.act(observations, self.rng)

    def _outputs_graph(self, observations):
        """Per agent [P, 1, O_i] -> per agent [P, 1, A_i] actor outputs (logits, or mu's pre-squash values)."""
        return [actor(obs) for actor, obs in zip(self.learner.actors, observations)]

    def _store_graph(self, transition):
        """Writes one transition row [P, 1, W] = (o_1..o_N, a_1..a_N, r_1..r_N c_1..c_N, o'_1..o'_N)."""
        parts = tf.split(transition, self._transition_widths, axis=-1)
        n = len(self.agents)
        self.buffer.add(parts[:n], parts[n : 2 * n], parts[2 * n], parts[2 * n + 1 :])

    def _update_graph(self):
        """One update of every agent; (critic_losses [P, N], actor_losses [P, N])."""
        return self.learner.update(self.buffer, self.rng)

    def _reset_member(self, p: int, seed: int | None = None) -> dict:
        """Resets member p's env (from its own reset stream unless `seed` is given); its {agent: obs}."""
        env = self.envs[p]
        if seed is None:
            seed = int(self._reset_rngs[p].integers(2**31 - 1))
        observations, _ = env.reset(seed=seed)
        self._check_agents(env.agents, "after reset")
        self._check_agents(observations, "in reset's observations")
        return observations

    def _stack_observations(self, per_member: Sequence[dict]) -> list[np.ndarray]:
        """Member dicts {agent: obs} -> per agent [P, 1, O_i] float32."""
        return [np.stack([np.asarray(obs[agent], np.float32).reshape(1, -1) for obs in per_member])
                for agent in self.agents]

    def _check_agents(self, names, where: str) -> None:
        if set(names) != set(self.agents):
            raise ValueError(
                f"the env's agent set changed {where}: {sorted(names)} instead of {sorted(self.agents)}; "
                "this loop needs a fixed agent set (one actor and critic per agent) until every agent is "
                "done at once")

    def _step_member(self, p: int, env_actions: Mapping[str, object]):
        """Steps member p's env; (its {agent: obs}, rewards [N], continuations [N], whether its episode ended)."""
        env = self.envs[p]
        observations, member_rewards, terminations, truncations, _ = env.step(dict(env_actions))
        self._check_agents(observations, "in step's observations")
        done = [bool(terminations.get(a, False)) or bool(truncations.get(a, False)) for a in self.agents]
        if not all(done):  # mid-episode: nobody may leave (or join)
            self._check_agents(env.agents, "during an episode")
            if any(done):
                raise ValueError(f"agents {[a for a, d in zip(self.agents, done) if d]} ended while others "
                                 "play on; this loop needs every agent's episode to end on the same step")
        rewards = [float(member_rewards.get(a, 0.0)) for a in self.agents]
        continuations = [0.0 if terminations.get(a, False) else 1.0 for a in self.agents]
        return observations, rewards, continuations, all(done)

    def step(self) -> StepResult:
        """One lockstep step of every member: act, step the envs, store, update when due, and reset the envs
        whose episodes ended (an episode also ends after config.episode_length steps)."""
        config = self.config
        if self._observations is None:
            self._observations = self._stack_observations([self._reset_member(p) for p in range(config.population)])
        actions = [a.numpy() for a in self._act(self._observations)]  # per agent [P, 1, A_i]
        per_member, rewards, continuations, ended = [], [], [], []
        for p in range(config.population):
            env_actions = {agent: to_env_action(space, action[p, 0])
                           for agent, space, action in zip(self.agents, self.action_spaces, actions)}
            observations, member_rewards, member_continuations, member_ended = self._step_member(p, env_actions)
            per_member.append(observations)
            rewards.append(member_rewards)
            continuations.append(member_continuations)
            ended.append(member_ended)
        next_observations = self._stack_observations(per_member)  # per agent [P, 1, O_i]
        rewards = np.asarray(rewards, np.float32)[:, None, :]  # [P, 1, N]
        continuations = np.asarray(continuations, np.float32)[:, None, :]  # [P, 1, N]
        self._store(np.concatenate([*self._observations, *actions, rewards, continuations, *next_observations],
                                   axis=-1))
        self.transitions += 1
        self._episode_returns += rewards[:, 0]
        self._episode_steps += 1
        result = StepResult(finished=[])
        if self.transitions % config.update_every == 0 and int(self.buffer.size) >= config.warmup_transitions:
            result.critic_losses, result.actor_losses = (x.numpy() for x in self._update())  # [P, N] each
            check_finite_losses(result.critic_losses, result.actor_losses, config.seeds, self.agents,
                                f"at update {self.updates + 1}", checkpoints=False)
            self.updates += 1
        ended = np.asarray(ended) | (self._episode_steps >= config.episode_length)  # [P]
        for p in np.flatnonzero(ended):
            result.finished.append((int(p), self._episode_returns[p].copy(), int(self._episode_steps[p])))
            self.member_episodes[p] += 1
            self._episode_returns[p] = 0.0
            self._episode_steps[p] = 0
            per_member[p] = self._reset_member(int(p))
        self._observations = self._stack_observations(per_member) if ended.any() else next_observations
        return result

    def run_episode(self) -> EpisodeResult:
        """Steps every member until each has finished one more episode (with equal episode lengths, as mpe2's,
        exactly one episode each), storing each step and updating when due."""
        population, num_agents = self.config.population, len(self.agents)
        returns = np.full((population, num_agents), np.nan)
        critic_loss_sum = np.zeros((population, num_agents))
        actor_loss_sum = np.zeros((population, num_agents))
        waiting, updates, steps = set(range(population)), 0, 0
        while waiting:
            result = self.step()
            steps += 1
            if result.critic_losses is not None:
                critic_loss_sum += result.critic_losses
                actor_loss_sum += result.actor_losses
                updates += 1
            for p, episode_returns, _ in result.finished:
                if p in waiting:
                    returns[p] = episode_returns
                    waiting.discard(p)
        return EpisodeResult(returns, critic_loss_sum, actor_loss_sum, updates, steps)

    def train(self, *, progress: bool = True, log: Callable[[str], None] | None = print,
              run_dir: Path | None = None, evaluation_episodes: int = 0) -> list[dict]:
        """Runs until every member has finished config.episodes episodes; returns one history row per log window.

        A row: episode (episodes done), env_steps (per member), updates (so far), mean_episode_reward
        ([P]: the sum over agents of each episode's return, averaged over the window, as the reference
        logs it), agent_rewards ({agent: [P]}), mean_episode_length ([P] env steps), and only if every
        member's window had an update, critic_loss /
        actor_loss ({agent: [P]} means over the window's updates). A row is made when the last member closes
        that window (with equal episode lengths, all close it on the same step).

        run_dir: when given, a run folder (maddpg/run_folder.py) that gets config.json, meta.json and the
        windows' rows in metrics.csv, the batched loop's schema and metrics (the plain loop writes no
        checkpoints, so a rerun starts over and rewrites metrics.csv); each member's rows are written when it
        closes a window.
        evaluation_episodes: when positive, `evaluate` runs that many episodes per member after training
        (and writes evaluation.csv into run_dir) before the run is marked trained.
        """
        config = self.config
        writer = None
        if run_dir is not None:
            folder = RunFolder(Path(run_dir))
            folder.open_for(config)
            meta = folder.update_meta(trained=False, dynamics=config.dynamics, loop="pettingzoo")
            writer = folder.metrics_writer(config)
            writer.truncate_after(self.episodes_done)  # rows of an earlier, unfinished attempt are made again
            session = {"started_at": results.now(), "from_episode": self.episodes_done}
            started = time.perf_counter()
        windows = [LogWindow(1, len(self.agents)) for _ in config.seeds]
        window_steps = np.zeros(config.population, dtype=np.int64)  # [P] env steps of the windows' episodes
        closed: dict[int, dict[int, tuple]] = {}  # window end episode -> {member: (its window, mean length)}
        history = []
        bar = tqdm(total=config.episodes, initial=self.episodes_done, unit="ep", disable=not progress,
                   dynamic_ncols=True, desc=config.scenario)
        while self.episodes_done < config.episodes:
            in_budget = self.member_episodes < config.episodes  # [P] before this step's episodes end
            result = self.step()
            if result.critic_losses is not None:
                for p in np.flatnonzero(in_budget):
                    windows[p].add_updates(result.critic_losses[p : p + 1], result.actor_losses[p : p + 1], 1)
            for p, episode_returns, steps in result.finished:
                episode = int(self.member_episodes[p])
                if episode > config.episodes:
                    continue  # played on while a slower member finishes: not logged
                windows[p].add_episodes(episode_returns[None, None, :])  # [1, 1, N]
                window_steps[p] += steps
                if episode % config.log_every_episodes and episode != config.episodes:
                    continue
                if writer is not None:
                    writer.write(windows[p].rows(config.seeds[p : p + 1], self.agents, episode, has_goal=False))
                closed.setdefault(episode, {})[p] = (windows[p], window_steps[p] / windows[p].episodes)
                windows[p], window_steps[p] = LogWindow(1, len(self.agents)), 0
                if len(closed[episode]) == config.population:
                    members = closed.pop(episode)
                    row = _history_row([members[q][0] for q in range(config.population)], self.agents, episode,
                                       self.transitions, self.updates)
                    row["mean_episode_length"] = [float(members[q][1]) for q in range(config.population)]
                    history.append(row)
                    bar.set_postfix(reward=f"{np.mean(row['mean_episode_reward']):.2f}", updates=self.updates)
                    if log is not None:
                        length = np.mean(row["mean_episode_length"])  # worth a word where episodes end early
                        log(f"episode {row['episode']}: mean episode reward {np.mean(row['mean_episode_reward']):.3f} "
                            f"(updates {self.updates}" + (f", mean episode length {length:.1f})"
                                                          if length != config.episode_length else ")"))
            bar.update(self.episodes_done - bar.n)
        bar.close()
        if run_dir is not None:
            session.update(to_episode=self.episodes_done, wall_seconds=round(time.perf_counter() - started, 2))
            meta = folder.update_meta(sessions=meta.get("sessions", []) + [session])
        if evaluation_episodes > 0:
            self.evaluate(evaluation_episodes)
            if log is not None:
                for line in self.evaluation_lines():
                    log(line)
            if run_dir is not None:
                folder.write_evaluation(config, self.evaluation_rows(), evaluation_episodes=evaluation_episodes)
        if run_dir is not None:
            folder.update_meta(trained=self.episodes_done >= config.episodes)
        return history

    # ----------------------------------------------------------------------------------------------
    # Evaluation: the trained actors without exploration noise, and a uniform random policy.

    def evaluate(self, episodes: int) -> dict[str, np.ndarray]:
        """Each member's mean returns over `episodes` episodes, for its actors acting without exploration noise
        and for a uniform random policy, both from the same env resets (drawn from the member's seed).

        The trained actors act as maddpg/evaluation.py's do: deterministic sends mu(o) inside the Box;
        the Gumbel kinds send one relaxed sample (straight_through its one-hot; with config.eval_actions
        "greedy", each policy's argmax). The random policy draws each action uniformly from its space.
        An episode in progress is abandoned (training would start the next from a reset).

        Returns (also kept as self.evaluation): {"trained": [P, N], "random": [P, N]} mean returns per agent.
        """
        self.evaluation = {"trained": self._evaluate_policy(episodes, random_policy=False),
                           "random": self._evaluate_policy(episodes, random_policy=True)}
        self._observations = None
        self._episode_returns[:] = 0.0
        self._episode_steps[:] = 0
        return self.evaluation

    def _evaluate_policy(self, episodes: int, random_policy: bool) -> np.ndarray:
        """[P, N] mean returns over `episodes` episodes per member (see evaluate)."""
        config = self.config
        population, num_agents = config.population, len(self.agents)
        reset_seeds = [np.random.default_rng([int(seed), EVALUATION_SALT]).integers(2**31 - 1, size=episodes)
                       for seed in config.seeds]
        action_rngs = [np.random.default_rng([int(seed), EVALUATION_SALT, int(random_policy)]) for seed in config.seeds]
        per_member = [self._reset_member(p, int(reset_seeds[p][0])) for p in range(population)]
        totals = np.zeros((population, num_agents))
        finished = np.zeros(population, dtype=np.int64)
        steps = np.zeros(population, dtype=np.int64)
        while (finished < episodes).any():
            outputs = (None if random_policy  # else per agent [P, 1, A_i]
                       else [x.numpy() for x in self._outputs(self._stack_observations(per_member))])
            for p in np.flatnonzero(finished < episodes):
                env_actions = {agent: to_env_action(space, self._evaluation_action(
                                   i, None if outputs is None else outputs[i][p, 0], action_rngs[p]))
                               for i, (agent, space) in enumerate(zip(self.agents, self.action_spaces))}
                observations, rewards, _, ended = self._step_member(p, env_actions)
                totals[p] += rewards
                steps[p] += 1
                per_member[p] = observations
                if ended or steps[p] >= config.episode_length:
                    finished[p] += 1
                    steps[p] = 0
                    if finished[p] < episodes:
                        per_member[p] = self._reset_member(p, int(reset_seeds[p][finished[p]]))
        return totals / episodes

    def _evaluation_action(self, agent: int, outputs: np.ndarray | None, rng: np.random.Generator) -> np.ndarray:
        """[A_i] agent i's action: the trained actor's from its outputs [A_i], or (outputs None) a random one."""
        space = self.action_spaces[agent]
        low, high = self.action_bounds[agent]
        if outputs is None:
            if isinstance(space, spaces.Discrete):
                return np.eye(space.n)[rng.integers(space.n)]  # a one-hot: to_env_action takes its argmax
            return rng.uniform(low, high)
        action = evaluation_action(self.config.policy, outputs, rng, self.config.gumbel_temperature,
                                   greedy=self.config.eval_actions == "greedy")
        if self.config.policy == "deterministic":  # evaluation_action's mu lies in [0, 1]: map it onto the Box
            action = low + (high - low) * action
        return action

    def evaluation_rows(self) -> list[dict]:
        """evaluation.csv's rows (maddpg/results.py's schema): per seed the trained actors' mean episode reward
        (team: the sum over agents, and each agent's) and the random policy's (metric
        random_mean_episode_reward)."""
        rows = []
        for p, seed in enumerate(self.config.seeds):
            base = {"seed": seed, "episode": self.episodes_done}
            trained, random = self.evaluation["trained"][p], self.evaluation["random"][p]  # [N] each
            rows.append({**base, "role": "team", "metric": "mean_episode_reward", "value": trained.sum()})
            rows.append({**base, "role": "team", "metric": "random_mean_episode_reward", "value": random.sum()})
            for i, agent in enumerate(self.agents):
                rows.append({**base, "role": agent, "metric": "mean_episode_reward", "value": trained[i]})
                rows.append({**base, "role": agent, "metric": "random_mean_episode_reward", "value": random[i]})
        return rows

    def evaluation_lines(self) -> list[str]:
        """The evaluation as printed: mean episode reward, mean [95% bootstrap CI] over seeds, trained and random."""
        lines = []
        for label, key in (("trained, no exploration noise", "trained"), ("uniform random policy", "random")):
            cell = format_cell(*mean_and_ci(self.evaluation[key].sum(axis=1)), digits=2)
            lines.append(f"evaluation, {label}: mean episode reward {cell}")
        return lines


def _history_row(windows: Sequence[LogWindow], agents, episode: int, env_steps: int, updates: int) -> dict:
    """The members' closed windows (one LogWindow(1, N) each) as train()'s history row (plain lists, so that
    two histories compare with ==)."""
    mean_returns = np.concatenate([window.mean_returns() for window in windows])  # [P, N]

    def by_agent(values):  # [P, N] -> {agent: [P]}
        return {agent: values[:, i].tolist() for i, agent in enumerate(agents)}

    row = {
        "episode": episode,
        "env_steps": env_steps,
        "updates": updates,
        "mean_episode_reward": mean_returns.sum(axis=1).tolist(),
        "agent_rewards": by_agent(mean_returns),
    }
    if all(window.updates for window in windows):  # no NaN placeholders
        row["critic_loss"] = by_agent(np.concatenate([w.critic_loss / w.updates for w in windows]))
        row["actor_loss"] = by_agent(np.concatenate([w.actor_loss / w.updates for w in windows]))
    return row


def train_parallel_env(make_env: Callable[[], object], config: TrainConfig, *, progress: bool = True,
                       log: Callable[[str], None] | None = print, run_dir: Path | None = None,
                       evaluation_episodes: int = 0, soft_vectors: bool = True):
    """Trains MADDPG/DDPG (config.critic_kinds, one per agent) on a PettingZoo ParallelEnv.

    Args:
        make_env: builds a fresh ParallelEnv; called once per seed in config.seeds.
        config: the run's settings (num_envs is not used; episode_length caps episodes).
        progress: show a progress bar.
        log: called with one line per log window, and the evaluation's lines (None: silent).
        run_dir: a run folder for config.json, meta.json, metrics.csv and evaluation.csv (None: nothing is
            written).
        evaluation_episodes: episodes per seed of the evaluation after training (0: none).
        soft_vectors: whether the env's Box(0, 1) actions are mpe2's soft vectors (check_action_spaces).

    Returns:
        (learner, history): the trained Learner and ParallelEnvTrainer.train's rows.

    Raises:
        ValueError: unsupported spaces, or an agent set that changes mid-episode.
        results.UsageError: run_dir holds a run of another config.
        TrainingDiverged: a loss became NaN or Inf.
    """
    trainer = ParallelEnvTrainer(make_env, config, soft_vectors=soft_vectors)
    history = trainer.train(progress=progress, log=log, run_dir=run_dir, evaluation_episodes=evaluation_episodes)
    return trainer.learner, history


# --------------------------------------------------------------------------------------------------
# The env from the command line: MODULE.parallel_env(**kwargs).


def load_env_module(module_name: str):
    """The env module, imported; ValueError when it does not import or has no parallel_env().

    MODULE may also name an attribute of an importable package that holds parallel_env (Gymnasium-Robotics'
    `gymnasium_robotics.mamujoco_v1` is such an attribute, not a submodule).
    """
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        package_name, _, attribute = module_name.rpartition(".")
        module = _attribute_of(package_name, attribute) if package_name else None
        if module is None:
            raise ValueError(f"cannot import env module {module_name!r}: {error}") from None
    if not callable(getattr(module, "parallel_env", None)):
        raise ValueError(f"module {module_name!r} has no parallel_env() (expected a PettingZoo env module)")
    return module


def _attribute_of(package_name: str, attribute: str):
    """package.attribute, or None when the package does not import or lacks it."""
    try:
        return getattr(importlib.import_module(package_name), attribute, None)
    except ImportError:
        return None


def parse_env_kwargs(text: str) -> dict:
    """--env_kwargs as a dict; ValueError unless it is a JSON object."""
    try:
        kwargs = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"--env_kwargs is not valid JSON ({error}): {text!r}; pass a JSON object, "
                         "e.g. '{\"max_cycles\": 100}'") from None
    if not isinstance(kwargs, dict):
        raise ValueError(f"--env_kwargs must be a JSON object of keyword arguments, got {text!r}")
    return kwargs


def env_parameters(module) -> dict[str, inspect.Parameter] | None:
    """The keyword parameters MODULE.parallel_env takes, or None when its signatures do not tell.

    PettingZoo's parallel_env is parallel_wrapper_fn(env)(**kwargs), which hands them on to raw_env; mpe2's
    raw_env names them, while sisl's raw_env(*args, **kwargs) hands them on to the module's `_env` (the base
    env class). The first signature in that chain that names parameters is taken.
    """
    raw_env = getattr(module, "raw_env", None)
    chain = [module.parallel_env, raw_env]
    if raw_env is not None:
        chain.append(getattr(sys.modules.get(getattr(raw_env, "__module__", ""), None), "_env", None))
    for function in chain:
        if function is None:
            continue
        try:
            parameters = inspect.signature(function).parameters
        except (TypeError, ValueError):
            return None
        named = {name: parameter for name, parameter in parameters.items()
                 if parameter.kind in (parameter.POSITIONAL_OR_KEYWORD, parameter.KEYWORD_ONLY) and name != "self"}
        if named or not any(parameter.kind == parameter.VAR_KEYWORD for parameter in parameters.values()):
            return named
    return None


@dataclasses.dataclass(frozen=True)
class EnvChoice:
    """What the command line builds: MODULE.parallel_env(**kwargs), and what follows from the module."""

    module_name: str
    kwargs: dict
    make_env: Callable[[], object]
    is_mpe: bool
    max_cycles: int | None  # the episode length the env enforces, where its kwargs or signature say


def env_choice(module_name: str, policy: str = "gumbel_softmax", dynamics: str = "mpe2",
               env_kwargs: Mapping | None = None, continuous: bool | None = None) -> EnvChoice:
    """How to build the env for a policy kind; ValueError if unusable.

    continuous_actions goes only to envs that take it: the value of --env_kwargs or `continuous` where given,
    else True for deterministic and for mpe2 modules, False otherwise. mpe2 modules get max_cycles=25 unless
    env_kwargs sets it. dynamics "paper" (mpe2 modules with continuous actions only) applies
    envs.reference.use_paper_dynamics to every env built.
    """
    module = load_env_module(module_name)
    kwargs = dict(env_kwargs or {})
    is_mpe = module_name.startswith(MPE_PREFIX)
    parameters = env_parameters(module)

    def takes(name: str) -> bool:  # unknown signatures: let the env itself refuse a keyword it lacks
        return parameters is None or name in parameters

    if continuous is not None:
        if "continuous_actions" in kwargs and bool(kwargs["continuous_actions"]) != continuous:
            raise ValueError(f"--env_kwargs sets continuous_actions={kwargs['continuous_actions']} but "
                             f"--{'' if continuous else 'no'}continuous says otherwise; give it once")
        kwargs["continuous_actions"] = continuous
    if "continuous_actions" in kwargs:
        if not takes("continuous_actions"):
            raise ValueError(f"{module_name}.parallel_env takes no continuous_actions; drop "
                             "--continuous/--nocontinuous (and continuous_actions from --env_kwargs)")
    elif parameters is not None and "continuous_actions" in parameters:
        kwargs["continuous_actions"] = policy == "deterministic" or is_mpe
    if is_mpe and takes("max_cycles"):
        kwargs.setdefault("max_cycles", MPE_MAX_CYCLES)
    max_cycles = kwargs.get("max_cycles")
    if max_cycles is None and parameters is not None and "max_cycles" in parameters:
        default = parameters["max_cycles"].default
        max_cycles = default if isinstance(default, int) else None

    def build():
        try:
            return module.parallel_env(**kwargs)
        except TypeError as error:  # an unknown or mistyped keyword: the user's --env_kwargs
            raise ValueError(f"cannot build {module_name}.parallel_env(**{json.dumps(kwargs)}): {error}") from None

    make_env = build
    if dynamics == "paper":
        if not is_mpe or not kwargs.get("continuous_actions"):
            raise ValueError(f"--dynamics=paper applies to mpe2 env modules with continuous actions only, not "
                             f"{module_name!r}{' with continuous_actions=False' if is_mpe else ''}; "
                             "use --dynamics=mpe2")
        from envs.reference import use_paper_dynamics

        def make_env():
            env = build()
            use_paper_dynamics(env, module_name.split(".", 1)[1])
            return env

    return EnvChoice(module_name, kwargs, make_env, is_mpe, max_cycles)


# --------------------------------------------------------------------------------------------------
# Command line.

# --smoke: the same code path in seconds (episodes capped at 25 steps, two evaluation episodes per seed).
SMOKE_OVERRIDES = dict(episodes=10, hidden_units=16, batch_size=32, warmup_transitions=100, update_every=25,
                       log_every_episodes=5, checkpoint_every_episodes=5, episode_length=25)
SMOKE_EVAL_EPISODES = 2
# The TrainConfig fields that are flags of this loop (help and defaults from TrainConfig).
CONFIG_FLAGS = ("policy", "exploration_noise", "eval_actions", "hidden_units", "learning_rate", "gamma", "tau",
                "batch_size", "buffer_capacity", "update_every", "warmup_transitions", "gumbel_temperature")


def build_config(options, num_agents: int, overrides: Mapping | None = None,
                 episode_length: int | None = None) -> TrainConfig:
    """The CLI's TrainConfig; ValueError on impossible values.

    overrides: TrainConfig fields the user passed as flags (CONFIG_FLAGS, episode_length), applied after --smoke's.
    episode_length: the env's own episode length, the default cap on episode steps (None: TrainConfig's;
        --smoke caps it at 25).
    """
    if options.seed < 0:
        raise ValueError(f"--seed must be >= 0, got {options.seed}")
    seeds = getattr(options, "seeds", 1)
    if seeds <= 0:
        raise ValueError(f"--seeds must be positive, got {seeds}")
    fields = dict(episodes=options.episodes, log_every_episodes=options.log_every,
                  checkpoint_every_episodes=options.log_every)
    if episode_length is not None:
        fields["episode_length"] = episode_length
    if options.smoke:
        fields.update(SMOKE_OVERRIDES)
    fields.update(overrides or {})
    return TrainConfig(experiment="pettingzoo", scenario=options.env, dynamics=options.dynamics,
                       algorithm=options.algorithm, critic_kinds=(options.algorithm,) * num_agents,
                       seeds=tuple(range(options.seed, options.seed + seeds)), num_envs=1,
                       jit_compile=getattr(options, "jit_compile", False),
                       **fields)


def _config_help(name: str) -> str:
    field = TrainConfig.__dataclass_fields__[name]
    return f"{field.metadata['help']} [source: {field.metadata['source']}]"


def _define_flags(flags) -> None:
    flags.DEFINE_string("env", "mpe2.simple_reference_v3", "PettingZoo env module with a parallel_env() factory")
    flags.DEFINE_string("env_kwargs", "{}", "keyword arguments of MODULE.parallel_env, as a JSON object, e.g. "
                        "'{\"n_walkers\": 2}' (mpe2 modules: max_cycles defaults to 25)")
    flags.DEFINE_integer("episodes", 2000, "training episodes per seed (the default warm-up is 25600 transitions)")
    flags.DEFINE_integer("seed", 0, "first seed (networks, action noise and env resets)")
    flags.DEFINE_integer("seeds", 1, "number of seeds, seed .. seed + seeds - 1, trained side by side")
    flags.DEFINE_boolean("continuous", None, "continuous_actions of envs that take it (default: from --policy: True "
                         "for deterministic and on mpe2 modules, else False)")
    flags.DEFINE_enum("dynamics", "mpe2", ["paper", "mpe2"],
                      "mpe2: the env as installed; paper: for mpe2 modules with continuous actions, the 2017 "
                      "physics and rewards the paper ran on (envs.reference.use_paper_dynamics)")
    flags.DEFINE_enum("algorithm", "maddpg", list(CRITIC_KINDS), "critic of every agent")
    flags.DEFINE_integer("episode_length", None, "cap on an episode's steps (default: the env's max_cycles, 25 on "
                         "mpe2 modules; needed for an env whose signature gives none)")
    flags.DEFINE_integer("eval_episodes", 100, "evaluation episodes per seed after training, of the trained actors "
                         "and of a uniform random policy (0: no evaluation)")
    flags.DEFINE_integer("log_every", 100, "print the mean episode reward every this many episodes")
    flags.DEFINE_boolean("smoke", False, "a tiny run of the same code path, in seconds (its folder is named "
                         "smoke_*; the hyperparameter flags passed beside it still apply)")
    flags.DEFINE_string("results_dir", str(REPO_ROOT / "runs"), "where <results_dir>/pettingzoo/<run_id>/ goes "
                        "(default runs/, untracked, as the experiment scripts': results/ holds committed runs only)")
    flags.DEFINE_string("run_id", None, "run folder name (default: [<dynamics>_]<env module>_<algorithm>_<policy>_"
                        "<box|discrete>_s<first seed>[-<last seed>]_ep<episodes>, smoke_ prefixed with --smoke)")
    flags.DEFINE_boolean("jit_compile", False, "XLA-compile the learner's update (faster per update on CPU, at a "
                         "compile of seconds to a minute at the start)")
    flags.DEFINE_boolean("progress", True, "show a progress bar")
    flags.DEFINE_boolean("verbose", False, "keep TensorFlow's start-up and C++ logging (silenced by default)")
    defaults = TrainConfig()
    for name in CONFIG_FLAGS:
        default, help_text = getattr(defaults, name), _config_help(name)
        if name == "policy":
            flags.DEFINE_enum(name, default, list(POLICIES), help_text)
        elif name == "eval_actions":
            flags.DEFINE_enum(name, default, list(EVAL_ACTIONS), help_text)
        elif isinstance(default, int):
            flags.DEFINE_integer(name, default, help_text)
        else:
            flags.DEFINE_float(name, default, help_text)


def run_dir_for(options, config: TrainConfig, choice: EnvChoice, kind: str) -> Path:
    """<results_dir>/pettingzoo/<run_id>: --run_id, else [<dynamics>_]<env module>_<algorithm>_<policy>_<kind>_
    s<first>[-<last>]_ep<episodes> (the dynamics prefix on mpe2 modules only)."""
    seeds = config.seeds
    seed_label = f"s{seeds[0]}" if len(seeds) == 1 else f"s{seeds[0]}-{seeds[-1]}"
    prefix = f"{config.dynamics}_" if choice.is_mpe else ""
    run_id = options.run_id or (f"{prefix}{options.env}_{config.algorithm}_{config.policy}_{kind}_{seed_label}_"
                                f"ep{config.episodes}")
    if options.smoke and not options.run_id:
        run_id = f"smoke_{run_id}"
    return Path(options.results_dir) / config.experiment / run_id


def main(argv: Sequence[str] | None = None) -> int:
    """The CLI; returns the exit code (2 with one 'error: ...' line on bad input)."""
    from absl import flags

    _define_flags(flags)
    argv = list(argv if argv is not None else sys.argv)
    remaining = parse_flags(argv, __doc__, sys.modules[__name__])
    if len(remaining) > 1:
        print(f"error: unexpected arguments {remaining[1:]}; see --help", file=sys.stderr)
        return 2
    options = flags.FLAGS
    try:
        overrides = {name: options[name].value for name in CONFIG_FLAGS if options[name].present}
        policy = options.policy
        choice = env_choice(options.env, policy, options.dynamics, parse_env_kwargs(options.env_kwargs),
                            options.continuous)
        if options.episode_length is not None:
            overrides["episode_length"] = options.episode_length
        elif choice.max_cycles is None:
            raise ValueError(f"{options.env}.parallel_env has no max_cycles default to cap episodes by; pass "
                             "--episode_length")
        if options.eval_episodes < 0:
            raise ValueError(f"--eval_episodes must be >= 0, got {options.eval_episodes}")
        eval_episodes = SMOKE_EVAL_EPISODES if options.smoke and not options["eval_episodes"].present \
            else options.eval_episodes
        if eval_episodes:
            overrides["eval_episodes"] = eval_episodes
        env = choice.make_env()
        agents = list(env.possible_agents)
        action_spaces = [env.action_space(agent) for agent in agents]
        check_action_spaces(policy, agents, action_spaces, soft_vectors=choice.is_mpe)
        config = build_config(options, len(agents), overrides, choice.max_cycles)
        run_dir = run_dir_for(options, config, choice, action_kind(action_spaces))
        folder = RunFolder(run_dir)
        if folder.trained:
            folder.open_for(config)  # a folder of another config is refused as such
            raise results.UsageError(f"{run_dir} is already trained (this loop keeps no checkpoint to resume "
                                     "from); pass another --run_id or remove that folder")
        recorded = folder.meta.get("env_kwargs")
        if recorded is not None and recorded != choice.kwargs:
            raise results.UsageError(f"{run_dir} holds a run with env kwargs {json.dumps(recorded)}, not "
                                     f"{json.dumps(choice.kwargs)}; pass another --run_id or remove that folder")
        try:  # before anything trains, so an unwritable --results_dir costs nothing
            folder.open_for(config)
            folder.update_meta(env_module=options.env, env_kwargs=choice.kwargs)
        except OSError as error:
            raise results.UsageError(f"cannot write results to {run_dir.parent} ({error.strerror or error}); "
                                     "pass a writable --results_dir") from None
        print(f"{options.env} {json.dumps(choice.kwargs)}: {options.algorithm}, policy {config.policy}, seeds "
              f"{list(config.seeds)}, {config.episodes} episodes of at most {config.episode_length} steps -> {run_dir}",
              flush=True)
        train_parallel_env(choice.make_env, config, progress=options.progress, run_dir=run_dir,
                           evaluation_episodes=eval_episodes, soft_vectors=choice.is_mpe)
        print(f"metrics written to {run_dir / results.METRICS_FILE}", flush=True)
    except (ValueError, results.UsageError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except TrainingDiverged as error:
        print(f"error: training diverged: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
