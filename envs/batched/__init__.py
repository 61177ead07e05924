"""Batched TensorFlow ports of the mpe2 scenarios: state tensors [P, B, ...], one graph for P x B worlds."""

from __future__ import annotations

BATCHED_SCENARIOS = ("speaker_listener",)


def make_batched_env(name: str, dtype=None):
    """The batched port of a paper scenario (see envs.reference.SCENARIOS for the names).

    Raises:
        ValueError: no batched port exists for `name`.
    """
    if name not in BATCHED_SCENARIOS:
        raise ValueError(f"no batched port of scenario {name!r}; ported: {', '.join(BATCHED_SCENARIOS)}")
    import tensorflow as tf

    from envs.batched.speaker_listener import BatchedSpeakerListener

    return BatchedSpeakerListener(dtype or tf.float32)
