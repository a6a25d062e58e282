"""inventories/example parses, decrypts with its demo vault password and gives every
host what seed.fleet.site needs over SSH (issue #13). molecule/ssh runs it for real;
this is the cheap check that runs on every `make test`.
"""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "inventories" / "example"
BIN = REPO / ".venv" / "bin"


@pytest.fixture(scope="module")
def inventory() -> dict:
    env = {**os.environ, "ANSIBLE_CONFIG": str(REPO / "ansible.cfg")}
    out = subprocess.run(
        [str(BIN / "ansible-inventory"), "-i", str(EXAMPLE), "--list", "--export",
         "--vault-password-file", str(EXAMPLE / ".vault-pass.example")],
        cwd=REPO, env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def hostvars(inventory: dict, host: str) -> dict:
    env = {**os.environ, "ANSIBLE_CONFIG": str(REPO / "ansible.cfg")}
    out = subprocess.run(
        [str(BIN / "ansible"), host, "-i", str(EXAMPLE), "--vault-password-file", str(EXAMPLE / ".vault-pass.example"),
         "-m", "ansible.builtin.debug", "-a",
         "msg={{ {'user': ansible_user, 'become': ansible_become, 'pw': ansible_become_password | length,"
         " 'admins': baseline_admin_users, 'host': ansible_host} | to_json }}",
         "-c", "local", "-o"],
        cwd=REPO, env=env, capture_output=True, text=True, check=True)
    return json.loads(json.loads(out.stdout.split("=>", 1)[1])["msg"])


def test_groups_of_site_yml(inventory):
    assert inventory["lb"]["hosts"] == ["lb1.example.com"]
    assert sorted(inventory["app"]["hosts"]) == ["app1.example.com", "app2.example.com"]
    assert inventory["monitoring"]["hosts"] == ["mon1.example.com"]


def test_ssh_with_sudo_and_a_vaulted_become_password(inventory):
    got = hostvars(inventory, "app1.example.com")
    assert got["user"] == "deploy" and got["become"] is True and got["pw"] > 0
    assert got["host"] == "10.20.2.21"
    # baseline's lockout guard: the user Ansible logs in as is an admin with a key.
    assert any(a["name"] == got["user"] and a["ssh_keys"] and a["sudo"] for a in got["admins"])
