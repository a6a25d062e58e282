# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""seed.fleet.blue_green_counted: deploy counters that survive the history being cut."""
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.seed.fleet.plugins.filter.blue_green_counted import blue_green_counted


def entry(action="deploy", result="success", at="2026-12-02T10:00:00.250000Z"):
    return {"action": action, "result": result, "time": at, "version": "v"}


def test_first_deploy_counts_one():
    out = blue_green_counted({"app": "demo", "history": [entry()]}, None)
    assert out["counts"] == {"deploy:success": 1}
    assert out["last"] == {"deploy:success": 1796205600.25}
    assert out["app"] == "demo" and out["history"] == [entry()]


def test_counts_grow_from_the_old_state_not_from_the_cut_history():
    before = {"history": [entry()], "counts": {"deploy:success": 40, "deploy:rolled_back": 3},
              "last": {"deploy:success": 1.0, "deploy:rolled_back": 2.0}}
    new = {"history": [entry(result="rolled_back", at="2026-12-02T11:00:00Z")]}  # cut to one entry
    out = blue_green_counted(new, before)
    assert out["counts"] == {"deploy:rolled_back": 4, "deploy:success": 40}
    assert out["last"] == {"deploy:rolled_back": 1796209200.0, "deploy:success": 1.0}


def test_a_state_from_before_the_counters_starts_from_its_history():
    before = {"history": [entry(), entry(result="blocked"), entry(action="rollback")]}
    out = blue_green_counted({"history": before["history"] + [entry()]}, before)
    assert out["counts"] == {"deploy:blocked": 1, "deploy:success": 2, "rollback:success": 1}


def test_an_entry_without_time_is_counted_without_a_last():
    out = blue_green_counted({"history": [{"action": "rollback", "result": "success"}]}, {})
    assert out["counts"] == {"rollback:success": 1} and out["last"] == {}


@pytest.mark.parametrize("bad", [None, {}, {"history": []}, {"history": "x"}, {"history": ["x"]}])
def test_bad_input_is_a_clear_error(bad):
    with pytest.raises(AnsibleFilterError, match="blue_green_counted"):
        blue_green_counted(bad, {})
