"""Wall time of `playbooks/site.yml` on the lab fleet, docker connection vs SSH; prints JSON.

For each road, from a removed lab: start the four lab hosts (lab/up.yml; for SSH also the
provider's hand-over, lab/ssh.yml), then time `site.yml` twice: cold (first run, every
package installed, app deployed) and warm (the same again: changed=0 expected). The SSH
road is what `make lab SSH=1` runs: SSH to the containers' addresses as the admin with
sudo, pipelining, host key checking on. Tasks per host are the recap's ok + changed +
skipped + failed of the warm run. Traffic: none beyond Ansible's own connections to the
lab containers. Needs `make venv images`; removes the lab before and after.

    .venv/bin/python benchmarks/site_runs/run.py > benchmarks/site_runs/results/result.json
"""
from __future__ import annotations

import json
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BIN = REPO / ".venv" / "bin"
LOGS = REPO / ".cache" / "test-logs"
RECAP = re.compile(r"^(\S+)\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)\s+skipped=(\d+)", re.M)


def env(ssh: bool) -> dict[str, str]:
    e = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_FORCE_COLOR="0",
             PATH=f"{BIN}:{os.environ['PATH']}")
    if ssh:
        e["ANSIBLE_HOST_KEY_CHECKING"] = "True"
    return e


def playbook(args: list[str], ssh: bool) -> tuple[float, str]:
    t0 = time.monotonic()
    proc = subprocess.run([str(BIN / "ansible-playbook"), *args], cwd=REPO, env=env(ssh), capture_output=True,
                          text=True, check=False)
    took = round(time.monotonic() - t0, 1)
    LOGS.mkdir(parents=True, exist_ok=True)
    log = LOGS / f"site_runs-{'ssh' if ssh else 'docker'}-{Path(args[-1]).stem}-{int(time.time())}.log"
    log.write_text(proc.stdout + proc.stderr)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-3000:] + proc.stderr[-3000:])
        raise SystemExit(f"site_runs: ansible-playbook {' '.join(args)} failed ({proc.returncode}), log: {log}")
    return took, proc.stdout


def recap(out: str) -> dict[str, dict[str, int]]:
    return {m[0]: {"ok": int(m[1]), "changed": int(m[2]), "failed": int(m[4]), "skipped": int(m[5])}
            for m in RECAP.findall(out) if m[0] != "localhost"}


def road(ssh: bool) -> dict:
    inventory = ["-i", "inventories/lab"] + (["-i", ".lab/ssh/inventory"] if ssh else [])
    playbook(["lab/down.yml"], False)
    subprocess.run(["rm", "-rf", str(REPO / ".lab" / "ssh")], check=True)
    playbook(["lab/up.yml"], False)
    if ssh:
        playbook(["-i", "inventories/lab", "lab/ssh.yml"], False)
    cold = playbook([*inventory, "playbooks/site.yml"], ssh)[0]
    warm, out = playbook([*inventory, "playbooks/site.yml"], ssh)
    hosts = recap(out)
    return {"connection": "ssh (fleetadmin, sudo, pipelining, host key checking on)" if ssh else "community.docker.docker (root)",
            "site_cold_s": cold, "site_warm_s": warm,
            "warm_changed": sum(h["changed"] for h in hosts.values()),
            "tasks_per_host": dict((name, h["ok"] + h["changed"] + h["skipped"] + h["failed"]) for name, h in sorted(hosts.items()))}


def main() -> int:
    t0 = time.time()
    try:
        out = {"fleet": "lab: lb1, app1, app2, mon1 (lab/fleet.yml)", "suite": os.environ.get("SEED_FLEET_SUITE", "bookworm"),
               "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
               "docker": road(ssh=False), "ssh": road(ssh=True)}
    finally:
        playbook(["lab/down.yml"], False)
        subprocess.run(["rm", "-rf", str(REPO / ".lab" / "ssh")], check=True)
    out["wall_s"] = round(time.time() - t0, 1)
    print(json.dumps(out, indent=2, sort_keys=True))
    return 0 if out["docker"]["warm_changed"] == 0 and out["ssh"]["warm_changed"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
