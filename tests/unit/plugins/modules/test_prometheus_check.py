# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""seed.fleet.prometheus_check: the pure parts of module_utils/_prometheus.py (placeholders, answers,
thresholds, the sampling loop with a fake clock), then the module as Ansible runs it against a real
HTTP server on 127.0.0.1 that speaks the Prometheus query API and checks basic authentication."""
from __future__ import annotations

import base64
import json
import math
import datetime
import ipaddress
import socket
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.seed.fleet.plugins.module_utils import _prometheus as prom
from ansible_collections.seed.fleet.plugins.modules import prometheus_check

TS = 1712345678.123


def vector(*series):
    """An instant query answer: series are (labels, value as Prometheus writes it)."""
    return {"status": "success", "data": {"resultType": "vector",
                                          "result": [{"metric": dict(labels), "value": [TS, value]} for labels, value in series]}}


def scalar(value):
    return {"status": "success", "data": {"resultType": "scalar", "result": [TS, value]}}


def api_error(error_type, error):
    return {"status": "error", "errorType": error_type, "error": error}


MATRIX = {"status": "success", "data": {"resultType": "matrix",
                                        "result": [{"metric": {"server": "app1_green"}, "values": [[TS, "1"], [TS + 15, "2"]]}]}}
EMPTY = vector()
G1, G2 = {"server": "app1_green"}, {"server": "app2_green"}


# --- render_query -------------------------------------------------------------------------

def test_render_query_replaces_app_color_backend():
    query = 'rate(x{proxy="${backend}", server=~"${app}.*_${color}"}[1m]) > ${app_min}'
    out = prom.render_query(query, {"app": "demo", "color": "green", "backend": "be_demo", "app_min": 3})
    assert out == 'rate(x{proxy="be_demo", server=~"demo.*_green"}[1m]) > 3'


def test_render_query_without_placeholders_is_unchanged():
    assert prom.render_query("up == 1", {}) == "up == 1"
    assert prom.render_query("up", None) == "up"


def test_render_query_does_not_expand_a_value_again():
    assert prom.render_query("${a}", {"a": "${b}x", "b": "no"}) == "${b}x"


@pytest.mark.parametrize("query, variables, named", [
    ('x{server="${app}_${colour}"}', {"app": "demo"}, "${colour}"),
    ("${backend}", {}, "${backend}"),
    ("${ app }", {"app": "demo"}, "${ app }"),
])
def test_render_query_unknown_placeholder_is_an_error_that_names_it(query, variables, named):
    with pytest.raises(ValueError) as exc:
        prom.render_query(query, variables)
    assert named in str(exc.value) and "variables does not define" in str(exc.value)


def test_render_query_names_every_unknown_placeholder_once():
    with pytest.raises(ValueError) as exc:
        prom.render_query("${a} ${b} ${a} ${app}", {"app": "demo"})
    assert "placeholders ${a}, ${b}, which variables does not define (it defines: app)" in str(exc.value)


@pytest.mark.parametrize("value", ['de"mo', "de\\mo", "a\nb", "it's"])
def test_render_query_refuses_values_that_break_out_of_a_matcher(value):
    with pytest.raises(ValueError, match=r"variables\.app value .* must not contain quotes"):
        prom.render_query('x{app="${app}"}', {"app": value})


@pytest.mark.parametrize("value", [None, ["a"], {"a": 1}, True])
def test_render_query_refuses_values_that_are_not_strings(value):
    with pytest.raises(ValueError, match=r"variables\.app must be a string"):
        prom.render_query("${app}", {"app": value})


@pytest.mark.parametrize("query", ["", "   ", None])
def test_render_query_refuses_an_empty_query(query):
    with pytest.raises(ValueError, match="query must be a PromQL expression"):
        prom.render_query(query, {})


# --- parse_result ---------------------------------------------------------------------------

def test_parse_vector_gives_every_series_with_its_labels():
    payload = vector(({"__name__": "up", "server": "app1_green"}, "1"), (G2, "0.25"))
    assert prom.parse_result(payload) == [({"__name__": "up", "server": "app1_green"}, 1.0), (G2, 0.25)]


def test_parse_scalar_is_one_series_without_labels():
    assert prom.parse_result(scalar("0.5")) == [({}, 0.5)]


def test_parse_empty_vector_is_no_series():
    assert prom.parse_result(EMPTY) == []


def test_parse_nan_and_infinities():
    series = prom.parse_result(vector((G1, "NaN"), (G2, "+Inf"), ({"server": "x"}, "-Inf")))
    assert math.isnan(series[0][1]) and series[1][1] == float("inf") and series[2][1] == float("-inf")


def test_parse_api_error_is_refused_with_type_and_reason():
    with pytest.raises(prom.QueryRefused) as exc:
        prom.parse_result(api_error("bad_data", "invalid parameter \"query\": 1:5: parse error: unexpected <EOF>"))
    assert str(exc.value) == 'bad_data: invalid parameter "query": 1:5: parse error: unexpected <EOF>'
    assert exc.value.error_type == "bad_data"


def test_parse_matrix_is_refused_clearly():
    with pytest.raises(prom.BadResponse, match=r"range vector \(matrix\), which an instant query cannot judge"):
        prom.parse_result(MATRIX)


def test_parse_native_histogram_is_refused_clearly():
    payload = {"status": "success", "data": {"resultType": "vector",
                                             "result": [{"metric": G1, "histogram": [TS, {"count": "3"}]}]}}
    with pytest.raises(prom.BadResponse, match=r'series \{server="app1_green"\} is a native histogram'):
        prom.parse_result(payload)


@pytest.mark.parametrize("payload, reason", [
    ("not a dict", "not a Prometheus API response"),
    ({"data": {}}, "not a Prometheus API response"),
    ({"status": "maybe"}, "neither success nor error"),
    ({"status": "success"}, "has no data"),
    ({"status": "success", "data": {"resultType": "string", "result": [TS, "x"]}}, "returned a string"),
    ({"status": "success", "data": {"result": []}}, "without a resultType"),
    ({"status": "success", "data": {"resultType": "vector", "result": {}}}, "not a list"),
    ({"status": "success", "data": {"resultType": "vector", "result": [{"value": [TS, "1"]}]}}, "no metric labels"),
    ({"status": "success", "data": {"resultType": "vector", "result": [{"metric": {}}]}}, "not a [time, value] pair"),
    (vector((G1, "many")), "is not a number: 'many'"),
    (vector((G1, None)), "is not a sample value"),
    ({"status": "success", "data": {"resultType": "scalar", "result": "1"}}, "not a [time, value] pair"),
])
def test_parse_malformed_answers(payload, reason):
    with pytest.raises(prom.BadResponse) as exc:
        prom.parse_result(payload)
    assert reason in str(exc.value)


# --- judge ------------------------------------------------------------------------------

@pytest.mark.parametrize("values, max_value, min_value, breach", [
    ([0.0, 0.01], 0.01, None, False),       # equal to max passes
    ([0.0, 0.0101], 0.01, None, True),
    ([20.0, 25.0], None, 20.0, False),      # equal to min passes
    ([19.9, 25.0], None, 20.0, True),
    ([5.0], 10.0, 1.0, False),
    ([0.5], 10.0, 1.0, True),
    ([10.5], 10.0, 1.0, True),
    ([float("nan")], 10.0, None, True),     # NaN is a breach whatever the bounds
    ([float("nan")], None, 0.0, True),
    ([float("inf")], 10.0, None, True),
    ([float("inf")], None, 0.0, False),
    ([float("-inf")], None, 0.0, True),
])
def test_judge_thresholds(values, max_value, min_value, breach):
    series = [({"i": str(i)}, v) for i, v in enumerate(values)]
    assert prom.judge(series, max_value, min_value)[0] is breach


def test_judge_reasons_name_value_and_labels():
    breach, reasons = prom.judge([(G1, 0.25), (G2, 0.0), ({"server": "app3_green"}, float("nan"))], 0.01, None)
    assert breach and reasons == ['value 0.25 for {server="app1_green"}', 'value NaN for {server="app3_green"}']


@pytest.mark.parametrize("labels, shown", [
    ({}, "{}"),
    ({"__name__": "up", "job": "node", "instance": "app1:9100"}, 'up{instance="app1:9100", job="node"}'),
    ({"path": 'a"b'}, '{path="a\\"b"}'),
])
def test_fmt_labels(labels, shown):
    assert prom.fmt_labels(labels) == shown


@pytest.mark.parametrize("value, shown", [(0.0, "0.0"), (3.0, "3.0"), (0.25, "0.25"), (1e-9, "1e-09"),
                                          (0.0123456789, "0.0123457"), (float("nan"), "NaN"),
                                          (float("inf"), "+Inf"), (float("-inf"), "-Inf")])
def test_fmt_value(value, shown):
    assert prom.fmt_value(value) == shown


# --- options ----------------------------------------------------------------------------

def test_check_options_converts_numbers():
    out = prom.check_options(max_value="0.01", samples="3", interval="0.5", failure_limit="1", timeout="2")
    assert out == {"mode": "judge", "no_data": "fail", "samples": 3, "interval": 0.5, "failure_limit": 1,
                   "timeout": 2.0, "max_value": 0.01, "min_value": None}


@pytest.mark.parametrize("kwargs, message", [
    ({}, "mode=judge needs a threshold: set max_value, min_value or both"),
    ({"max_value": 1, "min_value": 2}, "min_value 2.0 is greater than max_value 1.0"),
    ({"max_value": 1, "samples": 0}, "samples must be >= 1"),
    ({"max_value": 1, "samples": 10001}, "samples must be >= 1 and <= 10000"),
    ({"max_value": 1, "interval": -1}, "interval must be >= 0"),
    ({"max_value": 1, "interval": float("nan")}, "interval must be a finite number"),
    ({"max_value": 1, "failure_limit": -1}, "failure_limit must be >= 0"),
    ({"max_value": 1, "samples": 3, "failure_limit": 3}, "failure_limit 3 lets all 3 sample(s) breach"),
    ({"max_value": 1, "timeout": 0}, "timeout must be > 0"),
    ({"max_value": float("nan")}, "max_value must be a finite number"),
    ({"max_value": "lots"}, "max_value must be a number, got 'lots'"),
    ({"max_value": 1, "mode": "guess"}, "mode must be one of judge, answers, got 'guess'"),
    ({"max_value": 1, "no_data": "pass"}, "no_data must be one of fail, breach, got 'pass'"),
])
def test_check_options_refuses(kwargs, message):
    with pytest.raises(ValueError) as exc:
        prom.check_options(**kwargs)
    assert message in str(exc.value)


def test_check_options_answers_needs_no_threshold():
    assert prom.check_options(mode="answers")["mode"] == "answers"
    assert prom.check_options(mode="answers", samples=1, failure_limit=5)["failure_limit"] == 5


@pytest.mark.parametrize("url, endpoint", [
    ("https://mon1:9090", "https://mon1:9090/api/v1/query"),
    ("https://mon1:9090/", "https://mon1:9090/api/v1/query"),
    ("http://127.0.0.1:9090/prometheus/", "http://127.0.0.1:9090/prometheus/api/v1/query"),
])
def test_check_url(url, endpoint):
    assert prom.check_url(url) == endpoint


@pytest.mark.parametrize("url, message", [
    ("mon1:9090", "must be an http:// or https:// URL"),
    ("ftp://mon1/", "scheme 'ftp' is not supported"),
    ("https://", "has no host"),
    ("https://mon1:99999", "is not a valid URL"),
    ("https://mon1:9090/?x=1", "without a query or fragment"),
    ("https://mon 1:9090", "must not contain spaces"),
    ("", "must be the http:// or https:// base URL"),
])
def test_check_url_refuses(url, message):
    with pytest.raises(ValueError) as exc:
        prom.check_url(url)
    assert message in str(exc.value)


def test_check_url_refuses_credentials_without_showing_them():
    with pytest.raises(ValueError) as exc:
        prom.check_url("https://admin:hunter2@mon1:9090")  # pragma: allowlist secret
    assert "must not hold credentials" in str(exc.value) and "hunter2" not in str(exc.value) and "admin" not in str(exc.value)
    assert prom.url_secret("https://admin:hunter2@mon1:9090") == "hunter2"  # pragma: allowlist secret


# --- run: the sampling loop -------------------------------------------------------------

class Clock:
    """Time that moves only when the loop sleeps or a query takes `took` seconds."""

    def __init__(self):
        self.now = 0.0
        self.slept = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds


class Answers:
    """fetch(query): the payloads in order (the last repeats), each taking `took` seconds."""

    def __init__(self, clock, *payloads, took=0.0):
        self.clock, self.payloads, self.took, self.queries = clock, list(payloads), took, []

    def __call__(self, query):
        self.queries.append(query)
        self.clock.now += self.took
        return self.payloads.pop(0) if len(self.payloads) > 1 else self.payloads[0]


URL = "https://mon1:9090/"


def analyse(*payloads, took=0.0, **kwargs):
    clock = Clock()
    fetch = Answers(clock, *payloads, took=took)
    kwargs.setdefault("query", "q")
    result = prom.run(fetch, url=URL, sleep=clock.sleep, clock=clock, **kwargs)
    return result, fetch, clock


def judged(*payloads, **kwargs):
    """Only the result of analyse()."""
    return analyse(*payloads, **kwargs)[0]


def ok(value="0"):
    return vector((G1, value))


def test_run_passes_and_summarises():
    result, fetch, clock = analyse(ok(), samples=3, interval=2.0, max_value=0.01)
    assert result["ok"] is True and result["breaches"] == 0 and result["samples"] == 3 and len(fetch.queries) == 3
    assert result["msg"] == "3 sample(s), 0 breach(es) of max 0.01 (limit 0): 0.0, 0.0, 0.0"
    assert result["series"] == [[{"labels": G1, "value": 0.0}]] * 3 and result["query"] == "q"
    assert clock.slept == [2.0, 2.0]


def test_run_interval_runs_from_start_to_start():
    clock = analyse(ok(), samples=3, interval=2.0, max_value=1, took=0.5)[2]
    assert clock.slept == [1.5, 1.5]
    clock = analyse(ok(), samples=3, interval=1.0, max_value=1, took=3.0)[2]  # slower than the interval
    assert clock.slept == []


@pytest.mark.parametrize("values, failure_limit, passed, taken", [
    (["0", "0", "0"], 0, True, 3),
    (["0", "0.5", "0"], 0, False, 2),         # the first breach decides with limit 0
    (["0", "0.5", "0"], 1, True, 3),
    (["0.5", "0.5", "0"], 1, False, 2),
    (["0.5", "0", "0.5"], 1, False, 3),
    (["0.5", "0.5", "0", "0"], 2, True, 4),
    (["NaN", "0", "0"], 0, False, 1),
])
def test_run_failure_limit(values, failure_limit, passed, taken):
    result = judged(*[ok(v) for v in values], samples=len(values), interval=0, max_value=0.1,
                    failure_limit=failure_limit)
    breaches = sum(1 for v in values[:taken] if v != "0")
    assert (result["ok"], result["samples"], result["breaches"]) == (passed, taken, breaches)


def test_run_failure_message_shows_values_with_labels():
    result = judged(vector((G1, "0.25"), (G2, "0")), vector((G1, "0.3"), (G2, "0.02")), ok(),
                    samples=4, interval=0, max_value=0.01, failure_limit=1)
    assert result["ok"] is False and result["samples"] == 2
    assert result["msg"] == ('Prometheus analysis failed: 2 of 2 sample(s) breached max 0.01 (limit 1, 2 more not taken): '
                             'sample 1: value 0.25 for {server="app1_green"}; '
                             'sample 2: value 0.3 for {server="app1_green"}, value 0.02 for {server="app2_green"}')


def test_run_failure_message_stays_short():
    many = vector(*[({"server": "s%02d" % i}, "1") for i in range(20)])
    result = judged(many, samples=4, interval=0, max_value=0, failure_limit=3)
    msg = result["msg"]
    assert result["breaches"] == 4 and msg.count("value 1.0 for") == 8 and len(msg) < 600
    assert "sample 1: " in msg and "s02\"} and 17 more; sample 2: " in msg and "s01\"} and 18 more; and 20 more" in msg


def test_run_min_and_both_bounds_in_messages():
    result = judged(vector((G1, "25"), (G2, "30")), samples=2, interval=0, min_value=20)
    assert result["msg"] == "2 sample(s), 0 breach(es) of min 20.0 (limit 0): 25.0, 25.0"  # the worst: the lowest
    result = judged(vector((G1, "25"), (G2, "30")), interval=0, min_value=20, max_value=40)
    assert result["msg"] == "1 sample(s), 0 breach(es) of min 20.0 and max 40.0 (limit 0): 25.0..30.0"
    result = judged(ok("19"), interval=0, min_value=20)
    assert result["msg"].startswith("Prometheus analysis failed: 1 of 1 sample(s) breached min 20.0 (limit 0): ")


def test_run_infinite_values_are_null_in_values_but_named_in_msg():
    result = judged(vector((G1, "+Inf")), samples=2, failure_limit=1, interval=0, max_value=1)
    assert result["series"][0] == [{"labels": G1, "value": None}]
    assert 'value +Inf for {server="app1_green"}' in result["msg"]
    result = judged(vector((G1, "+Inf")), interval=0, min_value=1)
    assert result["ok"] and result["msg"].endswith(": +Inf")


def test_run_scalar():
    result = judged(scalar("0.002"), max_value=0.01)
    assert result["ok"] and result["series"] == [[{"labels": {}, "value": 0.002}]]


def test_run_no_series_fails_at_once_by_default():
    clock = Clock()
    fetch = Answers(clock, ok(), EMPTY)
    with pytest.raises(prom.PrometheusError) as exc:
        prom.run(fetch, "errors{app=\"demo\"}", URL, max_value=1, samples=3, interval=0, sleep=clock.sleep, clock=clock)
    assert str(exc.value).startswith('Prometheus at https://mon1:9090 returned no series for the query errors{app="demo"} '
                                     "(sample 2 of 3): nothing to judge")
    assert "no_data=breach" in str(exc.value) and len(fetch.queries) == 2


def test_run_no_series_can_count_as_a_breach():
    result = judged(EMPTY, ok(), ok(), samples=3, interval=0, max_value=1, failure_limit=1, no_data="breach")
    assert result["ok"] is True and result["breaches"] == 1 and result["series"][0] == []
    assert result["msg"] == "3 sample(s), 1 breach(es) of max 1.0 (limit 1): no series, 0.0, 0.0"
    result = judged(EMPTY, samples=3, interval=0, max_value=1, failure_limit=1, no_data="breach")
    assert result["ok"] is False and "sample 1: no series; sample 2: no series" in result["msg"]


def test_run_refused_query_names_url_query_and_reason():
    with pytest.raises(prom.PrometheusError) as exc:
        analyse(api_error("bad_data", "1:6: parse error: unexpected end of input"), query="rate(", max_value=1)
    assert str(exc.value) == ("Prometheus at https://mon1:9090 refused the query rate(: "
                              "bad_data: 1:6: parse error: unexpected end of input")


def test_run_matrix_fails_clearly():
    with pytest.raises(prom.PrometheusError) as exc:
        analyse(MATRIX, query="errors[5m]", max_value=1)
    assert "Prometheus at https://mon1:9090 answered the query errors[5m] with nothing to judge" in str(exc.value)
    assert "range vector (matrix)" in str(exc.value)


def test_run_answers_mode_one_query_no_thresholds():
    result, fetch, clock = analyse(vector((G1, "NaN"), (G2, "5")), mode="answers", samples=5, interval=3)
    assert result["ok"] is True and len(fetch.queries) == 1 and clock.slept == [] and result["breaches"] == 0
    assert result["msg"] == "Prometheus at https://mon1:9090 answered the query with 2 series"
    result = judged(scalar("1"), mode="answers")
    assert result["ok"] and result["series"] == [[{"labels": {}, "value": 1.0}]]


def test_run_answers_mode_no_series_fails_whatever_no_data():
    with pytest.raises(prom.PrometheusError) as exc:
        analyse(EMPTY, mode="answers", no_data="breach")
    assert "returned no series for the query q: nothing to judge" in str(exc.value) and "no_data" not in str(exc.value)


def test_run_passes_prometheus_warnings_on():
    payload = vector((G1, "0"))
    payload["warnings"] = ['PromQL info: metric might not be a counter, name does not end in _total: "errors"']
    payload["infos"] = ["an info"]
    result = judged(payload, samples=2, interval=0, max_value=1)
    assert result["api_warnings"] == [payload["warnings"][0], "an info"]


# --- the module against a real HTTP server on 127.0.0.1 ---------------------------------------

USER, PASSWORD = "prometheus", "s3cr3t-pr0m-pw"  # pragma: allowlist secret
AUTH = "Basic " + base64.b64encode(("%s:%s" % (USER, PASSWORD)).encode()).decode()


class FakePrometheus(ThreadingHTTPServer):
    """Answers GET /api/v1/query with the canned answers set per query (the last one repeats);
    wants basic authentication as USER/PASSWORD. An answer is a payload dict (JSON, HTTP 200, or 400
    for an API error) or a (status, content type, body[, headers]) tuple."""

    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), PrometheusHandler)
        self.url = "http://127.0.0.1:%d" % self.server_address[1]
        self.answers = {}
        self.seen = []
        self.lock = threading.Lock()

    def answer(self, query, *answers):
        self.answers[query] = list(answers)

    def next_answer(self, query):
        with self.lock:
            answers = self.answers.get(query)
            if not answers:
                return api_error("bad_data", "the fake has no answer for %r" % query)
            return answers.pop(0) if len(answers) > 1 else answers[0]

    def handle_error(self, request, client_address):
        pass


class PrometheusHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _send(self, status, content_type, body, headers=None):
        body = body if isinstance(body, bytes) else body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        if status == 401:
            self.send_header("WWW-Authenticate", 'Basic realm="prometheus"')
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):  # noqa: N802 (http.server's name)
        parts = urlsplit(self.path)
        query = parse_qs(parts.query).get("query", [None])[0]
        self.server.seen.append({"path": parts.path, "query": query, "auth": self.headers.get("Authorization")})
        if self.headers.get("Authorization") != AUTH:
            return self._send(401, "text/plain; charset=utf-8", "Unauthorized\n")
        if parts.path != "/api/v1/query":
            return self._send(404, "text/plain; charset=utf-8", "404 page not found\n")
        answer = self.server.next_answer(query)
        if isinstance(answer, tuple):
            return self._send(*answer)
        status = 400 if answer.get("status") == "error" else 200
        return self._send(status, "application/json", json.dumps(answer))


@pytest.fixture()
def server():
    yield from serve(FakePrometheus())


def serve(httpd):
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def closed_port():
    """A 127.0.0.1 port nobody listens on."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def run_module(capsys, args, check=False):
    """main() as Ansible runs it: (exit code, result). Any exception but the module's exit fails the test."""
    args = dict(args)
    if check:
        args["_ansible_check_mode"] = True
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exc:
            prometheus_check.main()
    return exc.value.code, json.loads(capsys.readouterr().out)


ERRORS_QUERY = 'max by (server) (rate(errors_total{proxy="${backend}", server=~".*_${color}"}[1m]))'
SENT_QUERY = 'max by (server) (rate(errors_total{proxy="be_demo", server=~".*_green"}[1m]))'


def args(server, **kw):
    out = {"url": server.url + "/", "query": ERRORS_QUERY, "variables": {"backend": "be_demo", "color": "green"},
           "url_username": USER, "url_password": PASSWORD, "max_value": 0.01, "interval": 0, "timeout": 2}
    out.update(kw)
    return out


def assert_no_password(out):
    text = json.dumps(out)
    assert PASSWORD not in text and base64.b64encode(PASSWORD.encode()).decode() not in text


def test_module_passes(server, capsys):
    server.answer(SENT_QUERY, vector((G1, "0"), (G2, "0.002")))
    rc, out = run_module(capsys, args(server, samples=3))
    assert rc == 0 and not out.get("failed") and out["changed"] is False
    assert out["msg"] == "3 sample(s), 0 breach(es) of max 0.01 (limit 0): 0.002, 0.002, 0.002"
    assert out["breaches"] == 0 and out["samples"] == 3 and out["query"] == SENT_QUERY
    assert out["series"][0] == [{"labels": G1, "value": 0.0}, {"labels": G2, "value": 0.002}]
    assert [s["path"] for s in server.seen] == ["/api/v1/query"] * 3
    assert all(s["query"] == SENT_QUERY and s["auth"] == AUTH for s in server.seen)
    assert_no_password(out)


def test_module_runs_in_check_mode(server, capsys):
    server.answer("up", vector(({"__name__": "up"}, "1")))
    rc, out = run_module(capsys, args(server, query="up", variables={}, max_value=None, min_value=1), check=True)
    assert rc == 0 and out["changed"] is False and len(server.seen) == 1


def test_module_fails_on_breach(server, capsys):
    server.answer(SENT_QUERY, vector((G1, "0"), (G2, "0")), vector((G1, "0.25"), (G2, "0")), vector((G1, "0.3")))
    rc, out = run_module(capsys, args(server, samples=3, failure_limit=1))
    assert rc == 1 and out["failed"] is True and out["changed"] is False
    assert out["msg"] == ('Prometheus analysis failed: 2 of 3 sample(s) breached max 0.01 (limit 1): '
                          'sample 2: value 0.25 for {server="app1_green"}; sample 3: value 0.3 for {server="app1_green"}')
    assert out["breaches"] == 2 and out["samples"] == 3 and len(out["series"]) == 3
    assert_no_password(out)


def test_module_unreachable_url_did_not_answer(capsys):
    url = "http://127.0.0.1:%d" % closed_port()
    rc, out = run_module(capsys, {"url": url + "/", "query": "up", "min_value": 1, "url_username": USER,
                                  "url_password": PASSWORD, "timeout": 2})
    assert rc == 1 and out["failed"] is True
    assert out["msg"].startswith("Prometheus at %s did not answer: " % url)
    assert "refused" in out["msg"].lower()
    assert_no_password(out)


def test_module_no_series_fails(server, capsys):
    server.answer(SENT_QUERY, EMPTY)
    rc, out = run_module(capsys, args(server, samples=3))
    assert rc == 1 and "returned no series for the query %s (sample 1 of 3)" % SENT_QUERY in out["msg"]
    assert out["msg"].startswith("Prometheus at %s " % server.url) and out["query"] == SENT_QUERY
    assert len(server.seen) == 1
    assert_no_password(out)


def test_module_no_series_as_breach(server, capsys):
    server.answer(SENT_QUERY, EMPTY, vector((G1, "0")))
    rc, out = run_module(capsys, args(server, samples=3, failure_limit=1, no_data="breach"))
    assert rc == 0 and out["breaches"] == 1 and out["series"][0] == []


def test_module_wrong_password_is_refused_without_showing_it(server, capsys):
    rc, out = run_module(capsys, args(server, url_password="wrong-" + PASSWORD))
    assert rc == 1 and out["msg"] == ("Prometheus at %s answered HTTP 401 Unauthorized (check url_username and url_password)"
                                      % server.url)
    assert_no_password(out) and "wrong-" not in json.dumps(out)


def test_module_without_credentials(server, capsys):
    rc, out = run_module(capsys, args(server, url_username=None, url_password=None))
    assert rc == 1 and "answered HTTP 401 Unauthorized (it wants credentials: url_username, url_password)" in out["msg"]
    assert server.seen[0]["auth"] is None


def test_module_refused_query(server, capsys):
    server.answer("rate(", api_error("bad_data", 'invalid parameter "query": 1:6: parse error: unexpected end of input'))
    rc, out = run_module(capsys, args(server, query="rate(", variables={}))
    assert rc == 1 and out["msg"] == ('Prometheus at %s refused the query rate(: bad_data: invalid parameter "query": '
                                      '1:6: parse error: unexpected end of input' % server.url)
    assert_no_password(out)


def test_module_not_json(server, capsys):
    server.answer("up", (200, "text/html", "<!doctype html><title>Grafana</title> " + PASSWORD))
    rc, out = run_module(capsys, args(server, query="up", variables={}, max_value=1))
    assert rc == 1 and out["msg"].startswith("Prometheus at %s answered HTTP 200 with a body that is not JSON (text/html): "
                                             % server.url)
    assert "<!doctype html>" in out["msg"] and "is url the Prometheus server's base URL?" in out["msg"]
    assert_no_password(out)


def test_module_wrong_path_is_404_with_a_hint(server, capsys):
    rc, out = run_module(capsys, args(server, url=server.url + "/prom"))
    assert rc == 1 and "answered HTTP 404" in out["msg"] and "base URL" in out["msg"]
    assert server.seen[0]["path"] == "/prom/api/v1/query"


def test_module_does_not_follow_redirects(server, capsys):
    server.answer("up", (302, "text/html", "", {"Location": "https://mon2:9090/api/v1/query?query=up"}))
    rc, out = run_module(capsys, args(server, query="up", variables={}))
    assert rc == 1 and out["msg"] == ("Prometheus at %s answered HTTP 302 Found (redirects are not followed; give the URL "
                                      "it redirects to: https://mon2:9090/api/v1/query?query=up)" % server.url)
    assert len(server.seen) == 1


def test_module_http_error_with_prometheus_error_body(server, capsys):
    """Prometheus answers 422 or 503 with its JSON error for a query it could not run: that reason, not the status."""
    server.answer("slow", (503, "application/json", json.dumps(api_error("timeout", "query timed out in expression evaluation"))))
    rc, out = run_module(capsys, args(server, query="slow", variables={}))
    assert rc == 1 and out["msg"] == ("Prometheus at %s refused the query slow: timeout: query timed out in expression "
                                      "evaluation" % server.url)


def test_module_matrix_fails(server, capsys):
    server.answer("errors[5m]", MATRIX)
    rc, out = run_module(capsys, args(server, query="errors[5m]", variables={}))
    assert rc == 1 and "range vector (matrix)" in out["msg"]


def test_module_answers_mode(server, capsys):
    query = 'up{app="demo", color="green"}'
    server.answer(query, vector(({"__name__": "up", "app": "demo"}, "1")))
    rc, out = run_module(capsys, args(server, query='up{app="${app}", color="${color}"}', max_value=None,
                                      variables={"app": "demo", "color": "green"}, mode="answers", samples=4))
    assert rc == 0 and out["msg"] == "Prometheus at %s answered the query with 1 series" % server.url
    assert len(server.seen) == 1 and out["query"] == query
    server.answer("absent_metric", EMPTY)
    rc, out = run_module(capsys, args(server, query="absent_metric", variables={}, max_value=None, mode="answers"))
    assert rc == 1 and "returned no series for the query absent_metric" in out["msg"]


def test_module_judge_without_threshold_sends_nothing(server, capsys):
    rc, out = run_module(capsys, args(server, max_value=None))
    assert rc == 1 and "mode=judge needs a threshold" in out["msg"] and server.seen == []
    assert out["query"] == SENT_QUERY


def test_module_unknown_placeholder_sends_nothing(server, capsys):
    rc, out = run_module(capsys, args(server, variables={"backend": "be_demo"}))
    assert rc == 1 and "${color}" in out["msg"] and "variables does not define" in out["msg"] and server.seen == []
    assert "query" not in out


def test_module_credentials_in_url_are_refused_and_masked(server, capsys):
    url = server.url.replace("http://", "http://%s:%s@" % (USER, PASSWORD))
    rc, out = run_module(capsys, args(server, url=url, url_username=None, url_password=None))
    assert rc == 1 and "must not hold credentials" in out["msg"] and server.seen == []
    assert_no_password(out)


def test_module_password_needs_a_user(server, capsys):
    rc, out = run_module(capsys, args(server, url_username=None))
    assert rc == 1 and "url_username" in out["msg"] and server.seen == []
    assert_no_password(out)


def test_module_passes_prometheus_warnings_on(server, capsys, monkeypatch):
    # The module's warn() calls (ansible-core's own warning list is process-wide and changes form by version).
    warned = []
    monkeypatch.setattr(prometheus_check.AnsibleModule, "warn", lambda self, msg: warned.append(msg))
    payload = vector((G1, "0"))
    payload["warnings"] = ["PromQL info: metric might not be a counter"]
    server.answer("errors", payload)
    rc, out = run_module(capsys, args(server, query="errors", variables={}, samples=2))
    assert rc == 0 and warned == ["Prometheus: PromQL info: metric might not be a counter"]


def test_module_accepts_templated_strings(server, capsys):
    """Roles pass numbers as templated strings."""
    server.answer(SENT_QUERY, vector((G1, "0")))
    rc, out = run_module(capsys, args(server, samples="2", interval="0", failure_limit="1", max_value="0.01", timeout="2"))
    assert rc == 0 and out["samples"] == 2


def test_module_timeout_did_not_answer(capsys):
    """A port that accepts connections but never answers (a listening socket nobody reads)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(4)
    try:
        url = "http://127.0.0.1:%d" % sock.getsockname()[1]
        started = time.monotonic()
        rc, out = run_module(capsys, {"url": url, "query": "up", "min_value": 1, "timeout": 0.3})
        assert rc == 1 and out["msg"] == "Prometheus at %s did not answer within 0.3 s" % url
        assert time.monotonic() - started < 5
    finally:
        sock.close()


# --- HTTPS: ca_path and validate_certs ------------------------------------------------------

def _tls_files(tmp_path):
    """A CA and a certificate for 127.0.0.1 signed by it, as PEM files: (ca_path, cert_path, key_path)."""
    x509 = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)

    def build(subject, issuer, public_key, signing_key, ca, san=None):
        builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(public_key)
                   .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
                   .not_valid_after(now + datetime.timedelta(days=1))
                   .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
        if ca:
            builder = builder.add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
            builder = builder.add_extension(x509.KeyUsage(
                digital_signature=False, content_commitment=False, key_encipherment=False, data_encipherment=False,
                key_agreement=False, key_cert_sign=True, crl_sign=True, encipher_only=False, decipher_only=False),
                critical=True)
        else:  # Python 3.13 verifies strictly (VERIFY_X509_STRICT): a leaf names its issuer's key
            builder = builder.add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(signing_key.public_key()), critical=False)
        if san:
            builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
        return builder.sign(signing_key, hashes.SHA256())

    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test CA")])
    ca = build(ca_name, ca_name, ca_key.public_key(), ca_key, True)
    cert = build(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]), ca_name, key.public_key(), ca_key,
                 False, [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
    paths = tmp_path / "ca.crt", tmp_path / "server.crt", tmp_path / "server.key"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return [str(p) for p in paths]


@pytest.fixture()
def tls_server(tmp_path):
    ca_path, cert_path, key_path = _tls_files(tmp_path)
    httpd = FakePrometheus()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    httpd.url = httpd.url.replace("http://", "https://")
    httpd.ca_path = ca_path
    yield from serve(httpd)


def test_module_https_with_ca_path(tls_server, capsys):
    tls_server.answer(SENT_QUERY, vector((G1, "0")))
    rc, out = run_module(capsys, args(tls_server, ca_path=tls_server.ca_path))
    assert rc == 0, out["msg"]
    assert out["breaches"] == 0 and tls_server.seen[0]["auth"] == AUTH


def test_module_https_unknown_ca_did_not_answer(tls_server, capsys):
    tls_server.answer(SENT_QUERY, vector((G1, "0")))
    rc, out = run_module(capsys, args(tls_server))
    assert rc == 1 and out["msg"].startswith("Prometheus at %s did not answer: " % tls_server.url)
    assert "certificate" in out["msg"].lower() and tls_server.seen == []
    assert_no_password(out)
    rc, out = run_module(capsys, args(tls_server, validate_certs=False))
    assert rc == 0 and len(tls_server.seen) == 1
