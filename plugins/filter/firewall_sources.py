# -*- coding: utf-8 -*-
# Copyright (c) seed.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
name: firewall_sources
short_description: Decide who may reach an admin or metrics port (closed unless the inventory opens it)
version_added: 0.2.0
description:
  - Returns the source CIDRs for one C(firewall_allow) rule of a role's admin or metrics port.
  - When O(_input) (the role's C(*_sources) variable) is not empty, its entries are used. Each entry is an
    IPv4/IPv6 address or CIDR, an inventory host name (its address, see below) or a DNS name that resolves on the
    controller (every address it resolves to, as a host route).
  - When O(_input) is empty, the sources are derived from the inventory, from the addresses of the O(hosts) (for example
    the C(monitoring) group for exporters). No hosts gives an empty list.
  - An empty result means B(nobody); the caller drops the rule, so the port stays closed. An empty list never means
    "anyone"; to open a port to everyone, say so with C(0.0.0.0/0) and C(::/0).
  - The address of an inventory host is, in order, C(ansible_facts.default_ipv4.address) and
    C(ansible_facts.default_ipv6.address) (facts gathered in this run), else C(ansible_host) when it is an IP
    address, else what C(ansible_host) (or the inventory name) resolves to on the controller.
  - Bad input (a malformed CIDR, a name that resolves nowhere, a host with no known address) raises an error
    that names the variable and the entry, before any firewall change.
author:
  - seed.fleet maintainers
options:
  _input:
    description: The explicit source list (the role's C(*_sources) variable); empty to derive it from O(hosts).
    type: list
    elements: str
    required: true
  hosts:
    description: Inventory host names whose addresses are the default sources (for example C(groups['monitoring'])).
    type: list
    elements: str
    default: []
  hostvars:
    description: Ansible's C(hostvars), to read the addresses of inventory hosts.
    type: raw
    default: {}
  name:
    description: Name of the variable, used in error messages.
    type: str
    default: sources
"""

EXAMPLES = r"""
- name: node_exporter from the monitoring servers only (or from monitoring_agent_firewall_sources)
  ansible.builtin.debug:
    msg: >-
      {{ monitoring_agent_firewall_sources
         | seed.fleet.firewall_sources(hosts=groups['monitoring'] | default([]), hostvars=hostvars,
                                       name='monitoring_agent_firewall_sources') }}
  # -> ['10.20.1.5/32'] ; [] when there is no monitoring group (the rule is dropped: port closed)
"""

RETURN = r"""
_value:
  description: Sorted, de-duplicated CIDRs (IPv4 first); empty means the port stays closed.
  type: list
  elements: str
"""

import ipaddress
import re
import socket

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.collections import is_sequence
from ansible_collections.seed.fleet.plugins.module_utils._mapping import get as _get

_HOSTNAME = re.compile(r"^(?=.{1,253}$)([A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9])?)*\.?$")
_CIDR_LIKE = re.compile(r"^[0-9a-fA-F:.]+(/[0-9]+)?$")


def _resolve(name):
    """Every address a DNS name resolves to on the controller (empty when it does not resolve)."""
    try:
        infos = socket.getaddrinfo(name, None)
    except (socket.gaierror, UnicodeError, OSError):
        return []
    return sorted(set(info[4][0].split("%", 1)[0] for info in infos))


def _as_network(text):
    return ipaddress.ip_network(text, strict=False)


def _is_ip(text):
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _host_addresses(host, hostvars, where):
    hv = _get(hostvars, host, {}) or {}
    facts = _get(hv, "ansible_facts", {}) or {}
    found = []
    for family in ("default_ipv4", "default_ipv6"):
        addr = _get(_get(facts, family, {}) or {}, "address")
        if addr and _is_ip(str(addr)):
            found.append(str(addr))
    if found:
        return found
    target = str(_get(hv, "ansible_host", host) or host)
    if _is_ip(target):
        return [target]
    resolved = _resolve(target)
    if resolved:
        return resolved
    raise AnsibleFilterError(
        "%s: no address known for inventory host %r (no facts gathered in this run, ansible_host %r does not resolve "
        "on the controller): gather its facts in the same run (no --limit that leaves it out) or list the sources "
        "explicitly" % (where, host, target)
    )


def _entry(entry, hostvars, where):
    if not isinstance(entry, str) or not entry.strip():
        raise AnsibleFilterError("%s: %r is not an address, CIDR or host name" % (where, entry))
    text = entry.strip()
    if _get(hostvars, text) is not None:
        return [_as_network(a) for a in _host_addresses(text, hostvars, where)]
    if _CIDR_LIKE.match(text):
        try:
            return [_as_network(text)]
        except ValueError:
            raise AnsibleFilterError("%s: %r is not a valid IPv4/IPv6 address or CIDR" % (where, text))
    if not _HOSTNAME.match(text):
        raise AnsibleFilterError("%s: %r is neither an address/CIDR nor a valid host name" % (where, text))
    resolved = _resolve(text)
    if not resolved:
        raise AnsibleFilterError("%s: host name %r does not resolve (on the controller); use an address or CIDR" % (where, text))
    return [_as_network(a) for a in resolved]


def firewall_sources(value, hosts=None, hostvars=None, name="sources"):
    """Return the CIDRs allowed to reach a port: the explicit list, else the hosts' addresses, else []."""
    hostvars = {} if hostvars is None else hostvars
    if value is None:
        value = []
    if isinstance(value, str) or not is_sequence(value):
        raise AnsibleFilterError("%s: must be a list of addresses, CIDRs or host names, got %r" % (name, value))
    nets = []
    if value:
        for idx, entry in enumerate(value):
            nets.extend(_entry(entry, hostvars, "%s[%d]" % (name, idx)))
    else:
        hosts = [] if hosts is None else hosts
        if isinstance(hosts, str) or not is_sequence(hosts):
            raise AnsibleFilterError("%s: hosts must be a list of inventory host names, got %r" % (name, hosts))
        for host in hosts:
            for addr in _host_addresses(str(host), hostvars, "%s (derived from host %s)" % (name, host)):
                nets.append(_as_network(addr))
    unique = sorted(set(nets), key=lambda n: (n.version, int(n.network_address), n.prefixlen))
    return [str(n) for n in unique]


class FilterModule(object):
    def filters(self):
        return {"firewall_sources": firewall_sources}
