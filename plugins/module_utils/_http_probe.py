# -*- coding: utf-8 -*-
# Copyright (c) seed.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""HTTP health probe used by seed.fleet.http_check (private module_utils).

One probe = one request judged against the expectations (status set, body
regex, header regexes). A run repeats probes every ``interval`` seconds until
``successes`` consecutive probes pass or the overall ``deadline`` is spent.

The deadline bounds the whole run, always: each request runs in a worker
thread that the run stops waiting for when its time is up, so a server that
trickles one byte at a time (headers or body) cannot hold the run past it.

Only http(s), only GET/HEAD unless ``allow_unsafe_methods``, and never anything
but GET/HEAD in check mode. Everything that could carry a secret (URL password,
Authorization/Cookie/Proxy-Authorization and ``secret_headers`` values) is
redacted from every message and result; ``secrets`` lists the values so the
module can add them to its no_log values as well.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import codecs
import re
import socket
import threading
import time

from ansible.module_utils.common.text.converters import to_native, to_text
from ansible.module_utils.six.moves.urllib.error import HTTPError, URLError
from ansible.module_utils.six.moves.urllib.parse import quote, unquote, urlsplit, urlunsplit
from ansible.module_utils.urls import open_url

from ansible_collections.seed.fleet.plugins.module_utils._numbers import NumberError, bounded

# Bodies are read up to this many bytes for body_regex (health pages are small).
MAX_BODY = 1024 * 1024
READ_CHUNK = 64 * 1024
# Upper bounds for the numbers (a day; a typo of 1e9 would otherwise hang a play).
MAX_SECONDS = 86400.0
MAX_SUCCESSES = 10000
SCHEMES = ("http", "https")
SAFE_METHODS = ("GET", "HEAD")
SECRET_HEADERS = ("authorization", "cookie", "proxy-authorization", "set-cookie")
REDACTED = "********"
# RFC 9110 token (header names, methods).
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
# Control characters (HTAB allowed in header values) and, for URLs, spaces.
_CTL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_URL_BAD = re.compile(r"[\x00-\x20\x7f]")
# Every printable ASCII character is left alone when a URL is percent-encoded.
_URL_SAFE = "".join(chr(c) for c in range(0x21, 0x7f))


class ProbeError(Exception):
    """Invalid probe definition: nothing was sent. The message starts with the option's name."""

    def __init__(self, option, message):
        super(ProbeError, self).__init__("%s %s" % (option, message))
        self.option = option


def redact_url(url):
    """The URL with the password of its user:password@ part replaced."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return re.sub(r"//([^/@:]*):[^/@]*@", r"//\1:%s@" % REDACTED, url)
    if parts.password is None:
        return url
    userinfo, hostport = parts.netloc.rsplit("@", 1)
    user = userinfo.split(":", 1)[0]
    return urlunsplit(parts._replace(netloc="%s:%s@%s" % (user, REDACTED, hostport)))


def find_secrets(url, headers, secret_headers, url_password):
    """Secret values in a probe definition, longest first; tolerant of invalid input
    (the module masks them before it validates anything)."""
    found = set()
    names = set(SECRET_HEADERS)
    if isinstance(secret_headers, (list, tuple, set, frozenset)):
        names.update(to_text(n).lower() for n in secret_headers)
    if isinstance(headers, dict):
        found.update(to_text(v) for k, v in headers.items() if to_text(k).lower() in names and v)
    try:
        password = urlsplit(url).password if isinstance(url, str) else None
    except ValueError:
        password = None
    found.update(to_text(p) for p in (password, password and unquote(password), url_password) if p)
    return sorted(found, key=len, reverse=True)


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


def _number(option, value, kind, low, low_inclusive, high):
    try:
        return bounded(option, value, kind, low, high, low_inclusive)
    except NumberError as exc:
        raise ProbeError(option, exc.reason)


def _check_url(url):
    """Validated ASCII URL (unicode percent-encoded, host IDNA-encoded)."""
    if not isinstance(url, str) or not url.strip():
        raise ProbeError("url", "must be an absolute http:// or https:// URL, got %r" % (url,))
    shown = redact_url(url)
    if _URL_BAD.search(url):
        raise ProbeError("url", "must not contain spaces or control characters (CR, LF, ...): %r" % (shown,))
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ProbeError("url", "is not a valid URL (%s): %r" % (to_native(exc), shown))
    if parts.scheme.lower() not in SCHEMES or "://" not in url:
        raise ProbeError("url", "must be an absolute http:// or https:// URL (scheme %r is not supported): %r"
                         % (parts.scheme, shown))
    if not parts.hostname:
        raise ProbeError("url", "has no host: %r" % (shown,))
    try:
        url.encode("ascii")
        return url
    except UnicodeEncodeError:
        pass
    try:
        host = parts.hostname.encode("idna").decode("ascii")
    except UnicodeError:
        raise ProbeError("url", "host %r cannot be encoded as an international domain name" % (parts.hostname,))
    if ":" in host:
        host = "[%s]" % host
    netloc = host if port is None else "%s:%d" % (host, port)
    if "@" in parts.netloc:
        netloc = "%s@%s" % (quote(parts.netloc.rsplit("@", 1)[0], safe=_URL_SAFE), netloc)
    return quote(urlunsplit(parts._replace(netloc=netloc)), safe=_URL_SAFE)


def _check_header_name(option, name):
    name = to_text(name)
    if not _TOKEN.match(name):
        raise ProbeError(option, "%r is not a valid header name" % (name,))
    return name


def _check_headers(headers):
    checked = {}
    if not isinstance(headers, dict):
        raise ProbeError("headers", "must be a dictionary of header names to values")
    for name, value in headers.items():
        name = _check_header_name("headers:", name)
        # Values are never echoed: they may be secrets.
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise ProbeError("headers[%s]" % name, "value must be a string, got %s" % type(value).__name__)
        value = to_text(value)
        if _CTL.search(value):
            raise ProbeError("headers[%s]" % name, "value must not contain CR, LF or other control characters")
        try:
            value.encode("latin-1")
        except UnicodeEncodeError:
            raise ProbeError("headers[%s]" % name, "value must be ISO-8859-1 text (encode other characters first)")
        checked[name] = value
    return checked


class HttpProbe:
    """A compiled probe definition; ``run()`` executes it."""

    def __init__(self, url, method="GET", status_codes=None, body_regex=None, headers=None,
                 expect_headers=None, timeout=5.0, successes=1, deadline=60.0, interval=1.0,
                 validate_certs=True, allow_unsafe_methods=False, secret_headers=None,
                 url_username=None, url_password=None, max_latency=None, clock=None, sleep=None, opener=None):
        self._clock = clock or time.monotonic
        self._sleep = sleep or time.sleep
        self._open = opener or open_url
        self.url = _check_url(url)
        self.shown_url = redact_url(url)
        self.url_username = url_username or None
        self.url_password = url_password
        if self.url_username and urlsplit(self.url).username is not None:
            raise ProbeError("url_username", "and credentials in url are mutually exclusive")
        if url_password and not self.url_username:
            raise ProbeError("url_password", "requires url_username")

        if not isinstance(method, str) or not method.strip():
            raise ProbeError("method", "must be an HTTP method such as GET or HEAD, got %r" % (method,))
        self.method = method.strip().upper()
        if not _TOKEN.match(self.method):
            raise ProbeError("method", "%r is not a valid HTTP method" % (method,))
        if self.method not in SAFE_METHODS and not allow_unsafe_methods:
            raise ProbeError("method", "%s is not allowed: only GET and HEAD unless allow_unsafe_methods=true"
                             % self.method)

        self.timeout = _number("timeout", timeout, float, 0, False, MAX_SECONDS)
        self.deadline = _number("deadline", deadline, float, 0, False, MAX_SECONDS)
        self.interval = _number("interval", interval, float, 0, True, MAX_SECONDS)
        self.successes = _number("successes", successes, int, 1, True, MAX_SUCCESSES)
        # A response slower than this fails like a wrong status (None or 0: any time within timeout).
        self.max_latency = _number("max_latency", max_latency, float, 0, False, MAX_SECONDS) if max_latency else None
        self.validate_certs = bool(validate_certs)

        if status_codes is None:
            status_codes = [200]
        if not isinstance(status_codes, (list, tuple)) or not status_codes:
            raise ProbeError("status_codes", "must be a non-empty list of HTTP status codes")
        self.status_codes = []
        for code in status_codes:
            try:
                self.status_codes.append(_number("status_codes", code, int, 100, True, 599))
            except ProbeError:
                raise ProbeError("status_codes", "must be HTTP status codes (100-599), got %r" % (code,))

        self.headers = _check_headers(headers or {})
        self.secret_names = set(SECRET_HEADERS)
        for name in secret_headers or []:
            self.secret_names.add(_check_header_name("secret_headers:", name).lower())

        if body_regex and self.method == "HEAD":
            raise ProbeError("body_regex", "cannot be checked with method HEAD (a HEAD response has no body)")
        try:
            self.body_re = re.compile(body_regex) if body_regex else None
        except (re.error, TypeError) as exc:
            raise ProbeError("body_regex", "%r is not a valid regular expression: %s" % (body_regex, exc))
        self.expect_headers = {}
        if not isinstance(expect_headers or {}, dict):
            raise ProbeError("expect_headers", "must be a dictionary of header names to regular expressions")
        for name, pattern in (expect_headers or {}).items():
            name = _check_header_name("expect_headers:", name)
            try:
                self.expect_headers[name] = re.compile(to_text(pattern))
            except re.error as exc:
                raise ProbeError("expect_headers[%s]" % name, "%r is not a valid regular expression: %s"
                                 % (pattern, exc))

        self.secrets = find_secrets(self.url, self.headers, self.secret_names, url_password)

    # -- redaction ----------------------------------------------------------
    def redact(self, text):
        """`text` with every secret value and URL password replaced."""
        if text is None:
            return None
        text = to_text(text, errors="surrogate_or_replace")
        text = text.replace(self.url, self.shown_url)
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return text

    # -- one request ------------------------------------------------------
    def _read(self, resp, cancel):
        """Up to MAX_BODY bytes of the body, a chunk at a time, stopping when cancelled."""
        if self.body_re is None:
            return b""
        read = getattr(resp, "read1", None) or resp.read
        chunks = []
        size = 0
        while size < MAX_BODY and not cancel.is_set():
            chunk = read(min(READ_CHUNK, MAX_BODY - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks)

    def _request(self, timeout, box, cancel):
        """Send one request (worker thread); fill box with status, headers, body or error."""
        resp = None
        if cancel.is_set():
            return
        try:
            try:
                resp = self._open(
                    self.url, method=self.method, headers=self.headers, timeout=timeout,
                    validate_certs=self.validate_certs, follow_redirects="none",
                    http_agent="seed.fleet.http_check", url_username=self.url_username,
                    url_password=self.url_password, force_basic_auth=True,
                )
            except HTTPError as exc:
                resp = exc
            box["status"] = resp.getcode()
            box["headers"] = dict((k.lower(), v) for k, v in (resp.headers or {}).items())
            box["body"] = self._read(resp, cancel)
        except Exception as exc:  # pylint: disable=broad-except
            box["error"] = exc
        finally:
            if resp is not None:
                try:
                    resp.close()
                except Exception:  # pylint: disable=broad-except
                    pass

    def _failure(self, exc, timeout):
        reason = getattr(exc, "reason", None) or exc
        if "timed out" in to_native(reason) or isinstance(reason, socket.timeout):
            return "timeout after %.1f s" % timeout
        if isinstance(reason, (str, bytes)) or isinstance(exc, URLError):
            return "connection error: %s" % to_native(reason)
        return "connection error: %s: %s" % (type(reason).__name__, to_native(reason))

    def probe_once(self, timeout):
        """Send one request, taking at most `timeout` seconds in all.

        Returns (ok, status, reason, latency_ms, timed_out)."""
        started = self._clock()
        box = {}
        cancel = threading.Event()
        worker = threading.Thread(target=self._request, args=(timeout, box, cancel), name="http_check-request")
        worker.daemon = True
        worker.start()
        worker.join(timeout)
        latency = (self._clock() - started) * 1000.0
        if worker.is_alive():
            # Still connecting or reading: leave the thread behind (it stops at its next read).
            cancel.set()
            return False, None, "timeout after %.1f s" % timeout, latency, True
        if "error" in box:
            reason = self._failure(box["error"], timeout)
            return False, box.get("status"), self.redact(reason), latency, reason.startswith("timeout")
        status = box["status"]
        if status not in self.status_codes:
            return False, status, "status %s not in %s" % (status, self.status_codes), latency, False
        headers = box["headers"]
        if self.body_re is not None:
            text = to_text(box["body"], encoding=self._charset(headers), errors="replace")
            if not self.body_re.search(text):
                return False, status, "body does not match %r" % self.body_re.pattern, latency, False
        for name, pattern in self.expect_headers.items():
            value = headers.get(name.lower())
            if value is None:
                return False, status, "header %s missing" % name, latency, False
            if not pattern.search(value):
                shown = REDACTED if name.lower() in self.secret_names else value
                return False, status, self.redact("header %s=%r does not match %r" % (name, shown, pattern.pattern)), \
                    latency, False
        if self.max_latency is not None and latency > self.max_latency * 1000.0:
            return False, status, "answered in %.0f ms, over max_latency %.0f ms" % (latency, self.max_latency * 1000.0), \
                latency, False
        return True, status, None, latency, False

    @staticmethod
    def _charset(headers):
        match = re.search(r"charset=[\"']?([\w.:-]+)", headers.get("content-type", ""), re.I)
        if match:
            try:
                return codecs.lookup(match.group(1)).name
            except LookupError:
                pass
        return "utf-8"

    # -- the run ------------------------------------------------------------
    def _result(self, attempts, consecutive, latencies, last_failure, status, elapsed):
        return {
            "url": self.shown_url,
            "attempts": attempts,
            "successes": consecutive,
            "latency_ms": latency_stats(latencies),
            "last_failure": self.redact(last_failure),
            "status": status,
            "elapsed": round(elapsed, 3),
        }

    def run(self, check_mode=False):
        if check_mode and self.method not in SAFE_METHODS:
            result = self._result(0, 0, [], None, None, 0.0)
            result.update(ok=True, skipped=True, msg="check mode: %s %s not sent (only GET and HEAD are sent in "
                                                     "check mode)" % (self.method, self.shown_url))
            return result
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
            budget = min(self.timeout, remaining)
            attempts += 1
            attempt_started = self._clock()
            ok, got, reason, latency, timed_out = self.probe_once(budget)
            latencies.append(latency)
            if ok:
                consecutive += 1
                status = got
                if consecutive >= self.successes:
                    break
            else:
                consecutive = 0
                if timed_out and budget < self.timeout and last_failure is not None:
                    # Cut short by the deadline, not by the server: the last real failure says more.
                    pass
                else:
                    last_failure = reason
                    status = got
            # `interval` runs from the start of one attempt to the start of the next: slow
            # answers (a loaded host) do not stretch N attempts past N x interval.
            wait = min(self.interval - (self._clock() - attempt_started), end - self._clock())
            if wait <= 0:
                if end - self._clock() <= 0:
                    break
                continue
            self._sleep(wait)
        result = self._result(attempts, consecutive, latencies, last_failure, status, self._clock() - start)
        result["ok"] = consecutive >= self.successes
        if not result["ok"]:
            result["msg"] = (
                "%s %s: health check failed: %s (%d attempt(s) in %.1f s, %d of %d consecutive successes)"
                % (self.method, self.shown_url, result["last_failure"] or "deadline reached", attempts,
                   result["elapsed"], consecutive, self.successes)
            )
        else:
            result["msg"] = "%s %s: healthy (%d consecutive success(es), %d attempt(s))" % (
                self.method, self.shown_url, consecutive, attempts)
        return result
