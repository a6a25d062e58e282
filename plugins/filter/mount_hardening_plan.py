# -*- coding: utf-8 -*-
# Copyright (c) seed.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
name: mount_hardening_plan
short_description: Which mounts get which options (nodev, nosuid, noexec), and why the others are left alone
version_added: 0.2.0
description:
  - Used by C(seed.fleet.baseline) for C(/tmp), C(/dev/shm) and C(/var/tmp). A path is hardened only where it is a
    mount of its own on a host that controls its mounts; its current options are kept, the wanted ones added and their
    opposites (C(dev), C(suid), C(exec)) taken out, in a stable (sorted) order.
  - A path that is not a separate mount, or any path in a container (whose runtime owns its mounts), is left alone with
    the reason.
author:
  - seed.fleet maintainers
options:
  _input:
    description:
      - The text of the host's C(/proc/self/mounts) (C(ansible_facts['mounts']) leaves out file systems without a device
        path, C(tmpfs) among them). Where a path is mounted more than once, the last (top) mount counts.
    type: str
    required: true
  wanted:
    description: Path -> the options it must have.
    type: dict
    required: true
  in_container:
    description: Whether the host is a container.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Plan the mount options
  ansible.builtin.set_fact:
    plan: "{{ proc_mounts_text | seed.fleet.mount_hardening_plan({'/dev/shm': ['nodev', 'nosuid', 'noexec']}) }}"
"""

RETURN = r"""
_value:
  description:
    - C(apply) - a list of C({path, src, fstype, opts}) for ansible.posix.mount (C(opts) comma-separated), sorted by path.
    - C(skipped) - path -> why it is left alone.
    - C(note) - the same in one line for the role's report (empty when every path is hardened).
  type: dict
"""

import re

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.collections import is_sequence
from ansible.module_utils.parsing.convert_bool import boolean

_OPPOSITE = {"nodev": "dev", "nosuid": "suid", "noexec": "exec"}
_PATH = re.compile(r"^/[^\s,]*$")


def _check(wanted):
    if not isinstance(wanted, dict):
        raise AnsibleFilterError("mount_hardening_plan: wanted must be {path: [options]}, got %r" % (wanted,))
    for path, opts in wanted.items():
        if not isinstance(path, str) or not _PATH.match(path):
            raise AnsibleFilterError("mount_hardening_plan: %r is not an absolute path" % (path,))
        if not is_sequence(opts) or not opts or set(opts) - set(_OPPOSITE):
            raise AnsibleFilterError("mount_hardening_plan: %s takes a list of %s, got %r"
                                     % (path, ", ".join(sorted(_OPPOSITE)), opts))


def _mounts(text):
    """/proc/self/mounts: device, mount point (octal escapes), type, options, 0, 0 - the last mount of a path wins."""
    by_path = {}
    for line in text.splitlines():
        fields = line.split()
        if len(fields) >= 4:
            path = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), fields[1])
            by_path[path] = {"device": fields[0], "fstype": fields[2], "options": fields[3]}
    return by_path


def mount_hardening_plan(mounts, wanted, in_container=False):
    _check(wanted)
    if not isinstance(mounts, str):
        raise AnsibleFilterError("mount_hardening_plan: expected the text of /proc/self/mounts, got %r" % (mounts,))
    by_path = _mounts(mounts)
    apply, skipped = [], {}
    for path in sorted(wanted):
        if boolean(in_container, strict=False):
            skipped[path] = "in a container its mounts are the runtime's"
            continue
        mount = by_path.get(path.rstrip("/") or "/")
        if mount is None:
            skipped[path] = "not a mount of its own (it is part of the file system above it)"
            continue
        current = [o for o in (mount.get("options") or "").split(",") if o and o != "defaults"]
        drop = set(_OPPOSITE[o] for o in wanted[path])
        # Sorted: the kernel lists a remounted file system's options in its own order, and the fstab
        # entry must come out the same on the next run.
        opts = sorted(set(o for o in current if o not in drop) | set(wanted[path]))
        apply.append({"path": path, "src": mount.get("device"), "fstype": mount.get("fstype"), "opts": ",".join(opts)})
    note = "; ".join("%s left alone: %s" % (path, why) for path, why in sorted(skipped.items()))
    return {"apply": apply, "skipped": skipped, "note": note}


class FilterModule(object):
    def filters(self):
        return {"mount_hardening_plan": mount_hardening_plan}
