# -*- coding: utf-8 -*-
# Copyright (c) seed.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
name: failed_on
short_description: The hosts on which a registered result failed, with its message
version_added: 0.3.0
description:
  - For a barrier after a task that ran with C(ignore_errors) on several hosts - takes the hosts, C(hostvars) and
    the name of the registered variable, and returns host to message for every host whose result failed.
  - A host without the variable (unreachable, or failed before the task) counts as failed with O(missing) as its
    message; a skipped result does not count.
author:
  - seed.fleet maintainers
options:
  _input:
    description: The hosts to look at, in order.
    type: list
    elements: str
    required: true
  hostvars:
    description: Ansible's C(hostvars).
    type: dict
    required: true
  name:
    description: The registered variable.
    type: str
    required: true
  missing:
    description: The message of a host without the variable.
    type: str
    default: no result (host unreachable or failed earlier)
"""

EXAMPLES = r"""
- name: Fail every host when a load balancer's watch failed
  ansible.builtin.fail:
    msg: "{{ groups['lb'] | seed.fleet.failed_on(hostvars, 'watch') }}"
  when: groups['lb'] | seed.fleet.failed_on(hostvars, 'watch') | length > 0
"""

RETURN = r"""
_value:
  description: Host name to the failed result's C(msg) (or O(missing)), in the order of O(_input).
  type: dict
"""

MISSING = "no result (host unreachable or failed earlier)"


def failed_on(hosts, hostvars, name, missing=MISSING):
    """host -> message for every host whose registered result ``name`` failed or is missing."""
    out = {}
    for host in hosts:
        result = (hostvars.get(host) or {}).get(name)
        if result is None:
            out[host] = missing
        elif result.get("failed") and not result.get("skipped"):
            out[host] = result.get("msg") or "failed"
    return out


class FilterModule(object):
    def filters(self):
        return {"failed_on": failed_on}
