"""The one scenario registry: for each paper scenario, everything the suite needs to know about it.

Per scenario (a key of :data:`SCENARIOS`, e.g. ``"spread_n3"``):
- its mpe2 module and constructor arguments, agent order and post-construction tweaks (envs.reference builds
  the reference env from these);
- its batched TensorFlow port (:class:`PortSpec`: module under envs.batched, class, constructor arguments;
  envs.batched.make_batched_env builds it);
- its teams in the paper's roles (``"agents"`` and, where competitive, ``"adversaries"``);
- its table metrics, as the dotted name of a class in maddpg.metrics. envs imports nothing of ours above it,
  so the class is named here and resolved by maddpg.metrics.scenario_metrics.

TensorFlow-free and mpe2-free: evaluation workers and the command lines read it without loading either.
The paper's per-experiment settings (units, seeds, episodes) are not here: one scenario serves several
experiments with different settings (speaker_listener: Table 1 and sec. 4.2), so they live with each
experiment (reproduction/<experiment>.py, checked against the paper by tests/test_hyperparameters.py).

Naming: ``ScenarioSpec.teams`` uses the *paper's* roles. For predator-prey that is the reverse of mpe2's
names: mpe2's ``adversary_*`` are the paper's cooperating agents (predators) and mpe2's ``agent_0`` is the
paper's adversary (prey).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

TEAM_ROLES = ("agents", "adversaries")  # the paper's roles, in the order of team indices


@dataclasses.dataclass(frozen=True)
class PortSpec:
    """Where a scenario's batched port lives and how it is constructed (dtype and dynamics come on top).

    Attributes:
        module: module under envs.batched, e.g. ``"spread"``.
        class_name: the port class in that module, e.g. ``"BatchedSpread"``.
        kwargs: the constructor arguments that make it this scenario, e.g. ``{"num_agents": 3}``.
    """

    module: str
    class_name: str
    kwargs: Mapping[str, Any] = dataclasses.field(default_factory=dict)


# Spread's per-agent reward weighting, keyed by N. mpe2 gives agent i
#     r_i = -(1 - lr) * D - lr * c_i,
# with D = sum over landmarks of the distance to the nearest agent and c_i = number of other agents
# touching i. The 2017 env gave every agent the shared reward
#     R = sum_j (-D - (1 + c_j)) = -N * D - N - 2 * P          (P = touching pairs; "1 +" is self-collision)
# The part of R that agent i's own action changes is -N * D - 2 * c_i (the -N is constant, and collisions
# between other agents are driven by their actions, which MADDPG's critic receives as inputs). r_i is
# proportional to that iff (1 - lr) / lr = N / 2, i.e. lr = 2 / (N + 2): 0.4 for N=3, 0.25 for N=6,
# and then R = (N + 2) * r_i + (terms agent i does not control). The alternatives are further off:
# lr = 0 drops collisions (which Table 2 reports); mpe2's default 0.5 weighs distance:collision 1:1
# instead of 3:2 (N=3) or 3:1 (N=6). What stays different: mpe2 rewards are 1/(N+2) of the 2017 scale,
# and agent i no longer pays for collisions between two other agents.
SPREAD_LOCAL_RATIO: dict[int, float] = {n: 2.0 / (n + 2) for n in (3, 6)}


@dataclasses.dataclass(frozen=True)
class ScenarioSpec:
    """One paper scenario: its mpe2 reference env, its batched port, its teams and its metrics.

    Attributes:
        name: Key in :data:`SCENARIOS`.
        module: mpe2 module name, e.g. ``"simple_spread_v3"``.
        kwargs: Scenario-specific mpe2 constructor arguments (never max_cycles, render_mode,
            continuous_actions, dynamic_rescaling or benchmark_data; the factory sets those).
        agents: Agent names in mpe2 order (the order of observations, actions and rewards).
        teams: Paper role -> agent names; ``"agents"`` and, if competitive, ``"adversaries"``.
        description: One line saying what the paper calls each agent.
        port: Its batched TensorFlow port (envs.batched).
        metrics: Dotted name of its table metrics class, e.g. ``"maddpg.metrics.spread.SpreadMetrics"``.
        prey_max_speed: If set, the ``max_speed`` given to every mpe2 good agent after construction
            (predator-prey PP2). mpe2 sets max_speed only in ``make_world``, so it survives reset.
        prey_accel: If set, the ``accel`` given to every mpe2 good agent after construction
            (ensemble_tag's fast prey). mpe2 sets accel only in ``make_world``, so it survives reset.
    """

    name: str
    module: str
    kwargs: dict[str, Any]
    agents: tuple[str, ...]
    teams: dict[str, tuple[str, ...]]
    description: str
    port: PortSpec
    metrics: str
    prey_max_speed: float | None = None
    prey_accel: float | None = None


def _spread(n: int) -> ScenarioSpec:
    names = tuple(f"agent_{i}" for i in range(n))
    return ScenarioSpec(
        name=f"spread_n{n}",
        module="simple_spread_v3",
        kwargs={"N": n, "local_ratio": SPREAD_LOCAL_RATIO[n]},
        agents=names,
        teams={"agents": names},
        description=f"Cooperative navigation: {n} agents agent_0..{n - 1} (the paper's agents) cover {n} "
        "landmarks while avoiding collisions.",
        port=PortSpec("spread", "BatchedSpread", {"num_agents": n}),
        metrics="maddpg.metrics.spread.SpreadMetrics",
    )


def _adversary(n: int) -> ScenarioSpec:
    good = tuple(f"agent_{i}" for i in range(n))
    return ScenarioSpec(
        name=f"adversary_n{n}",
        module="simple_adversary_v3",
        kwargs={"N": n},
        agents=("adversary_0",) + good,
        teams={"agents": good, "adversaries": ("adversary_0",)},
        description=f"Physical deception: agent_0..{n - 1} (the paper's cooperating agents, know the target "
        f"among {n} landmarks) vs adversary_0 (the paper's adversary, must infer it).",
        port=PortSpec("adversary", "BatchedAdversary", {"num_good": n}),
        metrics="maddpg.metrics.adversary.AdversaryMetrics",
    )


def _tag(variant: str, prey_max_speed: float | None, port_prey_max_speed: float,
         num_obstacles: int = 3) -> ScenarioSpec:
    predators = ("adversary_0", "adversary_1", "adversary_2")
    speed = "mpe2 default prey speed (1.3 vs 1.0)" if prey_max_speed is None else (
        f"prey max_speed {prey_max_speed}"
    )
    return ScenarioSpec(
        name=f"tag_{variant.lower()}",
        module="simple_tag_v3",
        # The paper's Table 3 has N = L = 3; mpe2's default (and openai/maddpg's) is 2 obstacles.
        kwargs={"num_good": 1, "num_adversaries": 3, "num_obstacles": num_obstacles},
        agents=predators + ("agent_0",),
        teams={"agents": predators, "adversaries": ("agent_0",)},
        description=f"Predator-prey {variant}: mpe2 adversary_0..2 are the paper's agents (predators), mpe2 "
        f"agent_0 is the paper's adversary (prey); {num_obstacles} obstacles; {speed}.",
        port=PortSpec("tag", "BatchedTag", {"prey_max_speed": port_prey_max_speed, "num_obstacles": num_obstacles}),
        metrics="maddpg.metrics.tag.TagMetrics",
        prey_max_speed=prey_max_speed,
    )


# Table 6's predator-prey (openai/maddpg's old ensemble_tag scenario): N = 4 predators, L = 1 landmark and
# one fast prey, accel 6 against the predators' 3. mpe2's prey accel is 4, so it is raised after construction;
# predator accel (3), every max_speed (predators 1.0, prey mpe2's 1.3) and the radii stay mpe2's.
ENSEMBLE_TAG_PREY_ACCEL = 6.0


def _ensemble_tag() -> ScenarioSpec:
    predators = tuple(f"adversary_{i}" for i in range(4))
    return ScenarioSpec(
        name="ensemble_tag",
        module="simple_tag_v3",
        kwargs={"num_good": 1, "num_adversaries": 4, "num_obstacles": 1},
        agents=predators + ("agent_0",),
        teams={"agents": predators, "adversaries": ("agent_0",)},
        description="Predator-prey for policy ensembles (Table 6): mpe2 adversary_0..3 are the paper's agents "
        f"(predators, accel 3), mpe2 agent_0 is the paper's adversary (prey, accel {ENSEMBLE_TAG_PREY_ACCEL:g}); "
        "1 obstacle; mpe2 default prey speed (1.3 vs 1.0).",
        # 4 predators, 1 obstacle, prey accel 6 (mpe2's prey max_speed 1.3 kept).
        port=PortSpec("tag", "BatchedTag",
                      {"num_predators": 4, "num_obstacles": 1, "prey_accel": ENSEMBLE_TAG_PREY_ACCEL}),
        metrics="maddpg.metrics.tag.TagMetrics",
        prey_accel=ENSEMBLE_TAG_PREY_ACCEL,
    )


SCENARIOS: dict[str, ScenarioSpec] = {
    spec.name: spec
    for spec in (
        ScenarioSpec(
            name="speaker_listener",
            module="simple_speaker_listener_v4",
            kwargs={},
            agents=("speaker_0", "listener_0"),
            teams={"agents": ("speaker_0", "listener_0")},
            description="Cooperative communication: speaker_0 (the paper's speaker, immobile, says 3 values) "
            "guides listener_0 (the paper's listener, moves, silent) to the target of 3 landmarks.",
            port=PortSpec("speaker_listener", "BatchedSpeakerListener"),
            metrics="maddpg.metrics.speaker_listener.SpeakerListenerMetrics",
        ),
        _spread(3),
        _spread(6),
        ScenarioSpec(
            name="push",
            module="simple_push_v3",
            kwargs={},
            agents=("adversary_0", "agent_0"),
            teams={"agents": ("agent_0",), "adversaries": ("adversary_0",)},
            description="Keep-away: agent_0 (the paper's agent, knows the target landmark) vs adversary_0 "
            "(the paper's adversary, pushes it away from a target it must infer).",
            port=PortSpec("push", "BatchedPush"),
            metrics="maddpg.metrics.push.PushMetrics",
        ),
        _adversary(2),
        _adversary(4),
        _tag("PP1", None, 1.3),  # the port states mpe2's prey max_speed, 1.3
        _tag("PP2", 2.0, 2.0),
        # PP1 with the 2 obstacles of mpe2's and the reference code's default (the paper's text says 3): the
        # obstacle-count study's scenario (reproduction.ablations), not one of the paper's tables.
        _tag("PP1_L2", None, 1.3, num_obstacles=2),
        # The prey no faster than the predators (max_speed 1.0 like theirs; its accel stays mpe2's 4 against
        # their 3): the prey-speed study's scenario, not one of the paper's tables.
        _tag("PP_EVEN", 1.0, 1.0),
        ScenarioSpec(
            name="crypto",
            module="simple_crypto_v3",
            kwargs={},
            agents=("eve_0", "bob_0", "alice_0"),
            teams={"agents": ("alice_0", "bob_0"), "adversaries": ("eve_0",)},
            description="Covert communication: alice_0 (the paper's Alice, speaker) sends bob_0 (the paper's "
            "Bob) a message encrypted with their shared key; eve_0 (the paper's Eve, adversary) also tries "
            "to decode it; all immobile.",
            port=PortSpec("crypto", "BatchedCrypto"),
            metrics="maddpg.metrics.crypto.CryptoMetrics",
        ),
        _ensemble_tag(),
    )
}


def scenario_names() -> list[str]:
    """Returns the keys of :data:`SCENARIOS` in definition order."""
    return list(SCENARIOS)




def scenario_spec(name: str) -> ScenarioSpec:
    """The registry entry of a scenario; ValueError naming the known ones otherwise."""
    spec = SCENARIOS.get(name)
    if spec is None:
        raise ValueError(f"unknown scenario {name!r}; valid names: {', '.join(SCENARIOS)}")
    return spec


def team_indices(agents: tuple[str, ...], teams: Mapping[str, tuple[str, ...]]) -> dict[str, tuple[int, ...]]:
    """Paper role -> indices into `agents` of its members, roles in TEAM_ROLES order ("agents" first)."""
    return {role: tuple(agents.index(agent) for agent in teams[role]) for role in TEAM_ROLES if role in teams}


def scenario_teams(name: str) -> dict[str, tuple[int, ...]]:
    """Paper role -> agent indices (mpe2 order) of a registered scenario; what its batched port's `teams` is."""
    spec = scenario_spec(name)
    return team_indices(spec.agents, spec.teams)


def team_of_agent(teams: Mapping[str, tuple[int, ...]], num_agents: int) -> tuple[int, ...]:
    """Per agent, the index of its team: the position of its role in `teams` (0 for "agents", 1 for
    "adversaries"), e.g. for a port `team_of_agent(env.teams, len(env.agents))`."""
    index = {agent: team for team, members in enumerate(teams.values()) for agent in members}
    return tuple(index[agent] for agent in range(num_agents))
