# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""seed.fleet.baseline_report: every control applied, partial (with the reason) or skipped, never silent."""
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.seed.fleet.plugins.filter.baseline_report import CONTROLS, baseline_report

ALL = dict((name, True) for name, _what, _gap in CONTROLS)


def test_on_a_machine_everything_enabled_applies():
    out = baseline_report(ALL, False)
    assert set(out) == set(ALL) and all(v["state"] == "applied" and v["reason"] == "" for v in out.values())


def test_in_a_container_the_kernel_controls_are_partial_with_the_reason():
    out = baseline_report(ALL, True)
    partial = sorted(k for k, v in out.items() if v["state"] == "partial")
    assert partial == ["audit", "kernel_modules", "limits", "sysctl", "timesync"]
    assert out["mounts"]["state"] == "skipped"
    assert out["kernel_modules"]["reason"].startswith("in a container: written, but the kernel and its modules are the host's")
    assert out["ssh"]["state"] == "applied"


def test_disabled_controls_are_skipped_by_name():
    out = baseline_report(dict(ALL, firewall=False), True)
    assert out["firewall"] == {"state": "skipped", "what": "nftables default-deny input",
                               "reason": "baseline_firewall_enabled is false"}


def test_templated_booleans_count_as_booleans():
    out = baseline_report(dict(ALL, ssh="True", firewall="false"), "True")
    assert out["ssh"]["state"] == "applied" and out["firewall"]["state"] == "skipped"
    assert out["sysctl"]["state"] == "partial"


def test_a_control_not_given_counts_as_disabled():
    assert baseline_report({"ssh": True})["banner"]["state"] == "skipped"


@pytest.mark.parametrize("bad, message", [(["ssh"], "expected"), ({"nosuch": True}, "unknown controls nosuch")])
def test_bad_input(bad, message):
    with pytest.raises(AnsibleFilterError, match=message):
        baseline_report(bad)


def test_a_note_from_the_run_is_added_to_a_partial_reason_only():
    notes = {"sysctl": "net.* keys set live: 0 of 21 (/proc/sys/net is read-only here)", "ssh": "ignored"}
    out = baseline_report(ALL, True, notes)
    assert out["sysctl"]["reason"].endswith("(the kernel is the host's); net.* keys set live: 0 of 21 "
                                            "(/proc/sys/net is read-only here)")
    assert out["ssh"]["reason"] == ""
    assert baseline_report(ALL, False, notes)["sysctl"]["reason"] == ""


def test_in_a_container_the_mounts_are_skipped_with_the_reason():
    out = baseline_report(ALL, True, {"mounts": "/var/tmp left alone: not a mount of its own"})
    assert out["mounts"]["state"] == "skipped"
    assert out["mounts"]["reason"] == "in a container: its mounts are the runtime's: nothing is changed"


def test_on_a_machine_mounts_with_a_path_left_alone_are_partial_and_sysctl_notes_are_ignored():
    out = baseline_report(ALL, False, {"mounts": "/var/tmp left alone: not a mount of its own", "sysctl": "x"})
    assert out["mounts"] == {"state": "partial", "what": out["mounts"]["what"],
                             "reason": "/var/tmp left alone: not a mount of its own"}
    assert out["sysctl"]["state"] == "applied" and out["sysctl"]["reason"] == ""
    assert baseline_report(ALL, False, {"mounts": ""})["mounts"]["state"] == "applied"
