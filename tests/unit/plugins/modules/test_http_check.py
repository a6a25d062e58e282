# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""seed.fleet.http_check against a real HTTP server on 127.0.0.1 that fails in scripted ways."""
from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.seed.fleet.plugins.module_utils import _http_probe
from ansible_collections.seed.fleet.plugins.module_utils._http_probe import HttpProbe, ProbeError
from ansible_collections.seed.fleet.plugins.modules import http_check


class Script:
    """Responses served in order; the last one repeats. Each step is a dict:
    status, body, headers, delay (s before answering), reset (close without answering)."""

    def __init__(self):
        self.steps = [{"status": 200, "body": "ok"}]
        self.seen = []
        self.lock = threading.Lock()

    def set(self, *steps):
        with self.lock:
            self.steps = [dict(s) for s in steps]
            self.seen = []

    def next(self, request):
        with self.lock:
            self.seen.append(request)
            return self.steps.pop(0) if len(self.steps) > 1 else self.steps[0]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # keep pytest output clean
        pass

    def _serve(self):
        script = self.server.script
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        step = script.next({"method": self.command, "path": self.path, "headers": dict(self.headers)})
        if step.get("delay"):
            time.sleep(step["delay"])
        if step.get("reset"):
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        body = step.get("body", "").encode()
        self.send_response(step.get("status", 200))
        for name, value in step.get("headers", {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_POST = do_HEAD = do_PUT = _serve


@pytest.fixture(scope="module")
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    httpd.script = Script()
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture()
def srv(server):
    server.script.set({"status": 200, "body": "ok"})
    server.url = "http://127.0.0.1:%d" % server.server_address[1]
    return server


def closed_port():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def probe(url, **kw):
    kw.setdefault("interval", 0.01)
    kw.setdefault("deadline", 5)
    return HttpProbe(url, **kw).run()


# --- the probe ------------------------------------------------------------

def test_first_attempt_healthy(srv):
    res = probe(srv.url + "/healthz")
    assert res["ok"] and res["attempts"] == 1 and res["successes"] == 1
    assert res["status"] == 200 and res["last_failure"] is None
    stats = res["latency_ms"]
    assert set(stats) == {"min", "avg", "max", "p50", "p95"}
    assert 0 <= stats["min"] <= stats["p50"] <= stats["p95"] <= stats["max"]
    assert srv.script.seen[0]["path"] == "/healthz"


def test_retries_until_healthy(srv):
    srv.script.set({"status": 503}, {"status": 503}, {"status": 200})
    res = probe(srv.url)
    assert res["ok"] and res["attempts"] == 3
    assert res["last_failure"] == "status 503 not in [200]"


@pytest.mark.parametrize(
    "steps, successes, attempts",
    [
        ([200], 3, 3),
        ([200, 500, 200, 200, 200], 3, 5),  # a failure resets the streak
        ([500, 200, 500, 200, 200], 2, 5),
    ],
)
def test_consecutive_successes(srv, steps, successes, attempts):
    srv.script.set(*({"status": s} for s in steps))
    res = probe(srv.url, successes=successes)
    assert res["ok"] and res["attempts"] == attempts and res["successes"] == successes


@pytest.mark.parametrize(
    "step, kw, reason",
    [
        ({"status": 500}, {}, "status 500 not in [200]"),
        ({"status": 200}, {"status_codes": [204]}, "status 200 not in [204]"),
        ({"status": 200, "body": "version=v1"}, {"body_regex": "version=v2"}, "body does not match 'version=v2'"),
        ({"status": 200}, {"expect_headers": {"X-Colour": "green"}}, "header X-Colour missing"),
        ({"status": 200, "headers": {"X-Colour": "blue"}}, {"expect_headers": {"x-colour": "^green$"}},
         "header x-colour='blue' does not match '^green$'"),
        ({"reset": True}, {}, "connection error"),
        ({"delay": 0.5}, {"timeout": 0.1}, "timeout after"),
    ],
)
def test_failure_reasons(srv, step, kw, reason):
    srv.script.set(step)
    res = probe(srv.url + "/x", deadline=0.6, interval=0.1, **kw)
    assert not res["ok"]
    assert reason in res["last_failure"]
    assert srv.url + "/x" in res["msg"] and reason in res["msg"]


@pytest.mark.parametrize(
    "step, kw",
    [
        ({"status": 200, "body": "colour=green version=v2"}, {"body_regex": r"version=v\d"}),
        ({"status": 204}, {"status_codes": [200, 204]}),
        ({"status": 200, "headers": {"Content-Type": "text/plain; charset=utf-8"}},
         {"expect_headers": {"content-type": "^text/plain"}}),
        ({"status": 301, "headers": {"Location": "/elsewhere"}}, {"status_codes": [301]}),
    ],
)
def test_expectations_met(srv, step, kw):
    srv.script.set(step)
    assert probe(srv.url, **kw)["ok"]


def test_connection_refused():
    url = "http://127.0.0.1:%d/healthz" % closed_port()
    res = probe(url, deadline=0.3, interval=0.05)
    assert not res["ok"] and res["status"] is None
    assert res["last_failure"].startswith("connection error")
    assert url in res["msg"]


def test_deadline_bounds_the_run(srv):
    srv.script.set({"status": 500, "delay": 0.05})
    started = time.monotonic()
    res = probe(srv.url, deadline=0.8, interval=0.2)
    took = time.monotonic() - started
    assert not res["ok"]
    assert 0.7 <= took <= 1.5
    assert 2 <= res["attempts"] <= 6


def test_slow_request_cut_by_deadline(srv):
    """A request is never allowed to outlive the overall deadline."""
    srv.script.set({"status": 200, "delay": 2})
    started = time.monotonic()
    res = probe(srv.url, deadline=0.5, timeout=30)
    assert not res["ok"] and "timeout" in res["last_failure"]
    assert time.monotonic() - started < 1.5


def test_method_and_headers_sent(srv):
    res = probe(srv.url + "/p", method="post", headers={"X-Probe": "seed"})
    assert res["ok"]
    seen = srv.script.seen[0]
    assert seen["method"] == "POST" and seen["headers"]["X-Probe"] == "seed"
    assert seen["headers"]["User-Agent"] == "seed.fleet.http_check"


def test_head_method(srv):
    assert probe(srv.url, method="HEAD")["ok"]
    assert srv.script.seen[0]["method"] == "HEAD"


@pytest.mark.parametrize(
    "kw, message",
    [
        ({"body_regex": "("}, "body_regex '(' is not a valid regular expression"),
        ({"expect_headers": {"X": "["}}, "expect_headers[X]"),
        ({"successes": 0}, "successes must be >= 1"),
        ({"timeout": 0}, "timeout must be > 0"),
        ({"deadline": -1}, "deadline must be > 0"),
        ({"interval": -1}, "interval must be >= 0"),
        ({"status_codes": [42]}, "status_codes must be HTTP status codes"),
    ],
)
def test_bad_definition_sends_nothing(srv, kw, message):
    with pytest.raises(ProbeError, match=message.replace("[", r"\[").replace("(", r"\(")):
        HttpProbe(srv.url, **kw)
    assert srv.script.seen == []


def test_bad_url():
    with pytest.raises(ProbeError, match="absolute"):
        HttpProbe("localhost/healthz")


@pytest.mark.parametrize(
    "values, pct, expected",
    [([], 50, None), ([5], 95, 5), ([1, 2, 3, 4], 50, 2), (list(range(1, 101)), 95, 95), ([3, 1, 2], 100, 3)],
)
def test_percentile(values, pct, expected):
    assert _http_probe.percentile(values, pct) == expected


# --- the module -------------------------------------------------------------

def run_module(capsys, args):
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exc:
            http_check.main()
    out = json.loads(capsys.readouterr().out)
    return exc.value.code, out


def test_module_success(srv, capsys):
    srv.script.set({"status": 503}, {"status": 200, "body": "colour=green"})
    rc, out = run_module(capsys, {"url": srv.url + "/healthz", "interval": 0.01, "body_regex": "green"})
    assert rc == 0 and not out.get("failed")
    assert out["changed"] is False and out["attempts"] == 2 and out["status"] == 200
    assert out["last_failure"] == "status 503 not in [200]"


def test_module_runs_in_check_mode(srv, capsys):
    rc, out = run_module(capsys, {"url": srv.url, "_ansible_check_mode": True})
    assert rc == 0 and out["changed"] is False and out["attempts"] == 1
    assert len(srv.script.seen) == 1


def test_module_failure_names_url_and_reason(srv, capsys):
    srv.script.set({"status": 500})
    rc, out = run_module(capsys, {"url": srv.url + "/healthz", "deadline": 0.3, "interval": 0.1})
    assert rc == 1 and out["failed"] is True and out["changed"] is False
    assert srv.url + "/healthz" in out["msg"] and "status 500 not in [200]" in out["msg"]
    assert out["attempts"] >= 1


def test_module_bad_input_sends_nothing(srv, capsys):
    rc, out = run_module(capsys, {"url": srv.url, "body_regex": "(unclosed"})
    assert rc == 1 and out["failed"] is True
    assert srv.url in out["msg"] and "not a valid regular expression" in out["msg"]
    assert srv.script.seen == []
