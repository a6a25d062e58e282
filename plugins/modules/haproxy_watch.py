#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) seed.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: haproxy_watch
short_description: Watch servers of an HAProxy backend after a switch and fall back at the first breach
version_added: 0.2.0
description:
  - Reads the backend's server counters and states through HAProxy's runtime API (C(show stat)) every
    O(interval) seconds for O(seconds) seconds, from the moment the task starts or, with O(wait_switch), from
    the moment the switch it waits for happened.
  - "A breach is a sample where the watched servers (O(servers)) answered more than O(max_errors) errors since
    the first sample (5xx responses, response errors, connection errors and health checks that failed while
    the server was up: C(hrsp_5xx), C(eresp), C(econ), C(chkfail)),
    or where more than O(max_down) of them are not serving (C(DOWN), C(MAINT), C(NOLB))."
  - "At the first breach the module falls back at once, in the same process: every server of O(fallback)
    that is in C(drain) (what a blue-green switch did to the old color) is put C(ready), then every server of
    O(servers) into C(maint). Then the task fails, naming the breach. A fallback server in C(maint) stays
    there."
  - "Armed before a switch (O(wait_switch), run as an async task, the way seed.fleet.blue_green does): the
    baseline is taken at once and the window starts when every server of O(servers) is C(ready), so the
    first error after the switch is seen within one O(interval)."
  - The module does not persist the state to HAProxy's state file; the caller's next
    M(seed.fleet.haproxy_server) call does (seed.fleet.blue_green's rollback).
  - Nothing is sent when the input is invalid, the socket does not answer, or a named server is not in
    O(backend).
author:
  - seed.fleet maintainers (@seed-fleet)
extends_documentation_fragment:
  - seed.fleet._haproxy_runtime
options:
  backend:
    description: Name of the HAProxy backend.
    type: str
    required: true
  servers:
    description: The servers to watch (the new color's), by name.
    type: list
    elements: str
    required: true
  fallback:
    description:
      - The servers to put back to C(ready) at a breach (the old color's), by name. Those in C(drain) at the
        breach are put C(ready); one in C(maint) stays there.
      - Empty or omitted, a breach only fails the task.
    type: list
    elements: str
    default: []
  seconds:
    description: How long to watch (0 to 3600). V(0) takes one sample and judges nothing.
    type: float
    required: true
  interval:
    description: Seconds between two samples (0.05 to 60).
    type: float
    default: 0.25
  max_errors:
    description: Errors of the watched servers allowed over the window (5xx, response and connection errors, failed checks).
    type: int
    default: 0
  max_down:
    description: Watched servers allowed not to serve at any sample.
    type: int
    default: 0
  max_error_ratio:
    description:
      - Errors of the watched servers per request they got since the first sample (0 to 1), judged at every
        sample once they had a request; more is a breach. For a canary step, where the watched servers get a
        share of the traffic (O(max_errors) still applies).
      - Omitted, only O(max_errors) counts.
    type: float
  min_requests:
    description:
      - Requests the watched servers must have had (C(stot) since the first sample) for the window to pass.
        Fewer at the end of the window is its own verdict, never a pass - the watch holds for up to
        O(hold_seconds) more while traffic comes, then falls back like at a breach (RV(insufficient)).
      - V(0) judges without a minimum.
    type: int
    default: 0
  hold_seconds:
    description: Seconds the watch holds after the window while the watched servers have fewer than O(min_requests) (0 to 3600).
    type: float
    default: 0
  wait_switch:
    description:
      - Seconds to wait for the switch before the window starts (0 to 3600); V(0) starts the window at once.
      - The module takes its baseline sample at once, then waits until every server of O(servers) is C(ready).
        If one of them is put into C(maint) meanwhile (the caller gave the switch up), it returns without
        judging (RV(switched) false, not failed). If the switch does not come in time, the task fails.
    type: float
    default: 0
attributes:
  check_mode:
    support: full
    description: Takes one sample, checks the names and reports the fallback servers; watches nothing, sends nothing.
  diff_mode:
    support: none
    description: The state it may change is reported in RV(commands).
notes:
  - HAProxy's health checks decide when a server is C(DOWN) (C(inter), C(fall)); the error counters see a bad
    answer as soon as a user gets it.
seealso:
  - module: seed.fleet.haproxy_server
  - name: HAProxy management guide, show stat
    description: The counters and status values the module reads.
    link: https://docs.haproxy.org/2.6/management.html#9.1
  - name: Ansible asynchronous actions
    description: How to arm the watch before a switch (async, poll 0) and collect it after.
    link: https://docs.ansible.com/ansible/latest/playbook_guide/playbooks_async.html
"""

EXAMPLES = r"""
- name: Watch green for 10 s after the switch; at the first 5xx put blue back and green into maint
  seed.fleet.haproxy_watch:
    backend: be_demo
    servers: [app1_green, app2_green]
    fallback: [app1_blue, app2_blue]
    seconds: 10
  become: true

- name: Allow 3 errors and one server down out of four, sampling every 0.1 s
  seed.fleet.haproxy_watch:
    socket: tcp://127.0.0.1:9999
    backend: be_api
    servers: [app1_green, app2_green, app3_green, app4_green]
    seconds: 30
    interval: 0.1
    max_errors: 3
    max_down: 1

- name: Arm the watch before the switch (baseline now, window from the switch), in the background
  seed.fleet.haproxy_watch:
    backend: be_demo
    servers: [app1_green, app2_green]
    fallback: [app1_blue, app2_blue]
    seconds: 10
    wait_switch: 30
  async: 60
  poll: 0
  register: watch_job

- name: A canary step - at most 1 % errors, at least 50 requests to judge (hold up to 60 s for them)
  seed.fleet.haproxy_watch:
    backend: be_demo
    servers: [app1_green, app2_green]
    fallback: [app1_blue, app2_blue]
    seconds: 30
    max_errors: 10
    max_error_ratio: 0.01
    min_requests: 50
    hold_seconds: 60
"""

RETURN = r"""
backend:
  description: The backend.
  returned: always
  type: str
  sample: be_demo
breached:
  description: Whether a sample breached a limit.
  returned: always
  type: bool
  sample: false
reason:
  description: The breach.
  returned: when breached
  type: str
  sample: "1 error(s) on the watched servers (5xx, response, connection errors, failed checks; max 0)"
reverted:
  description: Whether the module fell back (sent RV(commands)).
  returned: always
  type: bool
  sample: false
commands:
  description: The runtime API commands sent at the breach, in order.
  returned: always
  type: list
  elements: str
  sample: ["set server be_demo/app1_blue state ready", "set server be_demo/app1_green state maint"]
fallback:
  description: The fallback servers not in C(maint) when the task started, or at the breach (then the ones it fell back to).
  returned: when the servers were read
  type: list
  elements: str
  sample: [app1_blue, app2_blue]
errors:
  description: Errors of the watched servers from the first sample to the last.
  returned: always
  type: int
  sample: 0
requests:
  description: Requests the watched servers got from the first sample to the last.
  returned: always
  type: int
  sample: 412
insufficient:
  description: Whether the watch fell back because the watched servers had fewer than O(min_requests).
  returned: always
  type: bool
  sample: false
down:
  description: Watched servers not serving at the last sample.
  returned: always
  type: list
  elements: str
  sample: []
switched:
  description: Whether the window ran after the switch (always true without O(wait_switch)).
  returned: when the servers were read
  type: bool
  sample: true
samples:
  description: How many times C(show stat) was read.
  returned: always
  type: int
  sample: 41
watched_seconds:
  description: Seconds from the first sample to the last (the breach, or the end of the window).
  returned: always
  type: float
  sample: 10.02
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.seed.fleet.plugins.module_utils._haproxy_runtime import RUNTIME_ARGSPEC
from ansible_collections.seed.fleet.plugins.module_utils._haproxy_watch import watch


def main():
    argument_spec = dict(RUNTIME_ARGSPEC)
    argument_spec.update(
        backend=dict(type="str", required=True),
        servers=dict(type="list", elements="str", required=True),
        fallback=dict(type="list", elements="str", default=[]),
        seconds=dict(type="float", required=True),
        interval=dict(type="float", default=0.25),
        max_errors=dict(type="int", default=0),
        max_down=dict(type="int", default=0),
        wait_switch=dict(type="float", default=0),
        max_error_ratio=dict(type="float"),
        min_requests=dict(type="int", default=0),
        hold_seconds=dict(type="float", default=0),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    ok, result = watch(module.params, module.check_mode)
    if not ok:
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
