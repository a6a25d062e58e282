# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""seed.fleet.nft_allow_rules: what reaches nftables, and what is refused."""
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.seed.fleet.plugins.filter.nft_allow_rules import FilterModule, nft_allow_rules


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        ([], []),
        (None, []),
        ([{"port": 22}], ['tcp dport 22 accept comment "baseline_firewall_allow"']),
        ([{"port": "8404", "comment": "haproxy stats"}], ['tcp dport 8404 accept comment "haproxy stats"']),
        ([{"port": 53, "proto": "udp", "comment": "dns"}], ['udp dport 53 accept comment "dns"']),
        (
            [{"port": 9100, "sources": ["10.0.0.0/8", "192.168.1.7"], "comment": "scrape"}],
            ['ip saddr { 10.0.0.0/8, 192.168.1.7/32 } tcp dport 9100 accept comment "scrape"'],
        ),
        (
            [{"port": 9100, "sources": ["10.1.2.3/8", "fd00::/8"], "comment": "m"}],
            [
                'ip saddr { 10.0.0.0/8 } tcp dport 9100 accept comment "m"',
                'ip6 saddr { fd00::/8 } tcp dport 9100 accept comment "m"',
            ],
        ),
        # A comment cannot break out of its quotes or the line.
        ([{"port": 80, "comment": 'x" accept; drop\nfoo'}], ['tcp dport 80 accept comment "x accept; drop foo"']),
        ([{"port": 80}, {"port": 80}], ['tcp dport 80 accept comment "baseline_firewall_allow"']),
        # VRRP (IP protocol 112, keepalived) has no port: from the peers only, or from anyone.
        (
            [{"proto": "vrrp", "sources": ["10.121.21.12", "fd00::12"], "comment": "lb_vip"}],
            [
                'ip saddr { 10.121.21.12/32 } meta l4proto 112 accept comment "lb_vip"',
                'ip6 saddr { fd00::12/128 } meta l4proto 112 accept comment "lb_vip"',
            ],
        ),
        ([{"proto": "vrrp", "port": None}], ['meta l4proto 112 accept comment "baseline_firewall_allow"']),
    ],
)
def test_renders(rules, expected):
    assert nft_allow_rules(rules) == expected


def test_dict_input_is_sorted_and_named():
    merged = {
        "baseline_firewall_allow_lb": [{"port": 80}],
        "baseline_firewall_allow": [{"port": 443, "comment": "https"}],
    }
    assert nft_allow_rules(merged) == [
        'tcp dport 443 accept comment "https"',
        'tcp dport 80 accept comment "baseline_firewall_allow_lb"',
    ]


def test_long_comment_is_cut():
    (rule,) = nft_allow_rules([{"port": 1, "comment": "a" * 300}])
    assert rule == 'tcp dport 1 accept comment "%s"' % ("a" * 128)


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ("80", "must be a list"),
        ({"x": {"port": 80}}, "x: must be a list"),
        ([80], "must be a dict"),
        ([{"proto": "tcp"}], "port is required"),
        ([{"port": 0}], "port must be an integer 1-65535"),
        ([{"port": 65536}], "port must be an integer 1-65535"),
        ([{"port": "http"}], "port must be an integer 1-65535"),
        ([{"port": True}], "port must be an integer 1-65535"),
        ([{"port": 80, "proto": "icmp"}], "proto must be tcp, udp or vrrp"),
        ([{"port": 112, "proto": "vrrp"}], "proto vrrp has no port, got port 112"),
        ([{"proto": "udp"}], "port is required"),
        ([{"proto": "vrrp", "sources": ["10.0.0.300"]}], "is not an IPv4/IPv6 address or CIDR"),
        ([{"port": 80, "sources": "10.0.0.0/8"}], "sources must be a list"),
        ([{"port": 80, "sources": ["10.0.0.300/8"]}], "is not an IPv4/IPv6 address or CIDR"),
        ([{"port": 80, "src": ["10.0.0.0/8"]}], "unknown key(s) src"),
    ],
)
def test_bad_input_names_source_and_problem(rules, message):
    with pytest.raises(AnsibleFilterError) as err:
        nft_allow_rules(rules, source="baseline_firewall_allow_lb")
    assert message in str(err.value)
    if isinstance(rules, list):
        assert "baseline_firewall_allow_lb[0]" in str(err.value)


def test_registered():
    assert FilterModule().filters()["nft_allow_rules"] is nft_allow_rules
