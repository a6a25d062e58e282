# -*- coding: utf-8 -*-
# Copyright (c) seed.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
name: nft_allow_rules
short_description: Validate firewall allow entries and render them as nftables rules
version_added: 0.1.0
description:
  - Takes the C(baseline_firewall_allow) list format (or a dict mapping a source name to such a
    list, for example every C(baseline_firewall_allow_*) variable by name) and returns one
    nftables rule statement per entry and address family, for example
    C(ip saddr { 10.0.0.0/8 } tcp dport 9100 accept comment "monitoring").
  - Every entry is checked; a bad one raises an error that names the source, the index and the
    problem, so nothing is rendered from bad input.
  - Duplicate rules are rendered once; the order of the input is kept (dict input is sorted by
    source name so the output is stable).
author:
  - seed.fleet maintainers
options:
  _input:
    description:
      - A list of dicts with keys C(port) (int 1-65535, required for C(tcp) and C(udp)), C(proto)
        (C(tcp), C(udp) or C(vrrp), default C(tcp)), C(sources) (list of IPv4/IPv6 CIDRs, default
        any) and C(comment) (str).
      - C(proto=vrrp) allows IP protocol 112 (VRRP, keepalived) and takes no C(port); give it the
        peers as C(sources).
      - Or a dict mapping a source name to such a list.
    type: raw
    required: true
  source:
    description: Name used in error messages and as default comment when O(_input) is a list.
    type: str
    default: baseline_firewall_allow
"""

EXAMPLES = r"""
- name: Render the allow list
  ansible.builtin.debug:
    msg: "{{ [{'port': 9100, 'sources': ['10.0.0.0/8']}] | seed.fleet.nft_allow_rules(source='monitoring') }}"
  # -> ['ip saddr { 10.0.0.0/8 } tcp dport 9100 accept comment "monitoring"']

- name: VRRP from the peer load balancer only
  ansible.builtin.debug:
    msg: "{{ [{'proto': 'vrrp', 'sources': ['10.0.0.12']}] | seed.fleet.nft_allow_rules(source='lb_vip') }}"
  # -> ['ip saddr { 10.0.0.12/32 } meta l4proto 112 accept comment "lb_vip"']
"""

RETURN = r"""
_value:
  description: nftables rule statements, without the C(add rule) prefix.
  type: list
  elements: str
"""

import ipaddress
import re

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.collections import is_sequence

_KEYS = frozenset(("port", "proto", "sources", "comment"))
# Protocols with ports, and protocols without (nftables l4proto number).
_PORT_PROTOS = ("tcp", "udp")
_PORTLESS_PROTOS = {"vrrp": 112}
_COMMENT_DROP = re.compile(r"[^A-Za-z0-9 _.,:;/()@+=#-]")
_COMMENT_MAX = 128


def _port(value, where):
    if isinstance(value, bool):
        raise AnsibleFilterError("%s: port must be an integer 1-65535, got %r" % (where, value))
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int) or not 1 <= value <= 65535:
        raise AnsibleFilterError("%s: port must be an integer 1-65535, got %r" % (where, value))
    return value


def _sources(value, where):
    if value is None:
        return [], []
    if isinstance(value, str) or not is_sequence(value):
        raise AnsibleFilterError("%s: sources must be a list of CIDRs, got %r" % (where, value))
    v4, v6 = [], []
    for src in value:
        try:
            net = ipaddress.ip_network(str(src).strip(), strict=False)
        except ValueError:
            raise AnsibleFilterError("%s: %r is not an IPv4/IPv6 address or CIDR" % (where, src))
        (v4 if net.version == 4 else v6).append(str(net))
    return v4, v6


def _comment(value, default):
    text = default if value is None or value == "" else str(value)
    text = _COMMENT_DROP.sub("", text.replace("\n", " ")).strip()
    return text[:_COMMENT_MAX]


def _render(rules, source):
    if rules is None:
        return []
    if isinstance(rules, str) or not is_sequence(rules):
        raise AnsibleFilterError("%s: must be a list of dicts (port, proto, sources, comment), got %r" % (source, rules))
    out = []
    for idx, rule in enumerate(rules):
        where = "%s[%d]" % (source, idx)
        if not isinstance(rule, dict):
            raise AnsibleFilterError("%s: must be a dict with port, proto, sources, comment; got %r" % (where, rule))
        unknown = sorted(set(rule) - _KEYS)
        if unknown:
            raise AnsibleFilterError("%s: unknown key(s) %s (allowed: comment, port, proto, sources)" % (where, ", ".join(unknown)))
        proto = rule.get("proto") or "tcp"
        if proto not in _PORT_PROTOS and proto not in _PORTLESS_PROTOS:
            raise AnsibleFilterError("%s: proto must be tcp, udp or vrrp, got %r" % (where, proto))
        comment = ' comment "%s"' % _comment(rule.get("comment"), source)
        if proto in _PORTLESS_PROTOS:
            if rule.get("port") is not None:
                raise AnsibleFilterError("%s: proto %s has no port, got port %r" % (where, proto, rule["port"]))
            tail = "meta l4proto %d accept%s" % (_PORTLESS_PROTOS[proto], comment)
        else:
            if rule.get("port") is None:
                raise AnsibleFilterError("%s: port is required" % where)
            tail = "%s dport %d accept%s" % (proto, _port(rule["port"], where), comment)
        v4, v6 = _sources(rule.get("sources"), where)
        if not v4 and not v6:
            out.append(tail)
        if v4:
            out.append("ip saddr { %s } %s" % (", ".join(v4), tail))
        if v6:
            out.append("ip6 saddr { %s } %s" % (", ".join(v6), tail))
    return out


def nft_allow_rules(value, source="baseline_firewall_allow"):
    """Return nftables rule statements for an allow list (or a dict name -> allow list)."""
    if isinstance(value, dict):
        rendered = []
        for name in sorted(value):
            rendered.extend(_render(value[name], name))
    else:
        rendered = _render(value, source)
    seen = set()
    unique = []
    for line in rendered:
        if line not in seen:
            seen.add(line)
            unique.append(line)
    return unique


class FilterModule(object):
    def filters(self):
        return {"nft_allow_rules": nft_allow_rules}
