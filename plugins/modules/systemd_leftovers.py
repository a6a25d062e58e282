#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) seed.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: systemd_leftovers
short_description: Stop a daemon that still runs in its unit's control group after systemd lost track of it
version_added: 0.2.0
description:
  - When O(unit) is not active (nor starting, reloading or stopping), looks in C(/proc) for processes that
    are still in the unit's control group and whose command line matches O(match), sends them C(SIGTERM)
    and waits until they have exited, so that the unit can be started again.
  - Why it exists. On Debian 13, systemd 257 can forget a running service when a daemon reload merges a
    new alias into it (C(systemctl enable ssh) adds the C(sshd.service) alias; systemd issue 38817). The
    unit then reads C(inactive) while its daemon runs on, and starting the unit fails because the old
    daemon still holds the port.
  - Before it sends a signal it reloads systemd's units (C(systemctl daemon-reload)), because systemd 257 still watches a
    process it lost that way until its next reload, and if the process exits first, systemd itself (PID 1) dies.
  - Does nothing while systemd tracks the unit, so a converged host never sees a change.
  - O(match) picks the daemon itself (for sshd, its listener), never the processes it started for
    connections; those keep running, as they do when systemd restarts the unit.
author:
  - seed.fleet maintainers (@seed-fleet)
options:
  unit:
    description: The unit, for example V(ssh) or V(ssh.service) (V(.service) is added when no suffix is given).
    type: str
    required: true
  match:
    description:
      - Regular expression (Python C(re.search)) on the process's command line, its arguments joined by
        spaces; a daemon that sets its process title is matched on that title.
      - For sshd, C(\[listener\]) (in single quotes in YAML, as in the example) matches the listener and not the
        per-connection processes.
    type: str
    required: true
  timeout:
    description: Seconds to wait for the processes to exit after C(SIGTERM); the task fails if one is still there.
    type: float
    default: 10
attributes:
  check_mode:
    support: full
    description: Reports the processes it would stop, and stops none.
  diff_mode:
    support: none
    description: Processes, not files, change.
notes:
  - Linux only (reads C(/proc/<pid>/cgroup), on the unified hierarchy or cgroup v1's named systemd hierarchy).
seealso:
  - module: ansible.builtin.systemd_service
"""

EXAMPLES = r"""
- name: Stop an sshd listener that systemd forgot (then start the unit)
  seed.fleet.systemd_leftovers:
    unit: ssh
    match: '\[listener\]'

- name: Start sshd under its unit again
  ansible.builtin.systemd_service:
    name: ssh
    state: started
"""

RETURN = r"""
active_state:
  description: The unit's C(ActiveState) before the module acted.
  returned: always
  type: str
  sample: inactive
stopped:
  description: The processes stopped (or, in check mode, that would be stopped).
  returned: always
  type: list
  elements: dict
  contains:
    pid:
      description: Process ID.
      type: int
    cmdline:
      description: Its command line (process title).
      type: str
  sample: [{"pid": 92, "cmdline": "sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups"}]
"""

import errno
import os
import re
import signal
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.seed.fleet.plugins.module_utils import _systemd_leftovers

PROC = "/proc"


def _alive(pid):
    try:
        os.kill(pid, 0)
    except OSError as exc:
        return exc.errno == errno.EPERM
    # A zombie has exited; only its parent's wait() is missing.
    stat = _systemd_leftovers._read(os.path.join(PROC, str(pid), "stat")) or ""
    return stat.rpartition(")")[2].split()[:1] != ["Z"]


def main():
    module = AnsibleModule(
        argument_spec=dict(
            unit=dict(type="str", required=True),
            match=dict(type="str", required=True),
            timeout=dict(type="float", default=10),
        ),
        supports_check_mode=True,
    )
    params = module.params
    try:
        re.compile(params["match"])
    except re.error as exc:
        module.fail_json(msg="match is not a regular expression (%s): %r" % (exc, params["match"]))
    if params["timeout"] <= 0:
        module.fail_json(msg="timeout must be more than 0 seconds, not %s" % params["timeout"])
    unit = _systemd_leftovers.unit_name(params["unit"])
    systemctl = module.get_bin_path("systemctl", required=True)

    def systemctl_run(*args):
        rc, out, err = module.run_command([systemctl] + list(args))
        if rc != 0:
            module.fail_json(msg="systemctl %s failed: %s" % (" ".join(args), (err or out).strip()), rc=rc)
        return out.strip()

    state = systemctl_run("show", "--property=ActiveState", "--value", "--", unit)
    result = dict(changed=False, active_state=state, stopped=[])
    if state in _systemd_leftovers.TRACKED:
        module.exit_json(**result)
    found = _systemd_leftovers.find(PROC, unit, params["match"])
    result["stopped"] = [dict(pid=pid, cmdline=cmdline) for pid, cmdline in found]
    result["changed"] = bool(found)
    if not found or module.check_mode:
        module.exit_json(**result)
    # systemd 257 still watches a process it lost in the merge until its next reload: if that
    # process exits first, PID 1 dies (seen on Debian 13, the container went down). Reload first.
    systemctl_run("daemon-reload")
    if systemctl_run("show", "--property=ActiveState", "--value", "--", unit) in _systemd_leftovers.TRACKED:
        result.update(changed=False, stopped=[])  # the reload took them back: nothing is left over
        module.exit_json(**result)
    for pid, _cmdline in found:
        try:
            os.kill(pid, signal.SIGTERM)
        except OSError as exc:
            if exc.errno != errno.ESRCH:
                module.fail_json(msg="cannot stop process %d of %s: %s" % (pid, unit, exc), **result)
    end = time.monotonic() + params["timeout"]
    left = [pid for pid, _cmdline in found]
    while True:
        left = [pid for pid in left if _alive(pid)]
        if not left or time.monotonic() >= end:
            break
        time.sleep(0.1)
    if left:
        module.fail_json(msg="%s: process(es) %s still run %s s after SIGTERM; the unit cannot start while they hold "
                             "its resources" % (unit, ", ".join(str(p) for p in left), params["timeout"]), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
