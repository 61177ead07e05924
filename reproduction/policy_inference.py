"""Inferring other agents' policies (paper sec. 4.2, Fig. 7): MADDPG on speaker-listener with the critic
targets computed from the true target policies or from each agent's learned approximations of the others.

    python -m reproduction.policy_inference                 # 10 seeds x 25000 episodes, both pairings
    python -m reproduction.policy_inference --smoke         # the same path in seconds

Pairings: `true_policies` (plain MADDPG: a'_j from j's own target actor) and `inferred_policies` (agent i
uses its approximation mu_hat_i^j of every other agent j, trained by maximum log-likelihood of j's latest
actions plus 1e-3 x entropy, one gradient step per update at Adam rate 0.001, a tenth of the actors'; the
likelihood is that of the soft action j sent, under the Gumbel-softmax density; see maddpg/learner.py and
docs/extensions.md). The inferred pairing logs every 100 episodes, so Fig. 7's KL starts at the first 25
updates. The training log records,
for each agent, the KL divergence of the other agents' approximations of it from its true policy
(metrics.csv role <agent>, metric policy_kl), which `python -m paper_figures` draws as Fig. 7 against
update iterations. Both pairings are evaluated like Table 1 on mpe2 (1000 episodes per seed).
"""

from __future__ import annotations

from reproduction.runner import Experiment, cli

EXPERIMENT = Experiment(
    name="policy_inference",
    variants={"default": "speaker_listener"},
    pairings={"true_policies": {"agents": "maddpg"}, "inferred_policies": {"agents": "maddpg"}},
    # The approximations' Adam rate (the paper is silent; at the actors' 0.01 their first layer dies) and the
    # likelihood of the soft action sent rather than of its argmax (the paper: "the observed actions") are the
    # inference_fit study's choices: docs/extensions.md has its figures, results/ablations/inference_fit its runs.
    # Logged every 100 episodes: at 1000 the first point averages 250 updates, after the fit has converged.
    pairing_fields={"inferred_policies": {"policy_inference": True, "inference_learning_rate": 0.001,
                                          "inference_likelihood": "relaxed", "log_every_episodes": 100}},
    default_seeds=10,
    default_episodes=25_000,
    table_name="policy_inference",
)

if __name__ == "__main__":
    cli(EXPERIMENT)
