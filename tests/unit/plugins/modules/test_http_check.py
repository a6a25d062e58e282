# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""seed.fleet.http_check as Ansible runs it, against a real HTTP server on 127.0.0.1.

The probe's own behaviour is tested in tests/unit/plugins/module_utils/test_http_probe.py;
here: the module's contract (result keys, check mode, redaction in the whole result
including `invocation`) and the adversarial table of bad input and hostile servers.
"""
from __future__ import annotations

import json
import time

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.seed.fleet.plugins.modules import http_check
from ansible_collections.seed.fleet.tests.unit.plugins import fake_http


@pytest.fixture()
def srv():
    with fake_http.serving() as httpd:
        yield httpd


def run_module(capsys, args):
    """Run the module; an exception other than the module's own exit is a traceback: the test fails."""
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exc:
            http_check.main()
    out = json.loads(capsys.readouterr().out)
    return exc.value.code, out


def test_module_success(srv, capsys):
    srv.script.set({"status": 503}, {"status": 200, "body": "color=green"})
    rc, out = run_module(capsys, {"url": srv.url + "/healthz", "interval": 0.01, "body_regex": "green"})
    assert rc == 0 and not out.get("failed")
    assert out["changed"] is False and out["attempts"] == 2 and out["status"] == 200
    assert out["last_failure"] == "status 503 not in [200]"
    assert set(out) >= {"attempts", "successes", "latency_ms", "last_failure", "status", "elapsed", "url", "msg"}


def test_module_blue_green_style_arguments(srv, capsys):
    """roles/blue_green passes numbers as templated strings; they must keep working."""
    rc, out = run_module(capsys, {"url": srv.url + "/healthz", "status_codes": ["200", "204"], "successes": "2",
                                  "interval": "0.01", "deadline": "5", "timeout": 2})
    assert rc == 0 and out["successes"] == 2


def test_module_runs_in_check_mode(srv, capsys):
    rc, out = run_module(capsys, {"url": srv.url, "_ansible_check_mode": True})
    assert rc == 0 and out["changed"] is False and out["attempts"] == 1
    assert len(srv.script.seen) == 1


@pytest.mark.parametrize("method", ["DELETE", "POST", "put"])
def test_module_check_mode_never_sends_unsafe_methods(srv, capsys, method):
    rc, out = run_module(capsys, {"url": srv.url, "method": method, "allow_unsafe_methods": True,
                                  "_ansible_check_mode": True})
    assert rc == 0 and out["skipped"] is True and out["changed"] is False and out["attempts"] == 0
    assert srv.script.seen == []


def test_module_unsafe_method_with_opt_in(srv, capsys):
    rc, out = run_module(capsys, {"url": srv.url + "/p", "method": "POST", "allow_unsafe_methods": True})
    assert rc == 0 and srv.script.seen[0]["method"] == "POST"


def test_module_failure_names_url_and_reason(srv, capsys):
    srv.script.set({"status": 500})
    rc, out = run_module(capsys, {"url": srv.url + "/healthz", "deadline": 1.0, "interval": 0.1})
    assert rc == 1 and out["failed"] is True and out["changed"] is False
    assert srv.url + "/healthz" in out["msg"] and "status 500 not in [200]" in out["msg"]
    assert out["attempts"] >= 1


def test_module_max_latency_fails_a_slow_answer_then_passes_a_fast_one(srv, capsys):
    """A gate that checks latency (issue 17): a 200 that took too long is a failed attempt with its time."""
    srv.script.set({"status": 200, "delay": 1.5}, {"status": 200})  # wide margins: a loaded CI host is slow
    rc, out = run_module(capsys, {"url": srv.url + "/healthz", "interval": 0.01, "max_latency": 0.75})
    assert rc == 0 and out["attempts"] == 2
    assert out["last_failure"].startswith("answered in ") and "over max_latency 750 ms" in out["last_failure"]
    assert out["latency_ms"]["max"] >= 1500


def test_module_max_latency_alone_never_passes_slow_answers(srv, capsys):
    """One attempt with room (the check then waits out its deadline): a 1 s deadline cut the 0.2 s answer short on a loaded CI host."""
    srv.script.set({"status": 200, "delay": 0.2})
    rc, out = run_module(capsys, {"url": srv.url + "/healthz", "interval": 30, "deadline": 4.0, "max_latency": 0.1})
    assert rc == 1 and "health check failed: answered in " in out["msg"] and "over max_latency 100 ms" in out["msg"]
    rc, out = run_module(capsys, {"url": srv.url + "/healthz", "max_latency": 0})  # 0: no limit
    assert rc == 0


def test_module_bad_input_sends_nothing(srv, capsys):
    rc, out = run_module(capsys, {"url": srv.url, "body_regex": "(unclosed"})
    assert rc == 1 and out["failed"] is True
    assert srv.url in out["msg"] and "body_regex" in out["msg"] and "not a valid regular expression" in out["msg"]
    assert srv.script.seen == []


# --- secrets (issue #14) ---------------------------------------------------------------

SECRET = "Bearer s3cr3t-t0ken"


@pytest.mark.parametrize("status", [200, 500])
def test_module_redacts_everywhere(srv, capsys, status):
    """Not in msg, last_failure, url, nor `invocation` (what -v prints)."""
    srv.script.set({"status": status})
    url = srv.url.replace("http://", "http://admin:hunter2@") + "/h"  # pragma: allowlist secret
    rc, out = run_module(capsys, {
        "url": url, "deadline": 1.0, "interval": 0.05,
        "headers": {"Authorization": SECRET, "Cookie": "sid=c00kie", "Proxy-Authorization": "Basic cHJveHk=",
                    "X-Api-Key": "k3y-value", "X-Plain": "visible"},
        "secret_headers": ["x-api-key"],
    })
    text = json.dumps(out)
    assert rc == (0 if status == 200 else 1)
    for secret in ("s3cr3t-t0ken", "c00kie", "cHJveHk=", "k3y-value", "hunter2"):
        assert secret not in text
    if "invocation" in out:  # ansible-core < 2.21 returns it from the module itself
        assert out["invocation"]["module_args"]["headers"]["X-Plain"] == "visible"
    assert out["url"] == srv.url.replace("http://", "http://admin:********@") + "/h"  # pragma: allowlist secret
    sent = dict((k.lower(), v) for k, v in srv.script.seen[0]["headers"].items())
    assert sent["cookie"] == "sid=c00kie" and sent["x-api-key"] == "k3y-value"
    assert sent["authorization"].startswith("Basic ")  # the URL's credentials win over the header


def test_module_redacts_authorization_header(srv, capsys):
    srv.script.set({"status": 401, "headers": {"WWW-Authenticate": "Bearer"}})
    rc, out = run_module(capsys, {"url": srv.url, "deadline": 1.0, "headers": {"authorization": SECRET}})
    assert rc == 1 and "s3cr3t-t0ken" not in json.dumps(out)
    assert srv.script.seen[0]["headers"]["Authorization"] == SECRET


def test_module_url_password_option_is_no_log(srv, capsys):
    rc, out = run_module(capsys, {"url": srv.url, "url_username": "admin", "url_password": "hunter2"})
    assert rc == 0 and "hunter2" not in json.dumps(out)
    if "invocation" in out:  # ansible-core < 2.21 returns it from the module itself
        assert out["invocation"]["module_args"]["url_password"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"


def test_module_input_error_redacts_url_password(srv, capsys):
    rc, out = run_module(capsys, {"url": "ftp://admin:hunter2@127.0.0.1/", "headers": {"Authorization": SECRET}})
    assert rc == 1 and "hunter2" not in json.dumps(out) and "url" in out["msg"]


@pytest.mark.parametrize("bad", [{"timeout": "abc"}, {"no_such_option": 1}, {"url_password": "hunter2"},
                                 {"status_codes": ["x"]}])
def test_module_argspec_failure_redacts(srv, capsys, bad):
    """Ansible's own argument checks fail before main() runs: the secrets are masked there too."""
    args = dict({"url": srv.url.replace("http://", "http://admin:hunter2@"),  # pragma: allowlist secret
                 "headers": {"Authorization": SECRET, "X-Key": "k3y-value"}, "secret_headers": ["x-key"]}, **bad)
    rc, out = run_module(capsys, args)
    text = json.dumps(out)
    assert rc == 1 and "hunter2" not in text and "s3cr3t-t0ken" not in text and "k3y-value" not in text
    assert srv.script.seen == []


# --- the adversarial table -----------------------------------------------------------------
# Bad input: each fails at once, cleanly (the module's own JSON, no traceback), with a
# message naming the option, and the server sees no request. "{srv}" is the server's URL.

BAD_INPUT = [
    # (id, module args, option the message must name)
    ("url-missing", {}, "url"),
    ("url-empty", {"url": ""}, "url"),
    ("url-blank", {"url": "   "}, "url"),
    ("url-int", {"url": 42}, "url"),
    ("url-list", {"url": ["{srv}"]}, "url"),
    ("url-no-scheme", {"url": "127.0.0.1/healthz"}, "url"),
    ("url-file", {"url": "file:///etc/passwd"}, "url"),
    ("url-ftp", {"url": "ftp://127.0.0.1/x"}, "url"),
    ("url-gopher", {"url": "gopher://127.0.0.1:70/_x"}, "url"),
    ("url-javascript", {"url": "javascript:alert(1)"}, "url"),
    ("url-no-host", {"url": "http://"}, "url"),
    ("url-port-too-big", {"url": "http://127.0.0.1:99999/"}, "url"),
    ("url-port-text", {"url": "http://127.0.0.1:abc/"}, "url"),
    ("url-ipv6-unclosed", {"url": "http://[::1/"}, "url"),
    ("url-crlf", {"url": "{srv}/x\r\nX-Injected: 1"}, "url"),
    ("url-space", {"url": "{srv}/a b"}, "url"),
    # ansible-core 2.21 refuses a NUL itself, when it logs the invocation, before the module runs.
    ("url-nul", {"url": "{srv}/a\x00b"}, ("url", "embedded null character")),
    ("url-bad-idna", {"url": "http://\u2603\u2603..example/"}, "url"),
    ("method-delete", {"url": "{srv}", "method": "DELETE"}, "method"),
    ("method-post", {"url": "{srv}", "method": "post"}, "method"),
    ("method-empty", {"url": "{srv}", "method": ""}, "method"),
    ("method-crlf", {"url": "{srv}", "method": "GET\r\nX-Injected: 1"}, "method"),
    ("method-space", {"url": "{srv}", "method": "G ET"}, "method"),
    ("method-unicode", {"url": "{srv}", "method": "G\u00c9T"}, "method"),
    ("head-with-body-regex", {"url": "{srv}", "method": "HEAD", "body_regex": "x"}, "body_regex"),
    ("allow-unsafe-not-bool", {"url": "{srv}", "method": "PUT", "allow_unsafe_methods": "perhaps"}, "allow_unsafe_methods"),
    ("header-name-space", {"url": "{srv}", "headers": {"Bad Name": "x"}}, "headers"),
    ("header-name-empty", {"url": "{srv}", "headers": {"": "x"}}, "headers"),
    ("header-name-colon", {"url": "{srv}", "headers": {"X-A:": "x"}}, "headers"),
    ("header-name-unicode", {"url": "{srv}", "headers": {"X-\u00dc": "x"}}, "headers"),
    ("header-value-crlf", {"url": "{srv}", "headers": {"X-A": "v\r\nX-Injected: 1"}}, "headers"),
    ("header-value-lf", {"url": "{srv}", "headers": {"X-A": "v\nX-Injected: 1"}}, "headers"),
    ("header-value-nul", {"url": "{srv}", "headers": {"X-A": "v\x00"}}, "headers"),
    ("header-value-snowman", {"url": "{srv}", "headers": {"X-A": "snow\u2603"}}, "headers"),
    ("header-value-none", {"url": "{srv}", "headers": {"X-A": None}}, "headers"),
    ("header-value-list", {"url": "{srv}", "headers": {"X-A": ["a"]}}, "headers"),
    ("headers-not-dict", {"url": "{srv}", "headers": "notadict"}, "headers"),
    ("secret-header-bad-name", {"url": "{srv}", "secret_headers": ["bad name"]}, "secret_headers"),
    ("expect-header-bad-name", {"url": "{srv}", "expect_headers": {"bad name": "x"}}, "expect_headers"),
    ("expect-header-bad-regex", {"url": "{srv}", "expect_headers": {"X": "["}}, "expect_headers"),
    ("body-regex-bad", {"url": "{srv}", "body_regex": "("}, "body_regex"),
    ("timeout-text", {"url": "{srv}", "timeout": "abc"}, "timeout"),
    ("timeout-zero", {"url": "{srv}", "timeout": 0}, "timeout"),
    ("timeout-negative", {"url": "{srv}", "timeout": -1}, "timeout"),
    ("timeout-nan", {"url": "{srv}", "timeout": "nan"}, "timeout"),
    ("timeout-inf", {"url": "{srv}", "timeout": "inf"}, "timeout"),
    ("timeout-huge", {"url": "{srv}", "timeout": 1e12}, "timeout"),
    ("deadline-zero", {"url": "{srv}", "deadline": 0}, "deadline"),
    ("deadline-negative", {"url": "{srv}", "deadline": -5}, "deadline"),
    ("deadline-huge", {"url": "{srv}", "deadline": 1e300}, "deadline"),
    ("max-latency-negative", {"url": "{srv}", "max_latency": -0.5}, "max_latency"),
    ("max-latency-nan", {"url": "{srv}", "max_latency": "nan"}, "max_latency"),
    ("interval-negative", {"url": "{srv}", "interval": -1}, "interval"),
    ("interval-nan", {"url": "{srv}", "interval": "nan"}, "interval"),
    ("successes-zero", {"url": "{srv}", "successes": 0}, "successes"),
    ("successes-negative", {"url": "{srv}", "successes": -3}, "successes"),
    ("successes-huge", {"url": "{srv}", "successes": 10 ** 9}, "successes"),
    ("successes-text", {"url": "{srv}", "successes": "many"}, "successes"),
    ("status-codes-empty", {"url": "{srv}", "status_codes": []}, "status_codes"),
    ("status-codes-42", {"url": "{srv}", "status_codes": [42]}, "status_codes"),
    ("status-codes-1000", {"url": "{srv}", "status_codes": [200, 1000]}, "status_codes"),
    ("status-codes-text", {"url": "{srv}", "status_codes": ["ok"]}, "status_codes"),
    ("validate-certs-not-bool", {"url": "{srv}", "validate_certs": "maybe"}, "validate_certs"),
    ("password-without-user", {"url": "{srv}", "url_password": "hunter2"}, "url_password"),
    ("user-option-and-url-credentials", {"url": "http://a:b@127.0.0.1:1/", "url_username": "c"}, "url_username"),
    ("unknown-option", {"url": "{srv}", "no_such_option": 1}, "no_such_option"),
]


def _fill(value, base):
    if isinstance(value, str):
        return value.replace("{srv}", base)
    if isinstance(value, list):
        return [_fill(v, base) for v in value]
    return value


@pytest.mark.parametrize("args, option", [pytest.param(a, o, id=i) for i, a, o in BAD_INPUT])
def test_adversarial_bad_input(srv, capsys, args, option):
    args = dict((k, _fill(v, srv.url)) for k, v in args.items())
    started = time.monotonic()
    rc, out = run_module(capsys, args)
    took = time.monotonic() - started
    assert rc == 1 and out["failed"] is True, out
    assert "exception" not in out and "Traceback" not in out["msg"]
    assert any(o in out["msg"] for o in (option if isinstance(option, tuple) else (option,))), out["msg"]
    assert "hunter2" not in json.dumps(out)
    assert took < 2.0
    assert srv.script.seen == []


# Hostile servers: each fails cleanly, with the reason, within the deadline (+ slack).
DEADLINE = 1.0
HOSTILE = [
    # (id, script step, extra args, reason the last failure must contain)
    ("silent", {"delay": 5}, {}, "timeout after"),
    ("slow-beyond-timeout", {"delay": 5}, {"timeout": 0.2}, "timeout after 0.2 s"),
    ("trickle-headers", {"trickle": 0.05, "body": "ok"}, {}, "timeout after"),
    ("trickle-body", {"trickle_body": 0.05, "body": "x" * 100}, {"body_regex": "never"}, "timeout after"),
    ("reset", {"reset": True}, {}, "connection error"),
    ("redirect-loop", {"redirect_self": True}, {}, "status 302 not in [200]"),
    ("huge-body", {"huge": 256 * 1024 * 1024}, {"body_regex": "never"}, "body does not match"),
    ("non-utf8-body", {"body": b"\xff\xfe\xfd"}, {"body_regex": "^ok$"}, "body does not match"),
    ("unicode-header-mismatch", {"headers": {"X-Color": "gr\u00fcn"}}, {"expect_headers": {"X-Color": "^green$"}},
     "header X-Color='gr\u00fcn' does not match"),
    ("server-error", {"status": 500}, {}, "status 500 not in [200]"),
]


@pytest.mark.parametrize("step, extra, reason", [pytest.param(s, e, r, id=i) for i, s, e, r in HOSTILE])
def test_adversarial_hostile_server(srv, capsys, step, extra, reason):
    srv.script.set(step)
    args = dict({"url": srv.url + "/healthz", "deadline": DEADLINE, "timeout": 5, "interval": 0.05}, **extra)
    started = time.monotonic()
    rc, out = run_module(capsys, args)
    took = time.monotonic() - started
    assert rc == 1 and out["failed"] is True and "exception" not in out
    assert reason in out["last_failure"] and reason in out["msg"]
    assert took < DEADLINE + 0.8 and out["elapsed"] < DEADLINE + 0.5
    assert all(r["path"] == "/healthz" for r in srv.script.seen)  # redirects never followed


def test_adversarial_connection_refused(capsys):
    url = "http://127.0.0.1:%d/healthz" % fake_http.closed_port()
    started = time.monotonic()
    rc, out = run_module(capsys, {"url": url, "deadline": DEADLINE, "interval": 0.05})
    assert rc == 1 and out["last_failure"].startswith("connection error") and out["status"] is None
    assert time.monotonic() - started < DEADLINE + 0.8


def test_adversarial_table_size():
    assert len(BAD_INPUT) + len(HOSTILE) + 1 >= 40
