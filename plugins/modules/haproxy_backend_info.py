#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) seed.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: haproxy_backend_info
short_description: Read the servers of an HAProxy backend, optionally waiting until HAProxy sees some of them up
version_added: 0.1.0
description:
  - Reads every server of O(backend) through HAProxy's runtime API (C(show servers state) and C(show stat)), with
    its administrative state, weights, address, port, current sessions and HAProxy's health status.
  - "With O(wait_up), reads again every O(interval) seconds until HAProxy's own health checks see every named
    server up (status C(UP), C(DRAIN) or C(no check)), for at most O(wait_seconds). A server still not up then
    is reported in RV(not_up), not as a failure: the caller decides what it means (seed.fleet.blue_green leaves
    that app host out of the deploy, or stops a rollback)."
  - Never changes anything. Fails only on invalid input, a runtime API that does not answer or a backend that
    does not exist.
author:
  - seed.fleet maintainers (@seed-fleet)
extends_documentation_fragment:
  - seed.fleet._haproxy_runtime
options:
  backend:
    description: Name of the HAProxy backend.
    type: str
    required: true
  wait_up:
    description:
      - Servers of O(backend), by name, that HAProxy's checks should see up. Empty, the module reads once.
      - A name the backend does not have is reported as C(absent) in RV(not_up).
    type: list
    elements: str
    default: []
  wait_seconds:
    description: How long to wait for O(wait_up) (0 to 3600). V(0) reads once.
    type: float
    default: 0
  interval:
    description: Seconds between two reads while waiting (0.05 to 60).
    type: float
    default: 0.5
attributes:
  check_mode:
    support: full
    description: The module only reads; check mode reads and waits the same way.
  diff_mode:
    support: none
    description: Nothing changes, so there is nothing to show.
notes:
  - The socket is at C(level admin) in seed.fleet.load_balancer (mode 0600 root), so tasks need C(become=true).
seealso:
  - module: seed.fleet.haproxy_server
  - module: seed.fleet.haproxy_watch
  - name: HAProxy management guide, runtime API
    description: The commands this module sends (C(show servers state), C(show stat)).
    link: https://docs.haproxy.org/2.6/management.html#9.3
"""

EXAMPLES = r"""
- name: Wait up to 30 s until HAProxy's checks see the green servers up
  seed.fleet.haproxy_backend_info:
    backend: be_demo
    wait_up: [app1_green, app2_green]
    wait_seconds: 30
  register: be_demo
  become: true

- name: Stop when one of them is still not up
  ansible.builtin.fail:
    msg: "HAProxy does not see these servers up: {{ be_demo.not_up }}"
  when: be_demo.not_up | length > 0
"""

RETURN = r"""
servers:
  description: Every server of the backend at the last read, by name.
  returned: success
  type: dict
  sample:
    app1_green: {state: drain, weight: 1, initial_weight: 1, address: 10.0.0.11, port: 8082, sessions: 0,
                 health: DRAIN, admin_flags: 8, tracks: null}
  contains:
    state:
      description: Administrative state, V(ready), V(drain) or V(maint).
      type: str
    weight:
      description: User weight.
      type: int
    initial_weight:
      description: The weight of the configuration.
      type: int
    address:
      description: Server address.
      type: str
    port:
      description: Server port.
      type: int
    sessions:
      description: Current sessions.
      type: int
    health:
      description: HAProxy's status text (C(UP), C(DOWN), C(DRAIN), C(MAINT), C(no check), ...).
      type: str
    admin_flags:
      description: HAProxy's C(srv_admin_state) bits.
      type: int
    tracks:
      description: The server this one tracks (C(backend/server)), if any.
      type: str
not_up:
  description: The servers of O(wait_up) that HAProxy did not see up at the last read, with their status (C(absent)
    for a name the backend does not have). Empty when every one is up.
  returned: success
  type: dict
  sample: {app2_green: DOWN}
waited_seconds:
  description: Seconds from the first read to the last.
  returned: success
  type: float
  sample: 2.51
"""

import math

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.seed.fleet.plugins.module_utils._haproxy_runtime import (
    MAX_TIMEOUT, RUNTIME_ARGSPEC, PlanError, RuntimeAPIError, RuntimeClient, check_name, wait_up)


def read(params, client=None, clock=None, sleep=None):
    """The module's flow: (ok, result)."""
    result = {"changed": False, "backend": params["backend"]}
    try:
        check_name("backend", params["backend"])
        names = list(params.get("wait_up") or [])
        for name in names:
            check_name("server", name)
        seconds, interval = float(params["wait_seconds"]), float(params["interval"])
        if not math.isfinite(seconds) or not 0 <= seconds <= MAX_TIMEOUT:
            raise PlanError("wait_seconds must be between 0 and %d, got %s" % (MAX_TIMEOUT, params["wait_seconds"]))
        if not math.isfinite(interval) or not 0.05 <= interval <= 60:
            raise PlanError("interval must be between 0.05 and 60 seconds, got %s" % params["interval"])
        client = client or RuntimeClient(params["socket"], params["timeout"])
        servers, waiting, waited = wait_up(client, params["backend"], names, seconds if names else 0, interval,
                                           clock=clock, sleep=sleep)
    except (PlanError, RuntimeAPIError) as exc:
        result["msg"] = str(exc)
        return False, result
    result.update(servers=servers, not_up=waiting, waited_seconds=waited)
    return True, result


def main():
    argument_spec = dict(RUNTIME_ARGSPEC)
    argument_spec.update(
        backend=dict(type="str", required=True),
        wait_up=dict(type="list", elements="str", default=[]),
        wait_seconds=dict(type="float", default=0),
        interval=dict(type="float", default=0.5),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    ok, result = read(module.params)
    if not ok:
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
