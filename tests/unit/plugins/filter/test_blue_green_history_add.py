# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""seed.fleet.blue_green_history_add: one frame for every history entry (deploy, failed deploy, rollback)."""
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.seed.fleet.plugins.filter.blue_green_counted import blue_green_counted
from ansible_collections.seed.fleet.plugins.filter.blue_green_history_add import FilterModule, blue_green_history_add

NOW = 1796205600.25  # 2026-12-02T10:00:00.250000Z
LIVE = {"app": "demo", "live": {"color": "blue", "version": "v1", "image": "demo:v1"},
        "history": [{"action": "deploy", "result": "success", "version": "v1"}]}


def add(state="live", entry=None, **kw):
    state = LIVE if state == "live" else state
    kw.setdefault("size", 50)
    kw.setdefault("by", "ops@ctl")
    kw.setdefault("now", NOW)
    entry = entry or {"action": "deploy", "result": "success", "version": "v2", "color": "green"}
    return blue_green_history_add(state, entry, **kw)


def test_a_deploy_gets_the_frame_and_its_times():
    out = add(entry={"action": "deploy", "result": "success", "strategy": "canary", "version": "v2", "color": "green",
                     "digest": "", "failed_hosts": {}},
              started=str(NOW - 42.04), switch_started=NOW - 2.5, switched_at=NOW - 2.3)
    assert out[:-1] == LIVE["history"]
    assert out[-1] == {"time": "2026-12-02T10:00:00.250000Z", "app": "demo", "action": "deploy", "result": "success",
                       "strategy": "canary", "version": "v2", "color": "green", "digest": None, "failed_hosts": {},
                       "from_version": "v1", "from_color": "blue", "duration_seconds": 42.0,
                       "switch_started": 1796205597.75, "switch_seconds": 0.2, "by": "ops@ctl"}


def test_failed_hosts_make_a_success_partial_and_nothing_else():
    entry = {"action": "deploy", "result": "success", "failed_hosts": {"app2": "gate"}}
    assert add(entry=entry)[-1]["result"] == "partial"
    entry = {"action": "deploy", "result": "rolled_back", "failed_hosts": {"app2": "gate"}, "reason": "5xx"}
    got = add(entry=entry)[-1]
    assert got["result"] == "rolled_back" and got["reason"] == "5xx"


def test_a_first_deploy_comes_from_nothing_and_a_failed_one_has_no_times():
    got = add(state={"app": "demo", "live": None, "previous": None, "history": []})
    assert len(got) == 1 and got[0]["from_version"] is None and got[0]["from_color"] is None
    assert "duration_seconds" not in got[0] and "switch_seconds" not in got[0] and "digest" not in got[0]


def test_a_rollback_comes_from_the_live_deploy():
    state = dict(LIVE, previous={"color": "green", "version": "v0"})
    got = add(state=state, entry={"action": "rollback", "result": "success", "version": "v0", "color": "green",
                                  "digest": "sha256:ab"}, switch_started=NOW - 1, switched_at=NOW - 0.75)[-1]
    assert (got["from_version"], got["from_color"], got["digest"], got["switch_seconds"]) == ("v1", "blue", "sha256:ab", 0.25)


def test_the_newest_entries_are_kept_and_the_counters_still_count_them():
    state = dict(LIVE, history=[{"action": "deploy", "result": "success", "version": "v%d" % i} for i in range(5)])
    out = add(state=state, size=3)
    assert [e["version"] for e in out] == ["v3", "v4", "v2"]
    counted = blue_green_counted(dict(state, history=out), dict(state, counts={"deploy:success": 5}, last={}))
    assert counted["counts"] == {"deploy:success": 6}


def test_the_input_state_is_not_changed():
    before = repr(LIVE)
    add()
    assert repr(LIVE) == before


@pytest.mark.parametrize("state, entry, kw, msg", [
    ({}, None, {}, "the state read before"),
    (None, None, {}, "the state read before"),
    (LIVE, {"action": "redeploy", "result": "success"}, {}, "action"),
    (LIVE, {"action": "deploy"}, {}, "result"),
    (LIVE, None, {"size": 0}, "size must be 1 or more"),
    (LIVE, None, {"size": "many"}, "size must be 1 or more"),
    (LIVE, None, {"now": None}, "now is required"),
    (LIVE, None, {"now": "yesterday"}, "now must be a Unix time"),
    (LIVE, None, {"started": float("nan")}, "started must be a Unix time"),
    (LIVE, None, {"switched_at": -1, "switch_started": 1}, "switched_at must be a Unix time"),
])
def test_bad_input_is_a_clear_error(state, entry, kw, msg):
    with pytest.raises(AnsibleFilterError, match=msg):
        add(state=state, entry=entry, **kw)


def test_filter_is_registered():
    assert FilterModule().filters()["blue_green_history_add"] is blue_green_history_add
