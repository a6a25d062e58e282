"""One owner per setting: no two roles write the same system configuration file or
the same boot-time kernel parameter (issue #13).

Two roles writing one key flip it on every run (net.ipv4.ip_forward was written by
container_runtime in 90-container-runtime.conf and by baseline in 90-seed-fleet.conf,
which sorts later and wins at boot). Generic over roles/*: every task file (blocks,
rescue and always included) is read, and

* files: the dest/path of copy, template, lineinfile, blockinfile, ini_file, file
  (not state=absent), the paths of seed.fleet.config_files' entries (not state=absent)
  and the sysctl_file of sysctl, under the shared configuration
  directories below; ``{{ var }}`` is resolved from the role's vars and defaults;
* sysctl keys: the ``name`` of sysctl tasks (state present) and the keys of the
  dicts that a role's vars/defaults name ``*sysctl*``.

A file or key claimed by two roles fails the check with both roles named.
"""
from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]

SHARED = (
    "/etc/sysctl.d/", "/etc/sysctl.conf", "/etc/modules-load.d/", "/etc/modprobe.d/",
    "/etc/apt/apt.conf.d/", "/etc/apt/sources.list.d/", "/etc/apt/preferences.d/",
    "/etc/systemd/journald.conf", "/etc/ssh/sshd_config", "/etc/sudoers.d/",
    "/etc/security/limits.d/", "/etc/systemd/system.conf.d/",
)
FILE_MODULES = {"copy", "template", "lineinfile", "blockinfile", "ini_file", "file", "config_files"}
SYSCTL_MODULES = {"sysctl"}
_VAR = re.compile(r"^\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}$")


def _module(task: dict) -> tuple[str, dict] | None:
    for key, value in task.items():
        short = key.rsplit(".", 1)[-1]
        if short in FILE_MODULES | SYSCTL_MODULES and isinstance(value, dict):
            return short, value
    return None


def _tasks(items) -> list[dict]:
    out = []
    for task in items or []:
        if not isinstance(task, dict):
            continue
        out.append(task)
        for key in ("block", "rescue", "always"):
            out.extend(_tasks(task.get(key)))
    return out


def _role_vars(role: Path) -> dict:
    merged: dict = {}
    for sub in ("defaults", "vars"):
        for path in sorted((role / sub).glob("*.y*ml")):
            merged.update(yaml.safe_load(path.read_text()) or {})
    return merged


def _resolve(value, variables: dict):
    seen = 0
    while isinstance(value, str) and (m := _VAR.match(value.strip())) and seen < 5:
        value = variables.get(m.group(1), value)
        seen += 1
    return value


def claims(roles_dir: Path) -> dict[tuple[str, str], set[str]]:
    """(kind, target) -> roles that write it; kind is 'file' or 'sysctl'."""
    out: dict[tuple[str, str], set[str]] = defaultdict(set)
    for role in sorted(p for p in roles_dir.iterdir() if p.is_dir()):
        variables = _role_vars(role)
        for name, value in variables.items():
            if "sysctl" in name and isinstance(value, dict):
                for key in value:
                    out[("sysctl", str(key))].add(role.name)
        for path in sorted([*(role / "tasks").rglob("*.y*ml"), *(role / "handlers").rglob("*.y*ml")]):
            for task in _tasks(yaml.safe_load(path.read_text())):
                found = _module(task)
                if not found:
                    continue
                module, args = found
                if module == "config_files":
                    for entry in args.get("files") if isinstance(args.get("files"), list) else []:
                        target = _resolve(entry.get("path"), variables) if isinstance(entry, dict) else None
                        if (isinstance(target, str) and "{{" not in target and target.startswith(SHARED)
                                and entry.get("state") != "absent"):
                            out[("file", target)].add(role.name)
                    continue
                if args.get("state") == "absent":
                    continue
                if module in SYSCTL_MODULES:
                    key = _resolve(args.get("name"), variables)
                    if isinstance(key, str) and "{{" not in key:
                        out[("sysctl", key)].add(role.name)
                    target = _resolve(args.get("sysctl_file", "/etc/sysctl.conf"), variables)
                else:
                    target = _resolve(args.get("dest", args.get("path")), variables)
                if isinstance(target, str) and "{{" not in target and target.startswith(SHARED):
                    out[("file", target)].add(role.name)
    return out


def conflicts(roles_dir: Path) -> list[str]:
    return sorted(f"{kind} {target}: written by {', '.join(sorted(roles))}"
                  for (kind, target), roles in claims(roles_dir).items() if len(roles) > 1)


def test_every_setting_has_one_owner():
    assert conflicts(REPO / "roles") == []


def test_the_check_sees_what_the_roles_write():
    found = claims(REPO / "roles")
    assert found[("sysctl", "net.ipv4.ip_forward")] == {"baseline"}
    assert found[("file", "/etc/sysctl.d/90-seed-fleet.conf")] == {"baseline"}
    assert ("file", "/etc/sysctl.d/90-container-runtime.conf") not in found
    assert found[("file", "/etc/sudoers.d/seed-fleet-admins")] == {"baseline"}  # a config_files entry


def _role(root: Path, name: str, tasks: list, variables: dict | None = None) -> None:
    (root / name / "tasks").mkdir(parents=True)
    (root / name / "tasks" / "main.yml").write_text(yaml.safe_dump(tasks))
    if variables:
        (root / name / "vars").mkdir()
        (root / name / "vars" / "main.yml").write_text(yaml.safe_dump(variables))


@pytest.mark.parametrize("second, expected", [
    ([{"name": "fwd", "ansible.posix.sysctl": {"name": "net.ipv4.ip_forward", "value": "1",
                                               "sysctl_file": "/etc/sysctl.d/90-other.conf"}}],
     "sysctl net.ipv4.ip_forward: written by a, b"),
    ([{"name": "blk", "block": [{"name": "j", "ansible.builtin.template": {
        "src": "x.j2", "dest": "/etc/systemd/journald.conf.d/50-seed-fleet.conf"}}]}],
     "file /etc/systemd/journald.conf.d/50-seed-fleet.conf: written by a, b"),
    ([{"name": "c", "seed.fleet.config_files": {"files": [
        {"path": "/etc/modules-load.d/x.conf", "state": "absent"},
        {"path": "/etc/systemd/journald.conf.d/50-seed-fleet.conf", "content": "x"}]}}],
     "file /etc/systemd/journald.conf.d/50-seed-fleet.conf: written by a, b"),
])
def test_a_second_writer_is_caught(tmp_path, second, expected):
    _role(tmp_path, "a", [
        {"name": "s", "ansible.posix.sysctl": {"name": "{{ item.key }}", "sysctl_file": "{{ _a_file }}"}},
        {"name": "j", "ansible.builtin.copy": {"dest": "/etc/systemd/journald.conf.d/50-seed-fleet.conf",
                                               "content": "x"}},
    ], {"_a_file": "/etc/sysctl.d/90-a.conf", "_a_sysctl": {"net.ipv4.ip_forward": 0}})
    _role(tmp_path, "b", second)
    assert expected in conflicts(tmp_path)


def test_removing_a_file_is_no_claim(tmp_path):
    _role(tmp_path, "a", [{"name": "x", "ansible.builtin.copy": {"dest": "/etc/sudoers.d/x", "content": "x"}}])
    _role(tmp_path, "b", [{"name": "x", "ansible.builtin.file": {"path": "/etc/sudoers.d/x", "state": "absent"}}])
    assert conflicts(tmp_path) == []
