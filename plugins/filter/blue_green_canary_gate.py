# -*- coding: utf-8 -*-
# Copyright (c) seed.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
name: blue_green_canary_gate
short_description: Decide what a run does with a canary that waits for approval
version_added: 0.4.0
description:
  - A canary with an approval step (C(blue_green_canary_approval_step)) stops after that step with its share of
    the traffic and records itself under C(canary) in the app's state file. This filter reads that state, the
    decision the run was given (C(blue_green_canary_decision)) and the time, and says what the run does.
  - "C(deploy): nothing waits and no decision was given - an ordinary deploy."
  - "C(promote): the canary waits, its deadline has not passed, and the decision is C(promote) - the remaining
    steps, the switch and its watch."
  - "C(abort): the decision is C(abort), or the deadline passed (an approval that never came aborts; the run fails
    after the abort unless it asked for one)."
  - "C(refuse): a decision with no canary waiting, or a new deploy while one waits (it must be promoted or aborted
    first). The run stops before anything changes, with C(msg) saying why and what to run."
author:
  - seed.fleet maintainers
options:
  _input:
    description: The app's state (the state file's content; C(canary) is the waiting canary, if any).
    type: dict
    required: true
  decision:
    description: The decision of this run - empty (none), C(promote) or C(abort).
    type: str
    required: true
  now:
    description: The time now (Unix seconds).
    type: float
    required: true
"""

EXAMPLES = r"""
- name: What this run does with a waiting canary
  ansible.builtin.set_fact:
    gate: "{{ state | seed.fleet.blue_green_canary_gate(blue_green_canary_decision, now(utc=true).timestamp()) }}"
"""

RETURN = r"""
_value:
  description:
    - C(action) (deploy, promote, abort or refuse), C(canary) (the waiting canary's record, or none), C(expired)
      (its deadline passed), C(failed) (the run fails once the action is done - an abort nobody asked for) and
      C(msg) (what a person reads).
  type: dict
"""

import time

from ansible.errors import AnsibleFilterError

DECISIONS = ("", "promote", "abort")


def _stamp(seconds):
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(float(seconds)))


def _result(action, canary=None, expired=False, failed=False, msg=""):
    return {"action": action, "canary": canary, "expired": expired, "failed": failed, "msg": msg}


def blue_green_canary_gate(state, decision, now):
    """What this run does (see DOCUMENTATION)."""
    if not isinstance(state, dict):
        raise AnsibleFilterError("blue_green_canary_gate: the state must be a mapping, got %r" % (state,))
    decision = (decision or "").strip()
    if decision not in DECISIONS:
        raise AnsibleFilterError("blue_green_canary_gate: the decision must be promote, abort or empty, got %r" % decision)
    app = state.get("app") or "the app"
    canary = state.get("canary")
    if not canary:
        if not decision:
            return _result("deploy")
        return _result("refuse", msg="%s: no canary waits for a decision, so there is nothing to %s" % (app, decision))
    if not isinstance(canary, dict) or "expires_at" not in canary:
        raise AnsibleFilterError("blue_green_canary_gate: the waiting canary of %s has no deadline: %r" % (app, canary))
    where = "%s %s holds %s %% of the traffic (step %s %%) on %s since %s" % (
        app, canary.get("version"), canary.get("share"), canary.get("percent"), canary.get("color"),
        _stamp(canary.get("paused_at", 0)))
    deadline = float(canary["expires_at"])
    if float(now) >= deadline:
        return _result("abort", canary, expired=True, failed=decision != "abort",
                       msg="%s: no approval came before %s (blue_green_canary_approval_timeout), so it is aborted"
                       % (where, _stamp(deadline)))
    if decision == "promote":
        return _result("promote", canary, msg="%s: promoted" % where)
    if decision == "abort":
        return _result("abort", canary, msg="%s: aborted on request" % where)
    return _result("refuse", canary, msg=(
        "%s and waits for a decision until %s; a new deploy waits for it. Run the deploy playbook with "
        "-e blue_green_app=%s -e blue_green_canary_decision=promote (or =abort)" % (where, _stamp(deadline), app)))


class FilterModule(object):
    def filters(self):
        return {"blue_green_canary_gate": blue_green_canary_gate}
