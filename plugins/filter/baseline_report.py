# -*- coding: utf-8 -*-
# Copyright (c) seed.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
name: baseline_report
short_description: What seed.fleet.baseline applied on a host, what it applied in part and what it skipped, with reasons
version_added: 0.2.0
description:
  - Takes which of the role's controls are enabled (C(baseline_<control>_enabled)) and whether the host is a container,
    and returns one entry per control - C(applied), C(partial) (a container leaves part of it to the host, named in
    C(reason)) or C(skipped) (disabled, or wholly the host's in a container) - never a silent no-op.
  - C(seed.fleet.baseline) writes it to C(/var/lib/seed-fleet/baseline-report.json) and sets the fact
    C(baseline_report).
author:
  - seed.fleet maintainers
options:
  _input:
    description: Control name -> enabled.
    type: dict
    required: true
  in_container:
    description: Whether the host is a container.
    type: bool
    default: false
  notes:
    description:
      - Control name -> what this run found on the host, added to the reason of a C(partial) control (e.g. how many
        C(net.*) keys the sysctl part could set live).
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: Build the report
  ansible.builtin.set_fact:
    baseline_report: "{{ {'ssh': true, 'sysctl': true} | seed.fleet.baseline_report(true) }}"
"""

RETURN = r"""
_value:
  description: Control name -> C({state, what, reason}).
  type: dict
"""

from ansible.errors import AnsibleFilterError
from ansible.module_utils.parsing.convert_bool import boolean


# Controls of seed.fleet.baseline: (name, what it does, what a container leaves undone or None).
CONTROLS = (
    ("packages", "security packages installed, unwanted ones removed", None),
    ("identity", "timezone, locale (the hostname is left to a container's runtime)", None),
    ("users", "admin users with keys and sudo, removed users", None),
    ("banner", "login banner", None),
    ("ssh", "sshd hardened: keys only, ed25519 host keys, strong algorithms", None),
    ("sysctl", "kernel parameters", "kernel-global keys are written to /etc/sysctl.d for the host's boot, "
                                    "not set live (the kernel is the host's)"),
    ("kernel_modules", "kernel module blacklist in /etc/modprobe.d",
     "written, but the kernel and its modules are the host's: it applies where this image boots a kernel"),
    ("accounts", "login.defs umask, password aging and hashing; pam_pwquality, pam_faillock", None),
    ("limits", "file limits", "capped by the container's own hard limit"),
    ("coredump", "core dumps off", None),
    ("firewall", "nftables default-deny input", None),
    ("timesync", "time sync", "chrony runs without clock control (-x): the clock is the host's"),
    ("journald", "persistent journal with limits", None),
    ("upgrades", "unattended security upgrades from the release's security suite (in the apt sources), "
                 "needrestart's findings as metrics", None),
    ("audit", "auditd rules (accounts, sudo, sshd, time, modules, mounts, container engines) checked against the "
              "kernel's syscall tables; events to the journal",
     "rules written and checked, auditd does not run: the kernel's audit subsystem is the host's"),
    ("integrity", "AIDE database of the system's files and a daily check, findings in the journal", None),
    ("mounts",
     "/tmp, /dev/shm and /var/tmp with nodev, nosuid and noexec where each is a mount of its own",  # nosec B108
     "its mounts are the runtime's: nothing is changed"),
)
# Controls a container leaves wholly to its host (skipped there, with the reason above).
SKIPPED_IN_CONTAINER = frozenset(("mounts",))
# Controls that apply in part on a machine too when the run has a note (mounts: a path that is no mount of its own).
PARTIAL_WHEN_NOTED = frozenset(("mounts",))


def baseline_report(enabled, in_container=False, notes=None):
    """{control: {"state": applied|partial|skipped, "what": ..., "reason": ...}} for the role's controls."""
    if not isinstance(enabled, dict):
        raise AnsibleFilterError("baseline_report: expected {control: enabled}, got %r" % (enabled,))
    unknown = sorted(set(enabled) - set(c[0] for c in CONTROLS))
    if unknown:
        raise AnsibleFilterError("baseline_report: unknown controls %s" % ", ".join(unknown))
    out = {}
    for name, what, in_container_gap in CONTROLS:
        if not boolean(enabled.get(name, False), strict=False):
            out[name] = {"state": "skipped", "what": what, "reason": "baseline_%s_enabled is false" % name}
        elif boolean(in_container, strict=False) and in_container_gap:
            note = (notes or {}).get(name) if name not in SKIPPED_IN_CONTAINER else None
            out[name] = {"state": "skipped" if name in SKIPPED_IN_CONTAINER else "partial", "what": what,
                         "reason": "in a container: " + in_container_gap + ("; " + note if note else "")}
        elif name in PARTIAL_WHEN_NOTED and (notes or {}).get(name):
            out[name] = {"state": "partial", "what": what, "reason": notes[name]}
        else:
            out[name] = {"state": "applied", "what": what, "reason": ""}
    return out


class FilterModule(object):
    def filters(self):
        return {"baseline_report": baseline_report}
