# -*- coding: utf-8 -*-
# Copyright (c) seed.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
name: address_in_networks
short_description: Whether an IP address lies in one of a list of networks
version_added: 0.1.0
description:
  - Returns true when the IPv4/IPv6 address O(_input) is inside at least one of O(networks) (CIDRs or
    single addresses). An empty O(networks) list means "any" and returns true.
  - The C(seed.fleet.baseline) role uses it so that C(baseline_firewall_ssh_sources) never shuts out
    the address Ansible connects from. Needs no C(netaddr).
author:
  - seed.fleet maintainers
options:
  _input:
    description: The address (an IPv4-mapped IPv6 address counts as its IPv4 address).
    type: str
    required: true
  networks:
    description: CIDRs or addresses.
    type: list
    elements: str
    required: true
"""

EXAMPLES = r"""
- name: Is the controller in the admin network?
  ansible.builtin.debug:
    msg: "{{ '10.20.0.7' | seed.fleet.address_in_networks(['10.20.0.0/24']) }}"  # -> true
"""

RETURN = r"""
_value:
  description: Whether the address is in one of the networks (always true for an empty list).
  type: bool
"""

import ipaddress

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.collections import is_sequence


def address_in_networks(address, networks):
    """True when address lies in one of networks (or networks is empty)."""
    if isinstance(networks, str) or not is_sequence(networks):
        raise AnsibleFilterError("address_in_networks: networks must be a list of CIDRs, got %r" % (networks,))
    try:
        addr = ipaddress.ip_address(str(address).strip())
    except ValueError:
        raise AnsibleFilterError("address_in_networks: %r is not an IP address" % (address,))
    if addr.version == 6 and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    if not networks:
        return True
    for net in networks:
        try:
            network = ipaddress.ip_network(str(net).strip(), strict=False)
        except ValueError:
            raise AnsibleFilterError("address_in_networks: %r is not a network (CIDR)" % (net,))
        if network.version == addr.version and addr in network:
            return True
    return False


class FilterModule(object):
    def filters(self):
        return {"address_in_networks": address_in_networks}
