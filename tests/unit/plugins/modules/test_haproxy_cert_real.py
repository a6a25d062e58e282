# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""seed.fleet.haproxy_cert against Debian's real HAProxy: a certificate rotated under a loop of TLS
handshakes on 127.0.0.1 without a reload (same worker) and without a failed handshake; a refused
certificate changes nothing; a file HAProxy has not loaded asks for a reload; HAProxy stopped is
only a file. Skipped only where the haproxy binary is not installed (make deps installs it)."""
from __future__ import annotations

import datetime
import hashlib
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time

import pytest

from ansible_collections.seed.fleet.plugins.module_utils import _haproxy_cert
from ansible_collections.seed.fleet.plugins.module_utils import _haproxy_runtime as rt
from ansible_collections.seed.fleet.plugins.modules import haproxy_cert
from ansible_collections.seed.fleet.tests.unit.plugins import fake_pki, module_run
from ansible_collections.seed.fleet.tests.unit.plugins.modules.test_haproxy_server_real import HAPROXY, _children, free_port

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
    bind 127.0.0.1:{port} ssl crt {tmp}/certs/
    http-request return status 200 content-type text/plain string ok
"""

NOW = datetime.datetime.now(datetime.timezone.utc)


def pem(cn, mismatch=False):
    pair = fake_pki.pair(NOW, cn=cn, mismatch=mismatch)
    return (pair["cert"] + pair["key"]).decode()


def fp(content):
    return _haproxy_cert.fingerprint(content)


class TlsHAProxy:
    def __init__(self, first):
        self.first = first
        self.tmp = tempfile.mkdtemp(prefix="hacert", dir="/tmp")
        os.mkdir(os.path.join(self.tmp, "certs"), 0o700)
        self.cert = os.path.join(self.tmp, "certs", "app.pem")
        _haproxy_cert.write(self.cert, _haproxy_cert.normalized(first))
        self.port = free_port()
        self.socket = os.path.join(self.tmp, "admin.sock")
        config = os.path.join(self.tmp, "haproxy.cfg")
        with open(config, "w") as handle:
            handle.write(CONFIG.format(tmp=self.tmp, port=self.port))
        self.proc = subprocess.Popen([HAPROXY, "-W", "-f", config], cwd=self.tmp,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                rt.RuntimeClient(self.socket).execute("show info")
                return
            except rt.RuntimeAPIError:
                time.sleep(0.05)
        raise AssertionError("HAProxy did not start: %s" % self.proc.stderr.read1(4096) if self.proc.poll() else "")

    def workers(self):
        return sorted(_children(self.proc.pid))

    def served(self):
        """SHA-1 of the certificate a new handshake gets."""
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as raw:
            with ctx.wrap_socket(raw) as tls:
                return hashlib.sha1(tls.getpeercert(binary_form=True)).hexdigest().upper()

    def stop(self):
        if self.proc.poll() is None:
            for pid in [self.proc.pid] + _children(self.proc.pid):
                try:
                    os.kill(pid, 9)
                except ProcessLookupError:
                    pass
            self.proc.wait(timeout=10)
        shutil.rmtree(self.tmp, ignore_errors=True)


@pytest.fixture()
def haproxy():
    h = TlsHAProxy(pem("old"))
    yield h
    h.stop()


def args(h, content, **kw):
    return dict({"socket": h.socket, "path": h.cert, "content": content}, **kw)


class Handshakes:
    """A bounded loop of TLS handshakes (at most `seconds`), each recording the certificate it got or its error."""

    def __init__(self, h, seconds=20):
        self.h, self.end, self.seen, self.errors = h, time.monotonic() + seconds, [], []
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stopped.is_set() and time.monotonic() < self.end:
            try:
                self.seen.append(self.h.served())
            except (OSError, ssl.SSLError) as exc:
                self.errors.append(repr(exc))

    def wait_for(self, count, fingerprint=None, seconds=15):
        """Until `count` handshakes (that got `fingerprint`, when given) are in, at most `seconds`."""
        end = time.monotonic() + seconds
        while time.monotonic() < end and len([s for s in self.seen if fingerprint in (None, s)]) < count:
            time.sleep(0.02)

    def stop(self):
        self.stopped.set()
        self.thread.join(10)


def test_rotation_under_handshakes_without_a_reload_or_a_failure(haproxy, capsys):
    old, new = haproxy.first, pem("new")
    workers = haproxy.workers()
    assert haproxy.served() == fp(old)
    loop = Handshakes(haproxy)
    loop.wait_for(5)  # handshakes before the change (a busy machine makes them slow)
    rc, res = module_run.run(haproxy_cert, capsys, args(haproxy, new))
    loop.wait_for(5, fp(new))  # and after it
    loop.stop()
    assert rc == 0, res
    assert (res["changed"], res["file_changed"], res["runtime"], res["needs_reload"]) == (True, True, "committed", False)
    assert res["fingerprint"] == fp(new)
    assert loop.errors == [] and len(loop.seen) >= 10, (loop.errors[:3], len(loop.seen))
    assert loop.seen[0] == fp(old) and loop.seen[-1] == fp(new)
    assert set(loop.seen) == {fp(old), fp(new)}
    assert haproxy.workers() == workers  # no reload: the same worker serves the new certificate
    assert open(haproxy.cert).read() == _haproxy_cert.normalized(new)
    assert oct(os.stat(haproxy.cert).st_mode & 0o777) == "0o600"
    # again: nothing to do
    rc, res = module_run.run(haproxy_cert, capsys, args(haproxy, new))
    assert rc == 0 and not res["changed"] and res["runtime"] == "unchanged"


def test_check_mode_reports_and_changes_nothing(haproxy, capsys):
    before = open(haproxy.cert).read()
    rc, res = module_run.run(haproxy_cert, capsys, args(haproxy, pem("new")), check=True)
    assert rc == 0 and res["changed"] and res["runtime"] == "committed"
    assert open(haproxy.cert).read() == before and haproxy.served() == fp(before)


def test_a_certificate_haproxy_refuses_changes_nothing(haproxy, capsys):
    before = open(haproxy.cert).read()
    rc, res = module_run.run(haproxy_cert, capsys, args(haproxy, pem("bad", mismatch=True)))
    assert rc == 1 and "HAProxy refused the new certificate" in res["msg"], res
    assert open(haproxy.cert).read() == before and haproxy.served() == fp(before)
    assert "transaction" not in rt.RuntimeClient(haproxy.socket).execute("show ssl cert")  # aborted
    # the next good certificate goes through
    rc, res = module_run.run(haproxy_cert, capsys, args(haproxy, pem("good")))
    assert rc == 0 and res["runtime"] == "committed"


def test_a_certificate_haproxy_cannot_parse_is_refused_at_once(haproxy, capsys):
    """Base64 that is no certificate: HAProxy refuses the transaction itself; nothing changes."""
    before = open(haproxy.cert).read()
    key = fake_pki.pair(NOW)["key"].decode()
    junk = "-----BEGIN CERTIFICATE-----\n" + "QUJD" * 16 + "\n-----END CERTIFICATE-----\n" + key
    rc, res = module_run.run(haproxy_cert, capsys, args(haproxy, junk))
    assert rc == 1 and "HAProxy refused the new certificate for %s:" % haproxy.cert in res["msg"], res
    assert "at its commit" not in res["msg"]
    assert open(haproxy.cert).read() == before and haproxy.served() == fp(before)
    assert "transaction" not in rt.RuntimeClient(haproxy.socket).execute("show ssl cert")


def test_a_file_already_new_on_disk_still_goes_to_the_running_haproxy(haproxy, capsys):
    """The file was written (an earlier run stopped there, or by hand) but HAProxy still serves the
    old certificate: the runtime API is read, not the file, and the new one is committed."""
    new = pem("new")
    _haproxy_cert.write(haproxy.cert, _haproxy_cert.normalized(new))
    assert haproxy.served() == fp(haproxy.first)
    rc, res = module_run.run(haproxy_cert, capsys, args(haproxy, new))
    assert rc == 0, res
    assert (res["changed"], res["file_changed"], res["runtime"]) == (True, False, "committed"), res
    assert haproxy.served() == fp(new)


def test_a_file_haproxy_has_not_loaded_asks_for_a_reload(haproxy, capsys):
    path = os.path.join(haproxy.tmp, "certs", "other.pem")
    rc, res = module_run.run(haproxy_cert, capsys, dict(args(haproxy, pem("other")), path=path))
    assert rc == 0 and res["changed"] and res["needs_reload"] and res["runtime"] == "not loaded"
    assert os.path.exists(path)


def test_with_haproxy_stopped_only_the_file_changes(haproxy, capsys):
    haproxy.stop()
    os.makedirs(os.path.dirname(haproxy.cert), exist_ok=True)
    rc, res = module_run.run(haproxy_cert, capsys, args(haproxy, pem("new")))
    assert rc == 0 and res["changed"] and res["runtime"] == "not running" and not res["needs_reload"]


@pytest.mark.parametrize("content, message", [
    ("no pem here", "holds no PEM certificate"),
    (fake_pki.pair(NOW)["cert"].decode(), "holds no PEM private key"),
    (fake_pki.pair(NOW)["cert"].decode() + fake_pki.pair(NOW, key_password=b"pw")["key"].decode(), "is encrypted"),
])
def test_bad_content_is_refused_before_anything(haproxy, capsys, content, message):
    before = open(haproxy.cert).read()
    rc, res = module_run.run(haproxy_cert, capsys, args(haproxy, content))
    assert rc == 1 and message in res["msg"], res
    assert content not in str(res)  # the content is no_log
    assert open(haproxy.cert).read() == before
