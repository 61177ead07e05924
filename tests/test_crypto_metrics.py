"""Covert-communication metrics (Table 5) on hand-built mpe2 states with known answers."""

import numpy as np
import pytest

from envs.reference import make_reference_env
from maddpg.metrics import scenario_metrics
from maddpg.metrics.crypto import CryptoMetrics, decodes_message

E0, E1 = np.eye(4)[0], np.eye(4)[1]


def _world(goal):
    """A reset crypto world whose message is landmark `goal`'s colour (seeds searched, not edited)."""
    env = make_reference_env("crypto")
    for seed in range(100):
        env.reset(seed=seed)
        world = env.unwrapped.world
        if world.landmarks.index(world.agents[2].goal_a) == goal:
            return world
    raise AssertionError("no seed drew that goal")


def _episode(metrics, world, eve_says, bob_says, steps=25):
    """An episode that ends with Eve and Bob saying the given vectors (earlier steps say the opposite)."""
    eve, bob, _ = world.agents
    metrics.start_episode(world)
    for step in range(steps):
        last = step == steps - 1
        eve.state.c = np.asarray(eve_says if last else 1.0 - np.asarray(eve_says), dtype=np.float32)
        bob.state.c = np.asarray(bob_says if last else 1.0 - np.asarray(bob_says), dtype=np.float32)
        metrics.after_step(world)
    metrics.end_episode(world)


def test_registered_and_the_candidates_are_two_one_hot_vectors():
    metrics = scenario_metrics("crypto")
    assert isinstance(metrics, CryptoMetrics)
    assert metrics.names == ("bob_success_percent", "eve_success_percent", "success_difference")
    world = _world(0)
    np.testing.assert_array_equal([l.color for l in world.landmarks], [E0, E1])
    assert all(a.goal_a is world.agents[2].goal_a for a in world.agents)  # the one message


def test_success_is_nearest_candidate_after_the_last_step():
    metrics = CryptoMetrics()
    # Episode 1, message e_0: Bob says e_0 exactly (success), Eve says e_1 (failure).
    _episode(metrics, _world(0), eve_says=E1, bob_says=E0)
    # Episode 2, message e_1: Bob says a soft vector leaning to e_1 (success); Eve leans to e_1 too (success),
    # even though her entries 2 and 3 are large: only the comparison with the other candidate counts.
    _episode(metrics, _world(1), eve_says=[0.1, 0.2, 0.9, 0.9], bob_says=[0.3, 0.4, 0.2, 0.1])
    # Episode 3, message e_1: Bob's utterance is equidistant (a tie: failure); Eve says e_0 (failure).
    _episode(metrics, _world(1), eve_says=E0, bob_says=[0.5, 0.5, 0.0, 0.0])
    # Episode 4, message e_0: both silent (all zeros, a tie): failure for both.
    _episode(metrics, _world(0), eve_says=np.zeros(4), bob_says=np.zeros(4))
    summary = metrics.summary()
    assert summary["bob_success_percent"] == pytest.approx(50.0)
    assert summary["eve_success_percent"] == pytest.approx(25.0)
    assert summary["success_difference"] == pytest.approx(25.0)


def test_only_the_last_step_counts():
    metrics = CryptoMetrics()
    _episode(metrics, _world(1), eve_says=E0, bob_says=E1)  # every earlier step says the opposite
    assert metrics.summary() == {"bob_success_percent": 100.0, "eve_success_percent": 0.0,
                                 "success_difference": 100.0}


def test_decodes_message_reduces_to_comparing_two_entries():
    rng = np.random.default_rng(0)
    candidates = np.stack([E0, E1])
    for utterance in rng.random((200, 4)):
        assert decodes_message(utterance, E0, candidates) == (utterance[0] > utterance[1])
        assert decodes_message(utterance, E1, candidates) == (utterance[1] > utterance[0])
    with pytest.raises(ValueError):
        decodes_message(E0, np.eye(4)[2], candidates)


def test_the_calibration_scripts_read_as_their_behaviour():
    """benchmarks/metric_calibration's covert scripts: a keyed cipher that Bob decodes always reaches him, a
    plain message reaches a copying Eve too, and a silent Eve (a tie) never succeeds; a constant guess against
    the cipher is right about half the time."""
    from benchmarks import metric_calibration as calibration

    def play(**roles):
        return calibration.run("crypto", roles, episodes=40, dynamics="paper")

    keyed = play(alice=calibration.alice_keyed, bob=calibration.bob_decode, eve=calibration.listener_silent)
    assert keyed["bob_success_percent"] == 100.0 and keyed["eve_success_percent"] == 0.0
    plain = play(alice=calibration.alice_plain, bob=calibration.listener_copy, eve=calibration.listener_copy)
    assert plain["bob_success_percent"] == 100.0 and plain["eve_success_percent"] == 100.0
    guess = play(alice=calibration.alice_keyed, bob=calibration.bob_decode, eve=calibration.listener_constant)
    assert 25.0 <= guess["eve_success_percent"] <= 75.0
