"""Calibrates the table metrics the paper leaves undefined, on scripted policies with known behaviour.

The paper prints numbers for "target reach", "collisions", "touches", "success" and "frames at the goal"
without saying how they are counted (per step or per episode, which threshold, who is counted). This script
plays scripted numpy policies whose behaviour is known (an oracle, the failure mode the paper describes, a
random policy, ...) on the reference mpe2 envs, reads every candidate metric through the project's metric
classes (maddpg.metrics), and prints one markdown table per paper table: reading x policy -> value, beside
the paper's rows. The reading kept for each table is the one under which the paper's rows are consistent
with those behaviours; the reason is printed under each table.

    python -m benchmarks.metric_calibration [--episodes 300] [--dynamics paper|mpe2] [--output FILE]

No TensorFlow. Every policy of one scenario sees the same reset seeds (common random numbers), so the
columns differ only by the policies.
"""

from __future__ import annotations

import argparse
import inspect
import itertools
import sys
import time

import numpy as np

from envs.reference import make_reference_env, to_env_actions
from maddpg.metrics import scenario_metrics

MOVE = 5  # entries of a movement action: [no-op, +-x, +-x, +-y, +-y]; the sign convention is the dynamics'


def movement_action(force, dynamics: str) -> np.ndarray:
    """The 5-entry soft movement vector whose force is `force` (each component clipped to [-1, 1]).

    mpe2 reads u = (a[2] - a[1], a[4] - a[3]); the 2017 ("paper") env reads u = (a[1] - a[2], a[3] - a[4]).
    """
    fx, fy = np.clip(np.asarray(force, dtype=np.float64), -1.0, 1.0)
    action = np.zeros(MOVE)
    plus_x, minus_x, plus_y, minus_y = (2, 1, 4, 3) if dynamics == "mpe2" else (1, 2, 3, 4)
    action[plus_x if fx > 0 else minus_x] = abs(fx)
    action[plus_y if fy > 0 else minus_y] = abs(fy)
    return action


def steer_to(agent, target, dynamics: str) -> np.ndarray:
    """A proportional-derivative steer that brings `agent` to rest at `target`, scaled to its accel."""
    accel = agent.accel if agent.accel is not None else 5.0
    error = np.asarray(target) - agent.state.p_pos
    # With dt 0.1 and damping 0.25 one step of full force adds 0.1 * accel to the velocity; these gains stop
    # the agent on the target within a few steps without overshoot for accel 3..6.
    force = (5.0 / accel) * (2.0 * error - 0.8 * agent.state.p_vel)
    return movement_action(force, dynamics)


def push_toward(agent, direction, dynamics: str) -> np.ndarray:
    """Full force along `direction` (pursuit or flight at the agent's top acceleration)."""
    direction = np.asarray(direction, dtype=np.float64)
    norm = np.linalg.norm(direction)
    return movement_action(direction / norm if norm > 1e-9 else np.zeros(2), dynamics)


def random_action(rng, size=MOVE) -> np.ndarray:
    """A random soft vector, like an untrained Gumbel-softmax actor's."""
    return rng.dirichlet(np.ones(size))


def still_action() -> np.ndarray:
    return np.zeros(MOVE)


# ---- one policy per role, as functions (world, agent, rng, memo, dynamics) -> action -------------------------
# memo: a dict cleared at each reset, for choices made once per episode (an assignment, a guessed landmark).


def _landmark_centre(world):
    return np.mean([lm.state.p_pos for lm in world.landmarks], axis=0)


def _assignment(world, memo):
    """Agent index -> landmark index minimising the total distance (N <= 6: brute force over permutations)."""
    if "assignment" not in memo:
        agents = [a for a in world.agents if not getattr(a, "adversary", False)]
        best, best_cost = None, np.inf
        for perm in itertools.permutations(range(len(world.landmarks)), len(agents)):
            cost = sum(np.linalg.norm(a.state.p_pos - world.landmarks[j].state.p_pos) for a, j in zip(agents, perm))
            if cost < best_cost:
                best, best_cost = perm, cost
        memo["assignment"] = {a.name: j for a, j in zip(agents, best)}
    return memo["assignment"]


def oracle_listener(world, agent, rng, memo, dynamics):
    return steer_to(agent, world.agents[0].goal_b.state.p_pos, dynamics)


def centre_listener(world, agent, rng, memo, dynamics):
    return steer_to(agent, _landmark_centre(world), dynamics)


def spread_assigned(world, agent, rng, memo, dynamics):
    return steer_to(agent, world.landmarks[_assignment(world, memo)[agent.name]].state.p_pos, dynamics)


def spread_centre(world, agent, rng, memo, dynamics):
    return steer_to(agent, _landmark_centre(world), dynamics)


def predator_chase(world, agent, rng, memo, dynamics):
    prey = next(a for a in world.agents if not a.adversary)
    return push_toward(agent, prey.state.p_pos - agent.state.p_pos, dynamics)


def prey_flee(world, agent, rng, memo, dynamics):
    """Away from the predators (weighted by 1/d^2), turned back inward near the edge of the unit box."""
    away = np.zeros(2)
    for predator in (a for a in world.agents if a.adversary):
        delta = agent.state.p_pos - predator.state.p_pos
        away += delta / max(np.dot(delta, delta), 1e-6)
    away /= max(np.linalg.norm(away), 1e-9)
    edge = np.clip(np.abs(agent.state.p_pos) - 0.7, 0.0, None) * np.sign(agent.state.p_pos)
    return push_toward(agent, away - 4.0 * edge, dynamics)


def good_cover(world, agent, rng, memo, dynamics):
    """Physical deception: the good agents spread one per landmark (one of them is on the target)."""
    return steer_to(agent, world.landmarks[_assignment(world, memo)[agent.name]].state.p_pos, dynamics)


def to_goal(world, agent, rng, memo, dynamics):
    return steer_to(agent, agent.goal_a.state.p_pos, dynamics)


def adversary_guess(world, agent, rng, memo, dynamics):
    """A deceived adversary: one landmark drawn at random at the episode's start, held all episode."""
    if "guess" not in memo:
        memo["guess"] = int(rng.integers(len(world.landmarks)))
    return steer_to(agent, world.landmarks[memo["guess"]].state.p_pos, dynamics)


def adversary_follow(world, agent, rng, memo, dynamics):
    """Goes to the landmark nearest the good agents' centroid (reads the target off the good agents)."""
    centroid = np.mean([a.state.p_pos for a in world.agents if not a.adversary], axis=0)
    nearest = min(world.landmarks, key=lambda lm: np.linalg.norm(lm.state.p_pos - centroid))
    return steer_to(agent, nearest.state.p_pos, dynamics)


def chase_agent(world, agent, rng, memo, dynamics):
    target = next(a for a in world.agents if not a.adversary)
    return push_toward(agent, target.state.p_pos - agent.state.p_pos, dynamics)


def centre(world, agent, rng, memo, dynamics):
    return steer_to(agent, _landmark_centre(world), dynamics)


def random_policy(world, agent, rng, memo, dynamics):
    return random_action(rng)


def still(world, agent, rng, memo, dynamics):
    return still_action()


# ---- covert communication: the three agents only speak; a policy returns a 4-entry utterance ---------------
# Bob hears Alice's utterance of the step before (her communication state), Eve likewise; only the last step is
# judged (maddpg/metrics/crypto.py), when every scripted speaker has repeated the same utterance for 24 steps.


def _alice(world):
    return next(agent for agent in world.agents if agent.speaker)


def _candidates(world) -> np.ndarray:
    """[2, 4]: the two messages the scenario draws (the landmarks' colours)."""
    return np.array([landmark.color for landmark in world.landmarks])


def _swap_by_key(utterance, key, candidates) -> np.ndarray:
    """The nearest candidate to `utterance`, swapped for the other one when the key is the second candidate:
    a one-bit cipher (XOR with the key bit), its own inverse."""
    nearest = int(np.argmin(np.linalg.norm(candidates - utterance, axis=-1)))
    flip = int(np.allclose(key, candidates[1]))
    return candidates[nearest ^ flip].copy()


def alice_plain(world, agent, rng, memo, dynamics):
    return np.array(agent.goal_a.color, dtype=float)  # the message itself, readable by anyone


def alice_keyed(world, agent, rng, memo, dynamics):
    return _swap_by_key(agent.goal_a.color, agent.key, _candidates(world))


def bob_decode(world, agent, rng, memo, dynamics):
    alice = _alice(world)  # the env keeps the shared key on Alice; Bob observes it
    return _swap_by_key(alice.state.c, alice.key, _candidates(world))


def listener_copy(world, agent, rng, memo, dynamics):
    return np.array(_alice(world).state.c, dtype=float)  # repeats what Alice said (an eavesdropper's naive guess)


def listener_constant(world, agent, rng, memo, dynamics):
    return _candidates(world)[0].copy()  # always guesses the first message


def listener_silent(world, agent, rng, memo, dynamics):
    return np.zeros(world.dim_c)  # equidistant from both messages: a tie, which fails


def utter_random(world, agent, rng, memo, dynamics):
    return rng.dirichlet(np.ones(world.dim_c))


# ---- the calibration plan -------------------------------------------------------------------------------------


def run(scenario: str, roles, episodes: int, dynamics: str, seed: int = 0) -> dict[str, float]:
    """Plays `episodes` episodes with a scripted policy per agent and returns the metric class's summary.

    roles: {"predicate name": policy}; an agent uses the policy of the first role whose test it passes
    ("adversary": agent.adversary, "good": not adversary, "speaker": immobile, "all": any). Covert
    communication's agents are named instead ("alice", "bob", "eve"): their policy's utterance is the whole
    action.
    """
    env = _make_env(scenario, dynamics)
    world = env.unwrapped.world
    metrics = scenario_metrics(scenario)
    rng = np.random.default_rng(seed)
    reset_seeds = np.random.default_rng([seed, 7]).integers(2**31 - 1, size=episodes)
    for reset_seed in reset_seeds:
        env.reset(seed=int(reset_seed))
        memo: dict = {}
        metrics.start_episode(world)
        while env.agents:
            actions = {}
            for name, agent in zip(env.possible_agents, world.agents):
                speaker_policy = roles.get(name.split("_")[0])
                if speaker_policy is not None:  # covert communication: the utterance is the action
                    actions[name] = speaker_policy(world, agent, rng, memo, dynamics)
                    continue
                if not agent.movable:  # the speaker: its utterance does not matter to scripted listeners
                    actions[name] = np.zeros(env.action_space(name).shape)
                    continue
                policy = roles["adversary"] if getattr(agent, "adversary", False) and "adversary" in roles else (
                    roles.get("good", roles.get("all")))
                move = policy(world, agent, rng, memo, dynamics)
                extra = env.action_space(name).shape[0] - MOVE  # communication part, if any: silent
                actions[name] = np.concatenate([move, np.zeros(extra)]) if extra else move
            env.step(to_env_actions(actions))
            metrics.after_step(world)
        metrics.end_episode(world)
    env.close()
    return metrics.summary()


def _make_env(scenario: str, dynamics: str):
    accepts = "dynamics" in inspect.signature(make_reference_env).parameters
    if accepts:
        return make_reference_env(scenario, dynamics=dynamics)
    if dynamics != "mpe2":
        raise SystemExit("envs.reference.make_reference_env has no `dynamics` argument yet: only --dynamics mpe2 runs")
    return make_reference_env(scenario)


# Each table: scenarios (label, scenario), policies (label, roles), readings (metric name, what it counts),
# the paper's rows (label -> {metric name: value}), the chosen reading(s) and why.
TABLES = [
    dict(
        title="Table 1: cooperative communication (speaker_listener)",
        scenarios=[("", "speaker_listener")],
        policies=[("oracle listener", {"all": oracle_listener}),
                  ("parks at landmarks' centre", {"all": centre_listener}),
                  ("random", {"all": random_policy}), ("still", {"all": still})],
        readings=[("target_reach_nearest_percent", "% episodes ending nearest the goal landmark"),
                  ("target_reach_percent", "% episodes ending within 0.15 of the goal"),
                  ("final_squared_distance", "squared distance after the last step"),
                  ("mean_squared_distance", "squared distance, mean over the 25 steps"),
                  ("final_distance", "Euclidean distance after the last step")],
        paper="MADDPG 84.0 / 0.133; DDPG 32.0 / 0.456 (target reach % / average distance)",
        chosen="target_reach_nearest_percent and final_squared_distance: the paper says DDPG's listener parks "
               "between the landmarks, and the centre-parking policy reproduces DDPG's row (about 1/3 and about "
               "0.4-0.5) only under these readings; within 0.15 it scores a few percent.",
    ),
    dict(
        title="Table 2: cooperative navigation (spread)",
        scenarios=[("N=3", "spread_n3"), ("N=6", "spread_n6")],
        policies=[("oracle assignment", {"all": spread_assigned}), ("all to centre", {"all": spread_centre}),
                  ("random", {"all": random_policy}), ("still", {"all": still})],
        readings=[("average_distance", "sum of landmark-to-nearest-agent distances, mean over steps"),
                  ("final_distance", "the same after the last step"),
                  ("collisions_per_episode", "touching pairs summed over the 25 steps"),
                  ("collisions_per_step", "touching pairs, mean over steps"),
                  ("final_collisions", "touching pairs after the last step"),
                  ("collisions_2017_benchmark", "2017 benchmark count (self included) summed over agents, steps")],
        paper="N=3: MADDPG 1.767 / 0.209, DDPG 1.858 / 0.375; N=6: MADDPG 3.345 / 1.366, DDPG 3.350 / 1.585 "
              "(average distance / collisions)",
        chosen="collisions_per_episode is kept (no reading is singled out). The 2017 self-count does not explain "
               "0.209: it adds exactly N per step (25 N = 75 per episode at N=3) to every policy, so it only makes "
               "counts larger. Per episode the paper's rows sit between motionless and random agents (and far "
               "below the oracle), per step between the oracle and all-to-centre, at the final step just above the "
               "oracle's's: each is consistent with some behaviour. The paper's distances are the telling part: "
               "1.767 (N=3) is barely better than motionless agents and 3.345 (N=6) worse than motionless or "
               "random ones under any distance reading here, so the paper's CN policies did not cover the "
               "landmarks; a gap to ours is a policy difference, not a counting one. collisions_per_step, "
               "final_collisions and collisions_2017_benchmark stay computed as alternatives.",  # filled in below once measured
    ),
    dict(
        title="Table 3: predator-prey (tag), predators v prey",
        scenarios=[("PP1", "tag_pp1"), ("PP2", "tag_pp2")],
        policies=[("chase v flee", {"adversary": predator_chase, "good": prey_flee}),
                  ("chase v still", {"adversary": predator_chase, "good": still}),
                  ("chase v random", {"adversary": predator_chase, "good": random_policy}),
                  ("random v flee", {"adversary": random_policy, "good": prey_flee}),
                  ("random v random", {"adversary": random_policy, "good": random_policy})],
        readings=[("prey_touches_per_episode", "(predator, step) touches, summed over the 25 steps"),
                  ("prey_touches_per_step", "predators touching the prey, mean over steps"),
                  ("prey_touches_per_predator", "touches per episode / number of predators"),
                  ("prey_caught_steps", "steps with at least one touch"),
                  ("prey_caught_percent", "% episodes with at least one touch")],
        paper="MADDPG v MADDPG 11.0 / 0.202; MADDPG v DDPG 16.1 / 0.405; DDPG v MADDPG 10.3 / 0.298; "
              "DDPG v DDPG 9.4 / 0.321 (PP1 / PP2 touches)",
        chosen="prey_touches_per_episode (unchanged: the 2017 benchmark count, summed over predators and steps). "
               "Per step the paper's 11.0 is impossible (at most 3 predators touch at once); per predator it "
               "would mean 33 touches an episode, twice what pursuit of a motionless prey gives; summed per "
               "episode, PP1's 9.4-16.1 lie far above pursuit-v-flee and up to pursuit-v-motionless, and PP2's "
               "0.2-0.4 between random-v-flee and pursuit-v-flee. So the counting is not the gap: our trained "
               "predators (1.5) touch about as often as pure pursuit of a fleeing prey.",
    ),
    dict(
        title="Table 4: physical deception (adversary), agents v adversary",
        scenarios=[("N=2", "adversary_n2"), ("N=4", "adversary_n4")],
        policies=[("cover v guess", {"good": good_cover, "adversary": adversary_guess}),
                  ("cover v follow", {"good": good_cover, "adversary": adversary_follow}),
                  ("cover v oracle", {"good": good_cover, "adversary": to_goal}),
                  ("all-to-target v follow", {"good": to_goal, "adversary": adversary_follow}),
                  ("random v centre", {"good": random_policy, "adversary": centre}),
                  ("random v random", {"good": random_policy, "adversary": random_policy})],
        readings=[(f"{stem}{suffix}", f"{what}, {how}")
                  for suffix, how in (("", "within 2 x agent size (0.3)"), ("_nearest", "nearest landmark"),
                                      ("_landmark_radius", "within 2 x landmark size (0.16)"))
                  for stem, what in (("agent_success_percent", "AG %"), ("adversary_success_percent", "ADV %"))],
        paper="N=2: MADDPG v MADDPG 94.4 / 39.2; MADDPG v DDPG 92.2 / 16.4; DDPG v MADDPG 68.9 / 59.0; "
              "DDPG v DDPG 74.7 / 38.6. N=4: 81.5 / 28.3; 69.6 / 19.8; 35.7 / 32.1; 18.4 / 35.8 (AG % / ADV %)",
        chosen="agent_success_percent / adversary_success_percent / success_difference (unchanged: within 2 x "
               "agent size, 0.3, after the last step). Under the nearest-landmark reading random good agents "
               "already score 65-75% and a random adversary 24-51%, above the paper's DDPG agents at N=4 "
               "(18.4%) and DDPG adversary at N=2 (16.4%); a trained team doing far worse than random is not "
               "credible, so that reading is rejected. Both radius readings (0.3 and the scenario's own 2 x "
               "landmark size, 0.16) place every paper row at or above random (DDPG v DDPG at N=4, 18.4%, is "
               "random-level under 0.3) and at or below the scripted deception "
               "(cover v guess: 100 / ~50 at N=2, 100 / ~25-30 at N=4, the paper's MADDPG v MADDPG 94.4 / 39.2 "
               "and 81.5 / 28.3); the existing 0.3 stays.",
    ),
    dict(
        title="Table 5: covert communication (crypto), Alice+Bob v Eve",
        scenarios=[("", "crypto")],
        policies=[("plain, Bob copies v Eve copies", {"alice": alice_plain, "bob": listener_copy,
                                                      "eve": listener_copy}),
                  ("keyed, Bob decodes v Eve copies", {"alice": alice_keyed, "bob": bob_decode,
                                                       "eve": listener_copy}),
                  ("keyed, Bob decodes v Eve constant", {"alice": alice_keyed, "bob": bob_decode,
                                                         "eve": listener_constant}),
                  ("keyed, Bob decodes v Eve random", {"alice": alice_keyed, "bob": bob_decode,
                                                       "eve": utter_random}),
                  ("keyed, Bob decodes v Eve silent", {"alice": alice_keyed, "bob": bob_decode,
                                                       "eve": listener_silent}),
                  ("random v random", {"alice": utter_random, "bob": utter_random, "eve": utter_random})],
        readings=[("bob_success_percent", "Bob's last utterance strictly nearer the message than the other one"),
                  ("eve_success_percent", "the same for Eve"),
                  ("success_difference", "Bob minus Eve")],
        paper="MADDPG v MADDPG 96.5 / 52.1; MADDPG v DDPG 96.8 / 44.4; DDPG v MADDPG 65.3 / 64.3; DDPG v DDPG "
              "92.7 / 67.6 (Bob / Eve success %)",
        chosen="nearest message, ties failing (unchanged). The message is one of two, so an Eve who cannot "
               "read it (a key-dependent cipher) succeeds in about half the episodes whatever she says, a "
               "copy, a constant guess or noise, and only a tie (a silent or undecided Eve) scores below. The "
               "paper's Eve cells above 50 (64.3, 67.6) say its Alice leaked the message; MADDPG v DDPG's 44.4 "
               "lies below every guessing Eve here.",
    ),
    dict(
        title="Table 6a: keep-away (push), frames the adversary holds the goal",
        scenarios=[("", "push")],
        policies=[("agent to goal v adversary to goal", {"good": to_goal, "adversary": to_goal}),
                  ("agent to goal v adversary chases agent", {"good": to_goal, "adversary": chase_agent}),
                  ("agent to goal v adversary random", {"good": to_goal, "adversary": random_policy}),
                  ("agent still v adversary to goal", {"good": still, "adversary": to_goal}),
                  ("random v random", {"all": random_policy})],
        readings=[("adversary_goal_frames", "adversary within 2 x its size (0.1) of the goal"),
                  ("adversary_goal_frames_nearest", "adversary nearer the goal than the other landmark"),
                  ("adversary_closer_frames", "adversary nearer the goal than the agent is"),
                  ("agent_goal_frames", "agent within 0.1 of the goal")],
        paper="S-adv 7.94 / 7.74; E-adv 8.35 / 8.11 (frames of 25)",
        chosen="adversary_goal_frames (unchanged: within 2 x its size, 0.1). The paper's 7.7-8.4 frames lie "
               "between a random adversary (about 0.2-0.3) and one that drives to the goal (about 12). Under "
               "the nearest-landmark reading a random adversary already scores about 13 frames, above every "
               "paper cell, so it is rejected. adversary_closer_frames is consistent too (about 2 for a random "
               "adversary against a goal-seeking agent, about 13 for a goal-seeking adversary) and stays "
               "computed as the alternative.",
    ),
    dict(
        title="Table 6b: physical deception N=2, frames the adversary stays at the goal",
        scenarios=[("", "adversary_n2")],
        policies=[("cover v guess", {"good": good_cover, "adversary": adversary_guess}),
                  ("cover v follow", {"good": good_cover, "adversary": adversary_follow}),
                  ("cover v oracle", {"good": good_cover, "adversary": to_goal}),
                  ("all-to-target v follow", {"good": to_goal, "adversary": adversary_follow}),
                  ("random v random", {"all": random_policy})],
        readings=[("adversary_goal_frames", "within 2 x agent size (0.3)"),
                  ("adversary_goal_frames_nearest", "nearest landmark is the goal"),
                  ("adversary_goal_frames_landmark_radius", "within 2 x landmark size (0.16)")],
        paper="S-adv 4.25 / 4.10; E-adv 5.55 / 4.44 (frames of 25)",
        chosen="adversary_goal_frames (unchanged: within 2 x agent size, 0.3). The paper's 4.1-5.6 frames lie "
               "between a random adversary (about 1) and a deceived one that holds a guessed landmark (about 10), "
               "in line with Table 4's adversary success of 39% at the last step; the nearest-landmark reading "
               "gives a random adversary about 13 frames, above every paper cell, and is rejected.",
    ),
    dict(
        title="Table 6c: predator-prey N=4 L=1 (ensemble_tag), collisions",
        scenarios=[("", "ensemble_tag")],
        policies=[("chase v flee", {"adversary": predator_chase, "good": prey_flee}),
                  ("chase v still", {"adversary": predator_chase, "good": still}),
                  ("chase v random", {"adversary": predator_chase, "good": random_policy}),
                  ("random v flee", {"adversary": random_policy, "good": prey_flee}),
                  ("random v random", {"all": random_policy})],
        readings=[("prey_touches_per_episode", "(predator, step) touches, summed over the 25 steps"),
                  ("prey_touches_per_step", "predators touching the prey, mean over steps"),
                  ("prey_caught_steps", "steps with at least one touch"),
                  ("prey_caught_percent", "% episodes with at least one touch")],
        paper="S-adv 0.201 / 0.211; E-adv 0.125 / 0.17",
        chosen="prey_touches_per_episode is kept, with prey_touches_per_step as the documented alternative; "
               "the calibration does not settle it. Per episode the paper's 0.125-0.211 sit where random "
               "predators do (between random-v-flee and random-v-random), i.e. a prey the predators cannot "
               "catch, like PP2's 0.2-0.4; per step (5 touches an episode) they sit between pursuit-v-flee and "
               "pursuit-v-motionless, where Table 3's PP1 sits. Which fits depends on how fast the old "
               "ensemble_tag prey really was (accel 6 is known, its top speed is not).",
    ),
]


def _format(value: float) -> str:
    return f"{value:.3f}" if abs(value) < 10 else f"{value:.1f}"


def calibrate(episodes: int, dynamics: str, out=sys.stdout) -> None:
    started = time.time()
    print(f"# Metric calibration on scripted policies ({episodes} episodes per policy, {dynamics} dynamics)\n",
          file=out)
    print("Produced by `python -m benchmarks.metric_calibration "
          f"--episodes {episodes} --dynamics {dynamics}`. Policies are numpy scripts that read the world "
          "state (see the module). Each cell: the metric's value over the same reset seeds.\n", file=out)
    for table in TABLES:
        print(f"## {table['title']}\n", file=out)
        columns = [(s_label, scenario, p_label, roles) for s_label, scenario in table["scenarios"]
                   for p_label, roles in table["policies"]]
        results = [run(scenario, roles, episodes, dynamics) for _, scenario, _, roles in columns]
        header = [f"{s} {p}".strip() for s, _, p, _ in columns]
        print("| reading | definition | " + " | ".join(header) + " |", file=out)
        print("|---|---|" + "---|" * len(header), file=out)
        for name, what in table["readings"]:
            print(f"| `{name}` | {what} | " + " | ".join(_format(r[name]) for r in results) + " |", file=out)
        print(f"\nPaper: {table['paper']}.\n", file=out)
        if table["chosen"]:
            print(f"Chosen: {table['chosen']}\n", file=out)
        out.flush()
    print(f"({time.time() - started:.0f} s)", file=sys.stderr)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.metric_calibration",
        description="Evaluate scripted policies (oracle, the paper's failure modes, random) through the "
                    "project's metric classes and print, per paper table, every candidate reading beside the "
                    "paper's rows, with the reading kept and why.")
    parser.add_argument("--episodes", type=int, default=300, help="episodes per policy (default 300)")
    parser.add_argument("--dynamics", choices=("paper", "mpe2"), default="paper",
                        help="reference env dynamics: 2017 integration order and action sign ('paper', "
                             "default) or mpe2 as is")
    parser.add_argument("--output", default=None, help="also write the markdown to this file "
                        "(e.g. results/metric_calibration.md)")
    args = parser.parse_args(argv)
    if args.output:
        import io

        buffer = io.StringIO()
        calibrate(args.episodes, args.dynamics, out=buffer)
        text = buffer.getvalue()
        sys.stdout.write(text)
        with open(args.output, "w") as f:
            f.write(text)
    else:
        calibrate(args.episodes, args.dynamics)


if __name__ == "__main__":
    main()
