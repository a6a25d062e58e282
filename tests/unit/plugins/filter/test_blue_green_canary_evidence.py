# Copyright (c) seed.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""seed.fleet.blue_green_canary_evidence: a canary step's requests over every load balancer."""
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.seed.fleet.plugins.filter.blue_green_canary_evidence import (
    FilterModule,
    blue_green_canary_evidence,
)

LBS = ["lb1", "lb2"]


def watch(requests, seconds=4.0, **extra):
    return dict({"changed": False, "failed": False, "requests": requests, "errors": 0, "watched_seconds": seconds}, **extra)


def test_the_standby_of_an_active_passive_pair_adds_nothing_and_takes_nothing():
    got = blue_green_canary_evidence(LBS, {"lb1": {"w": watch(57)}, "lb2": {"w": watch(0)}}, ["w"], 50)
    assert got["enough"] is True and got["requests"] == 57 and got["per_lb"] == {"lb1": 57, "lb2": 0}
    assert got["msg"] == ("enough traffic to judge: 57 of 50 request(s) on the new color over 2 load balancer(s)"
                          " (lb1 57, lb2 0) in 4.0 s")


def test_an_active_active_pair_is_judged_on_the_sum():
    assert blue_green_canary_evidence(LBS, {"lb1": {"w": watch(26)}, "lb2": {"w": watch(24)}}, ["w"], 50)["enough"] is True
    got = blue_green_canary_evidence(LBS, {"lb1": {"w": watch(26)}, "lb2": {"w": watch(23)}}, ["w"], 50)
    assert got["enough"] is False and got["requests"] == 49
    assert got["msg"].startswith("not enough traffic to judge: 49 of 50 request(s) on the new color over 2 load balancer(s)")


def test_the_hold_window_adds_to_the_step_window():
    hv = {"lb1": {"w": watch(30, 4.0), "hold": watch(25, 10.0)}, "lb2": {"w": watch(0, 4.2), "hold": watch(0, 10.1)}}
    got = blue_green_canary_evidence(LBS, hv, ["w", "hold"], 50)
    assert got["enough"] is True and got["requests"] == 55 and got["per_lb"] == {"lb1": 55, "lb2": 0}
    assert got["seconds"] == 14.3


def test_a_skipped_hold_window_and_a_missing_result_count_nothing():
    hv = {"lb1": {"w": watch(12), "hold": {"skipped": True, "changed": False}}, "lb2": {}}
    got = blue_green_canary_evidence(LBS + ["lb3"], hv, ["w", "hold"], 10)
    assert got["enough"] is True and got["per_lb"] == {"lb1": 12, "lb2": 0, "lb3": 0}


def test_no_traffic_at_all_is_not_enough_unless_nothing_is_asked():
    hv = {"lb1": {"w": watch(0)}, "lb2": {"w": watch(0)}}
    assert blue_green_canary_evidence(LBS, hv, ["w"], 1)["enough"] is False
    assert blue_green_canary_evidence(LBS, hv, ["w"], 0)["enough"] is True


def test_counts_that_are_not_numbers_count_nothing():
    hv = {"lb1": {"w": watch("12")}, "lb2": {"w": watch("n/a", seconds=None)}}
    got = blue_green_canary_evidence(LBS, hv, ["w"], "10")
    assert got["requests"] == 12 and got["enough"] is True


@pytest.mark.parametrize("names, wanted, message", [
    ("w", 10, "names must be a list"),
    ([], 10, "names must be a list"),
    (["w"], "many", "min_requests must be a number"),
    (["w"], -1, "min_requests must be 0 or more"),
])
def test_bad_arguments_are_refused(names, wanted, message):
    with pytest.raises(AnsibleFilterError, match=message):
        blue_green_canary_evidence(LBS, {}, names, wanted)


def test_filter_is_registered():
    assert FilterModule().filters()["blue_green_canary_evidence"] is blue_green_canary_evidence
