# -*- coding: utf-8 -*-
# Copyright (c) seed.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""HTTP health probe used by seed.fleet.http_check (private module_utils).

One probe = one request judged against the expectations (status set, body
regex, header regexes). A run repeats probes every ``interval`` seconds until
``successes`` consecutive probes pass or the overall ``deadline`` is spent.
Everything is read-only: the probe only sends the request it is told to send.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import socket
import time

from ansible.module_utils.common.text.converters import to_native, to_text
from ansible.module_utils.six.moves.urllib.error import HTTPError, URLError
from ansible.module_utils.urls import open_url

# Bodies are read up to this many bytes for body_regex (health pages are small).
MAX_BODY = 1024 * 1024


class ProbeError(Exception):
    """Invalid probe definition (bad regex, bad numbers): nothing was sent."""


def percentile(values, pct):
    """Nearest-rank percentile of a list of numbers (None for an empty list)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, int(-(-pct * len(ordered) // 100)))  # ceil(pct/100 * n)
    return ordered[min(rank, len(ordered)) - 1]


def latency_stats(latencies):
    if not latencies:
        return {"min": None, "avg": None, "max": None, "p50": None, "p95": None}
    return {
        "min": round(min(latencies), 2),
        "avg": round(sum(latencies) / len(latencies), 2),
        "max": round(max(latencies), 2),
        "p50": round(percentile(latencies, 50), 2),
        "p95": round(percentile(latencies, 95), 2),
    }


class HttpProbe:
    """A compiled probe definition; ``run()`` executes it."""

    def __init__(self, url, method="GET", status_codes=None, body_regex=None, headers=None,
                 expect_headers=None, timeout=5.0, successes=1, deadline=60.0, interval=1.0,
                 validate_certs=True, clock=None, sleep=None, opener=None):
        self.url = url
        self.method = (method or "GET").upper()
        self.status_codes = list(status_codes) if status_codes else [200]
        self.headers = dict(headers or {})
        self.timeout = float(timeout)
        self.successes = int(successes)
        self.deadline = float(deadline)
        self.interval = float(interval)
        self.validate_certs = bool(validate_certs)
        self._clock = clock or time.monotonic
        self._sleep = sleep or time.sleep
        self._open = opener or open_url
        if not url or "://" not in url:
            raise ProbeError("url must be an absolute http(s) URL, got %r" % (url,))
        if self.timeout <= 0:
            raise ProbeError("timeout must be > 0, got %s" % timeout)
        if self.successes < 1:
            raise ProbeError("successes must be >= 1, got %s" % successes)
        if self.deadline <= 0:
            raise ProbeError("deadline must be > 0, got %s" % deadline)
        if self.interval < 0:
            raise ProbeError("interval must be >= 0, got %s" % interval)
        for code in self.status_codes:
            if not 100 <= int(code) <= 599:
                raise ProbeError("status_codes must be HTTP status codes (100-599), got %s" % code)
        try:
            self.body_re = re.compile(body_regex) if body_regex else None
        except re.error as exc:
            raise ProbeError("body_regex %r is not a valid regular expression: %s" % (body_regex, exc))
        self.expect_headers = {}
        for name, pattern in (expect_headers or {}).items():
            try:
                self.expect_headers[name] = re.compile(to_text(pattern))
            except re.error as exc:
                raise ProbeError("expect_headers[%s] %r is not a valid regular expression: %s" % (name, pattern, exc))

    # -- one request ------------------------------------------------------
    def probe_once(self, timeout):
        """Send one request. Returns (ok, status, reason, latency_ms)."""
        started = self._clock()
        status = None
        body = b""
        resp_headers = {}
        try:
            resp = self._open(
                self.url, method=self.method, headers=self.headers, timeout=timeout,
                validate_certs=self.validate_certs, follow_redirects="none",
                http_agent="seed.fleet.http_check",
            )
            status = resp.getcode()
            resp_headers = dict((k.lower(), v) for k, v in resp.headers.items())
            body = resp.read(MAX_BODY) if self.body_re else resp.read(0)
            resp.close()
        except HTTPError as exc:
            status = exc.code
            try:
                resp_headers = dict((k.lower(), v) for k, v in (exc.headers or {}).items())
                body = exc.read(MAX_BODY) if self.body_re else b""
            except Exception:  # pylint: disable=broad-except
                body = b""
        except (URLError, socket.timeout, socket.error, OSError, ValueError) as exc:
            latency = (self._clock() - started) * 1000.0
            reason = getattr(exc, "reason", exc)
            if isinstance(reason, socket.timeout) or "timed out" in to_native(reason):
                return False, None, "timeout after %.1f s" % timeout, latency
            return False, None, "connection error: %s" % to_native(reason), latency
        except Exception as exc:  # pylint: disable=broad-except
            # http.client raises RemoteDisconnected/BadStatusLine/IncompleteRead etc.
            latency = (self._clock() - started) * 1000.0
            return False, status, "connection error: %s: %s" % (type(exc).__name__, to_native(exc)), latency
        latency = (self._clock() - started) * 1000.0

        if status not in self.status_codes:
            return False, status, "status %s not in %s" % (status, self.status_codes), latency
        if self.body_re is not None:
            text = to_text(body, errors="surrogate_or_replace")
            if not self.body_re.search(text):
                return False, status, "body does not match %r" % self.body_re.pattern, latency
        for name, pattern in self.expect_headers.items():
            value = resp_headers.get(name.lower())
            if value is None:
                return False, status, "header %s missing" % name, latency
            if not pattern.search(value):
                return False, status, "header %s=%r does not match %r" % (name, value, pattern.pattern), latency
        return True, status, None, latency

    # -- the run ------------------------------------------------------------
    def run(self):
        start = self._clock()
        end = start + self.deadline
        attempts = 0
        consecutive = 0
        latencies = []
        last_failure = None
        status = None
        while True:
            remaining = end - self._clock()
            if remaining <= 0 and attempts > 0:
                break
            attempts += 1
            ok, status, reason, latency = self.probe_once(max(0.05, min(self.timeout, remaining)))
            latencies.append(latency)
            if ok:
                consecutive += 1
                if consecutive >= self.successes:
                    break
            else:
                consecutive = 0
                last_failure = reason
            wait = min(self.interval, end - self._clock())
            if wait <= 0:
                if end - self._clock() <= 0:
                    break
                continue
            self._sleep(wait)
        result = {
            "url": self.url,
            "attempts": attempts,
            "successes": consecutive,
            "latency_ms": latency_stats(latencies),
            "last_failure": last_failure,
            "status": status,
            "elapsed": round(self._clock() - start, 3),
        }
        result["ok"] = consecutive >= self.successes
        if not result["ok"]:
            result["msg"] = (
                "%s %s: health check failed: %s (%d attempt(s) in %.1f s, %d of %d consecutive successes)"
                % (self.method, self.url, last_failure or "deadline reached", attempts, result["elapsed"],
                   consecutive, self.successes)
            )
        else:
            result["msg"] = "%s %s: healthy (%d consecutive success(es), %d attempt(s))" % (
                self.method, self.url, consecutive, attempts)
        return result
