# -*- coding: utf-8 -*-
# Copyright (c) seed.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
name: path_differs
short_description: Whether a path seed.fleet.probe looked at is not there as wanted
version_added: 0.3.0
description:
  - Takes one entry of the C(files) result of M(seed.fleet.probe) and returns V(true) when the path is
    missing, or is not of the wanted kind, owner, group or mode; V(false) when it is as wanted. A task that
    would create or fix the path (M(ansible.builtin.file), a key or certificate module) then runs only when
    this is V(true).
author:
  - seed.fleet maintainers
options:
  _input:
    description: The probe's entry for the path (C(exists), C(kind), C(owner), C(group), C(mode)).
    type: dict
    required: true
  kind:
    description: The wanted kind.
    type: str
    choices: [file, directory, link]
    required: true
  owner:
    description: The wanted owner name.
    type: str
    required: true
  group:
    description: The wanted group name.
    type: str
    required: true
  mode:
    description: The wanted mode, an octal string such as V("0640").
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Create the directory only when it is not there as wanted
  ansible.builtin.file:
    path: /etc/example
    state: directory
    owner: root
    group: root
    mode: "0750"
  when: probe.files.dir | seed.fleet.path_differs('directory', 'root', 'root', '0750')
"""

RETURN = r"""
_value:
  description: V(true) when the path is missing or differs.
  type: bool
"""

from ansible.errors import AnsibleFilterError


def path_differs(found, kind, owner, group, mode):
    if not isinstance(found, dict) or "exists" not in found:
        raise AnsibleFilterError("path_differs: expected an entry of seed.fleet.probe's files result, got %r" % (found,))
    if not isinstance(mode, str) or not mode.isdigit():
        raise AnsibleFilterError("path_differs: mode must be an octal string such as '0640', got %r" % (mode,))
    if not found["exists"]:
        return True
    wanted = (kind, owner, group, "%04o" % int(mode, 8))
    return (found.get("kind"), found.get("owner"), found.get("group"), found.get("mode")) != wanted


class FilterModule(object):
    def filters(self):
        return {"path_differs": path_differs}
