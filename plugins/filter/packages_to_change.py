# -*- coding: utf-8 -*-
# Copyright (c) seed.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
name: packages_to_change
short_description: The packages an apt task would have to install or remove
version_added: 0.3.0
description:
  - Takes the package names of an M(ansible.builtin.apt) task and what M(seed.fleet.probe) found installed
    (its C(packages) result), and returns the names apt would have to change. A task whose list is empty
    has nothing to do and need not run (an apt run opens the package cache, the most expensive module
    run of a converged host).
  - For O(state=present), a name is returned when it is not installed, or when it carries a version
    (C(name=version), a C(*) pattern as M(ansible.builtin.apt) takes it) that the installed one does not match.
  - For O(state=absent), a name is returned when it is installed.
  - A name the probe was not asked about counts as not installed.
author:
  - seed.fleet maintainers
options:
  _input:
    description: The package names, as given to the apt task.
    type: list
    elements: str
    required: true
  found:
    description: Name to installed version or V(null), the C(packages) result of M(seed.fleet.probe).
    type: dict
    required: true
  state:
    description: The apt task's state.
    type: str
    choices: [present, absent]
    default: present
"""

EXAMPLES = r"""
- name: Install the packages only when one is missing
  ansible.builtin.apt:
    name: "{{ wanted }}"
  when: wanted | seed.fleet.packages_to_change(probe.packages) | length > 0
"""

RETURN = r"""
_value:
  description: The names apt would change, in their order.
  type: list
  elements: str
"""

from fnmatch import fnmatchcase

from ansible.errors import AnsibleFilterError


def packages_to_change(names, found, state="present"):
    if not isinstance(names, list) or not isinstance(found, dict):
        raise AnsibleFilterError("packages_to_change: expected a list of names and the probe's packages dict")
    if state not in ("present", "absent"):
        raise AnsibleFilterError("packages_to_change: state must be present or absent, not %r" % (state,))
    out = []
    for name in names:
        version = found.get(name)
        if state == "absent":
            if version is not None:
                out.append(name)
            continue
        pinned = name.partition("=")[2]
        if version is None or (pinned and not fnmatchcase(version, pinned)):
            out.append(name)
    return out


class FilterModule(object):
    def filters(self):
        return {"packages_to_change": packages_to_change}
