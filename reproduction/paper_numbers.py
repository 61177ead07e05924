"""The paper's published numbers (arXiv:1706.02275v3 appendix), as in shared/PAPER.md section 3."""

# Table 1, cooperative communication after 25000 episodes: (target reach %, average distance).
TABLE1 = {
    "maddpg": {"target_reach_percent": 84.0, "average_distance": 0.133},
    "ddpg": {"target_reach_percent": 32.0, "average_distance": 0.456},
    "dqn": {"target_reach_percent": 24.8, "average_distance": 0.754},
    "actor_critic": {"target_reach_percent": 17.2, "average_distance": 2.071},
    "trpo": {"target_reach_percent": 20.6, "average_distance": 1.573},
    "reinforce": {"target_reach_percent": 13.6, "average_distance": 3.333},
}
