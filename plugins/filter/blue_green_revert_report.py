# -*- coding: utf-8 -*-
# Copyright (c) seed.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
name: blue_green_revert_report
short_description: Per load balancer, whose revert failed and where traffic is, for the blue-green rescue
version_added: 0.1.0
description:
  - Reads, for every load balancer in O(_input), the rescue's registered revert result (O(revert_var)) and its
    read-back line (O(traffic_var), made by C(seed.fleet.blue_green_traffic_now)) from O(hostvars).
  - Returns C(revert_failed) (load balancer to the error of its failed revert; empty when every revert worked or
    was skipped) and C(traffic_by_lb) (load balancer to its read-back line, C(unknown, not read) when it has none).
author:
  - seed.fleet maintainers
options:
  _input:
    description: The load balancers (inventory host names).
    type: list
    elements: str
    required: true
  hostvars:
    description: Ansible's C(hostvars).
    type: dict
    required: true
  revert_var:
    description: Name of the registered revert result.
    type: str
    default: __blue_green_revert
  traffic_var:
    description: Name of the read-back line.
    type: str
    default: __blue_green_traffic_now
"""

EXAMPLES = r"""
- name: Collect the load balancers whose revert failed
  ansible.builtin.set_fact:
    report: "{{ groups['lb'] | seed.fleet.blue_green_revert_report(hostvars) }}"
"""

RETURN = r"""
_value:
  description: A dict with the keys C(revert_failed) (load balancer to error) and C(traffic_by_lb) (load balancer to line).
  type: dict
"""

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.collections import is_sequence
from ansible_collections.seed.fleet.plugins.module_utils._mapping import get as _get


def blue_green_revert_report(lbs, hostvars, revert_var="__blue_green_revert", traffic_var="__blue_green_traffic_now"):
    """{'revert_failed': {lb: why}, 'traffic_by_lb': {lb: what}} over the load balancers, from their hostvars."""
    if lbs is None:
        lbs = []
    if isinstance(lbs, (str, bytes)) or not is_sequence(lbs):
        raise AnsibleFilterError("blue_green_revert_report: expected a list of load balancers, got %r" % (lbs,))
    failed = {}
    traffic = {}
    for lb in lbs:
        hv = _get(hostvars, lb, {}) or {}
        revert = _get(hv, revert_var, {}) or {}
        if isinstance(revert, dict) and revert.get("failed"):
            failed[lb] = revert.get("msg", "failed")
        now = _get(hv, traffic_var)
        traffic[lb] = "unknown, not read" if now is None else str(now).strip()
    return {"revert_failed": failed, "traffic_by_lb": traffic}


class FilterModule(object):
    def filters(self):
        return {"blue_green_revert_report": blue_green_revert_report}
