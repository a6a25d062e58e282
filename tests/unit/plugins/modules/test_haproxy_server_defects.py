# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue #12 (haproxy_server part): each defect as the test that failed before its fix."""
from __future__ import annotations

import os

import pytest

from ansible_collections.seed.fleet.tests.unit.plugins.fake_haproxy import FMAINT, IMAINT, RMAINT
from ansible_collections.seed.fleet.tests.unit.plugins.modules import test_haproxy_server as base

lb = base.lb  # the fake HAProxy fixture
run = base.run

READY_LIVE = "be_demo/app1_blue"


def _states(out):
    return dict((n, s["state"]) for n, s in out["after"].items())


# 1. the target color cannot become ready: refuse before sending anything ---------------

@pytest.mark.parametrize("check", [False, True])
@pytest.mark.parametrize("block", ["tracked", "unresolved"])
def test_switch_refuses_when_target_cannot_become_ready(capsys, lb, check, block):
    if block == "tracked":
        # app2_green tracks app1_green; with app1_green in maint it inherits IMAINT, which
        # "set server ... state ready" cannot clear.
        lb.track("be_demo", "app2_green", "be_api/app1_blue")
        lb.server("be_api", "app1_blue").admin = FMAINT
        reason = "IMAINT"
    else:
        lb.unresolve("be_demo", "app2_green")
        reason = "RMAINT"
    before = lb.state("be_demo")
    rc, out = run(capsys, lb, check=check, backend="be_demo", switch_to="green")
    assert rc == 1 and out["failed"] is True and out["changed"] is False
    assert "app2_green" in out["msg"] and reason in out["msg"] and "switch_exclude" in out["msg"]
    assert lb.writes == [] and lb.state("be_demo") == before and not os.path.exists(lb.state_file)
    # the live color still serves
    assert lb.server("be_demo", "app1_blue").admin == 0 and lb.server("be_demo", "app2_blue").admin == 0


def test_switch_with_blocked_target_excluded_goes_ahead(capsys, lb):
    lb.unresolve("be_demo", "app2_green")
    rc, out = run(capsys, lb, backend="be_demo", switch_to="green", switch_exclude=["app2_green"])
    assert rc == 0 and _states(out)["app1_green"] == "ready" and _states(out)["app1_blue"] == "drain"


def test_server_ready_refused_when_tracked(capsys, lb):
    lb.track("be_demo", "app2_blue", "be_demo/app1_blue")
    lb.server("be_demo", "app1_blue").admin = FMAINT
    assert lb.server("be_demo", "app2_blue").admin & IMAINT
    rc, out = run(capsys, lb, backend="be_demo", server="app2_blue", state="ready")
    assert rc == 1 and out["changed"] is False and "IMAINT" in out["msg"] and "be_demo/app1_blue" in out["msg"]
    assert lb.writes == []


def test_switch_read_back_stops_before_draining_the_live_color(capsys, lb):
    # HAProxy accepts "ready" but the server stays in maint (it became unresolved meanwhile):
    # the read-back after the target commands must stop the switch before the drain.
    lb.replies["set server be_demo/app2_green state ready"] = ""
    rc, out = run(capsys, lb, backend="be_demo", switch_to="green")
    assert rc == 1 and "app2_green" in out["msg"] and "not drained" in out["msg"]
    assert lb.writes == ["set server be_demo/app1_green state ready", "set server be_demo/app2_green state ready"]
    assert lb.server("be_demo", "app1_blue").admin == 0 and lb.server("be_demo", "app2_blue").admin == 0
    assert out["changed"] is True  # app1_green did become ready


def test_refused_switch_is_not_changed_on_rerun(capsys, lb):
    lb.unresolve("be_demo", "app2_green")
    for attempt in range(2):
        rc, out = run(capsys, lb, backend="be_demo", switch_to="green")
        assert rc == 1 and out["changed"] is False, attempt
    assert lb.writes == []


# 2. persistence: the confirm call writes the state file when it differs from the runtime -

def test_confirm_call_persists_a_switch_sent_by_someone_else(capsys, lb):
    # the deploy sends the planned commands through socat, then runs the module to confirm
    rc, plan = run(capsys, lb, check=True, backend="be_demo", switch_to="green")
    for command in plan["runtime_commands"]:
        lb.handle_line(command)
    rc, out = run(capsys, lb, backend="be_demo", switch_to="green")
    assert rc == 0 and out["runtime_commands"] == []
    assert out["changed"] is True and out["state_file"] == lb.state_file
    with open(lb.state_file) as handle:
        assert "app1_green 127.0.0.1 2 4 " in handle.read()
    rc, again = run(capsys, lb, backend="be_demo", switch_to="green")
    assert again["changed"] is False and "state_file" not in again


def test_stale_state_file_is_replaced_even_without_runtime_change(capsys, lb):
    run(capsys, lb, backend="be_demo", switch_to="green")
    stale = open(lb.state_file).read()
    run(capsys, lb, state_file="", backend="be_demo", switch_to="blue")  # not persisted
    rc, out = run(capsys, lb, backend="be_demo", switch_to="blue")
    assert out["changed"] is True and open(lb.state_file).read() != stale


def test_state_file_ports_come_from_the_configuration(capsys, lb, tmp_path):
    config = tmp_path / "haproxy.cfg"
    config.write_text("backend be_demo\n    server app1_blue 127.0.0.1:7081 check\n")
    rc, out = run(capsys, lb, backend="be_demo", switch_to="green", config_file=str(config))
    assert rc == 0
    text = open(lb.state_file).read()
    assert " app1_blue 127.0.0.1 " in text
    row = [line.split() for line in text.splitlines() if " app1_blue " in line and "be_demo" in line][0]
    assert row[18] == "7081"


# 3. a port-only change on a server without an address ----------------------------------

def test_port_change_without_address_refused_before_sending(capsys, lb):
    lb.unresolve("be_demo", "app2_blue")
    rc, out = run(capsys, lb, backend="be_demo", server="app2_blue", port=9000)
    assert rc == 1 and out["changed"] is False and "no address" in out["msg"] and "address" in out["msg"]
    assert lb.writes == [] and lb.server("be_demo", "app2_blue").admin & RMAINT


def test_port_change_with_address_on_unresolved_server_is_sent(capsys, lb):
    lb.unresolve("be_demo", "app2_blue")
    rc, out = run(capsys, lb, backend="be_demo", server="app2_blue", address="127.0.0.7", port=9000)
    assert rc == 0 and lb.writes == ["set server be_demo/app2_blue addr 127.0.0.7 port 9000"]


# 4. smaller ones -------------------------------------------------------------------------

def test_switch_exclude_with_server_is_an_error(capsys, lb):
    rc, out = run(capsys, lb, backend="be_demo", server="app1_blue", state="drain", switch_exclude=["app1_green"])
    assert rc == 1 and "switch_exclude" in out["msg"] and "switch_to" in out["msg"] and lb.writes == []


def test_state_file_that_is_a_directory_is_refused_before_the_switch(capsys, lb, tmp_path):
    rc, out = run(capsys, lb, backend="be_demo", switch_to="green", state_file=str(tmp_path))
    assert rc == 1 and "state_file" in out["msg"] and "directory" in out["msg"]
    assert lb.writes == [] and out["changed"] is False


@pytest.mark.parametrize("check, args", [
    (False, dict(server="app1_blue")),
    (True, dict(switch_to="green")),
    (True, dict(server="app1_blue", state="maint")),
])
def test_read_only_and_check_mode_do_not_need_the_state_directory(capsys, lb, check, args):
    rc, out = run(capsys, lb, check=check, backend="be_demo", state_file="/nonexistent/haproxy/server-state", **args)
    assert rc == 0, out.get("msg")
    assert lb.writes == []


def test_check_mode_after_does_not_copy_health_and_sessions(capsys, lb):
    lb.server("be_demo", "app1_blue").sessions = 5
    rc, out = run(capsys, lb, check=True, backend="be_demo", switch_to="green")
    assert out["before"]["app1_blue"]["sessions"] == 5 and out["before"]["app1_green"]["health"] == "MAINT"
    for name, info in out["after"].items():
        assert "health" not in info and "sessions" not in info, name
    assert out["after"]["app1_green"]["state"] == "ready"
