# -*- coding: utf-8 -*-
# Copyright (c) seed.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
name: baseline_aged_accounts
short_description: The human accounts that password aging applies to
version_added: 0.1.0
description:
  - Takes C(getent passwd) and returns the names of the human accounts (UID from O(uid_min) up, not C(nobody))
    whose password in O(shadow) is usable (not empty, not locked with C(!) or C(*)), less the O(exempt) names.
  - The C(seed.fleet.baseline) role sets C(login.defs) aging on these; the admin users (key login) and the user
    Ansible connects as are exempt, since an expired password ends their key login and sudo.
author:
  - seed.fleet maintainers
options:
  _input:
    description: C(getent passwd) as the C(ansible.builtin.getent) module returns it (name -> fields).
    type: dict
    required: true
  shadow:
    description: C(getent shadow) the same way (name -> fields, the first the password hash).
    type: dict
    required: true
  exempt:
    description: Names never aged.
    type: list
    elements: str
    default: []
  uid_min:
    description: The first UID of a human account (C(UID_MIN) of C(login.defs)).
    type: int
    default: 1000
"""

EXAMPLES = r"""
- name: Accounts to age
  ansible.builtin.debug:
    msg: "{{ ansible_facts.getent_passwd | seed.fleet.baseline_aged_accounts(ansible_facts.getent_shadow, exempt=['admin']) }}"
"""

RETURN = r"""
_value:
  description: Account names, sorted.
  type: list
  elements: str
"""

from ansible.errors import AnsibleFilterError

_NOBODY_UID = 65534


def baseline_aged_accounts(passwd, shadow, exempt=None, uid_min=1000):
    """Human accounts with a usable password, less the exempt ones."""
    if not isinstance(passwd, dict) or not isinstance(shadow, dict):
        raise AnsibleFilterError("baseline_aged_accounts: expected getent passwd and shadow dicts, got %r and %r"
                                 % (type(passwd).__name__, type(shadow).__name__))
    exempt = set(exempt or [])
    names = []
    for name, fields in passwd.items():
        try:
            uid = int(fields[1])
        except (TypeError, ValueError, IndexError):
            raise AnsibleFilterError("baseline_aged_accounts: passwd entry %r has no numeric UID: %r" % (name, fields))
        if uid < int(uid_min) or uid == _NOBODY_UID or name in exempt:
            continue
        secret = (shadow.get(name) or [""])[0] or ""
        if not secret or secret[0] in "!*":
            continue
        names.append(name)
    return sorted(names)


class FilterModule(object):
    def filters(self):
        return {"baseline_aged_accounts": baseline_aged_accounts}
