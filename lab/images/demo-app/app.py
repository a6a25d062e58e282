"""seed.fleet demo app: a tiny HTTP/1.1 app on the modules python3-minimal ships
(socket, threading, signal: no http.server, no json there).

GET /          -> "app=<name> version=<v> color=<c> host=<hostname>"
GET /healthz   -> 200 "ok" or 503 "unhealthy"
GET /slow?ms=N -> answers after N ms (max 60000): keeps a request in flight
GET /version   -> JSON {app, version, color, healthy, uptime}

Environment:
  APP_PORT (8080)                   port to listen on
  APP_VERSION / SEED_FLEET_VERSION  version shown (APP_VERSION wins)
  APP_COLOR / SEED_FLEET_COLOR      color shown
  APP_UNHEALTHY=1                   /healthz answers 503 from the start
  APP_UNHEALTHY_AFTER=N             /healthz turns 503 (and / turns 500) N seconds after start
  APP_CRASH_AFTER=N                 the process exits (status 1) N seconds after start
  APP_FAIL_AFTER_REQUESTS=N         turns unhealthy (as above) after serving N requests
                                    other than /healthz (fails once real traffic arrives)
  APP_GRACE (30)                    seconds to finish requests in flight on SIGTERM
On SIGTERM it stops accepting, finishes the requests in flight and exits 0.
`app.py --check` is the container HEALTHCHECK (exit 0 when /healthz is 200).
"""
import os
import signal
import socket
import sys
import threading
import time

STARTED = time.monotonic()
ENV = os.environ
PORT = int(ENV.get("APP_PORT", "8080"))
VERSION = ENV.get("APP_VERSION") or ENV.get("SEED_FLEET_VERSION") or "dev"
COLOR = ENV.get("APP_COLOR") or ENV.get("SEED_FLEET_COLOR") or "none"
NAME = ENV.get("SEED_FLEET_APP", "demo")
GRACE = float(ENV.get("APP_GRACE", "30"))
IDLE_TIMEOUT = 30.0
HOST = socket.gethostname()


def _float(name):
    value = ENV.get(name, "").strip()
    return float(value) if value else None


UNHEALTHY_AFTER = 0.0 if ENV.get("APP_UNHEALTHY", "") in ("1", "true", "yes") else _float("APP_UNHEALTHY_AFTER")
CRASH_AFTER = _float("APP_CRASH_AFTER")
FAIL_AFTER_REQUESTS = _float("APP_FAIL_AFTER_REQUESTS")
STATE = {"in_flight": 0, "stopping": False, "served": 0}
LOCK = threading.Lock()
REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed", 500: "Internal Server Error",
           503: "Service Unavailable"}


def healthy():
    if FAIL_AFTER_REQUESTS is not None and STATE["served"] >= FAIL_AFTER_REQUESTS:
        return False
    return UNHEALTHY_AFTER is None or time.monotonic() - STARTED < UNHEALTHY_AFTER


def query_int(query, key, default):
    for part in query.split("&"):
        if part.startswith(key + "="):
            return int(part[len(key) + 1:])
    return default


def route(method, target):
    """Return (status, content_type, body)."""
    path, _sep, query = target.partition("?")
    text = "text/plain; charset=utf-8"
    if method not in ("GET", "HEAD"):
        return 405, text, "method not allowed\n"
    if path == "/healthz":
        return (200, text, "ok\n") if healthy() else (503, text, "unhealthy\n")
    with LOCK:
        STATE["served"] += 1
    if path == "/slow":
        try:
            ms = min(60000, max(0, query_int(query, "ms", 1000)))
        except ValueError:
            return 400, text, "ms must be an integer\n"
        time.sleep(ms / 1000.0)
        return 200, text, "app=%s version=%s color=%s slow=%dms\n" % (NAME, VERSION, COLOR, ms)
    if path == "/version":
        body = '{"app": "%s", "version": "%s", "color": "%s", "healthy": %s, "uptime": %.1f}\n' % (
            NAME, VERSION, COLOR, "true" if healthy() else "false", time.monotonic() - STARTED)
        return 200, "application/json", body
    if path == "/":
        if healthy():
            return 200, text, "app=%s version=%s color=%s host=%s\n" % (NAME, VERSION, COLOR, HOST)
        return 500, text, "app=%s version=%s color=%s broken\n" % (NAME, VERSION, COLOR)
    return 404, text, "not found\n"


def serve_connection(conn):
    conn.settimeout(IDLE_TIMEOUT)
    buf = b""
    try:
        while True:
            while b"\r\n\r\n" not in buf:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                buf += chunk
                if len(buf) > 65536:
                    return
            head, _sep, buf = buf.partition(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            try:
                method, target, version = lines[0].split(" ", 2)
            except ValueError:
                return
            headers = {}
            for line in lines[1:]:
                name, _sep, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            length = int(headers.get("content-length", "0") or 0)
            while len(buf) < length:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                buf += chunk
            buf = buf[length:]
            with LOCK:
                STATE["in_flight"] += 1
            try:
                status, ctype, body = route(method, target)
                keep = version == "HTTP/1.1" and headers.get("connection", "").lower() != "close"
                keep = keep and not STATE["stopping"]
                data = body.encode()
                out = ["HTTP/1.1 %d %s" % (status, REASONS.get(status, "Unknown")),
                       "Content-Type: " + ctype,
                       "Content-Length: %d" % len(data),
                       "X-App-Version: " + VERSION,
                       "X-App-Color: " + COLOR,
                       "Connection: " + ("keep-alive" if keep else "close")]
                conn.sendall(("\r\n".join(out) + "\r\n\r\n").encode() + (b"" if method == "HEAD" else data))
            finally:
                with LOCK:
                    STATE["in_flight"] -= 1
            if not keep:
                return
    except OSError:
        return
    finally:
        try:
            conn.close()
        except OSError:
            pass


def check():
    """Container HEALTHCHECK: exit 0 when /healthz answers 200."""
    try:
        sock = socket.create_connection(("127.0.0.1", PORT), timeout=2)
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        reply = sock.recv(64)
        sock.close()
        return 0 if reply.startswith(b"HTTP/1.1 200") else 1
    except OSError:
        return 1


def main():
    if "--check" in sys.argv:
        return check()
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("0.0.0.0", PORT))
    listener.listen(1024)
    listener.settimeout(0.2)

    def stop(signum, frame):
        STATE["stopping"] = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if CRASH_AFTER is not None:
        def crash():
            time.sleep(CRASH_AFTER)
            print("demo-app: crashing as asked (APP_CRASH_AFTER=%s)" % CRASH_AFTER, flush=True)
            os._exit(1)
        threading.Thread(target=crash, daemon=True).start()
    print("demo-app %s (%s) listening on :%d" % (VERSION, COLOR, PORT), flush=True)
    while not STATE["stopping"]:
        try:
            conn, _addr = listener.accept()
        except socket.timeout:
            continue
        except OSError:
            if STATE["stopping"]:
                break
            raise
        threading.Thread(target=serve_connection, args=(conn,), daemon=True).start()
    listener.close()
    end = time.monotonic() + GRACE
    while STATE["in_flight"] > 0 and time.monotonic() < end:
        time.sleep(0.05)
    print("demo-app: stopped (%d request(s) still in flight)" % STATE["in_flight"], flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
