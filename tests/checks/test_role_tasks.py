"""roles/blue_green/tasks: no task that can fail is run_once.

A deploy or rollback holds the app's lock on every load balancer, and the always: section lets go
of it (unlock.yml). When a run_once task fails, Ansible marks every host failed, but only the host
that ran it goes on to the always: section: every other load balancer kept the lock until it went
stale (an hour). A run_once task may only say something (debug), set facts, or keep its failure
for a later task that fails on every host (ignore_errors, failed_when: false).
"""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
TASKS = REPO / "roles" / "blue_green" / "tasks"
SAFE = {"ansible.builtin.debug", "ansible.builtin.set_fact"}
KEYWORDS = {"name", "when", "vars", "register", "run_once", "tags", "delegate_to", "ignore_errors", "failed_when",
            "changed_when", "loop", "loop_control", "no_log", "until", "retries", "delay", "async", "poll", "timeout",
            "check_mode", "environment", "block", "rescue", "always", "become", "notify", "listen", "args",
            "delegate_facts", "throttle", "any_errors_fatal"}


def _tasks(tasks):
    for task in tasks or []:
        yield task
        for part in ("block", "rescue", "always"):
            yield from _tasks(task.get(part))


def problems(tasks: list, where: str) -> list[str]:
    out = []
    for task in _tasks(tasks):
        if not task.get("run_once"):
            continue
        action = next((k for k in task if k not in KEYWORDS), "?")
        if action in SAFE or task.get("ignore_errors") is True or task.get("failed_when") is False:
            continue
        out.append(f"{where}: {task.get('name')!r} ({action}) is run_once and can fail")
    return out


@pytest.mark.parametrize("path", sorted(TASKS.glob("*.yml")), ids=lambda p: p.name)
def test_no_failing_task_is_run_once(path):
    found = problems(yaml.safe_load(path.read_text()), path.name)
    assert not found, "\n".join(found)


def test_the_check_can_fail():
    tasks = [{"name": "refuse", "ansible.builtin.assert": {"that": False}, "run_once": True},
             {"block": [{"name": "stop", "ansible.builtin.fail": {"msg": "x"}, "run_once": True}]},
             {"name": "fine", "ansible.builtin.debug": {"msg": "x"}, "run_once": True},
             {"name": "kept", "ansible.builtin.command": "x", "run_once": True, "ignore_errors": True}]
    assert [p.split("'")[1] for p in problems(tasks, "t.yml")] == ["refuse", "stop"]
