# -*- coding: utf-8 -*-
# Copyright (c) seed.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
name: blue_green_canary_evidence
short_description: Whether a canary step's watches saw enough requests on the new color, over every load balancer
version_added: 0.4.0
description:
  - With several load balancers, a canary step's watch (C(seed.fleet.haproxy_watch)) runs on each one, and each sees
    only the requests that reached it. The standby of an active/passive pair sees none, and an active/active pair
    splits the traffic; neither alone says whether the new color got enough requests to be judged.
  - This filter adds up the requests the watched servers got on every load balancer of O(_input), over the windows
    registered as O(names) (the step's window, then the hold window if there was one), and compares the total
    with O(min_requests). Errors are not judged here; each watch has already judged its own (a breach stops the
    step before this filter is asked).
  - A load balancer without a result counts no requests.
author:
  - seed.fleet maintainers
options:
  _input:
    description: The load balancers.
    type: list
    elements: str
    required: true
  hostvars:
    description: Ansible's C(hostvars).
    type: dict
    required: true
  names:
    description: The registered watch results to add up, per load balancer (C(requests), C(watched_seconds)).
    type: list
    elements: str
    required: true
  min_requests:
    description: Requests the new color needs over all load balancers to be judged (0 or more).
    type: int
    required: true
"""

EXAMPLES = r"""
- name: Judge the step's traffic over both load balancers
  ansible.builtin.set_fact:
    evidence: "{{ groups['lb'] | seed.fleet.blue_green_canary_evidence(hostvars, ['watch'], 50) }}"
  run_once: true
"""

RETURN = r"""
_value:
  description: The verdict.
  type: dict
  contains:
    enough:
      description: Whether the total reaches O(min_requests).
      type: bool
    requests:
      description: The requests on the new color, over every load balancer and window.
      type: int
    per_lb:
      description: Load balancer to its requests, in the order of O(_input).
      type: dict
    seconds:
      description: The longest time a load balancer watched, the windows added up.
      type: float
    msg:
      description: One line for the run's output (the reason of the abort when not enough).
      type: str
"""

from ansible.errors import AnsibleFilterError


def _count(result, key, cast):
    try:
        return cast((result or {}).get(key) or 0)
    except (TypeError, ValueError):
        return cast(0)


def blue_green_canary_evidence(lbs, hostvars, names, min_requests):
    """The requests the new color got over every load balancer and window, against ``min_requests``."""
    if isinstance(names, str) or not names:
        raise AnsibleFilterError("blue_green_canary_evidence: names must be a list of registered results")
    try:
        wanted = int(min_requests)
    except (TypeError, ValueError):
        raise AnsibleFilterError("blue_green_canary_evidence: min_requests must be a number, got %r" % (min_requests,))
    if wanted < 0:
        raise AnsibleFilterError("blue_green_canary_evidence: min_requests must be 0 or more, got %d" % wanted)
    per_lb = {}
    seconds = 0.0
    for lb in lbs:
        found = (hostvars.get(lb) or {})
        per_lb[lb] = sum(_count(found.get(name), "requests", int) for name in names)
        seconds = max(seconds, sum(_count(found.get(name), "watched_seconds", float) for name in names))
    total = sum(per_lb.values())
    enough = total >= wanted
    spread = ", ".join("%s %d" % item for item in per_lb.items())
    msg = "%s: %d of %d request(s) on the new color over %d load balancer(s) (%s) in %.1f s" % (
        "enough traffic to judge" if enough else "not enough traffic to judge", total, wanted, len(per_lb), spread,
        seconds)
    return {"enough": enough, "requests": total, "per_lb": per_lb, "seconds": round(seconds, 3), "msg": msg}


class FilterModule(object):
    def filters(self):
        return {"blue_green_canary_evidence": blue_green_canary_evidence}
