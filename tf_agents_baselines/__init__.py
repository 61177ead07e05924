"""Independent-learner baselines of Table 1 / Fig. 4 (DQN, Actor-Critic, TRPO, REINFORCE) built on tf-agents.

Each agent of a PettingZoo parallel env is its own tf-agents agent, trained on its own observation and
reward; nothing is shared between the agents but the environment.

tf-agents 0.19 needs Keras 2 (the `tf_keras` package, switched on by TF_USE_LEGACY_KERAS=1 before TensorFlow
is imported), while the rest of this repository uses Keras 3. The two cannot share a process, so every
module here that imports TensorFlow or tf-agents runs only in a subprocess started by
`reproduction.independent_baselines` (see `tf_agents_baselines.process`). This package's __init__ stays import-free
so that `import tf_agents_baselines` is harmless in a Keras 3 process.

Modules:
    algorithms         the four baselines: key, label, tf-agents agent and hyperparameters
    run_config         a run's settings (config.json)
    process            the subprocess environment (TF_USE_LEGACY_KERAS=1) and the guard every module runs
    pettingzoo_agents  PettingZoo parallel env -> one tf-agents environment per agent
    joint_envs         batched joint environments to train on: mpe2 itself, or the batched TF port
    training           collection, training, logging, per-seed resume
    evaluation         greedy play of the trained policies on mpe2, Table 1's metrics
    worker             the subprocess entry point: `python -m tf_agents_baselines.worker --config run_config.json`
"""
