# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The runtime API client against a fake HAProxy CLI on a real unix socket and TCP port."""
from __future__ import annotations

import errno
import os
import shutil
import socket
import tempfile

import pytest

from ansible_collections.seed.fleet.plugins.module_utils import _haproxy_runtime as rt
from ansible_collections.seed.fleet.tests.unit.plugins.fake_haproxy import STATE_HEADER, FakeHAProxy

BACKENDS = {
    "be_demo": [("h1_blue", "127.0.0.1", 8081), ("h1_green", "127.0.0.1", 8082, True),
                ("h2_blue", "127.0.0.2", 8081), ("h2_green", "127.0.0.2", 8082, True)],
    "be_other": [("o1_blue", "127.0.0.3", 9001)],
}

# Captured from Debian's HAProxy 2.6.12 (a green server set ready at runtime keeps the CMAINT marker 4).
REAL_STATE = "1\n" + STATE_HEADER + """
3 be_demo 1 h1_blue 127.0.0.1 0 8 1 1 0 8 2 0 6 0 0 0 - 8081 - 0 0 - - 0
3 be_demo 2 h1_green 127.0.0.1 2 4 1 1 0 1 0 2 6 0 0 0 - 8082 - 0 0 - - 0

"""


@pytest.fixture()
def fake():
    tmp = tempfile.mkdtemp(prefix="hap", dir="/tmp")  # short: unix socket paths are limited to 108 bytes
    proxy = FakeHAProxy(BACKENDS).start(unix_path=os.path.join(tmp, "admin.sock"))
    yield proxy
    proxy.stop()
    shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(params=["unix", "tcp"])
def client(request, fake):
    address = fake.unix_path if request.param == "unix" else fake.tcp_address
    return rt.RuntimeClient(address, timeout=2)


def test_parse_real_servers_state():
    rows = rt.parse_servers_state(REAL_STATE)
    assert [r["srv_name"] for r in rows] == ["h1_blue", "h1_green"]
    states = [rt.admin_state_name(int(r["srv_admin_state"])) for r in rows]
    assert states == ["drain", "ready"]


@pytest.mark.parametrize("flags, name", [(0, "ready"), (4, "ready"), (5, "maint"), (1, "maint"), (8, "drain"),
                                         (9, "maint"), (0x10, "drain"), (0x20, "maint"), (0x02, "maint")])
def test_admin_state_names(flags, name):
    assert rt.admin_state_name(flags) == name


def test_reads_servers_over_both_transports(client, fake):
    fake.server("be_demo", "h1_blue").sessions = 3
    servers = client.servers("be_demo")
    assert sorted(servers) == ["h1_blue", "h1_green", "h2_blue", "h2_green"]
    assert servers["h1_blue"] == {"state": "ready", "weight": 1, "initial_weight": 1, "address": "127.0.0.1", "port": 8081,
                                  "sessions": 3, "health": "UP", "admin_flags": 0, "tracks": None}
    assert servers["h1_green"]["state"] == "maint" and servers["h1_green"]["health"] == "MAINT"
    assert fake.writes == []


@pytest.mark.parametrize("command, error, reply", [
    ("set server be_nope/h1_blue state ready", rt.NotFoundError, "No such backend."),
    ("set server be_demo/h9_blue state ready", rt.NotFoundError, "No such server."),
    ("set server be_demo/h1_blue weight 300", rt.CommandError, "Absolute weight can only be between 0 and 256"),
    ("set server be_demo/h1_blue addr bad..addr", rt.CommandError, "Invalid addr 'bad..addr'"),
])
def test_error_replies_raise(client, command, error, reply):
    with pytest.raises(error) as exc:
        client.command(command, ok_prefixes=rt._ADDR_OK)
    assert reply in str(exc.value) and exc.value.reply.startswith(reply)


def test_unknown_command_is_an_error(client):
    with pytest.raises(rt.CommandError, match="Unknown command"):
        client.command("show nonsense")


def test_unknown_backend_on_read(client):
    with pytest.raises(rt.NotFoundError, match="No such backend 'be_nope'"):
        client.servers("be_nope")


def test_permission_denied_reply_names_the_level(fake):
    fake.level = "operator"
    with pytest.raises(rt.CommandError, match="not at 'level admin'"):
        rt.RuntimeClient(fake.unix_path).command("set server be_demo/h1_blue state drain")
    assert fake.server("be_demo", "h1_blue").admin == 0


def test_addr_replies_that_mean_success(client, fake):
    command = "set server be_demo/h1_blue addr 127.0.0.9 port 9000"
    assert client.command(command, ok_prefixes=rt._ADDR_OK).startswith("IP changed")
    assert client.command(command, ok_prefixes=rt._ADDR_OK).startswith("no need to change")
    assert fake.state("be_demo")["h1_blue"]["addr"] == "127.0.0.9"


@pytest.mark.parametrize("command", ["show stat\nset server be_demo/h1_blue state maint",
                                     "show stat; set server be_demo/h1_blue state maint"])
def test_refuses_command_injection(client, fake, command):
    with pytest.raises(rt.PlanError):
        client.execute(command)
    assert fake.commands == []


def test_missing_socket():
    with pytest.raises(rt.RuntimeAPIError, match="does not exist"):
        rt.RuntimeClient("/nonexistent/haproxy.sock").servers("be_demo")


def test_stale_socket_refused():
    tmp = tempfile.mkdtemp(prefix="hap", dir="/tmp")
    path = os.path.join(tmp, "stale.sock")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(path)
    sock.close()  # the file stays, nobody listens
    try:
        with pytest.raises(rt.RuntimeAPIError, match="nothing listens"):
            rt.RuntimeClient(path).servers("be_demo")
    finally:
        shutil.rmtree(tmp)


def test_permission_denied_on_socket(fake, monkeypatch):
    # Tests run as root, which bypasses file modes: make connect() answer EACCES as for a non-root user.
    def denied(self, address):
        raise PermissionError(errno.EACCES, "Permission denied")
    monkeypatch.setattr(socket.socket, "connect", denied)
    with pytest.raises(rt.RuntimeAPIError, match="permission denied.*become"):
        rt.RuntimeClient(fake.unix_path).servers("be_demo")


def test_tcp_refused():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    with pytest.raises(rt.RuntimeAPIError, match="connection refused"):
        rt.RuntimeClient("tcp://127.0.0.1:%d" % port, timeout=1).servers("be_demo")


def test_timeout(fake):
    fake.delay = 1.0
    with pytest.raises(rt.RuntimeAPIError, match="no answer .* within 0.2s"):
        rt.RuntimeClient(fake.tcp_address, timeout=0.2).servers("be_demo")


@pytest.mark.parametrize("address, timeout", [("relative.sock", 5), ("tcp://127.0.0.1", 5), ("tcp://:99", 5),
                                              ("tcp://127.0.0.1:99999", 5), ("", 5), ("/run/x.sock", 0)])
def test_bad_client_settings(address, timeout):
    with pytest.raises(rt.PlanError):
        rt.RuntimeClient(address, timeout)


def _servers(**states):
    return dict((name, {"state": st, "weight": 1, "address": "10.0.0.1", "port": 8081, "sessions": 0})
                for name, st in states.items())


@pytest.mark.parametrize("states, color, others, expected", [
    (dict(a_blue="ready", a_green="maint"), "green", "drain", [("a_green", "ready"), ("a_blue", "drain")]),
    (dict(a_blue="drain", a_green="ready"), "green", "drain", []),
    (dict(a_blue="maint", a_green="ready"), "green", "drain", []),  # maint is drained enough
    (dict(a_blue="drain", a_green="ready"), "green", "maint", [("a_blue", "maint")]),
    (dict(a_blue="ready", a_green="ready", b_blue="ready", b_green="drain"), "blue", "maint",
     [("a_green", "maint"), ("b_green", "maint")]),
    (dict(a_blue="maint", a_green="ready", b_blue="maint", b_green="ready"), "blue", "drain",
     [("a_blue", "ready"), ("b_blue", "ready"), ("a_green", "drain"), ("b_green", "drain")]),
])
def test_switch_plans(states, color, others, expected):
    plan = rt.Plan.for_switch("be", _servers(**states), color, others)
    assert [(s, new) for s, _f, _o, new in plan.actions] == expected
    # ready first, then the others: never fewer ready servers than before
    kinds = [new == "ready" for _s, _f, _o, new in plan.actions]
    assert kinds == sorted(kinds, reverse=True)


@pytest.mark.parametrize("kw, message", [
    (dict(state="up"), "state must be one of"),
    (dict(weight=257), "weight must be between 0 and 256"),
    (dict(weight=-1), "weight must be between 0 and 256"),
    (dict(port=0), "port must be between 1 and 65535"),
    (dict(address="app1.example"), "address must be an IPv4 or IPv6"),
])
def test_server_plan_rejects_bad_input(kw, message):
    with pytest.raises(rt.PlanError, match=message):
        rt.Plan.for_server("be", _servers(a_blue="ready"), "a_blue", **kw)


def test_server_plan_changes_only_what_differs():
    plan = rt.Plan.for_server("be", _servers(a_blue="ready"), "a_blue", state="ready", weight=1,
                              address="10.0.0.1", port=8081)
    assert plan.actions == []
    plan = rt.Plan.for_server("be", _servers(a_blue="ready"), "a_blue", state="drain", weight=5, port=9000)
    assert [(f, n) for _s, f, _o, n in plan.actions] == [("port", 9000), ("weight", 5), ("state", "drain")]


def test_wait_drained_times_out_naming_sessions(fake):
    fake.server("be_demo", "h1_blue").sessions = 4
    fake.server("be_demo", "h2_blue").sessions = 1
    clock = iter(range(0, 1000, 10)).__next__
    with pytest.raises(rt.RuntimeAPIError) as exc:
        rt.wait_drained(rt.RuntimeClient(fake.unix_path), "be_demo", ["h1_blue", "h2_blue"], 25,
                        clock=clock, sleep=lambda s: None)
    assert "h1_blue (4 sessions)" in str(exc.value) and "h2_blue (1 sessions)" in str(exc.value)


def test_wait_drained_returns_when_sessions_end(fake):
    fake.server("be_demo", "h1_blue").sessions = 3
    fake.server("be_demo", "h1_blue").admin = 0x08
    fake.drain_step = 1
    servers = rt.wait_drained(rt.RuntimeClient(fake.unix_path), "be_demo", ["h1_blue"], 30, sleep=lambda s: None)
    assert servers["h1_blue"]["sessions"] == 0


def test_state_file_written_atomically(tmp_path):
    target = tmp_path / "server-state"
    target.write_text("old")
    os.chmod(target, 0o600)
    rt.write_state_file(str(target), REAL_STATE)
    assert target.read_text() == REAL_STATE
    assert oct(os.stat(target).st_mode & 0o777) == oct(0o600)
    assert [p.name for p in tmp_path.iterdir()] == ["server-state"]


@pytest.mark.parametrize("params, message", [
    (dict(backend="be", server="a_blue", switch_exclude=["a_green"]), "switch_exclude only applies with switch_to"),
    (dict(backend="be", server="a_blue", switch_to="green"), "exactly one of server, switch_to or weights"),
    (dict(backend="be"), "exactly one of server, switch_to or weights"),
    (dict(backend="be", switch_to="green", drain_timeout=-1), "drain_timeout must be >= 0"),
    (dict(backend="be", switch_to="green", config_file="rel.cfg"), "config_file must be an absolute path"),
    (dict(backend="be", switch_to="green", state_file="/"), "is a directory"),
])
def test_validate_without_ansible_module(params, message):
    # control() is the module's flow without AnsibleModule: its own checks must hold
    with pytest.raises(rt.PlanError, match=message):
        rt.validate(params, check_mode=False)


def test_validate_read_only_and_check_mode_skip_the_state_file_check():
    params = dict(backend="be", server="a_blue", state_file="/nonexistent/dir/state")
    assert rt.validate(params, check_mode=False)["writes"] is False
    params = dict(backend="be", switch_to="green", state_file="/nonexistent/dir/state")
    assert rt.validate(params, check_mode=True)["writes"] is True
