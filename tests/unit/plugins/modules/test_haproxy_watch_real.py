# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""seed.fleet.haproxy_watch against Debian's real HAProxy in HTTP mode (issue #16).

A frontend on 127.0.0.1 and one backend just switched to green (blue in drain): green is an
HTTP server that answers 500 after its first requests, a client sends a request every 10 ms
through the frontend. The watch must see the first 500 in HAProxy's counters and put blue
back within about one interval, so the client's errors last well under a second. Skipped
only where the haproxy binary is not installed (lab/images/host-deps.sh installs it).
"""
from __future__ import annotations

import http.client
import http.server
import os
import shutil
import subprocess
import tempfile
import threading
import time

import pytest

from ansible_collections.seed.fleet.plugins.module_utils import _haproxy_runtime as rt
from ansible_collections.seed.fleet.plugins.module_utils import _haproxy_watch as hw
from ansible_collections.seed.fleet.tests.unit.plugins.modules.test_haproxy_server_real import HAPROXY, free_port

pytestmark = pytest.mark.skipif(HAPROXY is None, reason="Debian's haproxy is not installed (make deps installs it)")

CONFIG = """
global
    stats socket {tmp}/admin.sock mode 600 level admin

defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s

frontend fe
    bind 127.0.0.1:{fe}
    default_backend be_demo

backend be_demo
    server a_blue 127.0.0.1:{blue}
    server a_green 127.0.0.1:{green}
"""


def app(color, fail_after=None):
    """An HTTP server answering its color, and 500 from request fail_after+1 on."""
    served = {"n": 0}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            served["n"] += 1
            bad = fail_after is not None and served["n"] > fail_after
            body = (b"broken" if bad else color.encode())
            self.send_response(500 if bad else 200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture()
def proxy():
    tmp = tempfile.mkdtemp(prefix="hapw", dir="/tmp")
    blue, green = app("blue"), app("green", fail_after=30)
    fe = free_port()
    cfg = os.path.join(tmp, "haproxy.cfg")
    with open(cfg, "w") as handle:
        handle.write(CONFIG.format(tmp=tmp, fe=fe, blue=blue.server_address[1], green=green.server_address[1]))
    proc = subprocess.Popen([HAPROXY, "-f", cfg], cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = rt.RuntimeClient(os.path.join(tmp, "admin.sock"), timeout=5)
    deadline = time.monotonic() + 15
    while True:
        try:
            client.execute("show info")
            break
        except rt.RuntimeAPIError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    client.command("set server be_demo/a_blue state drain")  # what the switch to green did
    yield {"fe": fe, "client": client, "socket": client.target}
    proc.kill()
    proc.wait(timeout=10)
    blue.shutdown()
    green.shutdown()
    shutil.rmtree(tmp, ignore_errors=True)


def test_the_first_500_falls_back_within_one_interval(proxy):
    answers, stop = [], threading.Event()

    def users():
        while not stop.is_set():
            conn = http.client.HTTPConnection("127.0.0.1", proxy["fe"], timeout=5)
            try:
                conn.request("GET", "/")
                reply = conn.getresponse()
                answers.append((time.monotonic(), reply.status, reply.read().decode()))
            finally:
                conn.close()
            time.sleep(0.01)

    thread = threading.Thread(target=users, daemon=True)
    thread.start()
    try:
        ok, out = hw.watch(dict(socket=proxy["socket"], timeout=5.0, backend="be_demo", servers=["a_green"],
                                fallback=["a_blue"], seconds=20.0, interval=0.25, max_errors=0, max_down=0))
        time.sleep(0.5)
    finally:
        stop.set()
        thread.join(timeout=10)
    assert not ok and out["reverted"] and out["commands"] == ["set server be_demo/a_blue state ready",
                                                              "set server be_demo/a_green state maint"]
    assert out["watched_seconds"] < 20
    bad = [t for t, status, _body in answers if status != 200]
    assert bad, "green never failed"
    # Users saw errors for at most one interval (plus a request in flight), then blue.
    print("errors seen by users: %d over %.3f s" % (len(bad), bad[-1] - bad[0]))
    assert bad[-1] - bad[0] <= 0.5, (len(bad), bad[-1] - bad[0])
    after = [body for t, status, body in answers if t > bad[-1]]
    assert after and set(after) == {"blue"}
    servers = proxy["client"].servers("be_demo")
    assert servers["a_blue"]["state"] == "ready" and servers["a_green"]["state"] == "maint"
