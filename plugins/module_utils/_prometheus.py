# -*- coding: utf-8 -*-
# Copyright (c) seed.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Judge a PromQL instant query against thresholds (private module_utils of seed.fleet.prometheus_check).

The metric analysis of a canary step: the query is sent ``samples`` times, ``interval`` seconds
apart (from the start of one query to the start of the next), and every sample is judged against
``max_value`` / ``min_value``. The analysis fails when more than ``failure_limit`` samples breach;
it stops at the sample that decides it, since later ones cannot change the verdict.

Not enough data to judge is never a pass: a sample whose result holds no series fails the
analysis at once (``no_data="fail"``) or counts as a breach (``no_data="breach"``), and a NaN
value is a breach. A Prometheus that does not answer, answers something that is not its API,
or refuses the query is an error naming the URL (never its credentials) and the reason.

``mode="answers"`` is the pre-flight check: one query, which must answer with at least one series.

Everything here is pure but ``fetcher()``, whose HTTP opener the module passes in; ``run()`` takes
the fetch, sleep and clock callables, so tests neither sleep nor need a server.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import math
import re
import socket
import time
from urllib.error import HTTPError
from urllib.parse import urlencode, urlsplit, urlunsplit

from ansible.module_utils.common.text.converters import to_native, to_text

from ansible_collections.seed.fleet.plugins.module_utils._numbers import bounded

API_PATH = "/api/v1/query"
MODES = ("judge", "answers")
NO_DATA = ("fail", "breach")
# Upper bounds for the numbers (a typo of 1e9 would otherwise hang a play).
MAX_SECONDS = 86400.0
MAX_SAMPLES = 10000
# Bodies are read up to this many bytes; an instant query a canary judges is far smaller.
MAX_BODY = 16 * 1024 * 1024
# How much of an unexpected body a message shows.
SNIPPET = 120
# Breaching series shown per sample and in all in the failure message.
SHOWN_PER_SAMPLE = 3
SHOWN_IN_ALL = 8
PLACEHOLDER = re.compile(r"\$\{([^{}]*)\}")
# A placeholder's value goes into PromQL, mostly inside a quoted label matcher: no quotes,
# backslashes or control characters, which would break out of it.
_BAD_VALUE = re.compile(r"[\"'`\\\x00-\x1f\x7f]")
_URL_BAD = re.compile(r"[\x00-\x20\x7f]")


class PrometheusError(Exception):
    """The analysis cannot judge; the message says why and names the URL (the module fails with it)."""


class QueryRefused(PrometheusError):
    """Prometheus answered ``{"status": "error"}``: the message is ``errorType: error``."""

    def __init__(self, error_type, error):
        super(QueryRefused, self).__init__("%s: %s" % (error_type, error) if error_type else error)
        self.error_type = error_type
        self.error = error


class BadResponse(PrometheusError):
    """Prometheus (or whatever answered) sent something that is not a usable instant query result."""


# -- input -------------------------------------------------------------------------------

def url_secret(url):
    """The password of a ``user:password@`` URL, or None (tolerant of invalid input: the
    module masks it before it validates anything)."""
    try:
        return urlsplit(url).password if isinstance(url, str) else None
    except ValueError:
        return None


def shown_url(url):
    """The URL as messages show it: no credentials, no trailing slash."""
    url = to_text(url)
    try:
        parts = urlsplit(url)
    except ValueError:
        return re.sub(r"//[^/@]*@", "//", url).rstrip("/")
    if "@" in parts.netloc:
        parts = parts._replace(netloc=parts.netloc.rsplit("@", 1)[1])
    return urlunsplit(parts).rstrip("/")


def check_url(url):
    """The query endpoint for a Prometheus base URL; ValueError naming what is wrong."""
    if not isinstance(url, str) or not url.strip():
        raise ValueError("url must be the http:// or https:// base URL of a Prometheus server, got %r" % (url,))
    shown = shown_url(url)
    if _URL_BAD.search(url):
        raise ValueError("url must not contain spaces or control characters: %r" % (shown,))
    try:
        parts = urlsplit(url)
        parts.port  # pylint: disable=pointless-statement  # raises ValueError for a bad port
    except ValueError as exc:
        raise ValueError("url %s is not a valid URL: %s" % (shown, to_native(exc)))
    if parts.scheme.lower() not in ("http", "https") or "://" not in url:
        raise ValueError("url must be an http:// or https:// URL (scheme %r is not supported): %s" % (parts.scheme, shown))
    if not parts.hostname:
        raise ValueError("url %s has no host" % shown)
    if parts.username is not None or parts.password is not None:
        raise ValueError("url %s must not hold credentials: give them as url_username and url_password" % shown)
    if parts.query or parts.fragment or url.endswith(("?", "#")):
        raise ValueError("url %s must be the server's base URL, without a query or fragment (like https://mon1:9090)"
                         % shown)
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + API_PATH))


def render_query(query, variables):
    """`query` with every ``${name}`` replaced by ``variables[name]``; ValueError naming an unknown
    placeholder or a value that cannot go into a query."""
    if not isinstance(query, str) or not query.strip():
        raise ValueError("query must be a PromQL expression, got %r" % (query,))
    variables = variables or {}
    if not isinstance(variables, dict):
        raise ValueError("variables must be a dictionary of placeholder names to values, got %r" % (variables,))
    values = {}
    for name, value in variables.items():
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise ValueError("variables.%s must be a string, got %s" % (name, type(value).__name__))
        value = to_text(value)
        if _BAD_VALUE.search(value):
            raise ValueError("variables.%s value %r must not contain quotes, backslashes or control characters "
                             "(it goes into the query as it is)" % (name, value))
        values[to_text(name)] = value
    unknown = []
    for name in PLACEHOLDER.findall(query):
        if name not in values and name not in unknown:
            unknown.append(name)
    if unknown:
        raise ValueError("query uses the placeholder%s %s, which variables does not define (it defines: %s)" % (
            "s" if len(unknown) > 1 else "", ", ".join("${%s}" % n for n in unknown),
            ", ".join(sorted(values)) or "nothing"))
    return PLACEHOLDER.sub(lambda m: values[m.group(1)], query)


def check_options(mode="judge", max_value=None, min_value=None, samples=1, interval=2.0, failure_limit=0,
                  no_data="fail", timeout=5.0):
    """The numbers checked and converted, as a dict; ValueError naming the option that is wrong."""
    if mode not in MODES:
        raise ValueError("mode must be one of %s, got %r" % (", ".join(MODES), mode))
    if no_data not in NO_DATA:
        raise ValueError("no_data must be one of %s, got %r" % (", ".join(NO_DATA), no_data))
    out = {
        "mode": mode,
        "no_data": no_data,
        "samples": bounded("samples", samples, int, 1, MAX_SAMPLES),
        "interval": bounded("interval", interval, float, 0, MAX_SECONDS),
        "failure_limit": bounded("failure_limit", failure_limit, int, 0),
        "timeout": bounded("timeout", timeout, float, 0, MAX_SECONDS, low_inclusive=False),
        "max_value": None if max_value is None else bounded("max_value", max_value, float, -float("inf")),
        "min_value": None if min_value is None else bounded("min_value", min_value, float, -float("inf")),
    }
    if mode == "answers":
        return out
    if out["max_value"] is None and out["min_value"] is None:
        raise ValueError("mode=judge needs a threshold: set max_value, min_value or both "
                         "(mode=answers only checks that Prometheus answers the query)")
    if out["max_value"] is not None and out["min_value"] is not None and out["min_value"] > out["max_value"]:
        raise ValueError("min_value %s is greater than max_value %s: no value could pass"
                         % (fmt_value(out["min_value"]), fmt_value(out["max_value"])))
    if out["failure_limit"] >= out["samples"]:
        raise ValueError("failure_limit %d lets all %d sample(s) breach, so the analysis could never fail: "
                         "use a failure_limit below samples" % (out["failure_limit"], out["samples"]))
    return out


# -- one answer --------------------------------------------------------------------------

def _float(value, where):
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise BadResponse("%s is not a sample value: %r" % (where, value))
    try:
        return float(value)  # "NaN", "+Inf", "-Inf" too
    except ValueError:
        raise BadResponse("%s is not a number: %r" % (where, value))


def parse_result(payload):
    """The series of an instant query's API response: a list of (labels dict, float value).

    A vector gives one entry per series, a scalar one entry with no labels. QueryRefused for
    ``"status": "error"``, BadResponse for anything that is not a vector or scalar result."""
    if not isinstance(payload, dict) or "status" not in payload:
        raise BadResponse("the answer is not a Prometheus API response (no status)")
    if payload["status"] == "error":
        raise _refused(payload)
    if payload["status"] != "success":
        raise BadResponse("the answer has status %r, neither success nor error" % (payload["status"],))
    data = payload.get("data")
    if not isinstance(data, dict):
        raise BadResponse("the answer has no data")
    kind = data.get("resultType")
    result = data.get("result")
    if kind == "scalar":
        if not isinstance(result, list) or len(result) != 2:
            raise BadResponse("the scalar result is not a [time, value] pair: %r" % (result,))
        return [({}, _float(result[1], "the scalar's value"))]
    if kind == "matrix":
        raise BadResponse("the query returned a range vector (matrix), which an instant query cannot judge: "
                          "reduce it to one value per series, for example with rate() or max_over_time()")
    if kind != "vector":
        raise BadResponse("the query returned a %s, not an instant vector or a scalar" % (kind or "result without a resultType"))
    if not isinstance(result, list):
        raise BadResponse("the vector result is not a list")
    series = []
    for index, item in enumerate(result):
        labels = item.get("metric") if isinstance(item, dict) else None
        if not isinstance(labels, dict):
            raise BadResponse("result[%d] has no metric labels" % index)
        labels = dict((to_text(k), to_text(v)) for k, v in labels.items())
        value = item.get("value")
        if value is None and "histogram" in item:
            raise BadResponse("series %s is a native histogram, not a number: judge a function of it, "
                              "such as histogram_quantile() or histogram_count()" % fmt_labels(labels))
        if not isinstance(value, list) or len(value) != 2:
            raise BadResponse("result[%d].value is not a [time, value] pair: %r" % (index, value))
        series.append((labels, _float(value[1], "the value of series %s" % fmt_labels(labels))))
    return series


def _refused(payload):
    error_type = to_text(payload.get("errorType") or "")
    error = to_text(payload.get("error") or "no reason given")
    return QueryRefused(error_type, " ".join(error.split()))


def api_warnings(payload):
    """Prometheus's own warnings and infos about an answer (for example a query over a missing metric name)."""
    out = []
    if isinstance(payload, dict):
        for key in ("warnings", "infos"):
            items = payload.get(key)
            if isinstance(items, list):
                out.extend(" ".join(to_text(item).split()) for item in items)
    return out


def judge(series, max_value=None, min_value=None):
    """(breach, reasons) of one sample: a series breaches when its value is above max_value, below
    min_value, or NaN; a reason is ``value 0.25 for {server="app1_green"}``."""
    reasons = []
    for labels, value in series:
        if (math.isnan(value) or (max_value is not None and value > max_value)
                or (min_value is not None and value < min_value)):
            reasons.append("value %s for %s" % (fmt_value(value), fmt_labels(labels)))
    return bool(reasons), reasons


# -- formatting --------------------------------------------------------------------------

def fmt_value(value):
    """A sample value, short: 0.0, 0.25, 1e-09, NaN, +Inf."""
    if value is None or math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == int(value) and abs(value) < 1e15:
        return repr(float(value))
    return format(value, ".6g")


def fmt_labels(labels):
    """Labels as PromQL writes them: ``up{job="node"}``, ``{server="app1_green"}``, ``{}``."""
    name = labels.get("__name__", "")
    pairs = ", ".join("%s=%s" % (k, json.dumps(v, ensure_ascii=False)) for k, v in sorted(labels.items())
                      if k != "__name__")
    return "%s{%s}" % (name, pairs)


def fmt_bounds(max_value, min_value):
    if max_value is not None and min_value is not None:
        return "min %s and max %s" % (fmt_value(min_value), fmt_value(max_value))
    if max_value is not None:
        return "max %s" % fmt_value(max_value)
    return "min %s" % fmt_value(min_value)


def _one_line(text):
    return " ".join(to_text(text).split())


def _sample_summary(series, max_value, min_value):
    """What the success message shows of a sample: its value, or the worst of its values."""
    if not series:
        return "no series"
    values = [item[1] for item in series]
    if any(math.isnan(v) for v in values):
        return "NaN"
    if len(values) == 1:
        return fmt_value(values[0])
    if max_value is not None and min_value is not None:
        return "%s..%s" % (fmt_value(min(values)), fmt_value(max(values)))
    return fmt_value(max(values) if max_value is not None else min(values))


def _returned(series):
    """Series as the module returns them: value null when not a finite number (the message shows which)."""
    return [{"labels": dict(labels), "value": value if math.isfinite(value) else None} for labels, value in series]


# -- the HTTP side -----------------------------------------------------------------------

def fetcher(opener, url, timeout=5.0, validate_certs=True, ca_path=None, url_username=None, url_password=None):
    """A fetch(query) -> payload callable that asks the Prometheus at base URL `url` through
    `opener` (ansible.module_utils.urls.open_url). Raises PrometheusError naming the URL."""
    endpoint = check_url(url)
    where = shown_url(url)
    secrets = [s for s in (url_password,) if s]

    def scrub(text):
        text = _one_line(text)
        for secret in secrets:
            text = text.replace(secret, "********")
        return text

    def read(resp):
        body = resp.read(MAX_BODY + 1)
        if len(body) > MAX_BODY:
            raise PrometheusError("Prometheus at %s answered more than %d MiB: narrow the query"
                                  % (where, MAX_BODY // (1024 * 1024)))
        return body

    def decode(body, status, content_type):
        try:
            return json.loads(to_text(body, errors="surrogate_or_strict"))
        except ValueError:
            snippet = scrub(to_text(body[:SNIPPET], errors="replace"))
            raise PrometheusError("Prometheus at %s answered HTTP %s with a body that is not JSON (%s): %r - is url the "
                                  "Prometheus server's base URL?" % (where, status, content_type or "no Content-Type",
                                                                     snippet))

    def fetch(query):
        full = "%s?%s" % (endpoint, urlencode({"query": query}))
        resp = None
        try:
            try:
                resp = opener(full, method="GET", headers={"Accept": "application/json"}, timeout=timeout,
                              validate_certs=validate_certs, ca_path=ca_path, url_username=url_username,
                              url_password=url_password, force_basic_auth=bool(url_username),
                              follow_redirects="none", http_agent="seed.fleet.prometheus_check")
            except HTTPError as exc:
                resp = exc
                body = read(exc) if exc.fp is not None else b""
                try:
                    payload = json.loads(to_text(body, errors="surrogate_or_strict"))
                except ValueError:
                    payload = None
                if isinstance(payload, dict) and payload.get("status") == "error":
                    return payload  # a bad query (400), an execution error (422), a timeout (503)
                raise PrometheusError("Prometheus at %s answered HTTP %d %s%s" % (
                    where, exc.code, scrub(exc.reason or ""), _http_hint(exc, url_username)))
            body = read(resp)
            return decode(body, resp.getcode(), resp.headers.get("Content-Type") if resp.headers else None)
        except PrometheusError:
            raise
        except Exception as exc:  # pylint: disable=broad-except  # any failure to get an answer
            reason = getattr(exc, "reason", None) or exc
            if isinstance(reason, socket.timeout) or "timed out" in to_native(reason):
                raise PrometheusError("Prometheus at %s did not answer within %s s" % (where, fmt_seconds(timeout)))
            text = to_native(reason) or type(reason).__name__
            raise PrometheusError("Prometheus at %s did not answer: %s" % (where, scrub(text)))
        finally:
            if resp is not None:
                try:
                    resp.close()
                except Exception:  # pylint: disable=broad-except
                    pass

    return fetch


def _http_hint(exc, url_username):
    if exc.code in (401, 403):
        return " (check url_username and url_password)" if url_username else " (it wants credentials: url_username, url_password)"
    if exc.code == 404:
        return " (is url the Prometheus server's base URL, with its route prefix if it has one?)"
    if 300 <= exc.code < 400:
        location = exc.headers.get("Location") if exc.headers else None
        return " (redirects are not followed; give the URL it redirects to%s)" % (
            ": %s" % shown_url(location) if location else "")
    return ""


def fmt_seconds(seconds):
    return ("%.3f" % seconds).rstrip("0").rstrip(".")


# -- the analysis ------------------------------------------------------------------------

def run(fetch, query, url, mode="judge", max_value=None, min_value=None, samples=1, interval=2.0,
        failure_limit=0, no_data="fail", sleep=time.sleep, clock=time.monotonic):
    """Query `samples` times and judge. Returns a result dict with ``ok`` (the verdict), ``msg``,
    ``series`` (per sample, its series as returned), ``breaches``, ``samples``, ``query`` and
    ``api_warnings``; raises PrometheusError when it cannot judge (no answer, a refused query,
    no series with no_data=fail)."""
    where = shown_url(url)
    shown_query = _one_line(query)
    warnings = []
    values = []
    summaries = []
    breaching = []  # (sample number, reasons)
    planned = 1 if mode == "answers" else samples
    started = None
    for number in range(1, planned + 1):
        if started is not None:
            wait = interval - (clock() - started)
            if wait > 0:
                sleep(wait)
        started = clock()
        payload = fetch(query)
        try:
            series = parse_result(payload)
        except QueryRefused as exc:
            raise PrometheusError("Prometheus at %s refused the query %s: %s" % (where, shown_query, exc))
        except BadResponse as exc:
            raise PrometheusError("Prometheus at %s answered the query %s with nothing to judge: %s"
                                  % (where, shown_query, exc))
        for warning in api_warnings(payload):
            if warning not in warnings:
                warnings.append(warning)
        values.append(_returned(series))
        summaries.append(_sample_summary(series, max_value, min_value))
        if not series:
            if mode == "answers" or no_data == "fail":
                raise PrometheusError(
                    "Prometheus at %s returned no series for the query %s%s: nothing to judge (check the metric and "
                    "label names%s)" % (where, shown_query, "" if planned == 1 else " (sample %d of %d)" % (number, planned),
                                        "" if mode == "answers" else ", or set no_data=breach to count it as a breach"))
            breaching.append((number, ["no series"]))
        elif mode == "judge":
            breach, reasons = judge(series, max_value, min_value)
            if breach:
                breaching.append((number, reasons))
        if len(breaching) > failure_limit:
            break  # decided: the samples left cannot change the verdict

    result = {"series": values, "breaches": len(breaching), "samples": len(values), "query": query,
              "api_warnings": warnings}
    if mode == "answers":
        result["ok"] = True
        result["msg"] = "Prometheus at %s answered the query with %d series" % (where, len(values[0]))
        return result
    bounds = fmt_bounds(max_value, min_value)
    if len(breaching) > failure_limit:
        skipped = planned - len(values)
        result["ok"] = False
        result["msg"] = "Prometheus analysis failed: %d of %d sample(s) breached %s (limit %d%s): %s" % (
            len(breaching), len(values), bounds, failure_limit,
            ", %d more not taken" % skipped if skipped else "", _breach_details(breaching))
        return result
    result["ok"] = True
    result["msg"] = "%d sample(s), %d breach(es) of %s (limit %d): %s" % (
        len(values), len(breaching), bounds, failure_limit, ", ".join(summaries))
    return result


def _breach_details(breaching):
    """``sample 1: value 0.25 for {server="app1_green"}; sample 3: no series`` (shortened)."""
    parts = []
    shown = 0
    left = 0
    for number, reasons in breaching:
        if shown >= SHOWN_IN_ALL:
            left += len(reasons)
            continue
        take = reasons[:min(SHOWN_PER_SAMPLE, SHOWN_IN_ALL - shown)]
        shown += len(take)
        more = len(reasons) - len(take)
        parts.append("sample %d: %s%s" % (number, ", ".join(take), " and %d more" % more if more else ""))
    text = "; ".join(parts)
    if left:
        text += "; and %d more" % left
    return text
