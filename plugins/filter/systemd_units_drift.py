# -*- coding: utf-8 -*-
# Copyright (c) seed.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
name: systemd_units_drift
short_description: Which of a role's units are not yet enabled, running and loaded (one probe for a whole step)
version_added: 0.2.0
description:
  - Reads the output of one C(systemctl show --property=LoadState,UnitFileState,ActiveState,NeedDaemonReload -- <units>)
    (one block per unit, in the order asked) and says which units still need C(ansible.builtin.systemd_service)
    with C(enabled=true) and C(state=started), and which of them need a daemon reload first.
  - A unit is left alone only when it is loaded, its unit file state is V(enabled), V(enabled-runtime) or
    V(static) (states the module counts as enabled), it is V(active) and systemd does not want a daemon reload
    for it (a changed unit file or drop-in). Anything else, an output that cannot be read or does not have one
    block per unit included, puts the unit in RV(_value.converge), so the module decides as it always did.
author:
  - seed.fleet maintainers
options:
  _input:
    description: Standard output of the C(systemctl show) probe (empty when the probe could not run).
    type: str
    required: true
  units:
    description: The units as asked, in the same order (the names the tasks use, for example C(ssh), C(apt-daily.timer)).
    type: list
    elements: str
    required: true
"""

EXAMPLES = r"""
- name: Read the state of the role's units (one call)
  ansible.builtin.command:
    argv: "{{ ['systemctl', 'show', '--property=LoadState,UnitFileState,ActiveState,NeedDaemonReload', '--'] + units }}"
  register: __probe
  changed_when: false
  failed_when: false
  check_mode: false

- name: Enable and start only the units that need it
  ansible.builtin.systemd_service:
    name: "{{ item }}"
    enabled: true
    state: started
    daemon_reload: "{{ item in __drift.daemon_reload }}"
  loop: "{{ __drift.converge }}"
  vars:
    __drift: "{{ __probe.stdout | default('') | seed.fleet.systemd_units_drift(units) }}"
"""

RETURN = r"""
_value:
  description: The units that still need the module, and those of them that need a daemon reload first.
  type: dict
  contains:
    converge:
      description: Units (names as asked, in the order asked) for C(systemd_service enabled=true state=started).
      type: list
      elements: str
    daemon_reload:
      description: >-
        Units of RV(_value.converge) whose unit file or drop-ins changed on disk since systemd loaded them, or that
        systemd has not loaded.
      type: list
      elements: str
    running_disabled:
      description: >-
        Units of RV(_value.converge) that run while their unit file is not enabled (started by hand). On Debian 13,
        enabling such a unit while it runs can make systemd lose it (an alias merged at the reload, systemd issue
        38817), so a role stops it under its unit before enabling it.
      type: list
      elements: str
"""

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.collections import is_sequence

# `systemctl is-enabled` answers 0 for these, and ansible.builtin.systemd_service then sees nothing to enable.
ENABLED = frozenset(("enabled", "enabled-runtime", "static"))


def _blocks(text):
    blocks, current = [], {}
    for line in text.splitlines():
        line = line.strip()
        if not line:
            if current:
                blocks.append(current)
            current = {}
            continue
        key, sep, value = line.partition("=")
        if sep:
            current[key] = value
    if current:
        blocks.append(current)
    return blocks


def systemd_units_drift(stdout, units):
    if stdout is None:
        stdout = ""
    if not isinstance(stdout, str):
        raise AnsibleFilterError("systemd_units_drift: expected the probe's stdout (a string), got %s" % type(stdout).__name__)
    if not is_sequence(units) or not all(isinstance(u, str) and u for u in units):
        raise AnsibleFilterError("systemd_units_drift: units must be a list of unit names, got %r" % (units,))
    units = list(units)
    blocks = _blocks(stdout)
    if len(blocks) != len(units):
        # Not one block per unit: no decision here, the module looks at every unit.
        return {"converge": units, "daemon_reload": [], "running_disabled": []}
    converge, reload_, running_disabled = [], [], []
    for unit, props in zip(units, blocks):
        needs_reload = props.get("NeedDaemonReload") != "no"
        settled = (props.get("LoadState") == "loaded" and props.get("UnitFileState") in ENABLED
                   and props.get("ActiveState") == "active" and not needs_reload)
        if not settled:
            converge.append(unit)
            # A unit systemd has not loaded (new package, new file) is loaded by the reload too.
            if needs_reload or props.get("LoadState") != "loaded":
                reload_.append(unit)
            if props.get("ActiveState") == "active" and props.get("UnitFileState") not in ENABLED:
                running_disabled.append(unit)
    return {"converge": converge, "daemon_reload": reload_, "running_disabled": running_disabled}


class FilterModule(object):
    def filters(self):
        return {"systemd_units_drift": systemd_units_drift}
