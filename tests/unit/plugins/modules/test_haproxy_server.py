# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""seed.fleet.haproxy_server end to end against the fake HAProxy runtime API."""
from __future__ import annotations

import json
import os
import shutil
import tempfile

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.seed.fleet.plugins.modules import haproxy_server
from ansible_collections.seed.fleet.tests.unit.plugins.fake_haproxy import FMAINT, FDRAIN, FakeHAProxy

BACKENDS = {
    "be_demo": [("app1_blue", "127.0.0.1", 8081), ("app1_green", "127.0.0.1", 8082, True),
                ("app2_blue", "127.0.0.2", 8081), ("app2_green", "127.0.0.2", 8082, True)],
    "be_api": [("app1_blue", "127.0.0.1", 9081)],
}


@pytest.fixture()
def lb():
    tmp = tempfile.mkdtemp(prefix="hap", dir="/tmp")
    proxy = FakeHAProxy(BACKENDS).start(unix_path=os.path.join(tmp, "admin.sock"))
    proxy.state_file = os.path.join(tmp, "server-state")
    proxy.config_file = os.path.join(tmp, "haproxy.cfg")  # none: the host's own haproxy.cfg must not count
    yield proxy
    proxy.stop()
    shutil.rmtree(tmp, ignore_errors=True)


def run(capsys, lb, check=False, diff=True, **args):
    args.setdefault("socket", lb.unix_path)
    args.setdefault("state_file", lb.state_file)
    args.setdefault("config_file", lb.config_file)
    args["_ansible_check_mode"] = check
    args["_ansible_diff"] = diff
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exc:
            haproxy_server.main()
    return exc.value.code, json.loads(capsys.readouterr().out)


def test_switch_to_green(capsys, lb):
    rc, out = run(capsys, lb, backend="be_demo", switch_to="green")
    assert rc == 0 and out["changed"] is True
    assert lb.writes == ["set server be_demo/app1_green state ready", "set server be_demo/app2_green state ready",
                         "set server be_demo/app1_blue state drain", "set server be_demo/app2_blue state drain"]
    assert {n: s["state"] for n, s in out["after"].items()} == {
        "app1_blue": "drain", "app2_blue": "drain", "app1_green": "ready", "app2_green": "ready"}
    assert out["before"]["app1_green"]["state"] == "maint"
    assert out["diff"]["before"]["app1_green"]["state"] == "maint"
    assert out["diff"]["after"]["app1_green"]["state"] == "ready"
    # persisted: exactly what HAProxy reports now, in its own format
    with open(lb.state_file) as handle:
        dumped = handle.read()
    assert dumped == lb.show_servers_state(None) + "\n"  # the reply, blank line included
    assert out["state_file"] == lb.state_file
    assert lb.backends["be_api"][1][0].admin == 0  # other backends untouched


def test_switch_exclude_keeps_a_failed_server_out(capsys, lb):
    rc, out = run(capsys, lb, backend="be_demo", switch_to="green", switch_exclude=["app2_green"])
    assert rc == 0 and out["changed"] is True
    # app2_green was in maint already: it stays there; nothing else of green is left out
    assert lb.writes == ["set server be_demo/app1_green state ready",
                         "set server be_demo/app1_blue state drain", "set server be_demo/app2_blue state drain"]
    assert {n: s["state"] for n, s in out["after"].items()} == {
        "app1_blue": "drain", "app2_blue": "drain", "app1_green": "ready", "app2_green": "maint"}
    del lb.commands[:]
    rc, out = run(capsys, lb, backend="be_demo", switch_to="green", switch_exclude=["app1_green", "app2_green"])
    assert rc != 0 and "leaves no server of color green" in out["msg"] and lb.writes == []
    # a server of the color that is ready now goes to maint when excluded
    run(capsys, lb, backend="be_demo", switch_to="green")
    del lb.commands[:]
    rc, out = run(capsys, lb, backend="be_demo", switch_to="green", switch_exclude=["app1_green"])
    assert rc == 0 and lb.writes == ["set server be_demo/app1_green state maint"]


def test_switch_exclude_unknown_server_changes_nothing(capsys, lb):
    rc, out = run(capsys, lb, backend="be_demo", switch_to="green", switch_exclude=["app9_green"])
    assert rc != 0 and "switch_exclude names no server" in out["msg"] and "app9_green" in out["msg"]
    assert lb.writes == []


def test_check_mode_plans_the_exact_runtime_commands(capsys, lb):
    rc, out = run(capsys, lb, check=True, backend="be_demo", switch_to="green", switch_exclude=["app2_green"])
    assert rc == 0 and lb.writes == []
    assert out["runtime_commands"] == ["set server be_demo/app1_green state ready",
                                       "set server be_demo/app1_blue state drain", "set server be_demo/app2_blue state drain"]
    # what the real run sends is exactly the plan
    rc, real = run(capsys, lb, backend="be_demo", switch_to="green", switch_exclude=["app2_green"])
    assert lb.writes == out["runtime_commands"] == real["runtime_commands"]
    rc, again = run(capsys, lb, backend="be_demo", switch_to="green", switch_exclude=["app2_green"])
    assert again["changed"] is False and again["runtime_commands"] == []


def test_address_and_port_go_out_as_one_command(capsys, lb):
    rc, out = run(capsys, lb, check=True, backend="be_demo", server="app1_blue", address="10.0.0.9", port=9081)
    assert rc == 0 and out["runtime_commands"] == ["set server be_demo/app1_blue addr 10.0.0.9 port 9081"]


def test_switch_is_idempotent(capsys, lb):
    run(capsys, lb, backend="be_demo", switch_to="green")
    written = len(lb.writes)
    rc, out = run(capsys, lb, backend="be_demo", switch_to="green")
    assert rc == 0 and out["changed"] is False and len(lb.writes) == written and "state_file" not in out
    # a lost state file is written again (the runtime is not touched)
    os.unlink(lb.state_file)
    rc, out = run(capsys, lb, backend="be_demo", switch_to="green")
    assert rc == 0 and out["changed"] is True and len(lb.writes) == written and os.path.exists(lb.state_file)


def test_switch_check_mode_changes_nothing(capsys, lb):
    before = lb.state("be_demo")
    rc, out = run(capsys, lb, check=True, backend="be_demo", switch_to="green", switch_others_state="maint")
    assert rc == 0 and out["changed"] is True
    assert lb.writes == [] and lb.state("be_demo") == before and not os.path.exists(lb.state_file)
    assert out["after"]["app1_green"]["state"] == "ready" and out["after"]["app1_blue"]["state"] == "maint"


def test_switch_back_with_maint(capsys, lb):
    run(capsys, lb, backend="be_demo", switch_to="green")
    rc, out = run(capsys, lb, backend="be_demo", switch_to="blue", switch_others_state="maint")
    assert rc == 0 and out["changed"] is True
    assert lb.server("be_demo", "app1_blue").admin & (FMAINT | FDRAIN) == 0
    assert lb.server("be_demo", "app1_green").admin & FMAINT


def test_single_server_state_weight_address(capsys, lb):
    rc, out = run(capsys, lb, backend="be_demo", server="app2_blue", state="drain", weight=50,
                  address="127.0.0.9", port=9000)
    assert rc == 0 and out["changed"] is True
    assert lb.writes == ["set server be_demo/app2_blue addr 127.0.0.9 port 9000",
                         "set server be_demo/app2_blue weight 50",
                         "set server be_demo/app2_blue state drain"]
    assert out["after"]["app2_blue"] == {"state": "drain", "weight": 50, "initial_weight": 1, "address": "127.0.0.9", "port": 9000,
                                         "sessions": 0, "health": "DRAIN", "admin_flags": 8, "tracks": None}
    assert list(out["diff"]["after"]) == ["app2_blue"]
    rc, out = run(capsys, lb, backend="be_demo", server="app2_blue", state="drain", weight=50,
                  address="127.0.0.9", port=9000)
    assert rc == 0 and out["changed"] is False and len(lb.writes) == 3


def test_read_only_call(capsys, lb):
    rc, out = run(capsys, lb, backend="be_demo", server="app1_blue")
    assert rc == 0 and out["changed"] is False and lb.writes == [] and out["before"] == out["after"]


def test_tcp_socket_and_no_state_file(capsys, lb):
    rc, out = run(capsys, lb, socket=lb.tcp_address, state_file=None, backend="be_demo", server="app1_blue",
                  state="maint")
    assert rc == 0 and out["changed"] is True and "state_file" not in out
    assert not os.path.exists(lb.state_file)


def test_no_diff_unless_asked(capsys, lb):
    rc, out = run(capsys, lb, diff=False, backend="be_demo", switch_to="green")
    assert rc == 0 and "diff" not in out


def test_wait_drained_success(capsys, lb):
    lb.server("be_demo", "app1_blue").sessions = 3
    lb.drain_step = 1
    rc, out = run(capsys, lb, backend="be_demo", switch_to="green", wait_drained=True, drain_timeout=10)
    assert rc == 0 and out["after"]["app1_blue"]["sessions"] == 0


def test_wait_drained_timeout_names_servers(capsys, lb):
    lb.server("be_demo", "app1_blue").sessions = 7
    rc, out = run(capsys, lb, backend="be_demo", switch_to="green", wait_drained=True, drain_timeout=0)
    assert rc == 1 and out["failed"] is True
    assert "app1_blue (7 sessions)" in out["msg"] and "app2_blue" not in out["msg"]
    # the switch itself happened and was persisted, so the task reports it
    assert out["changed"] is True and os.path.exists(lb.state_file)


# --- errors: a clear message and nothing written ---------------------------------------

@pytest.mark.parametrize("args, message", [
    (dict(backend="be_nope", switch_to="green"), "No such backend 'be_nope'"),
    (dict(backend="be_demo", switch_to="purple"), "No server named '*_purple'"),
    (dict(backend="be_demo", server="app9_blue", state="drain"), "No such server 'app9_blue'"),
    (dict(backend="be_demo", server="app1_blue", weight=300), "weight must be between 0 and 256"),
    (dict(backend="be_demo", server="app1_blue", port=70000), "port must be between 1 and 65535"),
    (dict(backend="be_demo", server="app1_blue", address="app1.internal"), "must be an IPv4 or IPv6"),
    (dict(backend="be demo; shutdown", switch_to="green"), "backend must be a HAProxy name"),
    (dict(backend="be_demo", server="app1_blue state maint", state="ready"), "server must be a HAProxy name"),
    (dict(backend="be_demo", switch_to="gr een"), "switch_to must be a color name"),
    (dict(backend="be_demo", switch_to="green", drain_timeout=-1), "drain_timeout must be >= 0"),
    (dict(backend="be_demo", switch_to="green", state_file="/nonexistent/dir/state"), "does not exist"),
    (dict(backend="be_demo", switch_to="green", socket="/nonexistent/admin.sock"), "does not exist"),
    (dict(backend="be_demo", switch_to="green", socket="tcp://127.0.0.1"), "is not tcp://HOST:PORT"),
    (dict(backend="be_demo", switch_to="green", timeout=0), "timeout must be > 0"),
    (dict(backend="be_demo", server="app1_blue", switch_to="green"), "mutually exclusive"),
    (dict(backend="be_demo", switch_to="green", state="ready"), "mutually exclusive"),
    (dict(backend="be_demo"), "one of the following is required"),
    (dict(backend="be_demo", server="app1_blue", state="up"), "value of state must be one of"),
])
def test_bad_input_fails_and_writes_nothing(capsys, lb, args, message):
    before = lb.state("be_demo")
    rc, out = run(capsys, lb, **args)
    assert rc == 1 and out["failed"] is True and out.get("changed", False) is False
    assert message in out["msg"]
    assert lb.writes == [] and lb.state("be_demo") == before and not os.path.exists(lb.state_file)


def test_permission_denied_reply(capsys, lb):
    lb.level = "operator"
    rc, out = run(capsys, lb, backend="be_demo", switch_to="green")
    assert rc == 1 and out["changed"] is False and "level admin" in out["msg"]
    assert lb.server("be_demo", "app1_green").admin & FMAINT and not os.path.exists(lb.state_file)


def test_error_mid_switch_reports_and_persists(capsys, lb):
    # HAProxy refuses the second command: the first one did happen, so the task says so and persists it.
    lb.replies["set server be_demo/app2_green"] = "No such server.\n"
    rc, out = run(capsys, lb, backend="be_demo", switch_to="green")
    assert rc == 1 and out["changed"] is True and "No such server." in out["msg"]
    assert lb.writes == ["set server be_demo/app1_green state ready", "set server be_demo/app2_green state ready"]
    assert lb.server("be_demo", "app1_blue").admin == 0  # the old color was not drained
    with open(lb.state_file) as handle:
        assert "be_demo 2 app1_green 127.0.0.1 2 4 " in handle.read()


# --- weights: a canary step in one call -----------------------------------------------

CANARY_STEP = {"app1_green": 13, "app2_green": 13, "app1_blue": 256, "app2_blue": "256"}


def test_weights_then_the_new_servers_join_the_rotation(capsys, lb):
    lb.server("be_demo", "app1_green").admin = FDRAIN  # the idle color, health-checked in drain
    lb.server("be_demo", "app2_green").admin = FDRAIN
    rc, out = run(capsys, lb, backend="be_demo", weights=CANARY_STEP, weights_ready=["app1_green", "app2_green"])
    assert rc == 0 and out["changed"] is True, out
    # the weights first: the new servers join with their share already set
    assert lb.writes == ["set server be_demo/app1_green weight 13", "set server be_demo/app2_green weight 13",
                         "set server be_demo/app1_blue weight 256", "set server be_demo/app2_blue weight 256",
                         "set server be_demo/app1_green state ready", "set server be_demo/app2_green state ready"]
    assert {n: (s["state"], s["weight"]) for n, s in out["after"].items()} == {
        "app1_green": ("ready", 13), "app2_green": ("ready", 13), "app1_blue": ("ready", 256),
        "app2_blue": ("ready", 256)}
    assert out["state_file"] == lb.state_file  # persisted: a reload keeps the split
    # the same step again changes nothing
    rc, out = run(capsys, lb, backend="be_demo", weights=CANARY_STEP, weights_ready=["app1_green", "app2_green"])
    assert rc == 0 and out["changed"] is False and len(lb.writes) == 6


def test_initial_weights_come_back(capsys, lb):
    run(capsys, lb, backend="be_demo", weights=CANARY_STEP)
    rc, out = run(capsys, lb, backend="be_demo", weights=dict((n, "initial") for n in CANARY_STEP))
    assert rc == 0 and out["changed"] is True
    assert {n: s["weight"] for n, s in out["after"].items()} == dict((n, 1) for n in CANARY_STEP)


def test_weights_in_check_mode_send_nothing(capsys, lb):
    rc, out = run(capsys, lb, check=True, backend="be_demo", weights=CANARY_STEP)
    assert rc == 0 and out["changed"] is True and lb.writes == []
    assert out["after"]["app1_green"]["weight"] == 13


@pytest.mark.parametrize(("args", "message"), [
    ({"weights": {"app1_green": 257}}, "must be 0..256 or 'initial'"),
    ({"weights": {"app1_green": "half"}}, "must be 0..256 or 'initial'"),
    ({"weights": {"app9_green": 10}}, "No such server in backend 'be_demo': app9_green"),
    ({"weights": {"app1_green": 10}, "weights_ready": ["app1_green"], "server": "app1_blue"}, "mutually exclusive"),
    ({"server": "app1_blue", "weights_ready": ["app1_green"]}, "weights_ready"),
])
def test_bad_weights_change_nothing(capsys, lb, args, message):
    rc, out = run(capsys, lb, backend="be_demo", **args)
    assert rc == 1 and message in out["msg"], out
    assert lb.writes == []
