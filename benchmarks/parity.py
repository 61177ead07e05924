"""Parity of every batched port against its reference env at full size, in both dynamics: 1000 episodes per
scenario, dynamics and configuration.

    python -m benchmarks.parity                          # every ported scenario, paper and mpe2 dynamics
    python -m benchmarks.parity --scenarios=tag_pp1 --dynamics=paper --episodes=200

The tests run the same comparisons (envs/batched/parity.py) on fewer episodes; this script runs 1000
free-running episodes per (action kind, dtype) and 1000 teacher-forced ones per dtype, for each dynamics
(the reference env being mpe2 in that dynamics, envs.reference.make_reference_env), and prints the largest
absolute difference of each compared quantity and the number of reward events that disagree. It asserts
nothing: it is for reading (the tests hold the tolerances).
"""

from __future__ import annotations

import sys
import time

from maddpg.cli import quiet_tensorflow  # noqa: E402

quiet_tensorflow()  # before TensorFlow is imported below; --verbose keeps its logging

from absl import app, flags  # noqa: E402

flags.DEFINE_boolean("verbose", False, "keep TensorFlow's start-up logging")
flags.DEFINE_list("scenarios", None, "scenarios to check (default: every batched port)")
flags.DEFINE_list("dynamics", ["paper", "mpe2"], "dynamics to check: paper, mpe2 or both")
flags.DEFINE_integer("episodes", 1000, "episodes per configuration")
flags.DEFINE_integer("chunk", 250, "envs stepped together (mpe2 envs are built per chunk)")

QUANTITIES = ("positions", "velocities", "communication", "rewards", "observations")


def main(argv) -> None:
    import tensorflow as tf

    from envs.batched import BATCHED_SCENARIOS, make_batched_env

    options = flags.FLAGS
    scenarios = options.scenarios or list(BATCHED_SCENARIOS)
    unknown = [s for s in scenarios if s not in BATCHED_SCENARIOS]
    if unknown:
        print(f"error: unknown scenario {unknown[0]!r}; choose from {', '.join(BATCHED_SCENARIOS)}", file=sys.stderr)
        sys.exit(2)
    bad = [d for d in options.dynamics if d not in ("paper", "mpe2")]
    if bad or not options.dynamics:
        print(f"error: unknown dynamics {bad[0] if bad else ''!r}; choose from paper, mpe2", file=sys.stderr)
        sys.exit(2)
    print(f"{'dynamics':8s} {'scenario':18s} {'check':22s} " + " ".join(f"{q[:8]:>9s}" for q in QUANTITIES)
          + "  events  seconds")
    for dynamics in options.dynamics:
        for scenario in scenarios:
            for dtype in (tf.float64, tf.float32):
                _check(make_batched_env(scenario, dtype, dynamics=dynamics), scenario, options)


def _check(port, scenario: str, options) -> None:
    """Prints one line per check (free soft, free one-hot, teacher forced) of one port and dtype."""
    from envs.batched.parity import free_running, teacher_forced

    name = port.dtype.name
    for label, kind in ((f"free soft {name}", "soft"), (f"free one_hot {name}", "one_hot"), (f"teacher {name}", None)):
        started = time.perf_counter()
        worst = dict.fromkeys(QUANTITIES, 0.0)
        events = 0
        for first in range(0, options.episodes, options.chunk):
            count = min(options.chunk, options.episodes - first)
            if kind is None:
                report = teacher_forced(port, scenario, count, first_seed=100_000 + first)
            else:
                report = free_running(port, scenario, count, kind, first_seed=200_000 + first)
            worst = {q: max(worst[q], report[q]) for q in QUANTITIES}
            events += report["reward_event_mismatches"]
        print(f"{port.dynamics:8s} {scenario:18s} {label:22s} " + " ".join(f"{worst[q]:9.1e}" for q in QUANTITIES)
              + f"  {events:6d}  {time.perf_counter() - started:7.1f}", flush=True)

if __name__ == "__main__":
    app.run(main)
