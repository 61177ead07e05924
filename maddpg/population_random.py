"""One random stream per population member, so P stacked seeds draw exactly what P separate runs would.

Each member owns a `tf.random.Generator` seeded from its own seed. Every draw loops over the members and
stacks the results on a leading axis P. The generators are tracked variables: a checkpoint saves their
state, so a resumed run continues the very same random sequence.
"""

from __future__ import annotations

from typing import Sequence

import tensorflow as tf


class PopulationRandom(tf.Module):
    """P independent counter-based (Philox) generators, one per seed."""

    def __init__(self, seeds: Sequence[int], name: str = "population_random"):
        super().__init__(name=name)
        self.seeds = tuple(int(s) for s in seeds)
        self.generators = [tf.random.Generator.from_seed(seed) for seed in self.seeds]

    @property
    def size(self) -> int:
        return len(self.generators)

    def uniform(self, shape, minval=0.0, maxval=1.0, dtype=tf.float32) -> tf.Tensor:
        """[P, *shape] floats uniform in [minval, maxval)."""
        return tf.stack([g.uniform(shape, minval, maxval, dtype=dtype) for g in self.generators])

    def integers(self, shape, maxval) -> tf.Tensor:
        """[P, *shape] int32 uniform in [0, maxval); maxval may be a tensor."""
        maxval = tf.cast(maxval, tf.int32)
        return tf.stack([g.uniform(shape, 0, maxval, dtype=tf.int32) for g in self.generators])
