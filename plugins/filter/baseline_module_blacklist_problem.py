# -*- coding: utf-8 -*-
# Copyright (c) seed.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
name: baseline_module_blacklist_problem
short_description: Why a kernel module blacklist must not be written (empty when it may)
version_added: 0.2.0
description:
  - Used by C(seed.fleet.baseline) before it writes C(/etc/modprobe.d/seed-fleet-blacklist.conf).
  - Refuses a blacklist that names a module the host needs (the container engine's C(overlay) and C(br_netfilter) on
    a container host, the firewall's C(nf_tables)) or one that is loaded now (read from C(/proc/modules) on a machine
    that owns its kernel), and names that are not module names.
author:
  - seed.fleet maintainers
options:
  _input:
    description: The modules to blacklist (after the per-host exceptions are taken out).
    type: list
    elements: str
    required: true
  needed:
    description: Modules the host's roles need.
    type: list
    elements: str
    required: true
  loaded:
    description: The text of C(/proc/modules), or empty when it is not the host's own (a container).
    type: str
    default: ""
"""

EXAMPLES = r"""
- name: Refuse a blacklist that would take a needed module away
  ansible.builtin.assert:
    that: problem | length == 0
    fail_msg: "{{ problem }}"
  vars:
    problem: "{{ ['overlay', 'dccp'] | seed.fleet.baseline_module_blacklist_problem(['overlay'], '') }}"
"""

RETURN = r"""
_value:
  description: Empty when the blacklist may be written, else why not (one line).
  type: str
"""

import re

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.collections import is_sequence

_MODULE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def _norm(name):
    """modprobe treats '-' and '_' in module names alike."""
    return name.replace("-", "_")


def _names(value, what):
    if value is None:
        return []
    if isinstance(value, (str, bytes)) or not is_sequence(value):
        raise AnsibleFilterError("%s must be a list of module names, got %r" % (what, value))
    return [str(v) for v in value]


def baseline_module_blacklist_problem(blacklist, needed, loaded=""):
    blacklist = _names(blacklist, "the blacklist")
    bad = [m for m in blacklist if not _MODULE.match(m)]
    if bad:
        return "not kernel module names: %s (letters, digits, '_' and '-' only)" % ", ".join(repr(m) for m in bad)
    need = set(_norm(m) for m in _names(needed, "needed"))
    now = set(_norm(line.split(" ", 1)[0]) for line in str(loaded or "").splitlines() if line.strip())
    used = [m for m in blacklist if _norm(m) in need]
    if used:
        return ("refusing to blacklist %s: this host needs it (container engine, firewall); take it out of "
                "baseline_kernel_modules_blacklist or add it to baseline_kernel_modules_allow" % ", ".join(used))
    live = [m for m in blacklist if _norm(m) in now]
    if live:
        return ("refusing to blacklist %s: loaded now, so something on this host uses it; add it to "
                "baseline_kernel_modules_allow for this host (host_vars) if it should stay" % ", ".join(live))
    return ""


class FilterModule(object):
    def filters(self):
        return {"baseline_module_blacklist_problem": baseline_module_blacklist_problem}
