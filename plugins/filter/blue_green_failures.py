# -*- coding: utf-8 -*-
# Copyright (c) seed.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
name: blue_green_failures
short_description: The app hosts a blue-green deploy leaves out at one of its checks, with the reason
version_added: 0.4.0
description:
  - C(seed.fleet.blue_green) checks its app hosts at three points; each check's results are registered on the hosts
    that ran it, and every host of the play needs the same verdict. This filter reads them from O(hostvars) and returns
    the failed hosts so far (O(_input), host to reason) with the hosts that failed this check added. A host already
    in O(_input) keeps its first reason.
  - V(gate) - the hosts of O(hosts) that did not pass the health gate of their batch (C(__blue_green_gate_ok) unset),
    with their C(__blue_green_host_failure), or O(no_result) when they have none (unreachable, failed earlier).
  - V(lb_up) - the hosts of O(hosts) whose new server (C(<host>_<color>)) a load balancer of O(lbs) does not see
    up, as named in RV(seed.fleet.haproxy_backend_info#module:not_up) of its M(seed.fleet.haproxy_backend_info)
    result (registered as C(__blue_green_stat)); a load balancer without a result sees nothing up.
  - V(post_switch) - the hosts of O(hosts) whose check after the switch (C(__blue_green_verify)) failed or is
    missing, or whose new server a load balancer of O(lbs) reported down in its window (C(__blue_green_lb_verdict)).
author:
  - seed.fleet maintainers
options:
  _input:
    description: The failed hosts so far, host to reason (C(__blue_green_failed_hosts)).
    type: dict
    required: true
  check:
    description: Which check, V(gate), V(lb_up) or V(post_switch).
    type: str
    required: true
  hostvars:
    description: Ansible's C(hostvars).
    type: dict
    required: true
  hosts:
    description: The app hosts the check covers (a batch for V(gate), every app host otherwise).
    type: list
    elements: str
    required: true
  lbs:
    description: The load balancers (V(lb_up), V(post_switch)).
    type: list
    elements: str
    default: []
  color:
    description: The new color (V(lb_up), V(post_switch)).
    type: str
  timeout:
    description: Seconds the load balancers were given to see the servers up (V(lb_up), in the reason).
    type: raw
  no_result:
    description: The reason of a host without a result.
    type: str
    default: no result (host unreachable or failed earlier)
"""

EXAMPLES = r"""
- name: Count the hosts whose new server HAProxy does not see up
  ansible.builtin.set_fact:
    __blue_green_failed_hosts: >-
      {{ __blue_green_failed_hosts | seed.fleet.blue_green_failures('lb_up', hostvars, groups['app'], lbs=groups['lb'],
         color='green', timeout=30) }}
"""

RETURN = r"""
_value:
  description: Host to reason, the hosts of O(_input) first.
  type: dict
"""

from ansible.errors import AnsibleFilterError

NO_RESULT = "no result (host unreachable or failed earlier)"


def _vars(hostvars, host):
    return hostvars.get(host) or {}


def _gate(out, hostvars, hosts, no_result):
    for host in hosts:
        hv = _vars(hostvars, host)
        if host not in out and not _truthy(hv.get("__blue_green_gate_ok")):
            out[host] = hv.get("__blue_green_host_failure") or no_result


def _lb_up(out, hostvars, hosts, lbs, color, timeout):
    if not color:
        raise AnsibleFilterError("blue_green_failures('lb_up') needs color")
    for lb in lbs:
        result = _vars(hostvars, lb).get("__blue_green_stat") or {}
        not_up = result.get("not_up")
        for host in hosts:
            server = "%s_%s" % (host, color)
            if host in out:
                continue
            if not isinstance(not_up, dict):
                out[host] = "HAProxy on %s: no answer from the runtime API (%s)" % (lb, result.get("msg") or NO_RESULT)
            elif server in not_up:
                out[host] = "HAProxy on %s sees %s %s after %s s" % (lb, server, not_up[server], timeout)


def _post_switch(out, hostvars, hosts, lbs, color, no_result):
    for host in hosts:
        if host in out:
            continue
        result = _vars(hostvars, host).get("__blue_green_verify")
        if result is None:
            out[host] = "post-switch check: %s" % no_result
        elif result.get("failed"):
            out[host] = "post-switch check: %s" % (result.get("msg") or "failed")
        else:
            for lb in lbs:
                down = (_vars(hostvars, lb).get("__blue_green_lb_verdict") or {}).get("down") or []
                if "%s_%s" % (host, color) in down:
                    out[host] = "post-switch: HAProxy on %s does not see it up" % lb
                    break


def _truthy(value):
    if isinstance(value, str):
        return value.strip().lower() in ("true", "yes", "1")
    return bool(value)


def blue_green_failures(failed, check, hostvars, hosts, lbs=None, color=None, timeout=None,
                        no_result=NO_RESULT):
    """Host -> reason: ``failed`` with the hosts that failed ``check`` added."""
    if not isinstance(failed, dict):
        raise AnsibleFilterError("blue_green_failures expects the failed hosts as a dict, got %r" % type(failed).__name__)
    out = dict(failed)
    hosts = list(hosts or [])
    lbs = list(lbs or [])
    if check == "gate":
        _gate(out, hostvars, hosts, no_result)
    elif check == "lb_up":
        _lb_up(out, hostvars, hosts, lbs, color, timeout)
    elif check == "post_switch":
        if not color:
            raise AnsibleFilterError("blue_green_failures('post_switch') needs color")
        _post_switch(out, hostvars, hosts, lbs, color, no_result)
    else:
        raise AnsibleFilterError("blue_green_failures: check must be gate, lb_up or post_switch, not %r" % (check,))
    return out


class FilterModule(object):
    def filters(self):
        return {"blue_green_failures": blue_green_failures}
