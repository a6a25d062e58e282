# -*- coding: utf-8 -*-
# Copyright (c) seed.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
name: lb_vip_plan
short_description: Check and plan the VRRP floating addresses of a group of load balancers
version_added: 0.1.0
description:
  - Takes the load balancers of one group (their address on the VRRP network, that network and their
    configured priority) and the floating addresses, refuses an ambiguous or unreachable setup, and
    returns what each host's C(keepalived.conf) needs (effective priority, unicast peers) and the
    checked floating addresses with their prefix length.
  - "Refused with an error naming the problem, before anything is written (the C(seed.fleet.lb_vip) role
    calls it first): two hosts with the same priority when O(tiebreak) is V(none); a priority outside
    1..254; a floating address outside the network of any host, or equal to a host's own, network or
    broadcast address; two floating addresses with the same address, name or virtual router id; with
    VRRPv2 a missing or empty VRRP secret, or one longer than the 8 characters VRRP PASS authentication
    carries, or an advertisement interval that is not a whole number of seconds; with VRRPv3 a secret
    (VRRPv3 has no authentication: it would not be used) or an interval outside 0.01..40.95 s; a
    HAProxy check time-out shorter than the check itself may take (O(check_timeout))."
  - With O(tiebreak=inventory_order), hosts of equal priority are separated by inventory order. The
    earlier host keeps the priority, each next one gets one less (staying below any higher priority).
author:
  - seed.fleet maintainers
options:
  _input:
    description:
      - The load balancers, in inventory order, each a dict with C(name), C(address) (IPv4 on the
        VRRP network), C(network) (that network as CIDR, e.g. C(172.30.99.0/24)) and C(priority).
    type: list
    elements: dict
    required: true
  vips:
    description: The floating addresses, each a dict with C(name), C(address) and C(virtual_router_id).
    type: list
    elements: dict
    required: true
  secret:
    description:
      - The VRRP authentication secret (it is checked, never returned). Required with O(version=2),
        refused with O(version=3).
    type: str
  version:
    description: VRRP version.
    type: int
    choices: [2, 3]
    default: 2
  advert_int:
    description: Advertisement interval in seconds (whole seconds with VRRPv2, centiseconds with VRRPv3).
    type: float
    default: 1
  check_timeout:
    description:
      - Seconds keepalived lets the HAProxy check (C(lb-vip-check)) run before it counts as failed, a whole
        number in 3..60. The check tries twice, at most 1 s each, 0.2 s apart, so a time-out under 3 s would
        fail a check whose second try was about to succeed (a busy host would give its addresses away).
      - Returned as C(check_timeout); V(null) leaves it out of the check and the result.
    type: int
  tiebreak:
    description: What to do with equal priorities.
    type: str
    choices: [none, inventory_order]
    default: none
"""

EXAMPLES = r"""
- name: Plan the floating address of two load balancers
  ansible.builtin.debug:
    msg: >-
      {{ [{'name': 'lb1', 'address': '10.0.0.2', 'network': '10.0.0.0/24', 'priority': 150},
          {'name': 'lb2', 'address': '10.0.0.3', 'network': '10.0.0.0/24', 'priority': 100}]
         | seed.fleet.lb_vip_plan([{'name': 'web', 'address': '10.0.0.100', 'virtual_router_id': 51}],
                                  secret='s3cret') }}
    # -> hosts.lb1 = {priority: 150, address: 10.0.0.2, peers: [10.0.0.3]}, vips[0].prefix = 24
"""

RETURN = r"""
_value:
  description: C(hosts) (name -> C(priority), C(address), C(peers)) and C(vips) (C(name), C(address),
    C(prefix), C(virtual_router_id)) in the given order; C(version), C(advert_int) and, when given,
    C(check_timeout).
  type: dict
"""

import ipaddress

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.collections import is_sequence

_TIEBREAKS = ("none", "inventory_order")
_VERSIONS = (2, 3)


def _fail(msg):
    raise AnsibleFilterError("lb_vip_plan: " + msg)


def _int(value, what, low, high):
    if isinstance(value, bool):
        _fail("%s must be a whole number in %d..%d, got %r" % (what, low, high, value))
    try:
        number = int(str(value).strip())
    except ValueError:
        _fail("%s must be a whole number in %d..%d, got %r" % (what, low, high, value))
    if not low <= number <= high:
        _fail("%s must be in %d..%d, got %d" % (what, low, high, number))
    return number


def _hosts(hosts):
    if isinstance(hosts, (str, dict)) or not is_sequence(hosts) or not hosts:
        _fail("the load balancer group is empty or not a list: %r" % (hosts,))
    out = []
    for item in hosts:
        if not isinstance(item, dict) or not item.get("name"):
            _fail("each host needs a name, address, network and priority: %r" % (item,))
        name = str(item["name"])
        try:
            addr = ipaddress.IPv4Address(str(item.get("address", "")).strip())
        except ValueError:
            _fail("host %s: %r is not an IPv4 address (no facts gathered?)" % (name, item.get("address")))
        try:
            net = ipaddress.IPv4Network(str(item.get("network", "")).strip(), strict=False)
        except ValueError:
            _fail("host %s: %r is not an IPv4 network (CIDR)" % (name, item.get("network")))
        if addr not in net:
            _fail("host %s: its address %s is not in its network %s" % (name, addr, net))
        prio = _int(item.get("priority"), "host %s: priority" % name, 1, 254)
        out.append({"name": name, "address": addr, "network": net, "priority": prio})
    names = [h["name"] for h in out]
    if len(set(names)) != len(names):
        _fail("a host is listed twice: %s" % ", ".join(names))
    addresses = [h["address"] for h in out]
    if len(set(addresses)) != len(addresses):
        _fail("two hosts have the same address: %s" % ", ".join(str(a) for a in addresses))
    return out


def _priorities(hosts, tiebreak):
    """Effective priority per host name; equal priorities refused or separated by inventory order."""
    if tiebreak not in _TIEBREAKS:
        _fail("tiebreak must be one of %s, got %r" % (", ".join(_TIEBREAKS), tiebreak))
    by_prio = {}
    for host in hosts:
        by_prio.setdefault(host["priority"], []).append(host["name"])
    clashes = dict((p, n) for p, n in by_prio.items() if len(n) > 1)
    if clashes and tiebreak == "none":
        prio = sorted(clashes)[-1]
        _fail("hosts %s have the same priority %d and no tie-break: give them different priorities "
              "or set the tie-break to inventory_order" % (" and ".join(clashes[prio]), prio))
    order = sorted(range(len(hosts)), key=lambda i: (-hosts[i]["priority"], i))
    result = {}
    previous = None
    for i in order:
        prio = hosts[i]["priority"]
        if previous is not None and prio >= previous:
            prio = previous - 1
        if prio < 1:
            _fail("the tie-break pushes host %s below priority 1: raise the priorities" % hosts[i]["name"])
        result[hosts[i]["name"]] = prio
        previous = prio
    return result


def _vips(vips, hosts):
    if isinstance(vips, (str, dict)) or not is_sequence(vips) or not vips:
        _fail("no floating address given (a list of name, address, virtual_router_id)")
    out = []
    for item in vips:
        if not isinstance(item, dict) or not item.get("name"):
            _fail("each floating address needs a name, address and virtual_router_id: %r" % (item,))
        name = str(item["name"])
        try:
            addr = ipaddress.IPv4Address(str(item.get("address", "")).strip())
        except ValueError:
            _fail("floating address %s: %r is not an IPv4 address" % (name, item.get("address")))
        vrid = _int(item.get("virtual_router_id"), "floating address %s: virtual_router_id" % name, 1, 255)
        for host in hosts:
            net = host["network"]
            if addr not in net:
                _fail("floating address %s (%s) is outside the network %s of host %s: "
                      "peers could never take it over" % (name, addr, net, host["name"]))
            if net.prefixlen < 31 and addr in (net.network_address, net.broadcast_address):
                _fail("floating address %s (%s) is the network or broadcast address of %s" % (name, addr, net))
            if addr == host["address"]:
                _fail("floating address %s (%s) is the own address of host %s" % (name, addr, host["name"]))
        out.append({"name": name, "address": str(addr), "prefix": hosts[0]["network"].prefixlen,
                    "virtual_router_id": vrid})
    for key in ("name", "address", "virtual_router_id"):
        values = [v[key] for v in out]
        if len(set(values)) != len(values):
            _fail("two floating addresses share the same %s: %s" % (key, ", ".join(str(v) for v in values)))
    return out


def _version(version, secret, advert_int):
    """VRRP version, secret and advertisement interval that go together."""
    if isinstance(version, bool) or str(version).strip() not in [str(v) for v in _VERSIONS]:
        _fail("the VRRP version must be 2 or 3, got %r" % (version,))
    version = int(str(version).strip())
    if version == 2:
        if secret is None or not isinstance(secret, str) or not secret.strip():
            _fail("the VRRP secret is missing or empty: set lb_vip_auth_pass (from vault)")
        if len(secret) > 8:
            _fail("the VRRP secret is longer than 8 characters: VRRP PASS authentication only carries 8, "
                  "the rest would be silently cut")
    elif secret:
        _fail("VRRPv3 has no authentication: the VRRP secret would not be used. Leave lb_vip_auth_pass "
              "empty (VRRP is restricted to the peers by source address) or use VRRP version 2")
    try:
        interval = float(str(advert_int).strip())
    except ValueError:
        _fail("the advertisement interval must be a number of seconds, got %r" % (advert_int,))
    if isinstance(advert_int, bool):
        _fail("the advertisement interval must be a number of seconds, got %r" % (advert_int,))
    if version == 2 and (interval != int(interval) or not 1 <= interval <= 255):
        _fail("VRRPv2 advertises in whole seconds (1..255), got an interval of %s: "
              "use VRRP version 3 for sub-second advertisements" % advert_int)
    if version == 3 and not 0.01 <= interval <= 40.95:
        _fail("the VRRPv3 advertisement interval must be in 0.01..40.95 s, got %s" % advert_int)
    return version, interval


# lb-vip-check: two tries of at most 1 s each (socat -t 1 -T 1), 0.2 s apart, plus process start.
CHECK_WORST_CASE_S = 2.2


def _check_timeout(value):
    low = int(CHECK_WORST_CASE_S) + 1
    if isinstance(value, bool):
        _fail("the HAProxy check time-out must be a whole number of seconds, got %r" % (value,))
    try:
        number = int(str(value).strip())
    except ValueError:
        _fail("the HAProxy check time-out must be a whole number of seconds, got %r" % (value,))
    if number < low:
        _fail("the HAProxy check time-out %d s is shorter than the check may take (two tries, up to %.1f s): "
              "a busy host would give its addresses away; use at least %d" % (number, CHECK_WORST_CASE_S, low))
    if number > 60:
        _fail("the HAProxy check time-out must be at most 60 s, got %d" % number)
    return number


def lb_vip_plan(hosts, vips, secret=None, tiebreak="none", version=2, advert_int=1, check_timeout=None):
    """Validated plan (see DOCUMENTATION); raises AnsibleFilterError on bad input."""
    version, interval = _version(version, secret, advert_int)
    timeout = None if check_timeout is None else _check_timeout(check_timeout)
    checked = _hosts(hosts)
    prios = _priorities(checked, tiebreak)
    plan_vips = _vips(vips, checked)
    plan_hosts = {}
    for host in checked:
        plan_hosts[host["name"]] = {
            "priority": prios[host["name"]],
            "address": str(host["address"]),
            "peers": [str(h["address"]) for h in checked if h["name"] != host["name"]],
        }
    plan = {"hosts": plan_hosts, "vips": plan_vips, "version": version, "advert_int": interval}
    if timeout is not None:
        plan["check_timeout"] = timeout
    return plan


class FilterModule(object):
    def filters(self):
        return {"lb_vip_plan": lb_vip_plan}
