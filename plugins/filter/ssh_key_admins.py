# -*- coding: utf-8 -*-
# Copyright (c) seed.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
name: ssh_key_admins
short_description: Admin users that can still log in with an SSH key after hardening
version_added: 0.1.0
description:
  - Takes the C(baseline_admin_users) list and returns the names of the users that will be able
    to log in over SSH with a key and then use sudo, once the hardened C(sshd_config) is live.
  - A user counts when it is present (C(state) not C(absent)), has at least one non-empty
    C(ssh_keys) entry, keeps sudo (C(sudo) not false), has a login shell (not C(nologin) or
    C(false)), is not C(root), and is let in by O(allow_users) and O(allow_groups) when those
    are not empty (its groups are its C(groups) plus its own name, the primary group).
  - The lockout guard of the C(seed.fleet.baseline) role refuses to turn off password or root
    login when this list is empty.
author:
  - seed.fleet maintainers
options:
  _input:
    description: The C(baseline_admin_users) list of dicts.
    type: list
    elements: dict
    required: true
  allow_users:
    description: sshd C(AllowUsers) list; empty means no restriction.
    type: list
    elements: str
    default: []
  allow_groups:
    description: sshd C(AllowGroups) list; empty means no restriction.
    type: list
    elements: str
    default: []
"""

EXAMPLES = r"""
- name: Who keeps key-based admin access
  ansible.builtin.debug:
    msg: "{{ baseline_admin_users | seed.fleet.ssh_key_admins(allow_groups=['ssh-users']) }}"
"""

RETURN = r"""
_value:
  description: Names of the admin users that keep key-based SSH access and sudo.
  type: list
  elements: str
"""

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.collections import is_sequence

_NO_LOGIN_SHELLS = ("nologin", "false")


def _keys(user):
    keys = user.get("ssh_keys") or []
    if isinstance(keys, str):
        keys = keys.splitlines()
    return [k for k in keys if isinstance(k, str) and k.strip() and not k.strip().startswith("#")]


def ssh_key_admins(users, allow_users=None, allow_groups=None):
    """Return the names of admin users that keep key-based SSH login and sudo."""
    if users is None:
        return []
    if isinstance(users, str) or not is_sequence(users):
        raise AnsibleFilterError("ssh_key_admins: expected a list of user dicts, got %r" % (users,))
    allow_users = list(allow_users or [])
    allow_groups = list(allow_groups or [])
    names = []
    for idx, user in enumerate(users):
        if not isinstance(user, dict) or not user.get("name"):
            raise AnsibleFilterError("ssh_key_admins: entry %d must be a dict with a name, got %r" % (idx, user))
        name = str(user["name"])
        if name == "root" or user.get("state", "present") == "absent":
            continue
        if user.get("sudo", True) in (False, "false", "no"):
            continue
        shell = str(user.get("shell") or "/bin/bash")
        if shell.rsplit("/", 1)[-1] in _NO_LOGIN_SHELLS:
            continue
        if not _keys(user):
            continue
        if allow_users and name not in allow_users:
            continue
        groups = set(user.get("groups") or []) | {name}
        if allow_groups and not groups & set(allow_groups):
            continue
        names.append(name)
    return names


class FilterModule(object):
    def filters(self):
        return {"ssh_key_admins": ssh_key_admins}
