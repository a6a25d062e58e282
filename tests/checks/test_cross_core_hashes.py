"""Upgrading the controller changes nothing on hosts: derived secrets are the same on every core.

The HAProxy stats line of roles/load_balancer's haproxy.cfg template (``user ...
password <hash>``) and the salt settings the monitoring_agent role hands to bcrypt on
the targets are rendered by a tiny playbook with the newest core (.venv) and the oldest
supported core (.cache/venv-oldest); the results must be equal, byte for byte. The
stats hash must also equal an independent SHA-512 crypt (passlib, in .venv) with the
documented salt sha256(inventory_hostname ~ user)[:16] — the string ansible-core 2.19's
password_hash wrote, so hosts deployed before this change keep their file.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
CORES = {"newest": REPO / ".venv" / "bin", "oldest": REPO / ".cache" / "venv-oldest" / "bin"}
TEMPLATE = REPO / "roles" / "load_balancer" / "templates" / "etc" / "haproxy" / "haproxy.cfg.j2"
NE_TASKS = REPO / "roles" / "monitoring_agent" / "tasks" / "node_exporter.yml"
PASSWORD = "stats-Secret-4-the-check"
HOSTS = ("lb1", "lb2.example.org")


def _stats_line() -> str:
    lines = [ln.strip() for ln in TEMPLATE.read_text().splitlines() if "_load_balancer_stats_password_hash" in ln]
    assert len(lines) == 1, f"expected one stats password line in {TEMPLATE.name}, got {lines}"
    return lines[0]


def _bcrypt_setting() -> str:
    """The salt/cost setting expression of the bcrypt task (the quoted '$2b$...' argument)."""
    tasks = yaml.safe_load(NE_TASKS.read_text())
    cmds = [t["ansible.builtin.command"]["cmd"] for t in tasks
            if "bcrypt" in str(t.get("name", "")) and "ansible.builtin.command" in t]
    assert len(cmds) == 1, "the bcrypt hashing task of monitoring_agent moved: update this check"
    settings = re.findall(r"'(\$2b\$.*?)'", cmds[0])
    assert len(settings) == 1, cmds[0]
    return settings[0]


def _render(core: str, tmp_path: Path) -> dict[str, dict[str, str]]:
    bin_dir = CORES[core]
    if not (bin_dir / "ansible-playbook").exists():
        pytest.fail(f"{bin_dir.parent} missing: make venv venv-oldest")
    play = [{
        "name": "Render derived secrets",
        "hosts": "all",
        "gather_facts": False,
        "vars_files": [str(REPO / "roles" / r / d / "main.yml")
                       for r, d in (("load_balancer", "defaults"), ("load_balancer", "vars"),
                                    ("monitoring_agent", "defaults"))],
        "vars": {"item": {"key": "prometheus", "value": "unused"},
                 # The template line and the task's salt expression, verbatim from the roles.
                 "lb_line": _stats_line(), "ne_setting": _bcrypt_setting()},
        "tasks": [{"name": "Write the rendered lines", "delegate_to": "localhost",
                   "ansible.builtin.copy": {
                       "dest": str(tmp_path / f"{core}-{{{{ inventory_hostname }}}}.json"),
                       "content": "{{ {'stats': lb_line, 'bcrypt_setting': ne_setting} | to_json }}",
                       "mode": "0600"}}],
    }]
    book = tmp_path / f"render-{core}.yml"
    book.write_text(yaml.safe_dump(play, sort_keys=False))
    inv = tmp_path / "hosts.yml"
    inv.write_text(yaml.safe_dump({"all": {"hosts": {h: {} for h in HOSTS}, "vars": {
        "ansible_connection": "local"}}}))
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               PATH=f"{bin_dir}:{os.environ.get('PATH', '')}")
    extra = {"ansible_python_interpreter": str(bin_dir / "python"), "load_balancer_stats_password": PASSWORD}
    r = subprocess.run([str(bin_dir / "ansible-playbook"), "-i", str(inv), "-e", json.dumps(extra), str(book)],
                       cwd=REPO, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                       timeout=300, check=False)
    assert r.returncode == 0, f"{core}: {r.stdout[-3000:]}{r.stderr[-2000:]}"
    return {h: json.loads((tmp_path / f"{core}-{h}.json").read_text()) for h in HOSTS}


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> dict[str, dict[str, dict[str, str]]]:
    return {core: _render(core, tmp_path_factory.mktemp(core)) for core in CORES}


def _core_version(core: str) -> str:
    return subprocess.run([str(CORES[core] / "python"), "-c", "from ansible.release import __version__; print(__version__)"],
                          capture_output=True, text=True, check=True).stdout.strip()


def test_the_two_cores_differ():
    assert _core_version("newest") != _core_version("oldest"), "both venvs run the same ansible-core"


def test_same_output_on_both_cores(rendered):
    assert rendered["newest"] == rendered["oldest"]


def test_stats_hash_is_standard_sha512_crypt_with_the_documented_salt(rendered):
    from passlib.hash import sha512_crypt  # pylint: disable=import-outside-toplevel

    user = yaml.safe_load((REPO / "roles" / "load_balancer" / "defaults" / "main.yml").read_text())[
        "load_balancer_stats_user"]
    for host in HOSTS:
        salt = hashlib.sha256(f"{host}{user}".encode()).hexdigest()[:16]
        expected = sha512_crypt.using(salt=salt, rounds=5000).hash(PASSWORD)
        assert rendered["newest"][host]["stats"] == f"user {user} password {expected}"
    assert rendered["newest"][HOSTS[0]]["stats"] != rendered["newest"][HOSTS[1]]["stats"]


def test_bcrypt_setting_is_valid_and_per_host(rendered):
    settings = [rendered["newest"][h]["bcrypt_setting"] for h in HOSTS]
    for s in settings:
        assert re.fullmatch(r"\$2b\$\d\d\$[./A-Za-z0-9]{22}", s), s
    assert settings[0] != settings[1]
