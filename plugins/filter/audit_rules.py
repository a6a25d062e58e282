# -*- coding: utf-8 -*-
# Copyright (c) seed.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
name: audit_rules
short_description: Check audit rules given as data and render them as auditctl lines
version_added: 0.2.0
description:
  - Used by C(seed.fleet.baseline) for C(/etc/audit/rules.d/50-seed-fleet.rules) - in preflight without the syscall
    tables (the shape of every rule), then again with the host's tables from C(ausyscall) before the file is written,
    so a rule the kernel would refuse never reaches the host.
  - A rule is either a file watch (V(watch), V(perms), V(key)) or a syscall rule (V(syscalls), V(key) and optionally
    V(arch), a list of V(b64) and V(b32); default both).
  - Raises an error that names the rule and what is wrong with it.
author:
  - seed.fleet maintainers
options:
  _input:
    description: The rules.
    type: list
    elements: dict
    required: true
  syscalls:
    description:
      - Output of C(ausyscall <arch> --dump) per arch (V(b64), V(b32)); every syscall a rule names must be in the table
        of each arch it is for. An arch missing from the dict means the host has no such table.
      - Omit it to check the shape of the rules only.
    type: dict
"""

EXAMPLES = r"""
- name: Render the rules
  ansible.builtin.copy:
    content: "{{ rules | seed.fleet.audit_rules | join('\n') }}\n"
    dest: /etc/audit/rules.d/50-example.rules
    mode: "0640"
  vars:
    rules:
      - {watch: /etc/passwd, perms: wa, key: identity}
      - {syscalls: [init_module, delete_module], key: modules}
"""

RETURN = r"""
_value:
  description: One auditctl rule per line, in the order given.
  type: list
  elements: str
"""

import re

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.collections import is_sequence

_KEY = re.compile(r"^[A-Za-z0-9_-]{1,31}$")
_SYSCALL = re.compile(r"^[a-z0-9_]{1,64}$")
_PATH = re.compile(r"^/[^\s]*$")
_ARCHES = ("b64", "b32")


def _table(dump):
    """Syscall names from `ausyscall <arch> --dump` (a header line, then "<number>\\t<name>")."""
    names = set()
    for line in (dump or "").splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0].isdigit():
            names.add(parts[1])
    return names


def _watch(rule, where):
    path, perms = rule.get("watch"), rule.get("perms", "wa")
    if not isinstance(path, str) or not _PATH.match(path) or "/../" in path + "/":
        raise AnsibleFilterError("%s: watch must be an absolute path without spaces, got %r" % (where, path))
    if (not isinstance(perms, str) or not perms or set(perms) - set("rwxa")
            or len(set(perms)) != len(perms)):
        raise AnsibleFilterError("%s: perms must be some of r, w, x, a (each once), got %r" % (where, perms))
    return ["-w %s -p %s -k %s" % (path.rstrip("/") or "/", perms, rule["key"])]


def _syscall(rule, where, tables):
    names, arches = rule.get("syscalls"), rule.get("arch", list(_ARCHES))
    if not is_sequence(names) or not names or not all(isinstance(n, str) and _SYSCALL.match(n) for n in names):
        raise AnsibleFilterError("%s: syscalls must be a non-empty list of syscall names, got %r" % (where, names))
    if not is_sequence(arches) or not arches or set(arches) - set(_ARCHES) or len(set(arches)) != len(arches):
        raise AnsibleFilterError("%s: arch must be a list of b64 and/or b32, got %r" % (where, arches))
    lines = []
    for arch in arches:
        if tables is not None:
            if arch not in tables:
                raise AnsibleFilterError("%s: this host has no %s syscall table (ausyscall); drop %s from arch"
                                         % (where, arch, arch))
            unknown = [n for n in names if n not in tables[arch]]
            if unknown:
                raise AnsibleFilterError("%s: the kernel's %s table has no syscall %s" % (where, arch, ", ".join(unknown)))
        lines.append("-a always,exit -F arch=%s %s -k %s" % (arch, " ".join("-S " + n for n in names), rule["key"]))
    return lines


def audit_rules(rules, syscalls=None):
    if not is_sequence(rules):
        raise AnsibleFilterError("audit_rules: expected a list of rules, got %r" % (rules,))
    tables = None if syscalls is None else dict((a, _table(d)) for a, d in syscalls.items() if _table(d))
    out = []
    for index, rule in enumerate(rules):
        where = "audit rule %d (%r)" % (index + 1, rule)
        if not isinstance(rule, dict):
            raise AnsibleFilterError("%s: a rule is a dict" % where)
        kinds = [k for k in ("watch", "syscalls") if k in rule]
        if len(kinds) != 1:
            raise AnsibleFilterError("%s: a rule has either watch (with perms) or syscalls, not %s"
                                     % (where, " and ".join(kinds) or "neither"))
        allowed = {"watch": {"watch", "perms", "key"}, "syscalls": {"syscalls", "arch", "key"}}[kinds[0]]
        extra = sorted(set(rule) - allowed)
        if extra:
            raise AnsibleFilterError("%s: unknown keys %s" % (where, ", ".join(extra)))
        if not isinstance(rule.get("key"), str) or not _KEY.match(rule["key"]):
            raise AnsibleFilterError("%s: key must be 1 to 31 letters, digits, _ or -, got %r" % (where, rule.get("key")))
        out.extend(_watch(rule, where) if kinds[0] == "watch" else _syscall(rule, where, tables))
    return out


class FilterModule(object):
    def filters(self):
        return {"audit_rules": audit_rules}
