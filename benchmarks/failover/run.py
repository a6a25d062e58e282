"""Failover of the floating address under load, measured; prints JSON.

Runs the Molecule scenario lb_ha (two HAProxy hosts behind a keepalived floating
address on the scenario's own docker network, one app host) and collects what its
verify step measured for each fault: HAProxy stopped on the holder, holder container
killed, killed LB restarted (no fail-back), planned switch-over by the runbook.
The load is bounded (8 workers, 14-20 s per fault, and for each of the three planned
switch-overs from 3 s before the playbook to 3 s after it, at most 110 s; one request per
connection) and goes only to the floating address on that network.

    .venv/bin/python benchmarks/failover/run.py > benchmarks/failover/results/result.json

Per fault: requests, ok, failed, failed_window_s (first to last failed request),
longest_without_success_s, recovery_s (fault to the first success after the last
failure), holder_after; then each goal of issue #21 (GOALS) with the measured value, and
the exit status is 1 when one is missed. The scenario's own asserts are looser bounds
(the address moved by itself, within 10 s), so a busy CI machine does not fail it on a
timing; the goals are held here, on a machine running nothing else.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# Issue #21's goals, judged here (the scenario itself only holds every run to looser bounds that
# no machine load excuses): per fault, the largest value allowed for each measurement.
GOALS = {
    "haproxy_stopped": {"outage_s": 3.0, "failed_window_s": 3.0},
    "lb_killed": {"outage_s": 3.0, "failed_window_s": 3.0},
    "lb_restarted": {"failed": 0},
    "planned_switch_over": {"failed": 0},
    "deploy_lb_divergence": {"longest_divergence_s": 1.0},
}


def judge(faults: dict) -> dict:
    """Each goal with the measured value and whether it was met (a missing measurement is not met)."""
    verdict = {}
    for fault, limits in GOALS.items():
        for key, limit in limits.items():
            value = faults.get(fault, {}).get(key)
            met = value is not None and value <= limit
            verdict[f"{fault}.{key}"] = {"limit": limit, "measured": value, "met": met}
    return verdict


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        results = Path(tmp) / "results.jsonl"
        env = dict(os.environ, LB_HA_RESULTS=str(results))
        t0 = time.time()
        # what `make molecule SCENARIO=lb_ha` runs, without its venv/images prerequisites
        # (build them once with `make venv images`)
        env.update(STAGES="molecule", SCENARIOS="lb_ha")
        proc = subprocess.run([str(REPO / ".venv" / "bin" / "python"), "tests/run_all.py"], cwd=REPO, env=env,
                              stdout=sys.stderr, stderr=sys.stderr, check=False)
        out = {"scenario": "lb_ha", "returncode": proc.returncode, "wall_s": round(time.time() - t0, 1),
               "faults": {}}
        if results.exists():
            for line in results.read_text().splitlines():
                out["faults"].update(json.loads(line))
    out["goals"] = judge(out["faults"])
    out["goals_met"] = all(g["met"] for g in out["goals"].values())
    print(json.dumps(out, indent=2, sort_keys=True))
    return proc.returncode or (0 if out["goals_met"] else 1)


if __name__ == "__main__":
    sys.exit(main())
