# -*- coding: utf-8 -*-
# Copyright (c) seed.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
name: blue_green_counted
short_description: Carry the deploy counters of a blue-green state forward by its newest history entry
version_added: 0.2.0
description:
  - Takes the state C(seed.fleet.blue_green) is about to write (its C(history) ends with the entry of this run) and
    the state it read before, and returns the new state with C(counts) (C(<action>:<result>) -> number) and
    C(last) (C(<action>:<result>) -> Unix time of the newest such entry).
  - The counts are the old state's plus one for the new entry, so they keep growing when the history is cut to
    C(blue_green_history_size); a state written before counts existed starts from what its history holds.
  - "The textfile metric C(seed_fleet_deploys_total{app,action,result}) is rendered from C(counts): a counter
    Prometheus can take C(increase()) of, for deploys per day and the change failure rate."
author:
  - seed.fleet maintainers
options:
  _input:
    description: The new state (C(app), C(live), C(previous), C(history)).
    type: dict
    required: true
  before:
    description: The state read before this run (empty or C(None) on the first deploy).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Count this deploy
  ansible.builtin.set_fact:
    new_state: "{{ new_state | seed.fleet.blue_green_counted(old_state) }}"
"""

RETURN = r"""
_value:
  description: The new state with C(counts) and C(last).
  type: dict
"""

import calendar
import re
import time

from ansible.errors import AnsibleFilterError

_TIME = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d+)?")


def _key(entry):
    return "%s:%s" % (entry.get("action") or "deploy", entry.get("result") or "unknown")


def _when(entry):
    """Unix time of a history entry ('time' is ISO 8601 UTC, as blue_green writes it)."""
    match = _TIME.match(str(entry.get("time") or ""))
    if not match:
        return None
    seconds = calendar.timegm(time.strptime(match.group(1), "%Y-%m-%dT%H:%M:%S"))
    return round(seconds + float(match.group(2) or 0), 3)


def _tally(entries, counts, last):
    for entry in entries:
        key = _key(entry)
        counts[key] = counts.get(key, 0) + 1
        when = _when(entry)
        if when is not None:
            last[key] = max(when, last.get(key, when))


def blue_green_counted(new, before):
    if not isinstance(new, dict) or not isinstance(new.get("history"), list) or not new["history"]:
        raise AnsibleFilterError("blue_green_counted: expected a state whose history ends with this run's entry, got %r"
                                 % (new,))
    before = before if isinstance(before, dict) else {}
    if not all(isinstance(e, dict) for e in new["history"]):
        raise AnsibleFilterError("blue_green_counted: every history entry must be a mapping")
    counts, last = {}, {}
    if isinstance(before.get("counts"), dict):
        counts = dict((str(k), int(v)) for k, v in before["counts"].items())
        last = dict((str(k), float(v)) for k, v in (before.get("last") or {}).items())
    else:
        # A state from before the counters: what its history still holds.
        _tally([e for e in before.get("history") or [] if isinstance(e, dict)], counts, last)
    _tally(new["history"][-1:], counts, last)
    out = dict(new)
    out["counts"] = dict(sorted(counts.items()))
    out["last"] = dict(sorted(last.items()))
    return out


class FilterModule(object):
    def filters(self):
        return {"blue_green_counted": blue_green_counted}
