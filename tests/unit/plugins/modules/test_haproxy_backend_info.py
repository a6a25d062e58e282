# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""seed.fleet.haproxy_backend_info against the fake HAProxy runtime API: it reads, waits until HAProxy's
checks see servers up, reports the ones that stay down, and never writes."""
from __future__ import annotations

import http.server
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.seed.fleet.plugins.module_utils import _haproxy_runtime as rt
from ansible_collections.seed.fleet.plugins.modules import haproxy_backend_info
from ansible_collections.seed.fleet.tests.unit.plugins.fake_haproxy import FDRAIN, Clock, FakeHAProxy
from ansible_collections.seed.fleet.tests.unit.plugins.modules.test_haproxy_server_real import HAPROXY, free_port

BACKENDS = {"be_demo": [("app1_blue", "127.0.0.1", 8081), ("app1_green", "127.0.0.1", 8082, True),
                        ("app2_blue", "127.0.0.2", 8081), ("app2_green", "127.0.0.2", 8082, True)]}
GREEN = ["app1_green", "app2_green"]


@pytest.fixture()
def lb():
    """Green was just put into drain for its checks; app2_green's checks still fail."""
    tmp = tempfile.mkdtemp(prefix="hap", dir="/tmp")
    proxy = FakeHAProxy(BACKENDS).start(unix_path=os.path.join(tmp, "admin.sock"))
    for name in GREEN:
        proxy.server("be_demo", name).admin = FDRAIN
    proxy.server("be_demo", "app2_green").up = False
    yield proxy
    proxy.stop()
    shutil.rmtree(tmp, ignore_errors=True)


def params(lb, **kw):
    out = dict(socket=lb.unix_path, timeout=5.0, backend="be_demo", wait_up=GREEN, wait_seconds=10.0, interval=0.5)
    out.update(kw)
    return out


@pytest.mark.parametrize("health, up", [
    ("UP", True), ("UP 1/3", True), ("DRAIN", True), ("no check", True),
    ("DOWN", False), ("DOWN 1/2", False), ("MAINT", False), ("MAINT (via be/srv)", False), ("NOLB", False),
    ("", False), (None, False),
])
def test_what_counts_as_up(health, up):
    assert rt.is_up(health) is up


def test_not_up_names_the_status_or_absent():
    servers = {"a": {"health": "UP"}, "b": {"health": "DOWN 1/2"}, "c": {"health": None}}
    assert rt.not_up(servers, ["a", "b", "c", "d"]) == {"b": "DOWN 1/2", "c": "unknown", "d": "absent"}
    assert rt.not_up(servers, []) == {}


def test_waits_until_the_checks_see_every_server_up(lb):
    clock = Clock([(2.0, lambda: setattr(lb.server("be_demo", "app2_green"), "up", True))])
    ok, out = haproxy_backend_info.read(params(lb), clock=clock, sleep=clock.sleep)
    assert ok and out["not_up"] == {} and out["waited_seconds"] == 2.0 and not out["changed"]
    assert out["servers"]["app2_green"]["health"] == "DRAIN" and out["servers"]["app1_blue"]["state"] == "ready"
    assert max(clock.slept) <= 0.5 and lb.writes == []


def test_a_server_that_stays_down_is_reported_not_failed(lb):
    clock = Clock()
    ok, out = haproxy_backend_info.read(params(lb, wait_seconds=3), clock=clock, sleep=clock.sleep)
    assert ok and out["not_up"] == {"app2_green": "DOWN"} and out["waited_seconds"] == 3.0
    assert sum(clock.slept) == 3.0 and lb.writes == []


def test_an_unknown_server_is_absent_and_waited_for(lb):
    clock = Clock()
    ok, out = haproxy_backend_info.read(params(lb, wait_up=["app1_green", "app9_green"], wait_seconds=1),
                                        clock=clock, sleep=clock.sleep)
    assert ok and out["not_up"] == {"app9_green": "absent"}


def test_without_wait_up_it_reads_once(lb):
    clock = Clock()
    ok, out = haproxy_backend_info.read(params(lb, wait_up=[], wait_seconds=30), clock=clock, sleep=clock.sleep)
    assert ok and out["not_up"] == {} and clock.slept == [] and sorted(out["servers"]) == [
        "app1_blue", "app1_green", "app2_blue", "app2_green"]


@pytest.mark.parametrize("kw, msg", [
    ({"backend": "be demo"}, "backend must be a HAProxy name"),
    ({"wait_up": ["app1_green; shutdown"]}, "server must be a HAProxy name"),
    ({"wait_seconds": -1}, "wait_seconds must be between 0 and 3600"),
    ({"wait_seconds": float("nan")}, "wait_seconds must be between 0 and 3600"),
    ({"interval": 0}, "interval must be between 0.05 and 60"),
    ({"socket": "relative.sock"}, "must be an absolute unix socket path"),
    ({"backend": "be_nope"}, "No such backend"),
])
def test_bad_input_is_a_clear_error_and_sends_nothing(lb, kw, msg):
    ok, out = haproxy_backend_info.read(params(lb, **kw), clock=Clock(), sleep=Clock().sleep)
    assert not ok and msg in out["msg"] and lb.writes == []


def test_a_socket_that_does_not_answer_is_a_clear_error(lb):
    ok, out = haproxy_backend_info.read(params(lb, socket=lb.unix_path + ".missing"))
    assert not ok and "servers" not in out and out["msg"]


def run(capsys, check=False, **args):
    args["_ansible_check_mode"] = check
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exc:
            haproxy_backend_info.main()
    return exc.value.code, json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("check", [False, True])
def test_module_end_to_end(capsys, lb, check):
    rc, out = run(capsys, check=check, socket=lb.unix_path, backend="be_demo", wait_up=GREEN, wait_seconds=0.3,
                  interval=0.1)
    assert rc == 0 and out["changed"] is False and out["not_up"] == {"app2_green": "DOWN"}
    assert 0.3 <= out["waited_seconds"] < 2 and lb.writes == []
    rc, out = run(capsys, socket=lb.unix_path, backend="be_nope")
    assert rc == 1 and out["failed"] and "No such backend" in out["msg"]


REAL_CONFIG = """
global
    stats socket {tmp}/admin.sock mode 600 level admin

defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s

backend be_demo
    option httpchk GET /
    server a_green 127.0.0.1:{port} check inter 200ms fall 1 rise 1
"""


def test_real_haproxy_checks_turn_up_when_the_app_answers():
    """Debian's HAProxy checks a port where nothing listens (DOWN), then an app starts there: the wait ends
    within a check interval or two of it, and a server that never answers is reported, not failed."""
    if HAPROXY is None:
        pytest.skip("Debian's haproxy is not installed (make deps installs it)")
    tmp = tempfile.mkdtemp(prefix="hapi", dir="/tmp")
    port = free_port()
    with open(os.path.join(tmp, "haproxy.cfg"), "w") as handle:
        handle.write(REAL_CONFIG.format(tmp=tmp, port=port))
    proc = subprocess.Popen([HAPROXY, "-f", os.path.join(tmp, "haproxy.cfg")], cwd=tmp,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    app = None
    try:
        args = dict(socket=os.path.join(tmp, "admin.sock"), timeout=5.0, backend="be_demo", wait_up=["a_green"],
                    interval=0.1)
        deadline = time.monotonic() + 15
        while not os.path.exists(args["socket"]) and time.monotonic() < deadline:
            time.sleep(0.05)
        ok, out = haproxy_backend_info.read(dict(args, wait_seconds=1.0))
        assert ok and out["not_up"] == {"a_green": out["servers"]["a_green"]["health"]}
        assert out["not_up"]["a_green"].startswith("DOWN") and 1.0 <= out["waited_seconds"] < 3

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        app = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        threading.Thread(target=app.serve_forever, daemon=True).start()
        ok, out = haproxy_backend_info.read(dict(args, wait_seconds=10.0))
        assert ok and out["not_up"] == {} and out["servers"]["a_green"]["health"].startswith("UP")
        assert out["waited_seconds"] < 2, out["waited_seconds"]
    finally:
        proc.kill()
        proc.wait(timeout=10)
        if app is not None:
            app.shutdown()
        shutil.rmtree(tmp, ignore_errors=True)
