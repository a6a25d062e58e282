# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bad input for seed.fleet.haproxy_server: a clean failure naming the problem, nothing changed.

Every case runs the module end to end against the fake runtime API and asserts: the module
exits through fail_json (no traceback), the message names the option or the problem, no
``set`` command reached HAProxy, no server changed and no state file was written.
"""
from __future__ import annotations

import errno
import os
import socket

import pytest

from ansible_collections.seed.fleet.tests.unit.plugins.modules import test_haproxy_server as base

lb = base.lb  # the fake HAProxy fixture
run = base.run

S = dict(backend="be_demo", server="app1_blue")  # one server
W = dict(backend="be_demo", switch_to="green")  # a switch

CASES = [
    # wrong types
    ("weight-str", dict(S, weight="heavy"), "weight"),
    ("weight-list", dict(S, weight=[1]), "weight"),
    ("port-str", dict(S, port="http"), "port"),
    ("port-list", dict(S, port=[80]), "port"),
    ("timeout-str", dict(W, timeout="soon"), "timeout"),
    ("timeout-inf", dict(W, timeout="inf"), "timeout"),
    ("timeout-nan", dict(W, timeout="nan"), "timeout"),
    ("timeout-huge", dict(W, timeout=10 ** 12), "timeout"),
    ("wait-drained-str", dict(W, wait_drained="maybe"), "wait_drained"),
    ("drain-timeout-str", dict(W, drain_timeout="long"), "drain_timeout"),
    ("switch-exclude-dict", dict(W, switch_exclude={"a": 1}), "switch_exclude"),
    ("backend-list", dict(W, backend=["be_demo", "x"]), "backend"),
    ("unknown-option", dict(W, color="green"), "color"),
    # choices
    ("state-unknown", dict(S, state="up"), "state"),
    ("state-upper", dict(S, state="READY"), "state"),
    ("others-ready", dict(W, switch_others_state="ready"), "switch_others_state"),
    # missing and mutually exclusive options
    ("no-backend", dict(switch_to="green"), "backend"),
    ("neither-server-nor-switch", dict(backend="be_demo"), "server, switch_to"),
    ("server-and-switch", dict(W, server="app1_blue"), "mutually exclusive"),
    ("switch-and-state", dict(W, state="ready"), "mutually exclusive"),
    ("switch-and-weight", dict(W, weight=1), "mutually exclusive"),
    ("switch-and-address", dict(W, address="127.0.0.1"), "mutually exclusive"),
    ("switch-and-port", dict(W, port=8081), "mutually exclusive"),
    ("exclude-with-server", dict(S, state="drain", switch_exclude=["app1_green"]), "switch_exclude"),
    # empty strings
    ("backend-empty", dict(W, backend=""), "backend"),
    ("server-empty", dict(backend="be_demo", server="", state="drain"), "server"),
    ("switch-to-empty", dict(backend="be_demo", switch_to=""), "switch_to"),
    ("state-empty", dict(S, state=""), "state"),
    ("address-empty", dict(S, address=""), "address"),
    ("socket-empty", dict(W, socket=""), "socket"),
    ("exclude-empty-name", dict(W, switch_exclude=[""]), "switch_exclude"),
    # numbers out of range
    ("weight-257", dict(S, weight=257), "weight"),
    ("weight-negative", dict(S, weight=-1), "weight"),
    ("weight-huge", dict(S, weight=10 ** 12), "weight"),
    ("port-0", dict(S, port=0), "port"),
    ("port-negative", dict(S, port=-80), "port"),
    ("port-65536", dict(S, port=65536), "port"),
    ("port-huge", dict(S, port=10 ** 10), "port"),
    ("drain-timeout-negative", dict(W, drain_timeout=-5), "drain_timeout"),
    ("timeout-0", dict(W, timeout=0), "timeout"),
    ("timeout-negative", dict(W, timeout=-1), "timeout"),
    # names: unicode, injection, length
    ("backend-unicode", dict(W, backend="bé_demo"), "backend"),
    ("server-unicode", dict(backend="be_demo", server="app1_blüe", state="drain"), "server"),
    ("color-unicode", dict(backend="be_demo", switch_to="grün"), "switch_to"),
    ("backend-newline", dict(W, backend="be_demo\nset server be_demo/app1_blue state maint"), "backend"),
    ("server-semicolon", dict(backend="be_demo", server="app1_blue;shutdown sessions", state="drain"), "server"),
    ("color-semicolon", dict(backend="be_demo", switch_to="green;x"), "switch_to"),
    ("exclude-semicolon", dict(W, switch_exclude=["app1_green;set server x"]), "switch_exclude"),
    ("backend-long", dict(W, backend="b" * 5000), "No such backend"),
    # addresses
    ("address-name", dict(S, address="app1.internal"), "address"),
    ("address-octet", dict(S, address="999.1.1.1"), "address"),
    ("address-cidr", dict(S, address="10.0.0.1/24"), "address"),
    ("address-bad-v6", dict(S, address="::g"), "address"),
    # unknown backend, server, color
    ("backend-unknown", dict(W, backend="be_nope"), "No such backend 'be_nope'"),
    ("server-unknown", dict(backend="be_demo", server="app9_blue", state="drain"), "No such server 'app9_blue'"),
    ("color-unknown", dict(backend="be_demo", switch_to="purple"), "No server named '*_purple'"),
    ("exclude-unknown", dict(W, switch_exclude=["app9_green"]), "app9_green"),
    ("exclude-everything", dict(W, switch_exclude=["app1_green", "app2_green"]), "leaves no server"),
    # state file and configuration paths
    ("state-file-relative", dict(W, state_file="server-state"), "state_file"),
    ("state-file-directory", dict(W, state_file="/tmp"), "state_file"),
    ("state-file-missing-dir", dict(W, state_file="/nonexistent/dir/state"), "does not exist"),
    ("config-file-relative", dict(W, config_file="haproxy.cfg"), "config_file"),
    # the runtime API endpoint
    ("socket-missing", dict(W, socket="/nonexistent/admin.sock"), "does not exist"),
    ("socket-relative", dict(W, socket="admin.sock"), "absolute"),
    ("socket-tcp-no-port", dict(W, socket="tcp://127.0.0.1"), "tcp://HOST:PORT"),
    ("socket-tcp-bad-port", dict(W, socket="tcp://127.0.0.1:99999"), "tcp://HOST:PORT"),
    ("socket-regular-file", dict(W, socket="@regular"), "is not a unix socket"),
    ("socket-directory", dict(W, socket="@directory"), "is not a unix socket"),
    ("socket-stale", dict(W, socket="@stale"), "nothing listens"),
    ("socket-tcp-closed", dict(W, socket="@closed"), "connection refused"),
    ("socket-no-permission", dict(W, socket="@denied"), "permission denied"),
    ("socket-not-admin", dict(W, socket="@operator"), "level admin"),
]


def _endpoint(lb, kind, tmp, monkeypatch):
    if kind == "@regular":
        path = os.path.join(tmp, "regular")
        with open(path, "w") as handle:
            handle.write("not a socket")
        return path
    if kind == "@directory":
        path = os.path.join(tmp, "dir.sock")
        os.mkdir(path)
        return path
    if kind == "@stale":
        path = os.path.join(tmp, "stale.sock")
        sock = socket.socket(socket.AF_UNIX)
        sock.bind(path)
        sock.close()
        return path
    if kind == "@closed":
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        sock.close()
        return "tcp://127.0.0.1:%d" % port
    if kind == "@denied":
        # tests run as root, which ignores file modes: answer connect() as for another user
        def denied(self, address):
            raise PermissionError(errno.EACCES, "Permission denied")
        monkeypatch.setattr(socket.socket, "connect", denied)
        return lb.unix_path
    if kind == "@operator":
        lb.level = "operator"
        return lb.unix_path
    raise AssertionError(kind)


@pytest.mark.parametrize("args, fragment", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_fails_cleanly_and_changes_nothing(capsys, lb, monkeypatch, args, fragment):
    args = dict(args)
    if str(args.get("socket", "")).startswith("@"):
        args["socket"] = _endpoint(lb, args["socket"], os.path.dirname(lb.state_file), monkeypatch)
    before = dict((b, lb.state(b)) for b in lb.backends)
    rc, out = run(capsys, lb, **args)
    assert rc == 1 and out["failed"] is True, out
    assert out.get("changed", False) is False
    assert "Traceback" not in out["msg"] and "exception" not in out
    assert fragment in out["msg"], out["msg"]
    assert lb.writes == [] and dict((b, lb.state(b)) for b in lb.backends) == before
    assert not os.path.exists(lb.state_file)


def test_the_table_is_big_enough():
    assert len(CASES) >= 50 and len(set(c[0] for c in CASES)) == len(CASES)
