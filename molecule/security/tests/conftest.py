"""Shared plumbing of the security scenario's tests: hosts, addresses, playbook runs."""
import json
import os
import re
import subprocess
from pathlib import Path

import pytest
import testinfra

PROJECT = Path(os.environ.get("MOLECULE_PROJECT_DIRECTORY", Path(__file__).resolve().parents[3]))
INVENTORY = os.environ.get("MOLECULE_INVENTORY_FILE")
SCENARIO = Path(__file__).resolve().parents[1]

LB, APP, MON, OUTSIDER = "security-lb", "security-app", "security-mon", "security-outsider"
FLEET = [LB, APP, MON]
# Inventory groups of each container (molecule.yml).
GROUPS = {LB: {"lb", "fleet"}, APP: {"app", "fleet"}, MON: {"monitoring", "fleet"}, OUTSIDER: {"outsider"}}

SECRET_ENV = "sec-env-Zq81vXw3-never-in-a-file"  # pragma: allowlist secret
SECRET_STATS = "sec-stats-Lp47Tm2k"  # pragma: allowlist secret


def host(name):
    return testinfra.get_host("docker://" + name)


def address(name):
    """The container's address on the scenario network (the scanned address)."""
    out = subprocess.run(["docker", "inspect", "-f", "{{json .NetworkSettings.Networks}}", name],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)["security-net"]["IPAddress"]


def playbook(path, *extra):
    """Run ansible-playbook against the scenario's inventory; (rc, stdout+stderr)."""
    env = dict(os.environ)
    env["ANSIBLE_COLLECTIONS_PATH"] = str(PROJECT / ".cache" / "collections")
    env["ANSIBLE_ROLES_PATH"] = str(PROJECT / "roles")
    env["ANSIBLE_FORCE_COLOR"] = "0"
    env["ANSIBLE_NOCOLOR"] = "1"
    env.setdefault("ANSIBLE_PIPELINING", "True")
    cmd = [str(PROJECT / ".venv" / "bin" / "ansible-playbook"), "-i", str(Path(INVENTORY).parent), str(path)] + list(extra)
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600, check=False)
    return proc.returncode, proc.stdout + proc.stderr


def recap(output):
    return {m.group(1): dict((k, int(v)) for k, v in re.findall(r"(\w+)=(\d+)", m.group(2)))
            for m in re.finditer(r"^(\S+)\s+:\s+(ok=.*)$", output, re.M)}


def state():
    return json.loads(host(LB).check_output("cat /var/lib/seed-fleet/demo/state.json"))


@pytest.fixture(scope="session")
def addresses():
    return {name: address(name) for name in FLEET + [OUTSIDER]}
