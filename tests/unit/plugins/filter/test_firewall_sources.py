# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""seed.fleet.firewall_sources: closed unless the inventory opens it; bad input refused."""
from __future__ import annotations

import socket

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.seed.fleet.plugins.filter import firewall_sources as mod
from ansible_collections.seed.fleet.plugins.filter.firewall_sources import FilterModule, firewall_sources

HOSTVARS = {
    "mon1": {"ansible_facts": {"default_ipv4": {"address": "10.20.1.5"}, "default_ipv6": {"address": "fd00::5"}}},
    "mon2": {"ansible_host": "10.20.1.6"},
    "lb1": {"ansible_facts": {"default_ipv4": {"address": "10.20.2.10"}}},
    "ghost": {"ansible_host": "ghost.invalid"},
    "named": {"ansible_host": "named.example"},
}

DNS = {"named.example": ["192.0.2.7"], "dual.example": ["192.0.2.8", "2001:db8::8"]}


@pytest.fixture(autouse=True)
def fake_dns(monkeypatch):
    """No real DNS in unit tests: names in DNS resolve, every other name fails like getaddrinfo does."""
    def getaddrinfo(name, port):
        if name not in DNS:
            raise socket.gaierror(-2, "Name or service not known")
        return [(None, None, None, "", (addr, 0)) for addr in DNS[name]]
    monkeypatch.setattr(mod.socket, "getaddrinfo", getaddrinfo)


@pytest.mark.parametrize(
    ("explicit", "hosts", "expected"),
    [
        # Nothing said, nobody derived: closed (never "anyone").
        ([], [], []),
        (None, None, []),
        ([], None, []),
        # Derived from the inventory: facts first (both families), then an IP ansible_host, then DNS.
        ([], ["mon1"], ["10.20.1.5/32", "fd00::5/128"]),
        ([], ["mon2", "mon1"], ["10.20.1.5/32", "10.20.1.6/32", "fd00::5/128"]),
        ([], ["named"], ["192.0.2.7/32"]),
        # Explicit wins over derived; CIDRs normalised, duplicates once, IPv4 first.
        (["10.20.0.0/24"], ["mon1"], ["10.20.0.0/24"]),
        (["10.20.0.7/24", "10.20.0.0/24", "fd00::/8"], [], ["10.20.0.0/24", "fd00::/8"]),
        (["192.168.1.7"], [], ["192.168.1.7/32"]),
        # Inventory host names and DNS names in the explicit list.
        (["lb1"], [], ["10.20.2.10/32"]),
        (["dual.example"], [], ["192.0.2.8/32", "2001:db8::8/128"]),
        # "Anyone" must be said.
        (["0.0.0.0/0", "::/0"], [], ["0.0.0.0/0", "::/0"]),
    ],
)
def test_sources(explicit, hosts, expected):
    assert firewall_sources(explicit, hosts=hosts, hostvars=HOSTVARS, name="x") == expected


@pytest.mark.parametrize(
    ("explicit", "hosts", "message"),
    [
        (["10.20.0.0/33"], [], r"x\[0\]: '10.20.0.0/33' is not a valid IPv4/IPv6 address or CIDR"),
        (["10.20.300.1"], [], r"x\[0\]: '10.20.300.1' is not a valid"),
        (["10.0.0.0/8", "nosuch.invalid"], [], r"x\[1\]: host name 'nosuch.invalid' does not resolve"),
        (["bad name!"], [], r"x\[0\]: 'bad name!' is neither an address/CIDR nor a valid host name"),
        ([""], [], r"x\[0\]: '' is not an address"),
        ([8080], [], r"x\[0\]: 8080 is not an address"),
        ("10.0.0.0/8", [], r"x: must be a list"),
        ([], "mon1", r"x: hosts must be a list"),
        ([], ["ghost"], r"x \(derived from host ghost\): no address known for inventory host 'ghost'"),
        (["ghost"], [], r"x\[0\]: no address known for inventory host 'ghost'"),
    ],
)
def test_bad_input_is_refused(explicit, hosts, message):
    with pytest.raises(AnsibleFilterError, match=message):
        firewall_sources(explicit, hosts=hosts, hostvars=HOSTVARS, name="x")


def test_registered():
    assert FilterModule().filters()["firewall_sources"] is firewall_sources
