# -*- coding: utf-8 -*-
# Copyright (c) seed.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
name: blue_green_canary_plan
short_description: Check a canary's traffic steps and turn them into HAProxy weights
version_added: 0.3.0
description:
  - Takes the traffic shares of a canary (percent of the requests for the new color, step by step) and the
    number of servers of each color, and returns the HAProxy weights (0-256, C(balance roundrobin)) that give
    each step below 100 % its share. The 100 % step is the blue-green switch itself, so it is not returned.
  - "Refused with an error naming the problem: an empty list, a step that is not a whole number in 1..100,
    steps that do not increase, a last step that is not 100, a server count below 1 for the new color."
  - With no server of the old color (a first deploy, nothing is live) there is nothing to split, and the
    plan is empty (the deploy switches at once).
  - With O(approval), the plan ends at that step, marked C(approval) (the deploy waits there for a person); with
    O(after), it starts after that step (a promoted canary goes on from where it waited).
author:
  - seed.fleet maintainers
options:
  _input:
    description: The steps, percent of the traffic for the new color, increasing, the last one 100.
    type: list
    elements: int
    required: true
  new_servers:
    description: How many servers of the new color take traffic.
    type: int
    required: true
  old_servers:
    description: How many servers of the old (live) color take traffic.
    type: int
    required: true
  approval:
    description: The step (one of the steps below 100) after which the canary waits for approval; 0 for none.
    type: int
    default: 0
  after:
    description: Leave out the steps up to this one (they ran before the canary waited); 0 for none.
    type: int
    default: 0
"""

EXAMPLES = r"""
- name: 5, 25 and 50 % for two new servers beside two old ones
  ansible.builtin.debug:
    msg: "{{ [5, 25, 50, 100] | seed.fleet.blue_green_canary_plan(2, 2) }}"
    # -> [{percent: 5, new_weight: 13, old_weight: 256, share: 4.8}, {percent: 25, new_weight: 85, ...}, ...]
"""

RETURN = r"""
_value:
  description:
    - One entry per step below 100 %, in order - C(percent) (asked), C(new_weight) and C(old_weight) (per server)
      and C(share) (the percent the weights give, to one decimal), and C(approval) (true on the step the canary
      waits after).
  type: list
  elements: dict
"""

from ansible.errors import AnsibleFilterError

MAX_WEIGHT = 256


def _fail(msg):
    raise AnsibleFilterError("blue_green_canary_plan: " + msg)


def _count(value, what, low):
    if isinstance(value, bool):
        _fail("%s must be a whole number, got %r" % (what, value))
    try:
        number = int(str(value).strip())
    except ValueError:
        _fail("%s must be a whole number, got %r" % (what, value))
    if number < low:
        _fail("%s must be at least %d, got %d" % (what, low, number))
    return number


def check_steps(steps):
    """The steps as whole numbers, or an error naming what is wrong."""
    if not isinstance(steps, (list, tuple)) or not steps:
        _fail("the steps must be a non-empty list of percentages ending at 100, got %r" % (steps,))
    out = []
    for step in steps:
        if isinstance(step, bool) or not isinstance(step, (int, str)) or not str(step).strip().isdigit():
            _fail("every step must be a whole percentage in 1..100, got %r" % (step,))
        number = int(str(step).strip())
        if not 1 <= number <= 100:
            _fail("every step must be a whole percentage in 1..100, got %d" % number)
        if out and number <= out[-1]:
            _fail("the steps must increase, got %s after %s" % (number, out[-1]))
        out.append(number)
    if out[-1] != 100:
        _fail("the last step must be 100 (the switch), got %d" % out[-1])
    return out


def weights(percent, new_servers, old_servers):
    """(new weight, old weight, share in percent) per server for one step below 100 %."""
    per_new = float(percent) / new_servers
    per_old = float(100 - percent) / old_servers
    scale = MAX_WEIGHT / max(per_new, per_old)
    new_weight = max(1, min(MAX_WEIGHT, int(round(per_new * scale))))
    old_weight = max(1, min(MAX_WEIGHT, int(round(per_old * scale))))
    share = 100.0 * new_servers * new_weight / (new_servers * new_weight + old_servers * old_weight)
    return new_weight, old_weight, round(share, 1)


def _step(value, steps, what):
    """0, or one of the steps below 100."""
    number = _count(value, what, 0)
    if number and number not in steps[:-1]:
        _fail("%s must be 0 or one of the steps below 100 (%s), got %d"
              % (what, ", ".join(str(s) for s in steps[:-1]) or "none", number))
    return number


def blue_green_canary_plan(steps, new_servers, old_servers, approval=0, after=0):
    """The weights of every step below 100 % (see DOCUMENTATION)."""
    checked = check_steps(steps)
    new_servers = _count(new_servers, "new_servers", 1)
    old_servers = _count(old_servers, "old_servers", 0)
    approval = _step(approval, checked, "the approval step")
    after = _step(after, checked, "the step to go on after")
    if approval and approval <= after:
        _fail("the approval step (%d) must come after the step to go on after (%d)" % (approval, after))
    if old_servers == 0:
        return []
    plan = []
    for percent in checked[:-1]:
        if percent <= after:
            continue
        new_weight, old_weight, share = weights(percent, new_servers, old_servers)
        plan.append({"percent": percent, "new_weight": new_weight, "old_weight": old_weight, "share": share,
                     "approval": percent == approval})
        if percent == approval:
            break
    return plan


class FilterModule(object):
    def filters(self):
        return {"blue_green_canary_plan": blue_green_canary_plan}
