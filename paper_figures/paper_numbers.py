"""The paper's published numbers: its appendix's Tables 1-6 (arXiv:1706.02275v3) and values read off its plots.

Every table is a nested dict ending in {metric: value}; the metric names are the ones our evaluation writes
to evaluation.csv, so a table cell is looked up with the same keys as our result. Values read off a plot
(not printed) are kept apart, in the FIG* dicts, and say so.
"""

# Table 1, cooperative communication after 25000 episodes: algorithm -> (target reach %, average distance),
# keyed by the readings the scripted-policy calibration chose (benchmarks/metric_calibration.py): the paper's
# "target reach" is our target_reach_nearest_percent, its "average distance" our final_squared_distance.
TABLE1 = {
    "maddpg": {"target_reach_nearest_percent": 84.0, "final_squared_distance": 0.133},
    "ddpg": {"target_reach_nearest_percent": 32.0, "final_squared_distance": 0.456},
    "dqn": {"target_reach_nearest_percent": 24.8, "final_squared_distance": 0.754},
    "actor_critic": {"target_reach_nearest_percent": 17.2, "final_squared_distance": 2.071},
    "trpo": {"target_reach_nearest_percent": 20.6, "final_squared_distance": 1.573},
    "reinforce": {"target_reach_nearest_percent": 13.6, "final_squared_distance": 3.333},
}

# Table 2, cooperative navigation, 128-unit nets: scenario -> algorithm -> metric.
TABLE2 = {
    "spread_n3": {
        "maddpg": {"average_distance": 1.767, "collisions_per_episode": 0.209},
        "ddpg": {"average_distance": 1.858, "collisions_per_episode": 0.375},
    },
    "spread_n6": {
        "maddpg": {"average_distance": 3.345, "collisions_per_episode": 1.366},
        "ddpg": {"average_distance": 3.350, "collisions_per_episode": 1.585},
    },
}

# The four pairings of the competitive tables, in the paper's row order: <agents>_vs_<adversaries>
# (predators v prey in Table 3, agents v adversary in Table 4, Alice+Bob v Eve in Table 5).
PAIRINGS = ("maddpg_vs_maddpg", "maddpg_vs_ddpg", "ddpg_vs_maddpg", "ddpg_vs_ddpg")

# Table 3, predator-prey, 128-unit nets, prey touches per episode: scenario (PP1, PP2) -> pairing -> metric.
TABLE3 = {
    "tag_pp1": {
        "maddpg_vs_maddpg": {"prey_touches_per_episode": 11.0},
        "maddpg_vs_ddpg": {"prey_touches_per_episode": 16.1},
        "ddpg_vs_maddpg": {"prey_touches_per_episode": 10.3},
        "ddpg_vs_ddpg": {"prey_touches_per_episode": 9.4},
    },
    "tag_pp2": {
        "maddpg_vs_maddpg": {"prey_touches_per_episode": 0.202},
        "maddpg_vs_ddpg": {"prey_touches_per_episode": 0.405},
        "ddpg_vs_maddpg": {"prey_touches_per_episode": 0.298},
        "ddpg_vs_ddpg": {"prey_touches_per_episode": 0.321},
    },
}


def _success(agent: float, adversary: float, difference: float, names: tuple[str, str, str]) -> dict:
    return dict(zip(names, (agent, adversary, difference)))


_PD = ("agent_success_percent", "adversary_success_percent", "success_difference")
# Table 4, physical deception: scenario (N=2, N=4) -> pairing -> metric. The N=4 MADDPG v DDPG difference is
# printed as 49.4 although 69.6 - 19.8 = 49.8; we keep the printed number (Fig. 3's bars use it too).
TABLE4 = {
    "adversary_n2": {
        "maddpg_vs_maddpg": _success(94.4, 39.2, 55.2, _PD),
        "maddpg_vs_ddpg": _success(92.2, 16.4, 75.8, _PD),
        "ddpg_vs_maddpg": _success(68.9, 59.0, 9.9, _PD),
        "ddpg_vs_ddpg": _success(74.7, 38.6, 36.1, _PD),
    },
    "adversary_n4": {
        "maddpg_vs_maddpg": _success(81.5, 28.3, 53.2, _PD),
        "maddpg_vs_ddpg": _success(69.6, 19.8, 49.4, _PD),
        "ddpg_vs_maddpg": _success(35.7, 32.1, 3.6, _PD),
        "ddpg_vs_ddpg": _success(18.4, 35.8, -17.4, _PD),
    },
}

_COVERT = ("bob_success_percent", "eve_success_percent", "success_difference")
# Table 5, covert communication (one scenario): pairing -> metric.
TABLE5 = {
    "maddpg_vs_maddpg": _success(96.5, 52.1, 44.4, _COVERT),
    "maddpg_vs_ddpg": _success(96.8, 44.4, 52.4, _COVERT),
    "ddpg_vs_maddpg": _success(65.3, 64.3, 1.0, _COVERT),
    "ddpg_vs_ddpg": _success(92.7, 67.6, 25.1, _COVERT),
}

# Table 6, policy ensembles vs single policies over 1000 trials: scenario -> "<agents kind>_v_<adversaries
# kind>" -> metric. The paper's rows are the adversary's kind, its columns the agents' kind.
# KA: frames the adversary holds the goal; PD N=2: frames the adversary stays at the goal; PP N=4 L=1
# (ensemble_tag): collisions, which our evaluation calls prey touches.
TABLE6 = {
    "push": {
        "single_v_single": {"adversary_goal_frames": 7.94},
        "ensemble_v_single": {"adversary_goal_frames": 7.74},
        "single_v_ensemble": {"adversary_goal_frames": 8.35},
        "ensemble_v_ensemble": {"adversary_goal_frames": 8.11},
    },
    "adversary_n2": {
        "single_v_single": {"adversary_goal_frames": 4.25},
        "ensemble_v_single": {"adversary_goal_frames": 4.10},
        "single_v_ensemble": {"adversary_goal_frames": 5.55},
        "ensemble_v_ensemble": {"adversary_goal_frames": 4.44},
    },
    "ensemble_tag": {
        "single_v_single": {"prey_touches_per_episode": 0.201},
        "ensemble_v_single": {"prey_touches_per_episode": 0.211},
        "single_v_ensemble": {"prey_touches_per_episode": 0.125},
        "ensemble_v_ensemble": {"prey_touches_per_episode": 0.17},
    },
}

# Read off plots (not printed), so only roughly right.
# Fig. 4: CC mean episode reward at episode 25000: the sum of both agents' episode rewards, the same units as
# our team reward (each agent got -d^2 per step in the 2017 env, as in mpe2), so compared as they are.
FIG4_FINAL_REWARD = {
    "maddpg": -15.0, "trpo": -26.0, "ddpg": -28.0, "actor_critic": -30.0, "dqn": -35.0, "reinforce": -45.0,
}
# Fig. 6: CC policy learning success rate at the end of training (MADDPG reaches 1.0 by about 13k episodes).
FIG6_FINAL_SUCCESS_RATE = {
    "maddpg": 1.0, "trpo": 0.125, "ddpg": 0.0, "actor_critic": 0.0, "dqn": 0.0, "reinforce": 0.0,
}
