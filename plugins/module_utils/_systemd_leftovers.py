# -*- coding: utf-8 -*-
# Copyright (c) seed.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Processes left in a systemd unit's control group that systemd no longer counts as the unit's.

Debian 13's systemd (257) can forget a running service when a daemon reload merges a new alias
into it (``systemctl enable ssh`` adds ``sshd.service``; systemd issue 38817): the unit reads
``inactive`` while its daemon keeps running in the unit's control group, and starting the unit
then fails because the old daemon holds the port. These helpers find such processes from /proc.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

# States in which systemd still tracks the unit's processes: nothing is left over then.
TRACKED = frozenset(("active", "activating", "reloading", "deactivating", "refreshing"))


def unit_name(unit):
    """'ssh' -> 'ssh.service'; a name with a unit suffix stays as it is."""
    return unit if re.search(r"\.(service|socket|scope|slice|mount|timer|target|path|swap|device|automount)$", unit) \
        else unit + ".service"


def systemd_cgroup(text):
    """The control group systemd put a process in, from /proc/<pid>/cgroup: the unified line
    ("0::/...") or, on a cgroup v1 host, the named systemd hierarchy ("N:name=systemd:/...")."""
    unified = named = None
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        if parts[0] == "0" and parts[1] == "":
            unified = parts[2]
        elif parts[1] == "name=systemd":
            named = parts[2]
    return named if named is not None else unified


def in_unit(cgroup, unit):
    """A control group path belongs to the unit when its last component is the unit's name
    (whatever slice and container prefix come before it)."""
    return bool(cgroup) and cgroup.rstrip("/").rsplit("/", 1)[-1] == unit


def _read(path, mode="r"):
    try:
        with open(path, mode) as handle:
            return handle.read()
    except (IOError, OSError):
        return None  # the process has gone meanwhile


def find(proc_root, unit, pattern):
    """[(pid, command line)] of the processes in ``unit``'s control group whose command line
    (argv joined by spaces: a daemon's process title) matches ``pattern`` (re.search)."""
    unit = unit_name(unit)
    regex = re.compile(pattern)
    found = []
    for entry in sorted(os.listdir(proc_root), key=lambda e: (len(e), e)):
        if not entry.isdigit():
            continue
        cgroup = _read(os.path.join(proc_root, entry, "cgroup"))
        if cgroup is None or not in_unit(systemd_cgroup(cgroup), unit):
            continue
        raw = _read(os.path.join(proc_root, entry, "cmdline"), "rb")
        if not raw:
            continue  # a kernel thread or a process that has gone
        cmdline = raw.rstrip(b"\0").replace(b"\0", b" ").decode("utf-8", "replace").strip()
        if regex.search(cmdline):
            found.append((int(entry), cmdline))
    return found
