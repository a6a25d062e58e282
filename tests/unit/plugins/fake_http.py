# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A real HTTP server on 127.0.0.1 that answers in scripted ways (for http_check's tests).

Each step of a script is a dict:
  status, body (str or bytes), headers: what to answer
  delay: seconds of silence before answering
  reset: close the connection without answering
  trickle: seconds between bytes; the whole response (status line, headers, body) is sent
           one byte at a time, so no single read ever waits long (a slow-loris server)
  trickle_body: as trickle, but the status line and headers come at once
  redirect_self: answer 302 with Location pointing at the same path (a redirect loop)
  huge: send this many bytes of body (chunked, so the client cannot know the size up front)
"""
from __future__ import annotations

import contextlib
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Script:
    """Responses served in order; the last one repeats."""

    def __init__(self):
        self.steps = [{"status": 200, "body": "ok"}]
        self.seen = []
        self.lock = threading.Lock()
        self.stop = threading.Event()  # set between tests: slow handlers give up

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

    def _slowly(self, data, gap):
        stop = self.server.script.stop
        for i in range(len(data)):
            if stop.wait(gap):
                return
            self.wfile.write(data[i:i + 1])
            self.wfile.flush()

    def _serve(self):
        script = self.server.script
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        step = script.next({"method": self.command, "path": self.path, "headers": dict(self.headers)})
        if step.get("delay") and script.stop.wait(step["delay"]):
            return
        if step.get("reset"):
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        status = step.get("status", 200)
        headers = dict(step.get("headers", {}))
        if step.get("redirect_self"):
            status = 302
            headers["Location"] = self.path + "x"  # redirects forever: /loop -> /loopx -> /loopxx ...
        body = step.get("body", "")
        body = body if isinstance(body, bytes) else body.encode()
        if step.get("huge"):
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            chunk = b"x" * 65536
            sent = 0
            while sent < step["huge"] and not script.stop.is_set():
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                sent += len(chunk)
            self.wfile.write(b"0\r\n\r\n")
            return
        head = "HTTP/1.1 %d X\r\n" % status
        for name, value in headers.items():
            head += "%s: %s\r\n" % (name, value)
        head += "Content-Length: %d\r\n\r\n" % len(body)
        payload = body if self.command != "HEAD" else b""
        if step.get("trickle"):
            self.close_connection = True
            self._slowly(head.encode("latin-1") + payload, step["trickle"])
            return
        self.wfile.write(head.encode("latin-1"))
        self.wfile.flush()
        if step.get("trickle_body"):
            self.close_connection = True
            self._slowly(payload, step["trickle_body"])
            return
        self.wfile.write(payload)

    do_GET = do_POST = do_HEAD = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _serve


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # clients that give up (timeouts, deadlines) are expected here


def start():
    """Start a server on a free 127.0.0.1 port; returns it (server.url is its base URL)."""
    httpd = Server(("127.0.0.1", 0), Handler)
    httpd.script = Script()
    httpd.url = "http://127.0.0.1:%d" % httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    return httpd


def stop(httpd):
    httpd.script.stop.set()
    httpd.shutdown()
    httpd.server_close()


def settle(httpd, wait=3.0):
    """After a test: stop slow handlers, then wait for the requests the client gave up on
    (http_check's request threads), so that a test ends with none of its own still running."""
    httpd.script.stop.set()
    end = time.monotonic() + wait
    for thread in threading.enumerate():
        if thread.name.startswith("http_check-request"):
            thread.join(max(0.0, end - time.monotonic()))


@contextlib.contextmanager
def serving():
    """A fresh server for one test. A request the previous test left in flight (a client
    thread that gave up, a handler still reading) belongs to that test's server, whose port is
    closed by now, so it can never land in this test's script."""
    httpd = start()
    try:
        yield httpd
    finally:
        settle(httpd)
        stop(httpd)


def closed_port():
    """A 127.0.0.1 port nobody listens on."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port
