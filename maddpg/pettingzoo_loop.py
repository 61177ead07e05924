"""MADDPG / DDPG on any PettingZoo ParallelEnv, through a plain per-step loop.

    python -m maddpg.pettingzoo_loop --env mpe2.simple_reference_v3 [--episodes 2000] [--seed 0]
        [--continuous/--nocontinuous] [--algorithm maddpg|ddpg] [--log_every 100] [--smoke]
        [--results_dir runs] [--run_id <dynamics>_<env module>_<algorithm>_s<seed>_ep<episodes>]

The run folder <results_dir>/pettingzoo/<run_id>/ gets config.json, meta.json and metrics.csv, in the
schema and with the metrics of the batched loop (maddpg/results.py, maddpg/run_logging.py).

The same `Learner` as the batched path, driven by the ordinary PettingZoo loop: each env step makes ONE
tf.function call that computes every agent's action (numpy observations in, numpy soft actions out), the
env steps in Python, the transition goes into the replay buffer (one small tf.function), and once the
buffer holds `warmup_transitions`, every `update_every` transitions run one `learner.update` (a
tf.function). This is also the "plain loop" that benchmarks/plain_vs_batched.py times the batched path
against.

What the env must be:
- a fixed agent set: `reset` yields every agent of `possible_agents`, and no agent leaves or joins until
  the episode ends for all of them at once (the learner has one actor and one critic per agent, and a
  MADDPG critic reads every agent's observation and action). Anything else raises ValueError.
- Box observation spaces (flattened to float32 vectors).
- Box or Discrete action spaces. Every actor outputs a relaxed Gumbel-softmax sample s on the simplex,
  as in the reference code:
  * Box: s (reshaped to the space's shape) is sent as is, clipped into the box. For mpe2's
    continuous_actions=True spaces, Box(0, 1), that is exactly the reference's soft action. For a Box
    whose meaning is not a soft one-hot (e.g. torques in [-1, 1]) the policy can only choose points of
    the simplex: this is MADDPG for communication/particle tasks, not a general continuous-control agent.
  * Discrete(n): the env gets argmax(s) (+ the space's start). The argmax of a Gumbel-softmax sample is
    an exact draw from softmax(logits) (the Gumbel-max trick), so acting is the categorical policy.
    The replay stores s itself, not one_hot(argmax(s)): the critic is then trained on the same kind of
    input that the actor loss and the target actions feed it (soft samples), and because the executed
    action is a deterministic function of s, Q(x, s) is still a well-defined value of what happened.
    Storing one-hots would train the critic on simplex corners only and query it elsewhere.

Episodes end when every agent is terminated or truncated, or after `config.episode_length` steps. A
termination (not a truncation) stops bootstrapping: y_i = r_i + gamma * c_i * Q'_i, with c_i = 0 when
agent i terminated on that step. The shared ReplayBuffer has no done field, so `_ContinuationReplay`
stores c_i beside the rewards and `_ContinuationLearner` applies it; with no terminations (mpe2 only
truncates) the targets are exactly the shared learner's.

Population: P = len(config.seeds) members train side by side, each on its own env (make_env() is called
P times), own networks, replay, random stream and env seeds; all P envs step in lockstep, so their
episodes must end on the same step (always true for mpe2, which truncates at max_cycles); a mismatch
raises ValueError. config.num_envs is not used: each member runs one env.
"""

from __future__ import annotations

from maddpg.cli import quiet_tensorflow

if __name__ == "__main__":
    quiet_tensorflow()  # before TensorFlow is imported below; --verbose keeps its logging

import dataclasses  # noqa: E402
import importlib  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable, Sequence  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from gymnasium import spaces  # noqa: E402
from tqdm import tqdm  # noqa: E402

from maddpg.cli import parse_flags  # noqa: E402
from maddpg.config import CRITIC_KINDS, TrainConfig  # noqa: E402
from maddpg.learner import Learner  # noqa: E402
from maddpg.population_random import PopulationRandom  # noqa: E402
from maddpg.replay import ReplayBuffer  # noqa: E402
from maddpg import results  # noqa: E402
from maddpg.run_folder import RunFolder  # noqa: E402
from maddpg.run_logging import LogWindow, TrainingDiverged, check_finite_losses  # noqa: E402  (shared with run.py)

REPO_ROOT = Path(__file__).resolve().parent.parent
# Separates the env-reset seed stream from every other stream drawn from the same config seed.
RESET_SALT = 31_337


# --------------------------------------------------------------------------------------------------
# Spaces: sizes and the conversion of a soft action into what the env accepts.


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


def to_env_action(space, soft_action: np.ndarray):
    """What the env gets for one soft action [A]: clipped into a Box, or the argmax index for Discrete."""
    if isinstance(space, spaces.Discrete):
        return int(np.argmax(soft_action)) + int(space.start)
    # float32 (the space's dtype): mpe2 warns on every float64 action.
    return np.clip(soft_action.reshape(space.shape), space.low, space.high).astype(space.dtype)


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
    """One episode of every member: returns [P, N], loss sums [P, N] over its updates, counts."""

    returns: np.ndarray
    critic_loss_sum: np.ndarray
    actor_loss_sum: np.ndarray
    updates: int
    steps: int


class ParallelEnvTrainer:
    """MADDPG/DDPG learner, replay and P envs (one per seed), trained by a plain per-step loop."""

    def __init__(self, make_env: Callable[[], object], config: TrainConfig):
        """Builds the envs (make_env() once per seed), the learner and the replay buffer.

        Raises:
            ValueError: unsupported spaces, envs with different agents, or a number of critic kinds other
                than the number of agents.
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
        self.rng = PopulationRandom(config.seeds)
        self.learner = _ContinuationLearner(config, self.observation_sizes, self.action_sizes)
        self.buffer = _ContinuationReplay(
            config.population, min(config.buffer_capacity, config.episodes * config.episode_length),
            self.observation_sizes, self.action_sizes)
        self._reset_rngs = [np.random.default_rng([int(seed), RESET_SALT]) for seed in config.seeds]
        self.transitions = 0  # per member
        self.updates = 0
        self.episodes_done = 0  # per member
        observation_specs = [tf.TensorSpec([config.population, 1, size], tf.float32)
                             for size in self.observation_sizes]
        self._act = tf.function(self._act_graph, input_signature=[observation_specs])
        num_agents = len(self.agents)
        # One transition as one row: every extra argument of a tf.function call costs a conversion, and
        # one array instead of 3N + 1 halves the store's call overhead.
        self._transition_widths = (self.observation_sizes + self.action_sizes + [2 * num_agents]
                                   + self.observation_sizes)
        transition_spec = tf.TensorSpec([config.population, 1, sum(self._transition_widths)], tf.float32)
        self._store = tf.function(self._store_graph, input_signature=[transition_spec])
        self._update = tf.function(self._update_graph, jit_compile=config.jit_compile or None)

    def _act_graph(self, observations):
        """Per agent [P, 1, O_i] -> per agent [P, 1, A_i] soft actions (decentralised: actor i sees o_i)."""
        return self.learner.act(observations, self.rng)

    def _store_graph(self, transition):
        """Writes one transition row [P, 1, W] = (o_1..o_N, a_1..a_N, r_1..r_N c_1..c_N, o'_1..o'_N)."""
        parts = tf.split(transition, self._transition_widths, axis=-1)
        n = len(self.agents)
        self.buffer.add(parts[:n], parts[n : 2 * n], parts[2 * n], parts[2 * n + 1 :])

    def _update_graph(self):
        """One update of every agent; (critic_losses [P, N], actor_losses [P, N])."""
        return self.learner.update(self.buffer, self.rng)

    def _reset(self) -> list[np.ndarray]:
        """Resets every member's env from its own seed stream; per agent [P, 1, O_i] observations."""
        per_member = []
        for env, reset_rng in zip(self.envs, self._reset_rngs):
            observations, _ = env.reset(seed=int(reset_rng.integers(2**31 - 1)))
            self._check_agents(env.agents, "after reset")
            self._check_agents(observations, "in reset's observations")
            per_member.append(observations)
        return self._stack_observations(per_member)

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

    def _env_step(self, soft_actions: Sequence[np.ndarray]):
        """Steps every member's env with its agents' soft actions [P, 1, A_i].

        Returns:
            (next_observations per agent [P, 1, O_i], rewards [P, 1, N], continuations [P, 1, N],
            ended: whether the episode is over, the same for every member).
        """
        per_member, rewards, continuations, ended = [], [], [], []
        for p, env in enumerate(self.envs):
            actions = {agent: to_env_action(space, soft[p, 0])
                       for agent, space, soft in zip(self.agents, self.action_spaces, soft_actions)}
            observations, member_rewards, terminations, truncations, _ = env.step(actions)
            self._check_agents(observations, "in step's observations")
            done = [bool(terminations.get(a, False)) or bool(truncations.get(a, False)) for a in self.agents]
            if not all(done):  # mid-episode: nobody may leave (or join)
                self._check_agents(env.agents, "during an episode")
                if any(done):
                    raise ValueError(f"agents {[a for a, d in zip(self.agents, done) if d]} ended while others "
                                     "play on; this loop needs every agent's episode to end on the same step")
            per_member.append(observations)
            rewards.append([float(member_rewards.get(a, 0.0)) for a in self.agents])
            continuations.append([0.0 if terminations.get(a, False) else 1.0 for a in self.agents])
            ended.append(all(done))
        if len(set(ended)) > 1:
            raise ValueError("the population's envs ended their episodes on different steps; with several seeds "
                             "the envs must have equal episode lengths (use one seed otherwise)")
        rewards = np.asarray(rewards, np.float32)[:, None, :]  # [P, 1, N]
        continuations = np.asarray(continuations, np.float32)[:, None, :]  # [P, 1, N]
        return self._stack_observations(per_member), rewards, continuations, ended[0]

    def run_episode(self) -> EpisodeResult:
        """Plays one episode in every member's env, storing each step and updating when due."""
        config = self.config
        population, num_agents = config.population, len(self.agents)
        returns = np.zeros((population, num_agents))
        critic_loss_sum = np.zeros((population, num_agents))
        actor_loss_sum = np.zeros((population, num_agents))
        updates = steps = 0
        observations = self._reset()
        for steps in range(1, config.episode_length + 1):
            soft_actions = [a.numpy() for a in self._act(observations)]  # per agent [P, 1, A_i]
            next_observations, rewards, continuations, ended = self._env_step(soft_actions)
            self._store(np.concatenate([*observations, *soft_actions, rewards, continuations, *next_observations],
                                       axis=-1))
            self.transitions += 1
            returns += rewards[:, 0]
            if self.transitions % config.update_every == 0 and int(self.buffer.size) >= config.warmup_transitions:
                critic_losses, actor_losses = (x.numpy() for x in self._update())  # [P, N] each
                self._check_finite(critic_losses, actor_losses)
                critic_loss_sum += critic_losses
                actor_loss_sum += actor_losses
                updates += 1
            observations = next_observations
            if ended:
                break
        self.updates += updates
        self.episodes_done += 1
        return EpisodeResult(returns, critic_loss_sum, actor_loss_sum, updates, steps)

    def _check_finite(self, critic_losses: np.ndarray, actor_losses: np.ndarray) -> None:
        check_finite_losses(critic_losses, actor_losses, self.config.seeds, self.agents,
                            f"at update {self.updates + 1}", checkpoints=False)

    def train(self, *, progress: bool = True, log: Callable[[str], None] | None = print,
              run_dir: Path | None = None) -> list[dict]:
        """Runs episodes until config.episodes per member are done; returns one history row per log window.

        A row: episode (episodes done), env_steps (per member), updates (so far), mean_episode_reward
        ([P]: the sum over agents of each episode's return, averaged over the window, as the reference
        logs it), agent_rewards ({agent: [P]}), and only if the window had an update, critic_loss /
        actor_loss ({agent: [P]} means over the window's updates).

        run_dir: when given, a run folder (maddpg/run_folder.py) that gets config.json, meta.json and the
        windows' rows in metrics.csv, the batched loop's schema and metrics (the plain loop writes no
        checkpoints, so a rerun starts over and rewrites metrics.csv).
        """
        config = self.config
        writer = None
        if run_dir is not None:
            run_dir = Path(run_dir)
            folder = RunFolder(run_dir)
            folder.open_for(config)
            meta = folder.update_meta(trained=False, dynamics=config.dynamics, loop="pettingzoo")
            writer = folder.metrics_writer(config)
            writer.truncate_after(self.episodes_done)  # rows of an earlier, unfinished attempt are made again
            session = {"started_at": results.now(), "from_episode": self.episodes_done}
            started = time.perf_counter()
        window = LogWindow(config.population, len(self.agents))
        history = []
        bar = tqdm(total=config.episodes, initial=self.episodes_done, unit="ep", disable=not progress,
                   dynamic_ncols=True, desc=config.scenario)
        while self.episodes_done < config.episodes:
            episode = self.run_episode()
            window.add_episodes(episode.returns[:, None, :])  # [P, 1, N]
            window.add_updates(episode.critic_loss_sum, episode.actor_loss_sum, episode.updates)
            bar.update(1)
            if self.episodes_done % config.log_every_episodes == 0 or self.episodes_done == config.episodes:
                row = _history_row(window, self.agents, self.episodes_done, self.transitions, self.updates)
                history.append(row)
                if writer is not None:
                    writer.write(window.rows(config.seeds, self.agents, self.episodes_done, has_goal=False))
                bar.set_postfix(reward=f"{np.mean(row['mean_episode_reward']):.2f}", updates=self.updates)
                if log is not None:
                    log(f"episode {row['episode']}: mean episode reward "
                        f"{np.mean(row['mean_episode_reward']):.3f} (updates {self.updates})")
                window = LogWindow(config.population, len(self.agents))
        bar.close()
        if run_dir is not None:
            session.update(to_episode=self.episodes_done, wall_seconds=round(time.perf_counter() - started, 2))
            folder.update_meta(trained=self.episodes_done >= config.episodes,
                               sessions=meta.get("sessions", []) + [session])
        return history


def _history_row(window: LogWindow, agents, episode: int, env_steps: int, updates: int) -> dict:
    """The window as train()'s history row (plain lists, so that two histories compare with ==)."""
    mean_returns = window.mean_returns()  # [P, N]

    def by_agent(values):  # [P, N] -> {agent: [P]}
        return {agent: values[:, i].tolist() for i, agent in enumerate(agents)}

    row = {
        "episode": episode,
        "env_steps": env_steps,
        "updates": updates,
        "mean_episode_reward": mean_returns.sum(axis=1).tolist(),
        "agent_rewards": by_agent(mean_returns),
    }
    if window.updates:  # no NaN placeholders
        row["critic_loss"] = by_agent(window.critic_loss / window.updates)
        row["actor_loss"] = by_agent(window.actor_loss / window.updates)
    return row


def train_parallel_env(make_env: Callable[[], object], config: TrainConfig, *, progress: bool = True,
                       log: Callable[[str], None] | None = print, run_dir: Path | None = None):
    """Trains MADDPG/DDPG (config.critic_kinds, one per agent) on a PettingZoo ParallelEnv.

    Args:
        make_env: builds a fresh ParallelEnv; called once per seed in config.seeds.
        config: the run's settings (num_envs and scenario are not used; episode_length caps episodes).
        progress: show a progress bar.
        log: called with one line per log window (None: silent).
        run_dir: a run folder for config.json, meta.json and metrics.csv (None: nothing is written).

    Returns:
        (learner, history): the trained Learner and ParallelEnvTrainer.train's rows.

    Raises:
        ValueError: unsupported spaces, or an agent set that changes mid-episode.
        results.UsageError: run_dir holds a run of another config.
        TrainingDiverged: a loss became NaN or Inf.
    """
    trainer = ParallelEnvTrainer(make_env, config)
    history = trainer.train(progress=progress, log=log, run_dir=run_dir)
    return trainer.learner, history


# --------------------------------------------------------------------------------------------------
# Command line.

# --smoke: the same code path in seconds.
SMOKE_OVERRIDES = dict(episodes=10, hidden_units=16, batch_size=32, warmup_transitions=100, update_every=25,
                       log_every_episodes=5, checkpoint_every_episodes=5)


def env_factory(module_name: str, continuous: bool, dynamics: str = "mpe2") -> Callable[[], object]:
    """make_env for `<module>.parallel_env(max_cycles=25, continuous_actions=...)`; ValueError if unusable.

    dynamics "paper" (mpe2 modules with continuous actions only) applies envs.reference.use_paper_dynamics
    to every env the factory builds.
    """
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise ValueError(f"cannot import env module {module_name!r}: {error}") from None
    if not callable(getattr(module, "parallel_env", None)):
        raise ValueError(f"module {module_name!r} has no parallel_env() (expected a PettingZoo env module)")
    if dynamics == "mpe2":
        return lambda: module.parallel_env(max_cycles=25, continuous_actions=continuous)
    if not module_name.startswith("mpe2.") or not continuous:
        raise ValueError(f"--dynamics=paper applies to mpe2 env modules with continuous actions only, not "
                         f"{module_name!r}{'' if continuous else ' with --nocontinuous'}; use --dynamics=mpe2")
    from envs.reference import use_paper_dynamics

    def make_paper_env():
        env = module.parallel_env(max_cycles=25, continuous_actions=True)
        use_paper_dynamics(env, module_name.split(".", 1)[1])
        return env

    return make_paper_env


def build_config(options, num_agents: int) -> TrainConfig:
    """The CLI's TrainConfig; ValueError on impossible values."""
    if options.seed < 0:
        raise ValueError(f"--seed must be >= 0, got {options.seed}")
    fields = dict(episodes=options.episodes, log_every_episodes=options.log_every,
                  checkpoint_every_episodes=options.log_every)
    if options.smoke:
        fields.update(SMOKE_OVERRIDES)
    return TrainConfig(experiment="pettingzoo", scenario=options.env, dynamics=options.dynamics,
                       algorithm=options.algorithm, critic_kinds=(options.algorithm,) * num_agents,
                       seeds=(options.seed,), num_envs=1, jit_compile=False, **fields)


def _define_flags(flags) -> None:
    flags.DEFINE_string("env", "mpe2.simple_reference_v3", "PettingZoo env module with a parallel_env() factory")
    flags.DEFINE_integer("episodes", 2000, "training episodes (the default warm-up, 25600 transitions, is 1024)")
    flags.DEFINE_integer("seed", 0, "seed of networks, action noise and env resets")
    flags.DEFINE_boolean("continuous", True, "continuous_actions=True (Box soft actions) or Discrete")
    flags.DEFINE_enum("dynamics", "mpe2", ["paper", "mpe2"],
                      "mpe2: the env as installed; paper: for mpe2 modules with continuous actions, the 2017 "
                      "physics and rewards the paper ran on (envs.reference.use_paper_dynamics)")
    flags.DEFINE_enum("algorithm", "maddpg", list(CRITIC_KINDS), "critic of every agent")
    flags.DEFINE_integer("log_every", 100, "print the mean episode reward every this many episodes")
    flags.DEFINE_boolean("smoke", False, "a tiny run of the same code path, in seconds (its folder is named smoke_*)")
    flags.DEFINE_string("results_dir", str(REPO_ROOT / "runs"), "where <results_dir>/pettingzoo/<run_id>/ goes "
                        "(default runs/, untracked, as the experiment scripts': results/ holds committed runs only)")
    flags.DEFINE_string("run_id", None, "run folder name (default: <dynamics>_<env module>_<algorithm>_s<seed>_"
                        "ep<episodes>, smoke_ prefixed with --smoke)")
    flags.DEFINE_boolean("progress", True, "show a progress bar")
    flags.DEFINE_boolean("verbose", False, "keep TensorFlow's start-up and C++ logging (silenced by default)")


def run_dir_for(options, config: TrainConfig) -> Path:
    """<results_dir>/pettingzoo/<run_id>: --run_id, else <dynamics>_<env module>_<algorithm>_s<seed>_ep<episodes>."""
    run_id = options.run_id or (f"{config.dynamics}_{options.env}_{config.algorithm}_s{config.seeds[0]}_"
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
        make_env = env_factory(options.env, options.continuous, options.dynamics)
        config = build_config(options, len(make_env().possible_agents))
        run_dir = run_dir_for(options, config)
        folder = RunFolder(run_dir)
        if folder.trained:
            folder.open_for(config)  # a folder of another config is refused as such
            raise results.UsageError(f"{run_dir} is already trained (this loop keeps no checkpoint to resume "
                                     "from); pass another --run_id or remove that folder")
        try:  # before anything trains, so an unwritable --results_dir costs nothing
            folder.open_for(config)
        except OSError as error:
            raise results.UsageError(f"cannot write results to {run_dir.parent} ({error.strerror or error}); "
                                     "pass a writable --results_dir") from None
        print(f"{options.env}: {options.algorithm}, seed {options.seed}, {config.episodes} episodes -> {run_dir}",
              flush=True)
        train_parallel_env(make_env, config, progress=options.progress, run_dir=run_dir)
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
