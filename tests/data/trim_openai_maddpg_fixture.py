"""Trims the openai/maddpg learner fixture to what tests/test_reference_learner_parity.py reads.

Usage: python tests/data/trim_openai_maddpg_fixture.py SOURCE.npz SOURCE.json
Writes tests/data/openai_maddpg_cc_update.npz and .json next to this script. Nothing recorded is altered;
keys are dropped, replay rows no batch reads are dropped, and variables an update cannot have changed are
dropped from its snapshot after checking that they are bit-identical to the previous snapshot.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np

ROUNDS, AGENTS = 3, 2
# Per update, what the test feeds (indices, uniforms) or compares (losses, target, target_q_next).
ROUND_FIELDS = ("indices", "u_target_act_agent0", "u_target_act_agent1", "u_actor_loss", "q_loss", "p_loss",
                "target_q_next", "target_q_fed_f32")
REPLAY_FIELDS = ("obs", "act", "rew", "obs_next")  # done is all 0.0 (and our buffer stores none)


def variable_agent(name: str) -> int:
    """0 or 1: the agent owning a variable ('agent_0/...', 'agent_0_1/beta1_power', ...)."""
    return int(name.split("/")[0].split("_")[1])


def snapshots():
    """(key prefix, the agent whose update produced it) in recorded order."""
    for r in range(ROUNDS):
        yield f"vars_after_round{r}_agent0", 0
        yield f"vars_after_round{r}", 1


def main(source_npz: str, source_json: str) -> None:
    raw = Path(source_npz).read_bytes()
    data = dict(np.load(source_npz))
    out = {}
    rows = np.unique(np.concatenate([data[f"round{r}/agent{i}/indices"] for r in range(ROUNDS) for i in range(AGENTS)]))
    out["replay/rows"] = rows
    for i in range(AGENTS):
        for field in REPLAY_FIELDS:
            out[f"replay/agent{i}/{field}"] = data[f"replay/agent{i}/{field}"][rows]
        assert not data[f"replay/agent{i}/done"].any()
    previous = {k[len("vars_init/"):]: v for k, v in data.items() if k.startswith("vars_init/")}
    out.update({f"vars_init/{k}": v for k, v in previous.items()})
    for prefix, agent in snapshots():
        current = {k[len(prefix) + 1:]: v for k, v in data.items() if k.startswith(prefix + "/")}
        assert current.keys() == previous.keys()
        for name, value in current.items():
            if variable_agent(name) == agent:
                out[f"{prefix}/{name}"] = value
            else:  # the other agent's variables: an update of this agent must leave them exactly as they were
                assert np.array_equal(value, previous[name]), (prefix, name)
        previous = current
    for r in range(ROUNDS):
        for i in range(AGENTS):
            for field in ROUND_FIELDS:
                out[f"round{r}/agent{i}/{field}"] = data[f"round{r}/agent{i}/{field}"]
    here = Path(__file__).resolve().parent
    np.savez_compressed(here / "openai_maddpg_cc_update.npz", **out)

    sidecar = json.loads(Path(source_json).read_text())
    kept = {k: sidecar[k] for k in ("title", "provenance", "build", "hyperparameters", "network",
                                    "order_of_operations", "dtypes_and_precision", "verification", "meta_auto")}
    kept["original_file"] = {**sidecar["file"], "sha256_checked": hashlib.sha256(raw).hexdigest()}
    kept["trimmed"] = {
        "replay": f"only the {rows.size} distinct rows any recorded batch reads, listed in replay/rows (sorted); "
                  "replay/agent{i}/<field>[n] is the original row replay/rows[n]; done (all 0.0) and "
                  "speaker_goal_index dropped",
        "snapshots": "vars_after_round{r}_agent0 keeps agent 0's 52 variables, vars_after_round{r} agent 1's; "
                     "the other agent's variables were bit-identical to the previous snapshot and are dropped",
        "rounds": f"round{{r}}/agent{{i}}/ keeps {', '.join(ROUND_FIELDS)}; dropped: target_q (float64), "
                  "target_act_next_agent{0,1}, update_return",
        "array_descriptions": "per-key descriptions (sidecar 'arrays', 'variables') are in the original sidecar",
    }
    kept["keys"] = {k: {"shape": list(v.shape), "dtype": str(v.dtype)} for k, v in out.items()}
    (here / "openai_maddpg_cc_update.json").write_text(json.dumps(kept, indent=1) + "\n")


if __name__ == "__main__":
    main(*sys.argv[1:3])
