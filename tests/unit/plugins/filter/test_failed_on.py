# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""seed.fleet.failed_on: the hosts whose registered result failed (a barrier's input)."""
from __future__ import annotations

from ansible_collections.seed.fleet.plugins.filter.failed_on import MISSING, FilterModule, failed_on

HOSTVARS = {
    "lb1": {"watch": {"failed": False, "changed": False}},
    "lb2": {"watch": {"failed": True, "msg": "3 error(s) in 40 request(s)"}},
    "lb3": {},
    "lb4": {"watch": {"skipped": True, "changed": False}},
    "lb5": {"watch": {"failed": True}},
}


def test_failed_and_missing_hosts_in_order():
    got = failed_on(["lb1", "lb2", "lb3", "lb4", "lb5"], HOSTVARS, "watch")
    assert got == {"lb2": "3 error(s) in 40 request(s)", "lb3": MISSING, "lb5": "failed"}
    assert list(got) == ["lb2", "lb3", "lb5"]


def test_nothing_failed():
    assert failed_on(["lb1", "lb4"], HOSTVARS, "watch") == {}


def test_own_message_for_a_missing_result():
    assert failed_on(["lb3", "nowhere"], HOSTVARS, "watch", missing="gone") == {"lb3": "gone", "nowhere": "gone"}


def test_filter_is_registered():
    assert FilterModule().filters()["failed_on"] is failed_on
