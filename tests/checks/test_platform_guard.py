"""Every role stops on an unsupported platform before it changes anything (issue #15).

The releases seed.fleet supports are listed once, in plugins/filter/platform_problem.py
(unit-tested in tests/unit/plugins/filter/test_platform_problem.py). This check reads
every role's tasks/main.yml and requires that, before any task that could change a
host, an assert of ``ansible_facts | seed.fleet.platform_problem('<role>')`` runs with
tag ``always`` (so --tags runs keep it); and that every role's meta/main.yml lists
exactly the supported Debian releases.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
ROLES = sorted(p.name for p in (REPO / "roles").iterdir() if (p / "tasks" / "main.yml").is_file())
# Tasks allowed before the guard: they read or say, never change.
READ_ONLY = {"ansible.builtin.setup", "ansible.builtin.debug"}


def _filter():
    spec = importlib.util.spec_from_file_location("platform_problem", REPO / "plugins/filter/platform_problem.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_roles_found():
    assert len(ROLES) >= 7, ROLES


@pytest.mark.parametrize("role", ROLES)
def test_platform_guard_comes_first(role):
    tasks = yaml.safe_load((REPO / "roles" / role / "tasks" / "main.yml").read_text())
    for task in tasks:
        action = next((k for k in task if k.startswith("ansible.builtin.")), None)
        if action == "ansible.builtin.assert" and f"seed.fleet.platform_problem('{role}')" in str(task["ansible.builtin.assert"]):
            assert "always" in (task.get("tags") or []), f"{role}: the platform guard must carry tags: [always]"
            return
        assert action in READ_ONLY, f"{role}: '{task.get('name')}' ({action}) runs before the platform guard"
    pytest.fail(f"{role}: no platform_problem assert in tasks/main.yml")


@pytest.mark.parametrize("role", ROLES)
def test_meta_lists_the_supported_releases(role):
    meta = yaml.safe_load((REPO / "roles" / role / "meta" / "main.yml").read_text())
    platforms = {p["name"]: sorted(p["versions"]) for p in meta["galaxy_info"]["platforms"]}
    supported = {dist: sorted(releases.values()) for dist, releases in _filter().SUPPORTED.items()}
    assert platforms == supported
