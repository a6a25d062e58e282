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
failure), holder_after.
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
    print(json.dumps(out, indent=2, sort_keys=True))
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main())
