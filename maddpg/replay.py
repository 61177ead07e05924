"""Replay ring buffer held in tf.Variables, one independent buffer per population member.

Each field is stored flat as [P * C, width] (member p owns rows p*C .. p*C+C-1) so that writes are sparse
scatters and reads are sparse gathers: the graph never reads a whole buffer densely, which would copy it.
All members receive B transitions per environment step, so one shared write pointer serves them all.
"""

from __future__ import annotations

from typing import Iterator, Mapping, Sequence

import numpy as np
import tensorflow as tf


class ReplayBuffer(tf.Module):
    """Transitions (obs_i, act_i, rew_i, next_obs_i) for every agent i of P populations.

    Episodes only ever end by truncation, so (as in the reference code) no done flag is stored and every
    target bootstraps.
    """

    def __init__(
        self,
        population: int,
        capacity: int,
        observation_sizes: Sequence[int],
        action_sizes: Sequence[int],
        write_block: int,
        dtype=tf.float32,
        name: str = "replay",
        num_teams: int = 0,
    ):
        """Args:
        population: P.
        capacity: C transitions per member; rounded down to a multiple of write_block so a block never wraps.
        observation_sizes, action_sizes: per agent.
        write_block: B, the transitions each member adds per environment step.
        num_teams: policy ensembles: also store, per transition, the sub-policy each of this many teams played.
        """
        super().__init__(name=name)
        if capacity < write_block:
            raise ValueError(f"replay capacity {capacity} is smaller than one step of {write_block} envs")
        self.population = population
        self.capacity = capacity - capacity % write_block
        self.write_block = write_block
        rows = population * self.capacity

        def field(width, label):
            return tf.Variable(tf.zeros([rows, width], dtype), trainable=False, name=label)

        self.observations = [field(o, f"obs_{i}") for i, o in enumerate(observation_sizes)]
        self.actions = [field(a, f"act_{i}") for i, a in enumerate(action_sizes)]
        self.next_observations = [field(o, f"next_obs_{i}") for i, o in enumerate(observation_sizes)]
        self.rewards = field(len(observation_sizes), "rewards")
        self.sub_policies = (tf.Variable(tf.zeros([rows, num_teams], tf.int32), trainable=False, name="sub_policies")
                             if num_teams else None)
        self.size = tf.Variable(0, dtype=tf.int32, trainable=False, name="size")
        self.pointer = tf.Variable(0, dtype=tf.int32, trainable=False, name="pointer")
        self._member_offsets = tf.range(population, dtype=tf.int32)[:, None] * self.capacity  # [P, 1]

    def add(self, observations, actions, rewards, next_observations, sub_policies=None) -> None:
        """Appends one environment step of every member.

        Args:
            observations, next_observations: per agent [P, B, O_i].
            actions: per agent [P, B, A_i].
            rewards: [P, B, N].
            sub_policies: [P, B, teams] int32, required exactly when the buffer was built with num_teams.
        """
        if (sub_policies is None) != (self.sub_policies is None):
            raise ValueError("sub_policies must be given exactly when the buffer stores them (num_teams > 0)")
        rows = tf.reshape(self._member_offsets + self.pointer + tf.range(self.write_block)[None, :], [-1])  # [P*B]

        def write(variable, values):
            flat = tf.reshape(values, [-1, variable.shape[-1]])  # [P*B, width]
            variable.scatter_update(tf.IndexedSlices(flat, rows))

        for variable, values in zip(self.observations, observations):
            write(variable, values)
        for variable, values in zip(self.actions, actions):
            write(variable, values)
        for variable, values in zip(self.next_observations, next_observations):
            write(variable, values)
        write(self.rewards, rewards)
        if sub_policies is not None:
            write(self.sub_policies, sub_policies)
        self.pointer.assign((self.pointer + self.write_block) % self.capacity)
        self.size.assign(tf.minimum(self.size + self.write_block, self.capacity))

    def sample(self, indices: tf.Tensor):
        """Gathers a batch at per-member indices.

        Args:
            indices: [P, batch] int32 in [0, size).

        Returns:
            (observations, actions, rewards, next_observations): per agent [P, batch, O_i] / [P, batch, A_i],
            rewards [P, batch, N].
        """
        rows = self._member_offsets + indices  # [P, batch]

        def read(variable):
            return variable.sparse_read(rows)  # [P, batch, width]

        return (
            [read(v) for v in self.observations],
            [read(v) for v in self.actions],
            read(self.rewards),
            [read(v) for v in self.next_observations],
        )

    def sample_sub_policies(self, indices: tf.Tensor) -> tf.Tensor:
        """[P, batch, teams] int32: the sub-policy each team played in the transitions at `indices` [P, batch]."""
        return self.sub_policies.sparse_read(self._member_offsets + indices)

    def latest_indices(self, count: int) -> tf.Tensor:
        """[P, count] indices of each member's `count` most recently added transitions (newest first).

        The count is static (XLA needs static shapes), at most the capacity; the caller makes sure the buffer
        holds that many (an update is only ever due once `update_every` transitions have been added).
        """
        count = min(int(count), self.capacity)
        newest_first = (self.pointer - 1 - tf.range(count)) % self.capacity  # [count]
        return tf.tile(newest_first[None, :], [self.population, 1])

    def fields(self) -> Iterator[tuple[str, tf.Variable]]:
        """(name, variable) of every per-transition field, [P * C, width] each, in a fixed order."""
        for label, variables in (("obs", self.observations), ("act", self.actions),
                                 ("next_obs", self.next_observations)):
            for i, variable in enumerate(variables):
                yield f"{label}_{i}", variable
        yield "rewards", self.rewards
        if self.sub_policies is not None:
            yield "sub_policies", self.sub_policies

    def filled_rows(self) -> dict[str, tf.Tensor]:
        """What a resume needs of the buffer: each field's filled rows, [P * size, width] (member p's `size`
        rows first, as p owns rows p*C .. p*C + size - 1 until the ring wraps), and size and pointer.

        The rows past `size` are zeros never sampled (indices lie in [0, size)), so dropping them loses
        nothing: restore_filled_rows rebuilds a buffer identical to this one. Saving all C rows would cost a
        finished 10-seed speaker-listener run about 0.95 GB of zeros and stale data.
        """
        size = int(self.size.numpy())
        rows = {"size": self.size.read_value(), "pointer": self.pointer.read_value()}
        for name, variable in self.fields():
            if size == self.capacity:
                rows[name] = variable.read_value()
            else:
                blocks = tf.reshape(variable, [self.population, self.capacity, -1])[:, :size]  # [P, size, width]
                rows[name] = tf.reshape(blocks, [self.population * size, -1])
        return rows

    def restore_filled_rows(self, rows: Mapping[str, np.ndarray]) -> None:
        """Inverse of filled_rows: writes the saved rows back into an empty buffer of the same shape.

        Raises:
            ValueError: the rows do not fit this buffer (another population, capacity or field width).
        """
        size = int(rows["size"])
        if not 0 <= size <= self.capacity:
            raise ValueError(f"saved replay size {size} does not fit a buffer of capacity {self.capacity}")
        member_rows = tf.constant((np.arange(self.population)[:, None] * self.capacity
                                   + np.arange(size)[None, :]).reshape(-1), tf.int32)  # [P * size]
        for name, variable in self.fields():
            saved = np.asarray(rows[name])
            width = variable.shape[-1]
            if saved.shape != (self.population * size, width):
                raise ValueError(f"saved replay field {name} has shape {saved.shape}, expected "
                                 f"{(self.population * size, width)}")
            if size == self.capacity:
                variable.assign(saved)
            elif size:  # a scatter into the zeros already there: no second full-size copy in memory
                variable.scatter_update(tf.IndexedSlices(tf.constant(saved, variable.dtype), member_rows))
        self.size.assign(size)
        self.pointer.assign(int(rows["pointer"]))
