"""The four independent-learner baselines of Table 1 / Fig. 4, their tf-agents agents and hyperparameters.

| key          | Table 1 row             | tf-agents agent                                                 | data       |
|--------------|-------------------------|-----------------------------------------------------------------|------------|
| dqn          | DQN                     | DqnAgent (epsilon-greedy 0.1, soft target updates tau 0.01)     | replay     |
| actor_critic | Actor-Critic            | ReinforceAgent with a ValueNetwork (advantage = return - V(s))  | on-policy  |
| trpo         | TRPO (PPO in tf-agents) | PPOClipAgent (ratio clip 0.2, GAE lambda 0.95, 10 epochs)       | on-policy  |
| reinforce    | REINFORCE               | ReinforceAgent without a value network                          | on-policy  |

The paper's settings wherever they apply: gamma 0.95, 2-layer ReLU MLPs of 64 units (actor, critic/value and
Q networks alike), 25-step episodes, Adam. Its lr 0.01 is the MADDPG/DDPG rate; for these agents we use Adam
1e-3, the rate tf-agents' own examples use for DQN, REINFORCE and PPO (not tuned here; 0.01 was not tried,
being large for on-policy gradient steps on a few hundred transitions). DQN reuses MADDPG's replay settings (1e6 capacity, batch 1024, one
update per 100 transitions after 25,600 warm-up transitions, gradient norm clipped to 0.5 per variable). The
on-policy agents update once per 25 collected episodes (625 transitions per agent).

No tf-agents actor-critic bootstraps with a critic the way A2C does; "Actor-Critic" here is tf-agents'
REINFORCE with a learned state-value baseline (a Monte Carlo actor-critic: the value network is the critic,
trained by regression on the returns, and the policy gradient uses return - V(s)). TRPO has no tf-agents
implementation; PPO (clipped surrogate, tf-agents' PPOClipAgent, a subclass of PPOAgent) is its trust-region
successor, and its row is labelled "TRPO (PPO in tf-agents)".
"""

from __future__ import annotations

import dataclasses

ALGORITHMS = ("dqn", "actor_critic", "trpo", "reinforce")
LABELS = {"dqn": "DQN", "actor_critic": "Actor-Critic", "trpo": "TRPO (PPO in tf-agents)", "reinforce": "REINFORCE"}
TF_AGENTS_CLASSES = {
    "dqn": "tf_agents.agents.dqn.dqn_agent.DqnAgent",
    "actor_critic": "tf_agents.agents.reinforce.reinforce_agent.ReinforceAgent (with value_network)",
    "trpo": "tf_agents.agents.ppo.ppo_clip_agent.PPOClipAgent",
    "reinforce": "tf_agents.agents.reinforce.reinforce_agent.ReinforceAgent (no value_network)",
}
OFF_POLICY = ("dqn",)


@dataclasses.dataclass(frozen=True)
class Hyperparameters:
    """One baseline's settings (see the module docstring for where each value comes from)."""

    learning_rate: float = 1e-3
    gamma: float = 0.95
    hidden_units: int = 64
    hidden_layers: int = 2
    num_envs: int = 25  # parallel worlds per seed: episodes per on-policy update / transitions per DQN update
    # DQN
    epsilon_greedy: float = 0.1
    target_update_tau: float = 0.01
    batch_size: int = 1024
    replay_capacity: int = 1_000_000
    warmup_transitions: int = 25_600
    gradient_clipping: float | None = None
    # PPO (trpo)
    ppo_epochs: int = 10
    ppo_clip: float = 0.2
    gae_lambda: float = 0.95

    def to_json(self) -> dict:
        return dataclasses.asdict(self)


DEFAULT_HYPERPARAMETERS = {
    "dqn": Hyperparameters(num_envs=100, gradient_clipping=0.5),
    "actor_critic": Hyperparameters(),
    "trpo": Hyperparameters(),
    "reinforce": Hyperparameters(),
}

# --smoke: the same code path in seconds (tiny networks, small batches, a few hundred warm-up transitions).
SMOKE_FIELDS = dict(hidden_units=16, batch_size=64, warmup_transitions=250, ppo_epochs=2)
SMOKE_NUM_ENVS = {"dqn": 25, "actor_critic": 25, "trpo": 25, "reinforce": 25}


def hyperparameters(algorithm: str, smoke: bool = False) -> Hyperparameters:
    """The settings of one baseline (smoke: shrunk for a run of seconds)."""
    defaults = DEFAULT_HYPERPARAMETERS[algorithm]
    if smoke:
        return dataclasses.replace(defaults, num_envs=SMOKE_NUM_ENVS[algorithm], **SMOKE_FIELDS)
    return defaults


def categorical_projection(action_spec, logits_init_output_factor: float = 0.1):
    """tf-agents' CategoricalProjectionNetwork for a scalar discrete action spec, built so NumPy 2 accepts it.

    tf-agents 0.19 sizes the logits with int(np.unique(maximum - minimum + 1)), a 1-element 1-d array, which
    NumPy 2 refuses to convert ("only 0-dimensional arrays can be converted to Python scalars"). This builds
    the same network (same logits layer, initialiser and Categorical output; the parent's `call` is used)
    with the count taken from the scalar bounds. Imported lazily: it subclasses a tf-agents class.
    """
    import tensorflow as tf
    from tf_agents.networks import categorical_projection_network, network

    class ScalarCategoricalProjectionNetwork(categorical_projection_network.CategoricalProjectionNetwork):
        def __init__(self, sample_spec, logits_init_output_factor=0.1, name="CategoricalProjectionNetwork"):
            if sample_spec.shape.rank != 0:
                raise ValueError(f"need a scalar discrete action spec, got {sample_spec}")
            num_actions = int(sample_spec.maximum) - int(sample_spec.minimum) + 1  # A
            output_shape = sample_spec.shape.concatenate([num_actions])  # [A]
            network.DistributionNetwork.__init__(  # what the parent's __init__ does, minus the failing int()
                self, input_tensor_spec=None, state_spec=(),
                output_spec=self._output_distribution_spec(output_shape, sample_spec, name), name=name)
            self._sample_spec = sample_spec
            self._output_shape = output_shape
            self._projection_layer = tf.keras.layers.Dense(
                num_actions,
                kernel_initializer=tf.compat.v1.keras.initializers.VarianceScaling(scale=logits_init_output_factor),
                bias_initializer=tf.keras.initializers.Zeros(), name="logits")

    return ScalarCategoricalProjectionNetwork(action_spec, logits_init_output_factor)


def build_agent(algorithm: str, time_step_spec, action_spec, settings: Hyperparameters, name: str):
    """A fresh, initialised tf-agents agent for one env agent (TensorFlow imported here, in the subprocess).

    Args:
        algorithm: a key of ALGORITHMS.
        time_step_spec, action_spec: the env agent's tf-agents TensorSpecs (action: int32 scalar choice).
        settings: its hyperparameters.
        name: a name for its variables (the env agent's name).
    """
    from tf_agents_baselines.process import require_legacy_keras

    require_legacy_keras()
    import tensorflow as tf
    from tf_agents.agents.dqn import dqn_agent
    from tf_agents.agents.ppo import ppo_clip_agent
    from tf_agents.agents.reinforce import reinforce_agent
    from tf_agents.networks import actor_distribution_network, q_network, value_network

    layers = (settings.hidden_units,) * settings.hidden_layers  # ReLU is tf-agents' default activation
    observation_spec = time_step_spec.observation
    optimizer = tf.keras.optimizers.Adam(learning_rate=settings.learning_rate)
    counter = tf.Variable(0, dtype=tf.int64, trainable=False, name=f"{name}_train_step")
    if algorithm == "dqn":
        network = q_network.QNetwork(observation_spec, action_spec, fc_layer_params=layers, name=f"{name}_q")
        agent = dqn_agent.DqnAgent(
            time_step_spec, action_spec, q_network=network, optimizer=optimizer,
            epsilon_greedy=settings.epsilon_greedy, target_update_tau=settings.target_update_tau,
            target_update_period=1, gamma=settings.gamma, gradient_clipping=settings.gradient_clipping,
            train_step_counter=counter, name=f"{name}_dqn")
    elif algorithm in ("reinforce", "actor_critic"):
        actor = actor_distribution_network.ActorDistributionNetwork(
            observation_spec, action_spec, fc_layer_params=layers, discrete_projection_net=categorical_projection,
            name=f"{name}_actor")
        value = (value_network.ValueNetwork(observation_spec, fc_layer_params=layers, name=f"{name}_value")
                 if algorithm == "actor_critic" else None)
        agent = reinforce_agent.ReinforceAgent(
            time_step_spec, action_spec, actor_network=actor, optimizer=optimizer, value_network=value,
            gamma=settings.gamma, normalize_returns=True, train_step_counter=counter, name=f"{name}_{algorithm}")
    elif algorithm == "trpo":
        actor = actor_distribution_network.ActorDistributionNetwork(
            observation_spec, action_spec, fc_layer_params=layers, discrete_projection_net=categorical_projection,
            name=f"{name}_actor")
        value = value_network.ValueNetwork(observation_spec, fc_layer_params=layers, name=f"{name}_value")
        agent = ppo_clip_agent.PPOClipAgent(
            time_step_spec, action_spec, optimizer=optimizer, actor_net=actor, value_net=value,
            importance_ratio_clipping=settings.ppo_clip, lambda_value=settings.gae_lambda, use_gae=True,
            discount_factor=settings.gamma, num_epochs=settings.ppo_epochs, train_step_counter=counter,
            name=f"{name}_ppo")
    else:
        raise ValueError(f"unknown baseline {algorithm!r}; choose from {', '.join(ALGORITHMS)}")
    agent.initialize()
    return agent
