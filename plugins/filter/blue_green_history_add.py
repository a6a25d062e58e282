# -*- coding: utf-8 -*-
# Copyright (c) seed.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
name: blue_green_history_add
short_description: The deploy history of a blue-green state with this run's entry added
version_added: 0.2.0
description:
  - Takes the state C(seed.fleet.blue_green) read before this run and what the run did (O(entry)), and returns the
    history to write - the old entries and this run's, the newest O(size) kept.
  - "Every entry gets the same frame: C(time) (ISO 8601 UTC of O(now)), C(app), C(by), and where the app came from
    (C(from_version), C(from_color): the live deploy of the state read, V(null) on the first deploy)."
  - "With O(started): C(duration_seconds). With O(switch_started) and O(switched_at): C(switch_started) and
    C(switch_seconds), the time of the one runtime API write of the switch."
  - A V(success) with failed hosts in O(entry) (C(failed_hosts), host to reason) is recorded as V(partial); an empty
    C(digest) as V(null).
author:
  - seed.fleet maintainers
options:
  _input:
    description: The state read before this run (C(app), C(live), C(history)).
    type: dict
    required: true
  entry:
    description:
      - What this run did. C(action) (V(deploy) or V(rollback)) and C(result) are required; C(version), C(color),
        C(strategy), C(digest), C(failed_hosts), C(reason) and any other keys are kept as they are.
    type: dict
    required: true
  size:
    description: How many entries the history keeps (the newest), 1 or more.
    type: int
    required: true
  by:
    description: Who ran it (C(user@controller)).
    type: str
    required: true
  now:
    description: The time of the record (Unix seconds).
    type: float
    required: true
  started:
    description: When the run started (Unix seconds), for C(duration_seconds).
    type: float
  switch_started:
    description: When the switch write started (Unix seconds).
    type: float
  switched_at:
    description: When the switch write ended (Unix seconds).
    type: float
"""

EXAMPLES = r"""
- name: Add this deploy to the history
  ansible.builtin.set_fact:
    history: >-
      {{ state | seed.fleet.blue_green_history_add({'action': 'deploy', 'result': 'success', 'version': 'v2',
         'color': 'green'}, size=50, by='ops@ctl', now=now(utc=true).timestamp()) }}
"""

RETURN = r"""
_value:
  description: The history, oldest first, with this run's entry last.
  type: list
  elements: dict
"""

import datetime
import math

from ansible.errors import AnsibleFilterError

_ACTIONS = ("deploy", "rollback")


def _seconds(name, value, required=False):
    if value is None or value == "":
        if required:
            raise AnsibleFilterError("blue_green_history_add: %s is required" % name)
        return None
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise AnsibleFilterError("blue_green_history_add: %s must be a Unix time, got %r" % (name, value))
    if not math.isfinite(out) or out < 0:
        raise AnsibleFilterError("blue_green_history_add: %s must be a Unix time, got %r" % (name, value))
    return out


def _iso(seconds):
    moment = datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc).replace(tzinfo=None)
    return moment.isoformat() + "Z"


def blue_green_history_add(state, entry, size, by, now, started=None, switch_started=None, switched_at=None):
    if not isinstance(state, dict) or not state.get("app"):
        raise AnsibleFilterError("blue_green_history_add: expected the state read before this run, got %r" % (state,))
    if not isinstance(entry, dict) or entry.get("action") not in _ACTIONS or not entry.get("result"):
        raise AnsibleFilterError("blue_green_history_add: the entry needs action (%s) and result, got %r"
                                 % (" or ".join(_ACTIONS), entry))
    try:
        size = int(size)
    except (TypeError, ValueError):
        size = 0
    if size < 1:
        raise AnsibleFilterError("blue_green_history_add: size must be 1 or more")
    now = _seconds("now", now, required=True)
    live = state.get("live") if isinstance(state.get("live"), dict) else {}
    out = {"time": _iso(now), "app": state["app"]}
    out.update(entry)
    if out["result"] == "success" and out.get("failed_hosts"):
        out["result"] = "partial"
    if "digest" in out:
        out["digest"] = out["digest"] or None
    out.update(from_version=live.get("version"), from_color=live.get("color"))
    started = _seconds("started", started)
    if started is not None:
        out["duration_seconds"] = round(now - started, 1)
    begin, end = _seconds("switch_started", switch_started), _seconds("switched_at", switched_at)
    if begin is not None and end is not None:
        out.update(switch_started=round(begin, 3), switch_seconds=round(end - begin, 3))
    out["by"] = by
    history = [e for e in state.get("history") or [] if isinstance(e, dict)]
    return (history + [out])[-size:]


class FilterModule(object):
    def filters(self):
        return {"blue_green_history_add": blue_green_history_add}
