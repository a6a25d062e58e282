# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""seed.fleet.blue_green_canary_gate: what a run does with a canary that waits for approval."""
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.seed.fleet.plugins.filter.blue_green_canary_gate import FilterModule, blue_green_canary_gate

NOW = 1796443200.0
CANARY = {"version": "v7", "color": "green", "percent": 25, "share": 25.0, "paused_at": NOW - 60, "expires_at": NOW + 600}


def state(canary=None):
    out = {"app": "shop", "live": {"color": "blue", "version": "v6"}, "history": []}
    if canary is not None:
        out["canary"] = canary
    return out


@pytest.mark.parametrize(("decision", "action", "failed", "message"), [
    ("", "deploy", False, ""),
    ("promote", "refuse", False, "shop: no canary waits for a decision, so there is nothing to promote"),
    ("abort", "refuse", False, "nothing to abort"),
])
def test_nothing_waits(decision, action, failed, message):
    for empty in (None, {}):
        got = blue_green_canary_gate(state(empty), decision, NOW)
        assert (got["action"], got["failed"], got["expired"], got["canary"]) == (action, failed, False, None)
        assert message in got["msg"]


def test_a_waiting_canary_is_promoted_or_aborted_on_request():
    promote = blue_green_canary_gate(state(CANARY), "promote", NOW)
    assert (promote["action"], promote["canary"], promote["expired"], promote["failed"]) == ("promote", CANARY, False, False)
    assert promote["msg"] == ("shop v7 holds 25.0 % of the traffic (step 25 %) on green since 2026-12-05 03:59:00 UTC: "
                              "promoted")
    abort = blue_green_canary_gate(state(CANARY), " abort ", NOW)
    assert (abort["action"], abort["expired"], abort["failed"]) == ("abort", False, False)
    assert abort["msg"].endswith("aborted on request")


def test_a_new_deploy_waits_for_the_decision():
    got = blue_green_canary_gate(state(CANARY), "", NOW + 599.9)
    assert (got["action"], got["canary"]) == ("refuse", CANARY)
    assert "waits for a decision until 2026-12-05 04:10:00 UTC" in got["msg"]
    assert "-e blue_green_app=shop -e blue_green_canary_decision=promote (or =abort)" in got["msg"]


@pytest.mark.parametrize(("decision", "failed"), [("", True), ("promote", True), ("abort", False)])
def test_an_approval_that_never_came_aborts(decision, failed):
    got = blue_green_canary_gate(state(CANARY), decision, NOW + 600)  # the deadline itself counts as passed
    assert (got["action"], got["expired"], got["failed"]) == ("abort", True, failed)
    assert "no approval came before 2026-12-05 04:10:00 UTC (blue_green_canary_approval_timeout)" in got["msg"]


@pytest.mark.parametrize(("the_state", "decision", "message"), [
    ([], "", "the state must be a mapping"),
    (state(CANARY), "yes", "the decision must be promote, abort or empty, got 'yes'"),
    (state({"version": "v7"}), "promote", "the waiting canary of shop has no deadline"),
])
def test_bad_input_is_refused(the_state, decision, message):
    with pytest.raises(AnsibleFilterError) as err:
        blue_green_canary_gate(the_state, decision, NOW)
    assert message in str(err.value)


def test_no_decision_given_is_no_decision():
    assert blue_green_canary_gate(state(), None, NOW)["action"] == "deploy"


def test_filter_is_registered():
    assert FilterModule().filters()["blue_green_canary_gate"] is blue_green_canary_gate
