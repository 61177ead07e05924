"""Learner parity with openai/maddpg: our Learner, started from the reference's recorded variables and fed
its recorded batches and uniform noise, reproduces its losses and every variable through 3 update rounds.

The fixture (tests/data/openai_maddpg_cc_update.npz, see tests/data/README.md) records openai/maddpg's TF1
trainers on simple_speaker_listener (agent 0: speaker, obs 3, actions 3; agent 1: listener, obs 11, actions
5): all initial variables (actors, critics, their independently initialised targets, both Adam optimizers'
slots and beta powers), the replay rows the batches read, each update's batch indices and uniforms in the
order they were consumed, the losses, and every variable after each agent's update in rounds 0, 1 and 2.

Reference variable names map onto ours as follows (P = 1 population member):
    agent_i/p_func, target_p_func, q_func, target_q_func -> actors[i], target_actors[i], critics[i],
                                                            target_critics[i]
    fully_connected, fully_connected_1, fully_connected_2 -> hidden[0], hidden[1], out
    weights [in, out], biases [out]                       -> kernel [1, in, out], bias [1, out]
    agent_i/agent_i/<net>/<layer>/<param>/Adam, Adam_1    -> that variable's Adam m, v in
                                                            critic_optimizers[i] (q_func) or actor_optimizers[i]
    agent_i/beta{1,2}_power, agent_i_1/beta{1,2}_power    -> beta^(iterations + 1) of critic_optimizers[i],
                                                            actor_optimizers[i]
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from maddpg.config import TrainConfig
from maddpg.gumbel import gumbel_softmax
from maddpg.learner import Learner, critic_input
from maddpg.replay import ReplayBuffer

FIXTURE = Path(__file__).resolve().parent / "data" / "openai_maddpg_cc_update.npz"
OBSERVATION_SIZES, ACTION_SIZES = (3, 11), (3, 5)
REPLAY_ROWS = 25_600  # the reference's buffer length when its first update fires (batch 1024 x 25 steps)
ROUNDS, AGENTS = 3, 2
TOLERANCE = 1e-5  # the fixture's own suggestion for float32 across implementations (oneDNN on/off: 4.8e-7)
# Adam's m and v are far smaller than 1 (v ~ 3e-5 at most here), so 1e-5 absolute says little about them;
# they must also agree to this fraction of each tensor's largest magnitude (measured: <= 3e-6).
SCALED_TOLERANCE = 1e-4
BETA_1, BETA_2 = 0.9, 0.999
NETWORKS = {"p_func": "actors", "target_p_func": "target_actors", "q_func": "critics",
            "target_q_func": "target_critics"}
LAYERS = {"fully_connected": 0, "fully_connected_1": 1, "fully_connected_2": 2}


def reference_config() -> TrainConfig:
    """openai/maddpg's train.py settings (lr 1e-2, batch 1024, 64 units, gamma 0.95), one seed; every field
    the update reads is spelled out so that a changed default cannot silently pass or fail this test."""
    return TrainConfig(seeds=(0,), hidden_units=64, learning_rate=0.01, adam_epsilon=1e-8, gamma=0.95, tau=0.01,
                       batch_size=1024, grad_clip_norm=0.5, logit_penalty=1e-3, gumbel_temperature=1.0,
                       critic_kinds=("maddpg", "maddpg"), copy_targets_at_start=False, policy_inference=False,
                       ensemble_size=1, jit_compile=False)


def owner(name: str) -> int:
    """The agent a reference variable belongs to ('agent_1/q_func/...', 'agent_0_1/beta1_power' -> 1, 0)."""
    return int(name.split("/")[0].split("_")[1])


def kind(name: str) -> str:
    """The quantity a reference variable is, for the error table: e.g. 'target_q_func', 'adam_v', 'beta_power'."""
    if name.endswith("_power"):
        return "beta_power"
    if name.endswith("/Adam"):
        return "adam_m"
    if name.endswith("/Adam_1"):
        return "adam_v"
    return name.split("/")[1]


class Reference:
    """The fixture's arrays, with every snapshot completed (the trimmed file keeps only the updated agent's
    variables in each; the other agent's are, as checked when trimming, those of the snapshot before)."""

    def __init__(self, path: Path = FIXTURE):
        data = np.load(path)
        self.data = {key: data[key] for key in data.files}
        self.initial = self._snapshot("vars_init", None)
        self.after = {}  # (round, agent) -> {name: value} after that agent's update
        previous = self.initial
        for r in range(ROUNDS):
            for agent, prefix in ((0, f"vars_after_round{r}_agent0"), (1, f"vars_after_round{r}")):
                self.after[r, agent] = {**previous, **self._snapshot(prefix, agent)}
                previous = self.after[r, agent]

    def _snapshot(self, prefix: str, agent: int | None) -> dict[str, np.ndarray]:
        snapshot = {key[len(prefix) + 1:]: value for key, value in self.data.items() if key.startswith(prefix + "/")}
        assert agent is None or all(owner(name) == agent for name in snapshot)
        return snapshot

    def update(self, r: int, agent: int, field: str) -> np.ndarray:
        """One recorded input or output of agent's update in round r (see the sidecar's key_groups)."""
        return self.data[f"round{r}/agent{agent}/{field}"]

    def replay_buffer(self) -> ReplayBuffer:
        """Our buffer (P = 1) holding the reference's rows at their original positions: the recorded batch
        indices then address it unchanged. Rows no batch reads were not kept and stay zero."""
        rows = self.data["replay/rows"]
        buffer = ReplayBuffer(1, REPLAY_ROWS, OBSERVATION_SIZES, ACTION_SIZES, write_block=REPLAY_ROWS)

        def full(field: str, agent: int) -> np.ndarray:  # [1, REPLAY_ROWS, width]
            values = self.data[f"replay/agent{agent}/{field}"]
            values = values.reshape(len(rows), -1)
            placed = np.zeros((REPLAY_ROWS, values.shape[1]), np.float32)
            placed[rows] = values
            return placed[None]

        rewards = np.concatenate([full("rew", agent) for agent in range(AGENTS)], axis=-1)  # [1, rows, N]
        buffer.add([full("obs", i) for i in range(AGENTS)], [full("act", i) for i in range(AGENTS)], rewards,
                   [full("obs_next", i) for i in range(AGENTS)])
        return buffer


def _layer(network, index: int):
    return (network.hidden + [network.out])[index]


def our_variable(learner: Learner, name: str):
    """Our tf.Variable standing for the reference variable `name` (not the beta powers: see `load`)."""
    parts = name.split("/")
    agent = owner(name)
    if parts[-1] in ("Adam", "Adam_1"):  # agent_i/agent_i/<net>/<layer>/<param>/Adam[_1]
        variable = our_variable(learner, "/".join(parts[1:-1]))
        optimizer = (learner.critic_optimizers if parts[2] == "q_func" else learner.actor_optimizers)[agent]
        slots = optimizer._momentums if parts[-1] == "Adam" else optimizer._velocities
        return slots[optimizer._get_variable_index(variable)]
    network = getattr(learner, NETWORKS[parts[1]])[agent]  # agent_i/<net>/<layer>/<param>
    layer = _layer(network, LAYERS[parts[2]])
    return layer.kernel if parts[3] == "weights" else layer.bias


def beta_power_optimizer(learner: Learner, name: str):
    """'agent_i/beta1_power' is the critic optimizer's, 'agent_i_1/beta1_power' the actor optimizer's."""
    scope = name.split("/")[0]  # 'agent_i' (critic's optimizer) or 'agent_i_1' (actor's)
    optimizers = learner.actor_optimizers if scope.count("_") == 2 else learner.critic_optimizers
    return optimizers[owner(name)]


def load(learner: Learner, snapshot: dict[str, np.ndarray]) -> None:
    """Sets every variable of ours from a reference snapshot, the Adam step counts from its beta powers."""
    for name, value in snapshot.items():
        if name.endswith("_power"):
            # TF1 keeps beta^(t+1) (t steps taken); Keras keeps t and forms beta^(t+1) when it steps.
            steps = expected_steps(value, BETA_1 if "beta1" in name else BETA_2)
            beta_power_optimizer(learner, name).iterations.assign(steps)
        else:
            variable = our_variable(learner, name)
            variable.assign(value.reshape(variable.shape))  # weights [in, out] -> kernel [1, in, out]


def ours(learner: Learner, name: str) -> np.ndarray:
    """Our current value of the reference variable `name`, in the reference's shape."""
    if name.endswith("_power"):
        beta = BETA_1 if "beta1" in name else BETA_2
        steps = int(beta_power_optimizer(learner, name).iterations.numpy())
        return np.float32(beta) ** np.float32(steps + 1)
    return our_variable(learner, name).numpy()[0]


def expected_steps(value: np.ndarray, beta: float) -> int:
    """Adam steps taken according to a TF1 beta power beta^(t+1)."""
    return round(math.log(float(value)) / math.log(beta)) - 1


class Errors:
    """Max |ours - reference| per quantity over all updates (and, for Adam slots, that error over the
    tensor's largest magnitude)."""

    def __init__(self):
        self.max = {}
        self.scaled = {}

    def add(self, quantity: str, actual, expected) -> None:
        expected = np.asarray(expected, np.float64)
        error = float(np.max(np.abs(np.asarray(actual, np.float64) - expected)))
        self.max[quantity] = max(self.max.get(quantity, 0.0), error)
        if quantity.startswith("adam_") and expected.any():
            self.scaled[quantity] = max(self.scaled.get(quantity, 0.0), error / float(np.max(np.abs(expected))))

    def check(self) -> None:
        print("\nmax |ours - openai/maddpg| per quantity:")
        for quantity, error in sorted(self.max.items()):
            scaled = f"  ({self.scaled[quantity]:.2g} of the tensor's max)" if quantity in self.scaled else ""
            print(f"  {quantity:24s} {error:.3g}{scaled}")
        too_large = {q: e for q, e in self.max.items() if not e <= TOLERANCE}
        assert not too_large, f"beyond {TOLERANCE}: {too_large}"
        too_large = {q: e for q, e in self.scaled.items() if not e <= SCALED_TOLERANCE}
        assert not too_large, f"beyond {SCALED_TOLERANCE} of the tensor's largest magnitude: {too_large}"


def run_update(learner: Learner, buffer: ReplayBuffer, reference: Reference, r: int, agent: int,
               errors: Errors) -> None:
    """Agent's update of round r on the recorded batch and noise; compares its critic target, losses, and
    afterwards every variable, with the reference's."""
    indices = tf.constant(reference.update(r, agent, "indices")[None], tf.int32)  # [1, batch]
    target_noise = [tf.constant(reference.update(r, agent, f"u_target_act_agent{j}")[None])
                    for j in range(AGENTS)]  # per agent j [1, batch, A_j]
    actor_noise = tf.constant(reference.update(r, agent, "u_actor_loss")[None])  # [1, batch, A_i]

    # The critic target, recomputed from the same batch, noise and (pre-update) target networks.
    _, _, rewards, next_observations = buffer.sample(indices)
    target_actions = [gumbel_softmax(network(obs), noise)
                      for network, obs, noise in zip(learner.target_actors, next_observations, target_noise)]
    target_q_next = learner.target_critics[agent](critic_input("maddpg", agent, next_observations, target_actions))
    errors.add("target_q_next", target_q_next.numpy()[0, :, 0], reference.update(r, agent, "target_q_next"))
    target = learner.critic_target(agent, rewards, next_observations, target_actions)  # [1, batch, 1]
    errors.add("critic_target", target.numpy()[0, :, 0], reference.update(r, agent, "target_q_fed_f32"))

    critic_loss, actor_loss = learner.update_agent_on(agent, buffer, indices, target_noise, actor_noise)
    errors.add("critic_loss", critic_loss.numpy()[0], reference.update(r, agent, "q_loss"))
    errors.add("actor_loss", actor_loss.numpy()[0], reference.update(r, agent, "p_loss"))

    for name, value in reference.after[r, agent].items():
        if name.endswith("_power"):
            steps = int(beta_power_optimizer(learner, name).iterations.numpy())
            assert steps == expected_steps(value, BETA_1 if "beta1" in name else BETA_2), (r, agent, name)
        errors.add(kind(name), ours(learner, name), value)


@pytest.fixture(scope="module")
def reference():
    return Reference()


@pytest.fixture(scope="module")
def learner_and_buffer(reference):
    learner = Learner(reference_config(), OBSERVATION_SIZES, ACTION_SIZES)
    return learner, reference.replay_buffer()


def test_fixture_maps_onto_every_variable_of_ours(reference, learner_and_buffer):
    """Each of the 104 reference variables has exactly one counterpart of ours, of the same size, and no
    network or Adam slot of ours is left without one."""
    learner, _ = learner_and_buffer
    assert len(reference.initial) == 104
    mapped = {}
    for name, value in reference.initial.items():
        if name.endswith("_power"):
            continue
        variable = our_variable(learner, name)
        assert variable.shape == (1, *value.shape), name
        mapped[id(variable)] = name
    networks = learner.actors + learner.target_actors + learner.critics + learner.target_critics
    optimizers = learner.actor_optimizers + learner.critic_optimizers
    ours_all = [v for n in networks for v in n.trainable_variables]
    ours_all += [v for o in optimizers for v in o._momentums + o._velocities]
    assert {id(v) for v in ours_all} == set(mapped)


def test_three_rounds_match_the_reference_chained(reference, learner_and_buffer):
    """From the recorded initial state, 3 rounds (agent 0 then agent 1) of our updates track the reference's:
    losses, critic targets, online and target actors and critics, Adam m and v, Adam step counts."""
    learner, buffer = learner_and_buffer
    load(learner, reference.initial)
    errors = Errors()
    for r in range(ROUNDS):
        for agent in range(AGENTS):
            run_update(learner, buffer, reference, r, agent, errors)
    errors.check()


def test_each_update_matches_from_the_reference_state(reference, learner_and_buffer):
    """Each update started from the reference's own state before it: the per-update error, free of drift."""
    learner, buffer = learner_and_buffer
    errors = Errors()
    previous = reference.initial
    for r in range(ROUNDS):
        for agent in range(AGENTS):
            load(learner, previous)
            run_update(learner, buffer, reference, r, agent, errors)
            previous = reference.after[r, agent]
    errors.check()
