"""Aggregate callback of benchmarks/fanout: per host tasks and module runs, per task wall time.

Enabled by run.py only (ANSIBLE_CALLBACK_PLUGINS=<this dir>, ANSIBLE_CALLBACKS_ENABLED=fanout_stats);
the stdout callback stays the default one, so the logs read as usual. At the end of the
playbook it writes FANOUT_STATS_OUT (JSON):
  hosts: {host: {tasks, changed, failed, skipped, unreachable, module_runs}}
    tasks        task results that ran (ok, changed or failed; handlers included; not skipped)
    module_runs  of those, the ones that run a module on (or for) the host: everything but
                 controller-side actions (set_fact, debug, assert, include_*, meta, ...),
                 one per loop item that was not skipped
  tasks: [{name, action, seconds}] wall time of each task (start to the next task's start),
         in the order they ran
"""
from __future__ import annotations

import json
import os
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: fanout_stats
type: aggregate
short_description: per host task and module counts for benchmarks/fanout
description: Writes the counts and per task wall times to the file named by FANOUT_STATS_OUT.
"""

CONTROLLER_ACTIONS = frozenset((
    "add_host", "assert", "debug", "fail", "group_by", "import_role", "import_tasks", "include",
    "include_role", "include_tasks", "include_vars", "meta", "pause", "set_fact", "set_stats",
))


def _short(action: str) -> str:
    for prefix in ("ansible.builtin.", "ansible.legacy."):
        if action.startswith(prefix):
            return action[len(prefix):]
    return action


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "fanout_stats"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self._hosts: dict[str, dict[str, int]] = {}
        self._tasks: list[dict] = []
        self._t0 = time.monotonic()

    def _host(self, name: str) -> dict[str, int]:
        return self._hosts.setdefault(name, dict.fromkeys(("tasks", "changed", "failed", "skipped", "unreachable",
                                                           "module_runs"), 0))

    def _close_task(self) -> None:
        if self._tasks and self._tasks[-1]["seconds"] is None:
            self._tasks[-1]["seconds"] = round(time.monotonic() - self._tasks[-1].pop("_t"), 3)

    def _start(self, task) -> None:
        self._close_task()
        self._tasks.append({"name": task.get_name(), "action": _short(task.action), "seconds": None,
                            "_t": time.monotonic()})

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._start(task)

    def v2_playbook_on_handler_task_start(self, task):
        self._start(task)

    def _ran(self, result, failed: bool = False) -> None:
        host = self._host(result._host.get_name())
        host["tasks"] += 1
        res = result._result
        host["changed"] += 1 if res.get("changed") else 0
        host["failed"] += 1 if failed else 0
        # A loop's module runs are counted per item (v2_runner_item_on_*), skipped items not.
        if _short(result._task.action) not in CONTROLLER_ACTIONS and not isinstance(res.get("results"), list):
            host["module_runs"] += 1

    def _item(self, result) -> None:
        if _short(result._task.action) not in CONTROLLER_ACTIONS:
            self._host(result._host.get_name())["module_runs"] += 1

    def v2_runner_item_on_ok(self, result):
        self._item(result)

    def v2_runner_item_on_failed(self, result):
        self._item(result)

    def v2_runner_on_ok(self, result):
        self._ran(result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._ran(result, failed=True)

    def v2_runner_on_skipped(self, result):
        self._host(result._host.get_name())["skipped"] += 1

    def v2_runner_on_unreachable(self, result):
        self._host(result._host.get_name())["unreachable"] += 1

    def v2_playbook_on_stats(self, stats):
        self._close_task()
        out = os.environ.get("FANOUT_STATS_OUT")
        if not out:
            return
        with open(out, "w", encoding="utf-8") as fh:
            json.dump({"hosts": self._hosts, "tasks": self._tasks, "seconds": round(time.monotonic() - self._t0, 3)}, fh)
