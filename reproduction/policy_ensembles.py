"""Policy ensembles (paper sec. 4.3, Table 6, Fig. 3 right): agents trained with K sub-policies against agents
trained with one, in keep-away, physical deception (N=2) and predator-prey (4 predators, 1 landmark, fast prey).

    python -m reproduction.policy_ensembles                  # 3 seeds x 25200 episodes, all three variants
    python -m reproduction.policy_ensembles --variant=ka     # one variant
    python -m reproduction.policy_ensembles --smoke          # the same path in seconds

For each variant two runs train (MADDPG on both teams): `single` (one policy per agent) and `ensemble` (K
sub-policies per agent: K = 3 for ka and pd, 2 for pp, as the paper; see maddpg/training.py for how an
episode's sub-policy is drawn). Then a third folder, <variant>_cross_play_..., evaluates on the reference env
all four combinations of the agents' kind and the adversaries' kind, the same seed of each run meeting, 1000
episodes per seed each (evaluation.csv role "<agents kind>_v_<adversaries kind>"); an ensemble draws one
sub-policy per team per episode. That folder trains nothing: its config.json names its two source runs and
the evaluation settings (maddpg/cross_play.py). Table 6's metrics: the adversary's frames at the goal (ka, pd) and prey
touches per episode (pp; the paper's "collisions").

Episodes: 25200, not a round 25000, because with K = 3 the 120 envs per seed split evenly over the
sub-policies (and 25200 is a multiple of 120); the single runs train as long. The paper does not state
its ensemble runs' length.
"""

from __future__ import annotations

from pathlib import Path

from maddpg.cross_play import CROSS_PLAY, POLICY_KINDS, cross_play_run
from reproduction.runner import Experiment, cli

ENSEMBLE_SIZES = {"ka": 3, "pd": 3, "pp": 2}
VARIANTS = {"ka": "push", "pd": "adversary_n2", "pp": "ensemble_tag"}


def cross_play(plans, command: str | None = None, workers: int | None = None) -> list[Path]:
    """For each variant whose single and ensemble runs are both planned, their cross-play evaluation
    (maddpg.cross_play) in results/policy_ensembles/<dynamics>_<variant>_cross_play_<...>/.

    Args:
        plans: (label, config, run_dir) of the runs (runner.plan_request).
        command: the command line that asked for it, recorded in its meta.json (the runs may have been
            trained by other commands, e.g. one --pairing each).
        workers: evaluation processes (None: one per CPU core).

    Returns:
        the cross-play folders (new or already complete).
    """
    by_variant: dict[str, dict[str, Path]] = {}
    for label, config, run_dir in plans:
        variant = next(v for v, scenario in VARIANTS.items() if scenario == config.scenario)
        by_variant.setdefault(variant, {})[config.algorithm] = Path(run_dir)
    folders = []
    for variant, runs in by_variant.items():
        missing = [kind for kind in POLICY_KINDS if kind not in runs]
        if missing:
            print(f"[policy_ensembles] {variant}: no cross-play without the {missing[0]} run "
                  f"(add --pairing={','.join(POLICY_KINDS)})", flush=True)
            continue
        ensemble_dir = runs["ensemble"]
        cross_dir = ensemble_dir.parent / ensemble_dir.name.replace("_ensemble_", f"_{CROSS_PLAY}_", 1)
        folders.append(cross_dir)
        cross_play_run(cross_dir, runs["single"], ensemble_dir, workers=workers,
                       command=command,
                       announce=lambda line: print(f"[policy_ensembles] {variant}: {line}", flush=True))
    return folders


EXPERIMENT = Experiment(
    name="policy_ensembles",
    variants=VARIANTS,
    pairings={kind: {"agents": "maddpg", "adversaries": "maddpg"} for kind in POLICY_KINDS},
    run_fields={
        (variant, kind): {
            "ensemble_size": size if kind == "ensemble" else 1,
            # The paper's predator-prey nets (Table 3) have 128 units; Table 6 does not say otherwise.
            "hidden_units": 128 if variant == "pp" else 64,
        }
        for variant, size in ENSEMBLE_SIZES.items() for kind in POLICY_KINDS
    },
    default_seeds=3,
    default_episodes=25_200,
    default_num_envs=120,
    train_fields={"log_every_episodes": 1200, "checkpoint_every_episodes": 6000},
    smoke_fields={"num_envs": 60, "episodes": 240, "log_every_episodes": 120, "checkpoint_every_episodes": 120},
    table_name="table6",
    after_runs=cross_play,
)

if __name__ == "__main__":
    cli(EXPERIMENT)
