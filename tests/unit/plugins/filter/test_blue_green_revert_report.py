# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""seed.fleet.blue_green_traffic_now and blue_green_revert_report: the blue-green rescue's failed-revert report."""
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.seed.fleet.plugins.filter.blue_green_revert_report import FilterModule as ReportFilters
from ansible_collections.seed.fleet.plugins.filter.blue_green_revert_report import blue_green_revert_report
from ansible_collections.seed.fleet.plugins.filter.blue_green_traffic_now import FilterModule as TrafficFilters
from ansible_collections.seed.fleet.plugins.filter.blue_green_traffic_now import blue_green_traffic_now

SOCKET_GONE = {"failed": True, "msg": "cannot connect to /run/haproxy/admin.sock: No such file or directory"}


def _answer(**servers):
    return {"failed": False, "changed": False, "before": {name: {"state": s, "health": h} for name, (s, h) in servers.items()}}


@pytest.mark.parametrize(
    ("results", "expected"),
    [
        # The first address that answers counts (the unix socket is gone, the TCP API answers).
        ([SOCKET_GONE, _answer(app1_green=("ready", "UP"), app1_blue=("maint", "DOWN"))], "green (ready: app1_green UP)"),
        ([_answer(app2_blue=("ready", "UP"), app1_blue=("ready", "DOWN"), app1_green=("drain", "UP"))],
         "blue (ready: app1_blue DOWN, app2_blue UP)"),
        ([_answer(app1_blue=("ready", "UP"), app1_green=("ready", "UP"))], "blue + green (ready: app1_blue UP, app1_green UP)"),
        ([_answer(app1_blue=("maint", "DOWN"), app1_green=("drain", "UP"))], "no color (no server ready)"),
        ([_answer(other=("ready", "UP"))], "no color (ready: other UP)"),
        ([_answer(app1_green=("ready", "UP")), _answer(app1_blue=("ready", "UP"))], "green (ready: app1_green UP)"),
        ([SOCKET_GONE, {"failed": True, "msg": "tcp://127.0.0.1:9999: connection refused"}],
         "unknown, the runtime API does not answer (%s)" % SOCKET_GONE["msg"]),
        # A failed result that still carries "before" does not count as an answer.
        ([dict(_answer(app1_blue=("ready", "UP")), failed=True, msg="boom")], "unknown, the runtime API does not answer (boom)"),
        ([{"skipped": True}], "unknown, the runtime API does not answer (no answer)"),
        ([], "unknown, the runtime API does not answer (no answer)"),
        (None, "unknown, the runtime API does not answer (no answer)"),
    ],
)
def test_traffic_now(results, expected):
    assert blue_green_traffic_now(results) == expected


@pytest.mark.parametrize("bad", ["results", {"results": []}, 3])
def test_traffic_now_refuses_what_is_not_a_result_list(bad):
    with pytest.raises(AnsibleFilterError, match="expected the read-back loop's results"):
        blue_green_traffic_now(bad)


HOSTVARS = {
    "lb1": {"__blue_green_revert": dict(SOCKET_GONE), "__blue_green_traffic_now": " green (ready: app1_green UP)\n"},
    "lb2": {"__blue_green_revert": {"failed": False, "changed": True}, "__blue_green_traffic_now": "blue (ready: app1_blue UP)"},
    "lb3": {"__blue_green_revert": {"skipped": True}},
    "lb4": {"__blue_green_revert": {"failed": True}, "__blue_green_traffic_now": "unknown, the runtime API does not answer (x)"},
}


def test_revert_report_names_the_failed_lbs_and_what_each_sends_traffic_to():
    report = blue_green_revert_report(["lb1", "lb2", "lb3", "lb4", "lb5"], HOSTVARS)
    assert report == {
        "revert_failed": {"lb1": SOCKET_GONE["msg"], "lb4": "failed"},
        "traffic_by_lb": {
            "lb1": "green (ready: app1_green UP)",
            "lb2": "blue (ready: app1_blue UP)",
            "lb3": "unknown, not read",
            "lb4": "unknown, the runtime API does not answer (x)",
            "lb5": "unknown, not read",
        },
    }
    # Order follows the group, as the failure message lists them.
    assert list(report["traffic_by_lb"]) == ["lb1", "lb2", "lb3", "lb4", "lb5"]


def test_revert_report_all_reverted():
    report = blue_green_revert_report(["lb2"], HOSTVARS)
    assert report == {"revert_failed": {}, "traffic_by_lb": {"lb2": "blue (ready: app1_blue UP)"}}
    assert blue_green_revert_report([], HOSTVARS) == {"revert_failed": {}, "traffic_by_lb": {}}


def test_revert_report_refuses_a_string():
    with pytest.raises(AnsibleFilterError, match="expected a list of load balancers"):
        blue_green_revert_report("lb1", HOSTVARS)


def test_registered():
    assert TrafficFilters().filters()["blue_green_traffic_now"] is blue_green_traffic_now
    assert ReportFilters().filters()["blue_green_revert_report"] is blue_green_revert_report
