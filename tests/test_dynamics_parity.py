"""Every batched port against its reference env in both dynamics, and the port's own reset distribution.

Step parity (float64, ~1e-12, reward events exact) runs the comparers of envs/batched/parity.py on a few
envs per check; `python -m benchmarks.parity` runs 1000 episodes per configuration in both dynamics. The
per-scenario test files hold the mpe2-specific checks (constants, contacts, events forced on purpose).

The reset check draws the port's own reset() (not the reference state copied in, as the step checks do)
and compares its distribution with the reference env's resets: every observation entry and every entity
coordinate, by a two-sample Kolmogorov-Smirnov test, and each entity coordinate's support (min and max).
"""

import numpy as np
import pytest
import tensorflow as tf
from scipy import stats

from envs.batched import BATCHED_SCENARIOS, make_batched_env
from envs.batched.parity import (free_running, mpe2_arrays, mpe2_envs, mpe2_observations, random_actions,
                                 teacher_forced)
from envs.reference import make_reference_env
from maddpg.population_random import PopulationRandom

DYNAMICS = ("paper", "mpe2")
QUANTITIES = ("positions", "velocities", "communication", "rewards", "observations")
PARITY_ENVS = 6
RESETS = 2000
KS_MIN_P = 1e-4  # deterministic draws; small enough for ~100 entries per scenario, large enough to catch a shift
SUPPORT_TOLERANCE = 0.02  # 2000 uniform draws reach within ~0.002 of their bounds


@pytest.mark.parametrize("dynamics", DYNAMICS)
@pytest.mark.parametrize("scenario", BATCHED_SCENARIOS)
def test_port_steps_as_its_reference_env(scenario, dynamics):
    port = make_batched_env(scenario, tf.float64, dynamics=dynamics)
    assert port.dynamics == dynamics
    reports = [free_running(port, scenario, PARITY_ENVS, "soft", first_seed=11_000),
               free_running(port, scenario, PARITY_ENVS, "one_hot", first_seed=12_000),
               teacher_forced(port, scenario, PARITY_ENVS, first_seed=13_000)]
    for report in reports:
        assert report["steps"] == 25
        assert report["reward_event_mismatches"] == 0
        assert max(report[q] for q in QUANTITIES) < 1e-12, report


def test_the_two_dynamics_really_differ():
    # The comparison can fail: a paper port stepped beside an mpe2 env, on the same actions from the same
    # state, ends far from it.
    port = make_batched_env("speaker_listener", tf.float64, dynamics="paper")
    envs = mpe2_envs("speaker_listener", 4, first_seed=0, dynamics="mpe2")
    state = port.state_from_mpe2([[env.unwrapped.world for env in envs]])
    rng = np.random.default_rng(0)
    for _ in range(25):
        actions = random_actions(port, rng, 4, "soft", np.float64)
        state, _ = port.step(state, [tf.constant(a[None]) for a in actions])
        for b, env in enumerate(envs):
            env.step({agent: actions[i][b].astype(np.float32) for i, agent in enumerate(env.possible_agents)})
    assert np.abs(state.positions.numpy()[0] - mpe2_arrays(envs)[0]).max() > 1e-2


def _reference_resets(scenario, count):
    """(positions [count, E, 2], per agent observations [count, O_i]) of `count` seeded reference resets."""
    env = make_reference_env(scenario)
    positions, observations = [], []
    for seed in range(count):
        env.reset(seed=seed)
        positions.append(mpe2_arrays([env])[0][0])
        observations.append([obs[0] for obs in mpe2_observations([env])])
    return np.array(positions), [np.array(agent) for agent in zip(*observations)]


@pytest.mark.parametrize("scenario", BATCHED_SCENARIOS)
def test_port_reset_draws_the_reference_reset_distribution(scenario):
    # Resets do not depend on the dynamics; one check per scenario.
    port = make_batched_env(scenario, tf.float64)
    state = port.reset(PopulationRandom([2024]), RESETS)
    np.testing.assert_array_equal(state.velocities.numpy(), 0.0)
    np.testing.assert_array_equal(state.communication.numpy(), 0.0)
    ours = [state.positions.numpy()[0].reshape(RESETS, -1)] + [o.numpy()[0] for o in port.observe(state)]
    theirs_positions, theirs_observations = _reference_resets(scenario, RESETS)
    theirs = [theirs_positions.reshape(RESETS, -1)] + theirs_observations
    for block, (mine, reference) in enumerate(zip(ours, theirs)):
        assert mine.shape == reference.shape, (block, mine.shape, reference.shape)
        for column in range(mine.shape[1]):
            where = f"{scenario}: block {block} (0 = entity positions, then each agent's observation), entry {column}"
            a, b = mine[:, column], reference[:, column]
            if block == 0:  # uniform coordinates: 2000 draws reach their bounds; sums of them need not
                assert abs(a.min() - b.min()) < SUPPORT_TOLERANCE and abs(a.max() - b.max()) < SUPPORT_TOLERANCE, where
            if np.ptp(b) > 0:
                assert stats.ks_2samp(a, b).pvalue > KS_MIN_P, where
            else:
                np.testing.assert_array_equal(a, b, err_msg=where)
