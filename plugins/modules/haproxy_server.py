#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) seed.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: haproxy_server
short_description: Set HAProxy server state, weight and address, or switch a backend between colors
version_added: 0.1.0
description:
  - Talks to HAProxy's runtime API (unix socket or TCP) and reads the backend's servers first; only what
    differs is changed, so RV(ignore:changed) is real and check mode predicts exactly what would be sent.
  - "One server: O(server) with any of O(state), O(weight), O(address), O(port)."
  - "Blue-green switch: O(switch_to=green) puts every server of O(backend) whose name ends with C(_green)
    C(ready) first, then every other server into O(switch_others_state). The backend never has fewer
    ready servers during the switch than before it."
  - "Weights (a canary step): O(weights) sets the weight of several servers of O(backend) in one call, then
    puts the O(weights_ready) servers into rotation; with weights on both colors the traffic splits between
    them (C(balance roundrobin))."
  - "Before anything is sent the module refuses a change that cannot take: a server to put V(ready) (one
    server, or every server of the O(switch_to) color that is not in O(switch_exclude)) that is in
    maintenance for a reason C(set server ... state ready) does not clear: it tracks a server in
    maintenance (C(IMAINT)/C(IDRAIN)), or its address did not resolve (C(RMAINT), for example
    C(init-addr libc,none) with a name that does not resolve), or a hostname change (C(HMAINT)).
    A port change without O(address) on a server that has no address is refused too."
  - "A switch puts the new color ready first, reads it back, and only then drains the old color: if
    HAProxy does not report the new color ready, the task fails with the old color still serving."
  - Every call that asks for a state (not a pure read, not check mode) leaves O(state_file) restoring what
    the runtime holds (C(show servers state), ports taken from O(config_file)); the file is rewritten when
    it differs, also when the runtime was changed by someone else (for example commands sent with
    C(socat)), so a reload or a restart after a crash keeps the color users are on.
  - O(wait_drained=true) waits until servers put into drain or maint have no sessions left.
  - Nothing is sent when the input is invalid, the socket is missing, not writable or not at C(level admin)
    (C(show cli level)), the backend or a server does not exist, or O(state_file) cannot be written.
author:
  - seed.fleet maintainers (@seed-fleet)
extends_documentation_fragment:
  - seed.fleet._haproxy_runtime
options:
  backend:
    description: Name of the HAProxy backend.
    type: str
    required: true
  server:
    description:
      - Name of one server of O(backend) to change.
      - Mutually exclusive with O(switch_to) and O(weights). Without O(state), O(weight), O(address) and
        O(port) the module only reads.
    type: str
  state:
    description:
      - Administrative state of O(server). V(ready) takes traffic, V(drain) takes no new connections
        (except persistent ones) and keeps health checks, V(maint) takes none.
    type: str
    choices: [ready, drain, maint]
  weight:
    description: Weight of O(server) (0-256; 0 takes no new traffic while staying ready).
    type: int
  address:
    description:
      - New IPv4 or IPv6 address of O(server) (the runtime API cannot resolve host names).
    type: str
  port:
    description: New port of O(server) (1-65535).
    type: int
  switch_to:
    description:
      - Color to move O(backend) to, for example V(green); servers are matched by the name suffix
        C(_<color>) (seed.fleet.load_balancer names them C(<host>_blue) and C(<host>_green)).
      - Fails without changing anything when no server carries that color.
    type: str
  weights:
    description:
      - Weights of several servers of O(backend), set in one call - server name to a weight (0-256), or to
        V(initial) for the weight of the configuration (what a canary puts back when it ends).
      - Fails without changing anything when a name is not a server of O(backend) or a weight is out of range.
      - Mutually exclusive with O(server) and O(switch_to).
    type: dict
  weights_ready:
    description:
      - Servers to put V(ready) once O(weights) are set (a canary's new color joining the rotation with its
        share already set). Refused like any V(ready) when a server is in a maintenance C(state ready) does
        not clear.
      - Only with O(weights).
    type: list
    elements: str
  switch_exclude:
    description:
      - Servers of the O(switch_to) color to leave out of the switch, for example instances that failed
        their health gate or whose host is gone. They are put into V(maint) (never V(ready)).
      - Fails without changing anything when a name is not a server of O(backend), or when nothing of the
        color would be left to switch to.
      - Only with O(switch_to).
    type: list
    elements: str
  switch_others_state:
    description:
      - State for the servers that are not of the O(switch_to) color.
      - With V(drain), servers already in V(maint) stay there (they already take no traffic).
    type: str
    choices: [drain, maint]
    default: drain
  wait_drained:
    description:
      - After the change, wait until every server put (or already) in V(drain) or V(maint) by this call has
        no current sessions. Not done in check mode.
    type: bool
    default: false
  drain_timeout:
    description:
      - Seconds O(wait_drained) waits. On timeout the task fails naming the servers and their session counts;
        the state change itself stays in place and is persisted.
    type: int
    default: 60
  state_file:
    description:
      - HAProxy's C(server-state-file). After every call that asks for a state it is rewritten (atomically)
        when it would not restore what the runtime holds now, so a reload or a restart after a crash keeps it.
      - Checked before anything is sent (absolute path, not a directory, its directory exists and is
        writable). Pure reads and check mode neither need nor write it.
      - Set to V(null) or an empty string to not persist (then a reload or restart resets the runtime state
        to what the configuration says).
    type: path
    default: /var/lib/haproxy/server-state
  config_file:
    description:
      - HAProxy's configuration. The ports written to O(state_file) are the ones its C(server) lines give, so
        a port changed in the configuration is not undone by the state file at the next reload (a port set at
        runtime lasts until then). Servers it does not name, or a missing file, keep their runtime port.
      - The same rule as the C(seed-fleet-haproxy-save-state) command of seed.fleet.load_balancer, which
        saves the state before every reload and stop.
    type: path
    default: /etc/haproxy/haproxy.cfg
attributes:
  check_mode:
    support: full
    description:
      - Reads the servers and reports what would change, refusing what the real run would refuse; sends no
        change and writes no state file. C(changed) is also true when only the state file would be rewritten.
      - RV(after) is predicted, without C(sessions) and C(health) (HAProxy decides those).
  diff_mode:
    support: full
    description: Server-level before and after (state, weight, address, port) of the servers the task is about.
notes:
  - Gate a switch on the new color's health first (for example with M(seed.fleet.http_check)); the module
    does not wait for health checks of servers it puts into V(ready).
  - When HAProxy accepts a command but does not report what was asked afterwards, the task fails naming the
    server and what HAProxy reports.
seealso:
  - module: community.general.haproxy
  - name: HAProxy management guide, runtime API
    description: The commands this module sends (C(show servers state), C(show stat), C(set server)).
    link: https://docs.haproxy.org/2.6/management.html#9.3
"""

EXAMPLES = r"""
- name: Switch the demo app to green, drain blue and wait for its sessions to end
  seed.fleet.haproxy_server:
    backend: be_demo
    switch_to: green
    wait_drained: true
    drain_timeout: 30
  become: true

- name: Switch to green without app2, whose green instance failed its health gate (it stays in maint)
  seed.fleet.haproxy_server:
    backend: be_demo
    switch_to: green
    switch_exclude: [app2_green]

- name: Take one server out of rotation for maintenance
  seed.fleet.haproxy_server:
    backend: be_demo
    server: app1_blue
    state: maint

- name: A canary step - 5 % of the traffic to the green servers, then they join the rotation
  seed.fleet.haproxy_server:
    backend: be_demo
    weights: {app1_green: 13, app2_green: 13, app1_blue: 256, app2_blue: 256}
    weights_ready: [app1_green, app2_green]

- name: The canary ends - every server back to the weight of the configuration
  seed.fleet.haproxy_server:
    backend: be_demo
    weights: {app1_green: initial, app2_green: initial, app1_blue: initial, app2_blue: initial}

- name: Point a server at a new address and port, half weight
  seed.fleet.haproxy_server:
    socket: tcp://127.0.0.1:9999
    backend: be_demo
    server: app2_green
    address: 10.0.0.12
    port: 8082
    weight: 50

- name: Read a backend without changing it
  seed.fleet.haproxy_server:
    backend: be_demo
    server: app1_green
  register: lb_state
"""

RETURN = r"""
before:
  description: Every server of the backend before the task, by name.
  returned: success
  type: dict
  sample:
    app1_blue: {state: ready, weight: 1, initial_weight: 1, address: 10.0.0.11, port: 8081, sessions: 3,
                health: UP, admin_flags: 0, tracks: null}
    app1_green: {state: maint, weight: 1, initial_weight: 1, address: 10.0.0.11, port: 8082, sessions: 0,
                 health: MAINT, admin_flags: 5, tracks: null}
  contains:
    state:
      description: Administrative state, V(ready), V(drain) or V(maint).
      type: str
    weight:
      description: User weight.
      type: int
    initial_weight:
      description: The weight of the configuration (what V(initial) in O(weights) puts back).
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
      description: HAProxy's status text (C(UP), C(DOWN), C(DRAIN), C(MAINT), C(MAINT (resolution)), ...).
      type: str
    admin_flags:
      description: HAProxy's C(srv_admin_state) bits (1 forced maint, 2 inherited maint, 4 disabled in the
        configuration, 8 forced drain, 16 inherited drain, 32 unresolved address, 64 hostname change).
      type: int
    tracks:
      description: The server this one tracks (C(backend/server)), if any.
      type: str
after:
  description:
    - Every server of the backend after the task, read back from HAProxy, same keys as RV(before).
    - In check mode predicted, without C(sessions) and C(health).
  returned: success
  type: dict
  sample:
    app1_blue: {state: drain, weight: 1, address: 10.0.0.11, port: 8081, sessions: 0, health: DRAIN,
                admin_flags: 8, tracks: null}
    app1_green: {state: ready, weight: 1, address: 10.0.0.11, port: 8082, sessions: 0, health: UP,
                 admin_flags: 4, tracks: null}
commands:
  description: The changes planned (and, outside check mode, sent), in order.
  returned: success
  type: list
  elements: str
  sample: ["be_demo/app1_green state maint -> ready", "be_demo/app1_blue state ready -> drain"]
runtime_commands:
  description:
    - The exact runtime API commands of RV(commands), in order (sent outside check mode).
    - In check mode this is the plan, so a caller can send it later in one write, for example with C(socat),
      and confirm with the module (which then sends nothing if everything applied, and persists it).
  returned: success
  type: list
  elements: str
  sample: ["set server be_demo/app1_green state ready", "set server be_demo/app1_blue state drain"]
state_file:
  description: The state file, when this task (re)wrote it.
  returned: when the state file was written
  type: str
  sample: /var/lib/haproxy/server-state
backend:
  description: The backend.
  returned: always
  type: str
  sample: be_demo
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.seed.fleet.plugins.module_utils._haproxy_runtime import (
    DEFAULT_CONFIG,
    DEFAULT_STATE_FILE,
    RUNTIME_ARGSPEC,
    STATES,
    control,
)


def main():
    argument_spec = dict(RUNTIME_ARGSPEC)
    argument_spec.update(
        backend=dict(type="str", required=True),
        server=dict(type="str"),
        state=dict(type="str", choices=list(STATES)),
        weight=dict(type="int"),
        address=dict(type="str"),
        port=dict(type="int"),
        switch_to=dict(type="str"),
        switch_exclude=dict(type="list", elements="str"),
        weights=dict(type="dict"),
        weights_ready=dict(type="list", elements="str"),
        switch_others_state=dict(type="str", choices=["drain", "maint"], default="drain"),
        wait_drained=dict(type="bool", default=False),
        drain_timeout=dict(type="int", default=60),
        state_file=dict(type="path", default=DEFAULT_STATE_FILE),
        config_file=dict(type="path", default=DEFAULT_CONFIG),
    )
    module = AnsibleModule(
        argument_spec=argument_spec,
        required_one_of=[("server", "switch_to", "weights")],
        mutually_exclusive=[("server", "switch_to", "weights"), ("switch_to", "state"), ("switch_to", "weight"),
                            ("switch_to", "address"), ("switch_to", "port"), ("weights", "state"),
                            ("weights", "weight"), ("weights", "address"), ("weights", "port")],
        required_by={"switch_exclude": "switch_to", "weights_ready": "weights"},
        supports_check_mode=True,
    )
    ok, result = control(module.params, module.check_mode)
    if not module._diff:
        result.pop("diff", None)
    if not ok:
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
