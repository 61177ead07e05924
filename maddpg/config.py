"""Every setting of a training run, each with its source: the paper, the openai/maddpg code, or our choice.

The defaults are the reference code's behaviour (openai/maddpg, wherever the paper is silent). A deviation is a field whose
default differs from the reference, and is listed in docs/deviations.md.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from maddpg import legacy_layout

CRITIC_KINDS = ("maddpg", "ddpg")
DYNAMICS = ("paper", "mpe2")  # see envs.batched.physics
INFERENCE_LIKELIHOODS = ("argmax", "relaxed")  # see TrainConfig.inference_likelihood and Learner.approximation_loss
ENSEMBLE_UPDATE_RATES = ("sub_policy", "single")  # see TrainConfig.ensemble_update_rate and maddpg/training.py
POLICIES = ("gumbel_softmax", "straight_through", "deterministic")  # see maddpg/action_policies.py
EVAL_ACTIONS = ("sampled", "greedy")  # see TrainConfig.eval_actions and maddpg/evaluation.py
SHARED_REWARD_SCENARIOS = ("speaker_listener", "spread_n3", "spread_n6")  # the original's shared_reward, 2018-07
TRAIN_REWARDS = ("dynamics", "paper", "mpe2")  # see TrainConfig.train_rewards and maddpg/training.py
# The scenarios whose rewards differ between the two dynamics (mpe2's 2023 reward changes against the 2017 envs): spread's
# self-count and blend, physical deception's squared adversary distance. Elsewhere the rewards are the same.
REWARD_VARIANT_SCENARIOS = ("spread_n3", "spread_n6", "adversary_n2", "adversary_n4")
SUB_POLICY_SEED_STRIDE = 2**40  # sub-policy k of seed s draws from seed s + k * stride


def _field(default, source: str, help_text: str):
    return dataclasses.field(default=default, metadata={"source": source, "help": help_text})


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """One training run: a scenario, one critic kind per agent, and P seeds stacked on the population axis."""

    experiment: str = _field("cooperative_communication", "ours", "results/<experiment>/ folder name")
    scenario: str = _field("speaker_listener", "paper", "batched scenario to train on")
    dynamics: str = _field("paper", "paper", "particle physics and rewards: paper (the 2017 envs the paper ran on: "
                           "velocity before position, 2017 action sign and rewards) or mpe2 (mpe2 as installed)")
    algorithm: str = _field("maddpg", "ours", "label of the pairing, e.g. maddpg, ddpg, maddpg_vs_ddpg")
    critic_kinds: tuple = _field(("maddpg", "maddpg"), "paper", "per agent: maddpg (all obs+actions) or ddpg (own)")
    seeds: tuple = _field(tuple(range(10)), "paper", "one population member per seed (10 for CC)")
    episodes: int = _field(25_000, "paper", "training episodes per seed")
    episode_length: int = _field(25, "paper", "steps per episode; episodes are never ended early")
    num_envs: int = _field(100, "ours", "B parallel envs per seed; 100 keeps one update per env step")
    hidden_units: int = _field(64, "paper", "units in each of the two ReLU hidden layers")
    learning_rate: float = _field(0.01, "paper", "Adam learning rate, actor and critic")
    adam_epsilon: float = _field(1e-8, "openai code", "Adam epsilon (TF1's default; Keras' is 1e-7)")
    gamma: float = _field(0.95, "paper", "discount factor")
    tau: float = _field(0.01, "paper", "soft target update rate")
    batch_size: int = _field(1024, "paper", "transitions per update batch")
    buffer_capacity: int = _field(1_000_000, "paper", "replay capacity per seed (allocated: min(this, run length))")
    update_every: int = _field(100, "paper", "one update of every agent per this many transitions added")
    warmup_transitions: int = _field(25_600, "openai code", "no update before the buffer holds this many")
    grad_clip_norm: float = _field(0.5, "openai code", "clip each variable's gradient to this norm")
    policy: str = _field("gumbel_softmax", "openai code", "how an actor's output becomes an action: gumbel_softmax "
                         "(the paper code's relaxed one-hot sample), straight_through (one-hot forward, relaxed "
                         "gradient) or deterministic (a = mu(o) in the action Box, Gaussian exploration noise)")
    exploration_noise: float = _field(0.1, "ours", "deterministic policy: std of the Gaussian noise added to actions "
                                      "while training, as a fraction of the action range (the paper gives none; "
                                      "TD3, Fujimoto et al. 2018, uses 0.1 of the largest action, 0.05 of a "
                                      "[-1, 1] range)")
    logit_penalty: float = _field(1e-3, "openai code", "actor loss += this * mean(logits^2) (Gumbel policies)")
    gumbel_temperature: float = _field(1.0, "openai code", "relaxed Gumbel-softmax temperature")
    copy_targets_at_start: bool = _field(False, "openai code", "copy online weights into targets at start")
    policy_inference: bool = _field(False, "paper", "critic targets use each agent's learned approximations of "
                                    "the other agents' policies instead of their true target actors (sec. 4.2)")
    inference_entropy_weight: float = _field(1e-3, "paper", "lambda: entropy bonus of the approximations' "
                                             "log-likelihood objective")
    inference_samples: int = _field(100, "paper", "the approximations fit each agent's latest this many actions (the "
                                    "paper: 'the latest samples'; 100 = one env step of every env)")
    inference_learning_rate: float = _field(0.0, "ours", "Adam rate of the approximations (0: learning_rate, the "
                                            "paper is silent; at 0.01 their first layer dies on most seeds)")
    inference_steps: int = _field(1, "paper", "gradient steps of every approximation per update (the paper: one)")
    inference_likelihood: str = _field("argmax", "ours", "what the approximations' log-likelihood reads of a "
                                       "stored action (the paper: 'the observed actions'): argmax (a draw of the "
                                       "categorical policy) or relaxed (the Gumbel-softmax density of the soft "
                                       "vector the agent sent)")
    ensemble_size: int = _field(1, "paper", "K sub-policies per agent (sec. 4.3); each episode of each env draws one "
                                "per team, and each has its own replay buffer, critic and updates")
    ensemble_update_rate: str = _field("sub_policy", "ours", "ensembles: sub_policy (each sub-policy updates once "
                                       "per update_every of its own transitions: 1/K of the single policy's "
                                       "updates) or single (each updates as often as a single policy would)")
    log_every_episodes: int = _field(1000, "openai code", "log the mean of the last this many episodes")
    checkpoint_every_episodes: int = _field(5000, "ours", "save a resumable checkpoint this often")
    eval_episodes: int = _field(1000, "paper", "evaluation episodes per seed on the reference env (mpe2, in the run's "
                                "dynamics)")
    shared_reward: bool = _field(False, "paper", "every agent trains on the sum of all agents' rewards, as the "
                                 "original env does from 2018-07 in speaker-listener and spread (2017: never; logged "
                                 "returns stay each agent's own)")
    train_rewards: str = _field("dynamics", "ours", "rewards the agents train on: dynamics (those of the run's "
                                "dynamics), or the paper's (2017) or mpe2's on the run's physics, to separate the "
                                "two; they differ only in spread and physical deception (logged returns stay the "
                                "dynamics' own)")
    eval_actions: str = _field("sampled", "openai code", "how evaluation acts: sampled (relaxed Gumbel-softmax, as "
                               "the reference's benchmark mode) or greedy (each policy's one-hot argmax)")
    jit_compile: bool = _field(False, "ours", "compile the training iteration with XLA")

    def __post_init__(self):
        problems = []
        for name in ("episodes", "episode_length", "num_envs", "hidden_units", "ensemble_size", "batch_size",
                     "buffer_capacity", "update_every", "inference_samples", "inference_steps", "log_every_episodes", "checkpoint_every_episodes", "eval_episodes"):
            if getattr(self, name) <= 0:
                problems.append(f"{name} must be positive, got {getattr(self, name)}")
        for name in ("learning_rate", "gumbel_temperature", "adam_epsilon"):
            if not getattr(self, name) > 0:
                problems.append(f"{name} must be positive, got {getattr(self, name)}")
        for field in dataclasses.fields(self):  # inf or nan passes a sign check and ruins the run later
            value = getattr(self, field.name)
            if field.type == "float" and not -float("inf") < value < float("inf"):
                problems.append(f"{field.name} must be a finite number, got {value}")
        if self.batch_size > self.buffer_capacity:
            problems.append(f"batch_size ({self.batch_size}) must be at most buffer_capacity ({self.buffer_capacity}): "
                            "an update samples its batch from the transitions the buffer holds")
        if self.inference_learning_rate < 0:
            problems.append(f"inference_learning_rate must be >= 0, got {self.inference_learning_rate}")
        if self.inference_entropy_weight < 0:
            problems.append(f"inference_entropy_weight must be >= 0, got {self.inference_entropy_weight}")
        if not 0.0 <= self.gamma <= 1.0:
            problems.append(f"gamma must lie in [0, 1], got {self.gamma}")
        if not 0.0 < self.tau <= 1.0:
            problems.append(f"tau must lie in (0, 1], got {self.tau}")
        if self.warmup_transitions < 0:
            problems.append(f"warmup_transitions must be >= 0, got {self.warmup_transitions}")
        if not self.seeds:
            problems.append("at least one seed is needed")
        if any(not 0 <= seed < SUB_POLICY_SEED_STRIDE for seed in self.seeds):
            problems.append(f"seeds must lie in [0, 2**40), got {self.seeds}")
        if len(set(self.seeds)) != len(self.seeds):
            problems.append(f"seeds must be distinct, got {self.seeds}")
        if self.inference_likelihood not in INFERENCE_LIKELIHOODS:
            problems.append(f"unknown inference_likelihood {self.inference_likelihood!r}; choose from "
                            f"{', '.join(INFERENCE_LIKELIHOODS)}")
        if self.shared_reward and self.scenario not in SHARED_REWARD_SCENARIOS:
            problems.append(f"shared_reward is the original's for {', '.join(SHARED_REWARD_SCENARIOS)} only, not "
                            f"{self.scenario} (summing a competitive scenario's rewards would make it cooperative)")
        if self.train_rewards not in TRAIN_REWARDS:
            problems.append(f"unknown train_rewards {self.train_rewards!r}; choose from {', '.join(TRAIN_REWARDS)}")
        elif self.train_rewards == self.dynamics:
            problems.append(f"train_rewards={self.train_rewards} is what train_rewards=dynamics already gives in the "
                            f"{self.dynamics} dynamics; pass dynamics (or the other dynamics' rewards)")
        elif self.train_rewards != "dynamics" and self.scenario not in REWARD_VARIANT_SCENARIOS:
            problems.append(f"train_rewards={self.train_rewards}: {self.scenario}'s rewards are the same in both "
                            f"dynamics; only {', '.join(REWARD_VARIANT_SCENARIOS)} differ")
        if self.policy not in POLICIES:
            problems.append(f"unknown policy {self.policy!r}; choose from {', '.join(POLICIES)}")
        if not 0.0 <= self.exploration_noise < float("inf"):
            problems.append(f"exploration_noise must be a finite number >= 0, got {self.exploration_noise}")
        if self.policy == "deterministic" and self.policy_inference:
            problems.append("policy_inference fits categorical approximations of the other agents' policies and "
                            "needs a Gumbel policy; use --policy=gumbel_softmax or straight_through")
        if self.eval_actions not in EVAL_ACTIONS:
            problems.append(f"unknown eval_actions {self.eval_actions!r}; choose from {', '.join(EVAL_ACTIONS)}")
        if self.ensemble_update_rate not in ENSEMBLE_UPDATE_RATES:
            problems.append(f"unknown ensemble_update_rate {self.ensemble_update_rate!r}; choose from "
                            f"{', '.join(ENSEMBLE_UPDATE_RATES)}")
        if self.dynamics not in DYNAMICS:
            problems.append(f"unknown dynamics {self.dynamics!r}; choose from {', '.join(DYNAMICS)}")
        unknown = [k for k in self.critic_kinds if k not in CRITIC_KINDS]
        if unknown:
            problems.append(f"unknown critic kind {unknown[0]!r}; choose from {', '.join(CRITIC_KINDS)}")
        if problems:  # the divisibility checks below need positive divisors
            raise ValueError("; ".join(problems))
        if self.episodes % self.num_envs:
            problems.append(f"episodes ({self.episodes}) must be a multiple of num_envs ({self.num_envs})")
        if self.log_every_episodes % self.num_envs:
            problems.append(f"log_every_episodes ({self.log_every_episodes}) must be a multiple of num_envs")
        if self.checkpoint_every_episodes % self.log_every_episodes:
            problems.append("checkpoint_every_episodes must be a multiple of log_every_episodes (resume keeps whole windows)")
        if self.num_envs % self.ensemble_size:
            problems.append(f"num_envs ({self.num_envs}) must be a multiple of ensemble_size ({self.ensemble_size}): "
                            "each sub-policy plays the same number of envs per iteration")
        if self.ensemble_size > 1 and self.policy_inference:
            problems.append("policy_inference and ensemble_size > 1 cannot be combined (the paper never does)")
        if self.policy_inference and self.inference_samples > max(self.warmup_transitions, self.update_every):
            problems.append(f"inference_samples ({self.inference_samples}) must be at most warmup_transitions "
                            f"({self.warmup_transitions}): the buffer must hold that many at the first update")
        if problems:
            raise ValueError("; ".join(problems))

    @property
    def population(self) -> int:
        """P: seeds on the population axis of the envs."""
        return len(self.seeds)

    @property
    def members(self) -> int:
        """P x K: networks on the population axis of the learner (member p * K + k is seed p's sub-policy k)."""
        return len(self.seeds) * self.ensemble_size

    def member_seeds(self) -> tuple[int, ...]:
        """The seed of every learner member: seed p for sub-policy 0 (so K = 1 is plain MADDPG exactly), and
        seed p + k * 2**40 for sub-policy k (distinct from every other run's seeds)."""
        return tuple(seed + k * SUB_POLICY_SEED_STRIDE for seed in self.seeds for k in range(self.ensemble_size))

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (tuples become lists)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "TrainConfig":
        """Inverse of to_json (a config of an older layout without dynamics: maddpg/legacy_layout.py)."""
        kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in legacy_layout.with_dynamics(data).items()}
        return cls(**kwargs)

    def differences(self, other: "TrainConfig") -> list[str]:
        """Names of the fields whose values differ."""
        return [f.name for f in dataclasses.fields(self) if getattr(self, f.name) != getattr(other, f.name)]

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=2, sort_keys=True)
