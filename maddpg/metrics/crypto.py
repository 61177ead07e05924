"""Covert communication (Table 5), per 25-step episode on simple_crypto_v3.

The message, in mpe2 terms: `agent.goal_a.color`, the colour of the goal landmark drawn at reset (all three
agents share goal_a), which Alice observes as the first 4 entries of her observation. The candidate messages
are the colours of mpe2's landmarks, i.e. the 2 one-hot vectors e_0 = (1, 0, 0, 0) and e_1 = (0, 1, 0, 0) of
R^4: exactly the paper's "one of two 4-dimensional one-hot vectors". (The key is drawn from the same two
vectors, independently.) The candidates are read from the world's landmarks, not hard-coded.

- bob_success_percent: the percentage of episodes in which, after the last step, Bob's utterance
  (`bob_0.state.c`, his last action) is strictly nearer, in Euclidean distance, to the message than to every
  other candidate. A tie (e.g. an all-zero or uniform utterance) counts as a failure. With the two candidates
  e_0, e_1 this is the same as: Bob's entry at the message index exceeds his entry at the other index.
- eve_success_percent: the same for Eve (`eve_0.state.c`).
- success_difference: bob_success_percent - eve_success_percent (the paper's third column).

The paper does not say how success is judged; nearest-candidate decoding is the natural reading of
"reconstructs the message" for a listener whose utterance is a soft vector, and needs no threshold.
Only the state after the last step is judged, as the paper reports one outcome per episode.
"""

from __future__ import annotations

import numpy as np

from maddpg.metrics import EpisodeMetrics


def decodes_message(utterance, message, candidates) -> bool:
    """Whether `utterance` is strictly nearer to `message` than to every other candidate (ties fail).

    Args:
        utterance: [C] the listener's communication state.
        message: [C] the true message (one of the candidates).
        candidates: [K, C] every message the scenario can draw.
    """
    utterance = np.asarray(utterance, dtype=np.float64)
    candidates = np.asarray(candidates, dtype=np.float64)
    distances = np.linalg.norm(candidates - utterance, axis=-1)  # [K]
    is_message = np.all(candidates == np.asarray(message, dtype=np.float64), axis=-1)  # [K]
    if not is_message.any():
        raise ValueError("the message is not one of the candidates")
    return bool(distances[is_message].max() < distances[~is_message].min(initial=np.inf))


def _roles(world):
    """(eve_0, bob_0, alice_0), found by role (adversary / listener / speaker) rather than list position."""
    eve = next(a for a in world.agents if a.adversary)
    bob = next(a for a in world.agents if not a.adversary and not a.speaker)
    alice = next(a for a in world.agents if a.speaker)
    return eve, bob, alice


class CryptoMetrics(EpisodeMetrics):
    """Table 5's metrics; see the module docstring for the definitions."""

    names = ("bob_success_percent", "eve_success_percent", "success_difference")

    def __init__(self):
        self.bob_success: list[bool] = []
        self.eve_success: list[bool] = []

    def end_episode(self, world) -> None:
        eve, bob, alice = _roles(world)
        message = alice.goal_a.color
        candidates = np.array([landmark.color for landmark in world.landmarks])
        self.bob_success.append(decodes_message(bob.state.c, message, candidates))
        self.eve_success.append(decodes_message(eve.state.c, message, candidates))

    def summary(self) -> dict[str, float]:
        bob = 100.0 * float(np.mean(self.bob_success))
        eve = 100.0 * float(np.mean(self.eve_success))
        return {"bob_success_percent": bob, "eve_success_percent": eve, "success_difference": bob - eve}
