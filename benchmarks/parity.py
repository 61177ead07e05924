"""Parity of every batched port against mpe2 at full size: 1000 episodes per scenario and configuration.

    python -m benchmarks.parity                          # every ported scenario
    python -m benchmarks.parity --scenarios=tag_pp1 --episodes=200

The tests run the same comparisons (envs/batched/parity.py) on about 200 episodes per scenario; this script
runs 1000 free-running episodes per (action kind, dtype) and 1000 teacher-forced ones per dtype, and prints
the largest absolute difference of each compared quantity and the number of reward events that disagree.
It asserts nothing: it is for reading (the tests hold the tolerances).
"""

from __future__ import annotations

import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from absl import app, flags  # noqa: E402

flags.DEFINE_list("scenarios", None, "scenarios to check (default: every batched port)")
flags.DEFINE_integer("episodes", 1000, "episodes per configuration")
flags.DEFINE_integer("chunk", 250, "envs stepped together (mpe2 envs are built per chunk)")

QUANTITIES = ("positions", "velocities", "communication", "rewards", "observations")


def main(argv) -> None:
    import tensorflow as tf

    from envs.batched import BATCHED_SCENARIOS, make_batched_env
    from envs.batched.parity import free_running, teacher_forced

    options = flags.FLAGS
    scenarios = options.scenarios or list(BATCHED_SCENARIOS)
    unknown = [s for s in scenarios if s not in BATCHED_SCENARIOS]
    if unknown:
        print(f"error: unknown scenario {unknown[0]!r}; choose from {', '.join(BATCHED_SCENARIOS)}", file=sys.stderr)
        sys.exit(2)
    print(f"{'scenario':18s} {'check':22s} " + " ".join(f"{q[:8]:>9s}" for q in QUANTITIES) + "  events  seconds")
    for scenario in scenarios:
        for dtype in (tf.float64, tf.float32):
            port = make_batched_env(scenario, dtype)
            checks = [(f"free soft {dtype.name}", "soft"), (f"free one_hot {dtype.name}", "one_hot"),
                      (f"teacher {dtype.name}", None)]
            for label, kind in checks:
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
                print(f"{scenario:18s} {label:22s} " + " ".join(f"{worst[q]:9.1e}" for q in QUANTITIES)
                      + f"  {events:6d}  {time.perf_counter() - started:7.1f}", flush=True)


if __name__ == "__main__":
    app.run(main)
