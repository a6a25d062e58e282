# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""seed.fleet.blue_green_failures: the app hosts a deploy leaves out at its gate, when HAProxy does not
see their new server up, and after the switch - the same verdict on every host of the play."""
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.seed.fleet.plugins.filter.blue_green_failures import (
    NO_RESULT, FilterModule, blue_green_failures)

# What seed.fleet.haproxy_backend_info registered on each load balancer (__blue_green_stat).
LB1 = {"servers": {}, "not_up": {"app2_green": "DOWN", "app5_green": "absent"}}
APPS = ["app1", "app2", "app3", "app4", "app5"]


def test_gate_failures_with_their_reason_or_none():
    hostvars = {"app1": {"__blue_green_gate_ok": True}, "app2": {"__blue_green_host_failure": "Health gate: 503"},
                "app3": {"__blue_green_gate_ok": "True"}, "app4": {"__blue_green_gate_ok": False}}
    got = blue_green_failures({"app9": "earlier"}, "gate", hostvars, ["app1", "app2", "app3", "app4", "app5"])
    assert got == {"app9": "earlier", "app2": "Health gate: 503", "app4": NO_RESULT, "app5": NO_RESULT}
    assert list(got)[0] == "app9"


def test_lb_up_names_the_lb_and_the_state_it_sees():
    hostvars = {"lb1": {"__blue_green_stat": LB1}, "lb2": {}}
    got = blue_green_failures({"app1": "gate"}, "lb_up", hostvars, APPS, lbs=["lb1"], color="green", timeout=30)
    assert got == {"app1": "gate", "app2": "HAProxy on lb1 sees app2_green DOWN after 30 s",
                   "app5": "HAProxy on lb1 sees app5_green absent after 30 s"}
    # a load balancer without a result sees nothing up; a host keeps its first reason
    got = blue_green_failures({}, "lb_up", hostvars, ["app1", "app2"], lbs=["lb1", "lb2"], color="green", timeout=30)
    assert got == {"app2": "HAProxy on lb1 sees app2_green DOWN after 30 s",
                   "app1": "HAProxy on lb2: no answer from the runtime API (%s)" % NO_RESULT}


def test_lb_up_says_why_the_runtime_api_did_not_answer():
    hostvars = {"lb1": {"__blue_green_stat": {"failed": True, "msg": "socket /run/haproxy/admin.sock: not found"}}}
    got = blue_green_failures({}, "lb_up", hostvars, ["app1"], lbs=["lb1"], color="green", timeout=30)
    assert got == {"app1": "HAProxy on lb1: no answer from the runtime API (socket /run/haproxy/admin.sock: not found)"}


def test_post_switch_check_failure_missing_result_and_down_on_an_lb():
    hostvars = {"app1": {"__blue_green_verify": {"failed": False}},
                "app2": {"__blue_green_verify": {"failed": True, "msg": "status 500"}},
                "app3": {"__blue_green_verify": {"skipped": True}},
                "app4": {},
                "lb1": {"__blue_green_lb_verdict": {"breach": "", "down": ["app3_green"]}},
                "lb2": {"__blue_green_lb_verdict": {"breach": "", "down": ["app2_green", "app1_blue"]}}}
    got = blue_green_failures({"app5": "gate"}, "post_switch", hostvars, APPS, lbs=["lb1", "lb2"], color="green")
    assert got == {"app5": "gate", "app2": "post-switch check: status 500",
                   "app3": "post-switch: HAProxy on lb1 does not see it up", "app4": "post-switch check: " + NO_RESULT}


@pytest.mark.parametrize("args", [
    ({}, "nothing", {}, []),
    ([], "gate", {}, []),
])
def test_bad_input_is_a_clear_error(args):
    with pytest.raises(AnsibleFilterError, match="blue_green_failures"):
        blue_green_failures(*args)


def test_lb_up_and_post_switch_need_their_arguments():
    with pytest.raises(AnsibleFilterError, match="needs color"):
        blue_green_failures({}, "lb_up", {}, APPS, lbs=["lb1"])
    with pytest.raises(AnsibleFilterError, match="needs color"):
        blue_green_failures({}, "post_switch", {}, APPS)


def test_filter_is_registered():
    assert FilterModule().filters()["blue_green_failures"] is blue_green_failures
