# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""seed.fleet.lb_vip_plan: the VRRP plan and the bad input it refuses."""
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.seed.fleet.plugins.filter.lb_vip_plan import FilterModule, lb_vip_plan

NET = "172.30.99.0/24"
VIP = [{"name": "demo", "address": "172.30.99.100", "virtual_router_id": 51}]


def lbs(*prios, net=NET):
    return [{"name": "lb%d" % (i + 1), "address": "172.30.99.%d" % (i + 11), "network": net, "priority": p}
            for i, p in enumerate(prios)]


def test_plan_two_lbs():
    plan = lb_vip_plan(lbs(150, 100), VIP, secret="s3cret")
    assert plan["hosts"] == {
        "lb1": {"priority": 150, "address": "172.30.99.11", "peers": ["172.30.99.12"]},
        "lb2": {"priority": 100, "address": "172.30.99.12", "peers": ["172.30.99.11"]},
    }
    assert plan["vips"] == [{"name": "demo", "address": "172.30.99.100", "prefix": 24, "virtual_router_id": 51}]


def test_secret_is_never_returned():
    assert "s3cret" not in repr(lb_vip_plan(lbs(150, 100), VIP, secret="s3cret"))


@pytest.mark.parametrize(
    ("prios", "expected"),
    [
        ((100, 100), {"lb1": 100, "lb2": 99}),
        ((100, 150, 100), {"lb2": 150, "lb1": 100, "lb3": 99}),
        ((100, 100, 99), {"lb1": 100, "lb2": 99, "lb3": 98}),
        (("120", 110), {"lb1": 120, "lb2": 110}),
    ],
)
def test_tiebreak_inventory_order(prios, expected):
    plan = lb_vip_plan(lbs(*prios), VIP, secret="s", tiebreak="inventory_order")
    assert dict((n, h["priority"]) for n, h in plan["hosts"].items()) == expected


def test_three_hosts_peers():
    plan = lb_vip_plan(lbs(200, 150, 100), VIP, secret="s")
    assert plan["hosts"]["lb2"]["peers"] == ["172.30.99.11", "172.30.99.13"]


@pytest.mark.parametrize(
    ("hosts", "vips", "secret", "tiebreak", "message"),
    [
        # two LBs with the same priority and no tie-break
        (lbs(100, 100), VIP, "s", "none", "lb1 and lb2 have the same priority 100 and no tie-break"),
        (lbs(100, 100), VIP, "s", "coin", "tiebreak must be one of"),
        (lbs(1, 1), VIP, "s", "inventory_order", "below priority 1"),
        (lbs(255, 100), VIP, "s", "none", "priority must be in 1..254"),
        (lbs(0, 100), VIP, "s", "none", "priority must be in 1..254"),
        (lbs("high", 100), VIP, "s", "none", "whole number"),
        (lbs(True, 100), VIP, "s", "none", "whole number"),
        # a virtual address outside the hosts' network
        (lbs(150, 100), [{"name": "demo", "address": "10.9.9.9", "virtual_router_id": 51}], "s", "none",
         "is outside the network 172.30.99.0/24 of host lb1"),
        (lbs(150, 100) + [{"name": "lb3", "address": "172.30.98.5", "network": "172.30.98.0/24", "priority": 50}],
         VIP, "s", "none", "outside the network 172.30.98.0/24 of host lb3"),
        (lbs(150, 100), [{"name": "demo", "address": "172.30.99.255", "virtual_router_id": 51}], "s", "none",
         "network or broadcast"),
        (lbs(150, 100), [{"name": "demo", "address": "172.30.99.12", "virtual_router_id": 51}], "s", "none",
         "own address of host lb2"),
        (lbs(150, 100), [{"name": "demo", "address": "nope", "virtual_router_id": 51}], "s", "none",
         "not an IPv4 address"),
        (lbs(150, 100), [{"name": "demo", "address": "172.30.99.100", "virtual_router_id": 256}], "s", "none",
         "virtual_router_id must be in 1..255"),
        (lbs(150, 100), VIP + [{"name": "api", "address": "172.30.99.101", "virtual_router_id": 51}], "s", "none",
         "share the same virtual_router_id"),
        (lbs(150, 100), VIP + [{"name": "api", "address": "172.30.99.100", "virtual_router_id": 52}], "s", "none",
         "share the same address"),
        (lbs(150, 100), [], "s", "none", "no floating address given"),
        # a missing VRRP secret
        (lbs(150, 100), VIP, "", "none", "VRRP secret is missing or empty"),
        (lbs(150, 100), VIP, None, "none", "VRRP secret is missing or empty"),
        (lbs(150, 100), VIP, "   ", "none", "VRRP secret is missing or empty"),
        (lbs(150, 100), VIP, "123456789", "none", "longer than 8 characters"),
        # hosts
        ([], VIP, "s", "none", "group is empty"),
        ([{"name": "lb1", "address": "", "network": NET, "priority": 100}], VIP, "s", "none", "no facts gathered"),
        ([{"name": "lb1", "address": "10.0.0.1", "network": NET, "priority": 100}], VIP, "s", "none",
         "is not in its network"),
        (lbs(150, 100) + [{"name": "lb1", "address": "172.30.99.20", "network": NET, "priority": 50}], VIP, "s",
         "none", "listed twice"),
    ],
)
def test_bad_input(hosts, vips, secret, tiebreak, message):
    with pytest.raises(AnsibleFilterError) as err:
        lb_vip_plan(hosts, vips, secret=secret, tiebreak=tiebreak)
    assert message in str(err.value)


def test_filter_is_registered():
    assert FilterModule().filters()["lb_vip_plan"] is lb_vip_plan


@pytest.mark.parametrize(
    ("version", "secret", "advert_int", "expected"),
    [
        (2, "s3cret", 1, (2, 1.0)),
        ("2", "s3cret", "3", (2, 3.0)),
        # VRRPv3: sub-second adverts, no authentication (VRRP is limited to the peers by source address)
        (3, "", 0.5, (3, 0.5)),
        ("3", None, "0.25", (3, 0.25)),
        (3, "", 1, (3, 1.0)),
    ],
)
def test_versions(version, secret, advert_int, expected):
    plan = lb_vip_plan(lbs(150, 100), VIP, secret=secret, version=version, advert_int=advert_int)
    assert (plan["version"], plan["advert_int"]) == expected


@pytest.mark.parametrize(
    ("version", "secret", "advert_int", "message"),
    [
        (4, "s3cret", 1, "VRRP version must be 2 or 3"),
        (True, "s3cret", 1, "VRRP version must be 2 or 3"),
        # a missing VRRP secret (VRRPv2)
        (2, "", 1, "VRRP secret is missing or empty"),
        (2, None, 0.5, "VRRP secret is missing or empty"),
        # a secret VRRPv3 would silently ignore
        (3, "s3cret", 0.5, "VRRPv3 has no authentication"),
        (2, "s3cret", 0.5, "VRRPv2 advertises in whole seconds"),
        (2, "s3cret", 0, "VRRPv2 advertises in whole seconds"),
        (2, "s3cret", 1.5, "VRRPv2 advertises in whole seconds"),
        (3, "", 0, "must be in 0.01..40.95"),
        (3, "", 41, "must be in 0.01..40.95"),
        (3, "", "fast", "must be a number of seconds"),
        (3, "", True, "must be a number of seconds"),
    ],
)
def test_bad_version_secret_interval(version, secret, advert_int, message):
    with pytest.raises(AnsibleFilterError) as err:
        lb_vip_plan(lbs(150, 100), VIP, secret=secret, version=version, advert_int=advert_int)
    assert message in str(err.value)
    if secret:
        assert secret not in str(err.value)


@pytest.mark.parametrize(("check_timeout", "expected"), [(3, 3), ("5", 5), (60, 60)])
def test_check_timeout_is_returned(check_timeout, expected):
    plan = lb_vip_plan(lbs(150, 100), VIP, secret="s3cret", check_timeout=check_timeout)
    assert plan["check_timeout"] == expected


def test_check_timeout_left_out_when_not_given():
    assert "check_timeout" not in lb_vip_plan(lbs(150, 100), VIP, secret="s3cret")


@pytest.mark.parametrize(
    ("check_timeout", "message"),
    [
        # the check may take 2.2 s (two tries of 1 s, 0.2 s apart): keepalived would kill a second
        # try that was about to succeed, and a busy host would give its addresses away
        (2, "shorter than the check may take"),
        (1, "use at least 3"),
        (61, "at most 60 s"),
        ("soon", "whole number of seconds"),
        (True, "whole number of seconds"),
    ],
)
def test_bad_check_timeout(check_timeout, message):
    with pytest.raises(AnsibleFilterError) as err:
        lb_vip_plan(lbs(150, 100), VIP, secret="s3cret", check_timeout=check_timeout)
    assert message in str(err.value)
