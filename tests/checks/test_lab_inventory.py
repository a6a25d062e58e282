"""The lab inventory's connection variables are literal (no Jinja).

Ansible templates a delegated host's connection variables with the *delegating* host's
name: with ``ansible_host: "seed-lab-{{ inventory_hostname }}"`` a task on lb1 delegated
to mon1 (monitoring_agent's look for the client CA) ran in lb1's container and `make lab`
failed on a fresh lab. Every inventory in the repo is held to the same rule.
"""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BIN = REPO / ".venv" / "bin"
CONNECTION_VARS = ("ansible_host", "ansible_connection", "ansible_user", "ansible_port", "ansible_docker_extra_args")


def exported(inventory: Path) -> dict:
    env = {**os.environ, "ANSIBLE_CONFIG": str(REPO / "ansible.cfg")}
    args = [str(BIN / "ansible-inventory"), "-i", str(inventory), "--list", "--export"]
    vault = inventory / ".vault-pass.example"
    if vault.exists():
        args += ["--vault-password-file", str(vault)]
    return json.loads(subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True, check=True).stdout)


@pytest.mark.parametrize("name", sorted(p.name for p in (REPO / "inventories").iterdir() if p.is_dir()))
def test_connection_variables_are_literal(name):
    data = exported(REPO / "inventories" / name)
    found = []
    places = [("host " + h, v) for h, v in data.get("_meta", {}).get("hostvars", {}).items()]
    places += [("group " + g, v.get("vars", {})) for g, v in data.items() if isinstance(v, dict) and g != "_meta"]
    for where, variables in places:
        for var in CONNECTION_VARS:
            if "{{" in str(variables.get(var, "")) or "{%" in str(variables.get(var, "")):
                found.append("%s: %s=%s" % (where, var, variables[var]))
    assert not found, found


def test_lab_hosts_name_their_containers():
    hostvars = exported(REPO / "inventories" / "lab")["_meta"]["hostvars"]
    assert hostvars and all(v.get("ansible_host") == "seed-lab-" + h for h, v in hostvars.items()), hostvars
