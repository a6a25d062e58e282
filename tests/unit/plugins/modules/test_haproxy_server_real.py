# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""seed.fleet.haproxy_server against Debian's real HAProxy (master-worker, admin socket, state file).

Each test starts ``haproxy -W`` on 127.0.0.1 in a temporary directory, with TCP servers of its
own as the colors, and runs the module against it: a switch, a drain with a live session,
tracked (IMAINT) and unresolved (RMAINT) servers, and persistence across a reload (USR2 after
the role's save-state command) and a crash (kill -9 of master and workers, fix-ports, start).
Skipped only where the haproxy binary is not installed (lab/images/host-deps.sh installs it).
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

import pytest

from ansible_collections.seed.fleet.plugins.module_utils import _haproxy_runtime as rt
from ansible_collections.seed.fleet.tests.unit.plugins.modules.test_haproxy_server import run
from ansible_collections.seed.fleet.tests.unit.plugins.module_utils.test_haproxy_state import CLI, LIB, _cli

HAPROXY = shutil.which("haproxy") or ("/usr/sbin/haproxy" if os.path.exists("/usr/sbin/haproxy") else None)
pytestmark = pytest.mark.skipif(HAPROXY is None, reason="Debian's haproxy is not installed (make deps installs it)")

CONFIG = """
global
    stats socket {tmp}/admin.sock mode 600 level admin
    stats socket {tmp}/operator.sock mode 600 level operator
    server-state-file {tmp}/server-state

defaults
    mode tcp
    timeout connect 1s
    timeout client 30s
    timeout server 30s
    load-server-state-from-file global

frontend fe
    bind 127.0.0.1:{fe}
    default_backend be_demo

backend be_demo
    server a_blue 127.0.0.1:{blue}
    server a_green 127.0.0.1:{green} disabled

backend be_track
    server t_blue 127.0.0.1:{blue} check inter 60s
    server t_green 127.0.0.1:{green} disabled check inter 60s
    server u_blue 127.0.0.1:{blue}
    server u_green 127.0.0.1:{green} disabled track be_track/t_green

backend be_dns
    default-server init-addr none
    server d_blue 127.0.0.1:{blue}
    server d_green app-green.invalid:{green} disabled
"""


def free_port():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


class Color:
    """A TCP server that says its color and keeps the connection open until the client closes it."""

    def __init__(self, name):
        self.name = name
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _addr = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._hold, args=(conn,), daemon=True).start()

    def _hold(self, conn):
        with conn:
            try:
                conn.sendall(self.name.encode() + b"\n")
                while conn.recv(1024):
                    pass
            except OSError:
                pass

    def close(self):
        self.sock.close()


def _children(pid):
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open("/proc/%s/stat" % entry) as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[1] == str(pid):
                out.append(int(entry))
    return out


class RealHAProxy:
    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="hapr", dir="/tmp")
        self.blue, self.green = Color("blue"), Color("green")
        self.fe = free_port()
        self.unix_path = os.path.join(self.tmp, "admin.sock")
        self.state_file = os.path.join(self.tmp, "server-state")
        self.config_file = os.path.join(self.tmp, "haproxy.cfg")
        self.write_config(self.blue.port, self.green.port)
        self.proc = None

    def write_config(self, blue, green):
        with open(self.config_file, "w") as handle:
            handle.write(CONFIG.format(tmp=self.tmp, fe=self.fe, blue=blue, green=green))

    def client(self, path=None):
        return rt.RuntimeClient(path or self.unix_path, timeout=5)

    def wait_ready(self, not_pid=None):
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                info = self.client().execute("show info")
                pid = [line.split()[1] for line in info.splitlines() if line.startswith("Pid:")][0]
                if pid != str(not_pid):
                    return int(pid)
            except (rt.RuntimeAPIError, IndexError):
                pass
            time.sleep(0.05)
        raise AssertionError("HAProxy did not answer on %s" % self.unix_path)

    def start(self):
        self.proc = subprocess.Popen([HAPROXY, "-W", "-f", self.config_file], cwd=self.tmp,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        return self.wait_ready()

    def save(self):
        """What the load_balancer unit's ExecReload/ExecStop run."""
        return _cli().main(["save", "--socket", self.unix_path, "--state-file", self.state_file,
                            "--config", self.config_file, "--lib", str(LIB)])

    def reload(self):
        """ExecReload: check, save the state, USR2 to the master; wait for the new worker."""
        subprocess.run([HAPROXY, "-c", "-q", "-f", self.config_file], check=True)
        assert self.save() == 0
        worker = self.wait_ready()
        self.proc.send_signal(signal.SIGUSR2)
        self.wait_ready(not_pid=worker)

    def crash(self):
        """kill -9 the master and its workers (by PID): no hook gets to save anything."""
        pids = [self.proc.pid] + _children(self.proc.pid)
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        for pid in pids[1:]:
            deadline = time.monotonic() + 10
            while os.path.exists("/proc/%d" % pid) and time.monotonic() < deadline:
                time.sleep(0.05)
        assert self.save() == 1  # the hook cannot save: the file stays as it was

    def start_after_crash(self):
        """ExecStartPre (fix-ports) then start."""
        assert _cli().main(["fix-ports", "--state-file", self.state_file, "--config", self.config_file,
                            "--lib", str(LIB)]) == 0
        return self.start()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            for pid in [self.proc.pid] + _children(self.proc.pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            self.proc.wait(timeout=10)
        self.blue.close()
        self.green.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def socat(self, line):
        """One write of ';'-separated commands, as blue_green's switch sends them with socat."""
        sock = socket.socket(socket.AF_UNIX)
        sock.connect(self.unix_path)
        sock.sendall(line.encode() + b"\n")
        reply = b""
        while True:
            data = sock.recv(65536)
            if not data:
                break
            reply += data
        sock.close()
        assert reply.strip() == b"", reply

    def states(self, backend):
        return dict((n, s["state"]) for n, s in self.client().servers(backend).items())

    def connect(self):
        """A client session through the frontend; returns (socket, color that answered)."""
        sock = socket.create_connection(("127.0.0.1", self.fe), timeout=5)
        return sock, sock.recv(64).decode().strip()


@pytest.fixture()
def hap():
    proxy = RealHAProxy()
    proxy.start()
    yield proxy
    proxy.stop()


def test_real_cli_level_and_flags(hap):
    assert hap.client().level() == "admin"
    assert hap.client(os.path.join(hap.tmp, "operator.sock")).level() == "operator"
    track = hap.client().servers("be_track")["u_green"]
    assert track["admin_flags"] & rt.ADMF_IMAINT and track["tracks"] == "be_track/t_green"
    dns = hap.client().servers("be_dns")["d_green"]
    assert dns["admin_flags"] & rt.ADMF_RMAINT and dns["address"] == "-"


def test_real_switch(capsys, hap):
    sock, color = hap.connect()
    sock.close()
    assert color == "blue"
    rc, out = run(capsys, hap, backend="be_demo", switch_to="green")
    assert rc == 0 and out["changed"] is True, out
    assert hap.states("be_demo") == {"a_blue": "drain", "a_green": "ready"}
    sock, color = hap.connect()
    sock.close()
    assert color == "green"
    rc, out = run(capsys, hap, backend="be_demo", switch_to="green")
    assert rc == 0 and out["changed"] is False


def test_real_operator_socket_refused_before_sending(capsys, hap):
    rc, out = run(capsys, hap, socket=os.path.join(hap.tmp, "operator.sock"), backend="be_demo", switch_to="green")
    assert rc == 1 and "level operator" in out["msg"] and out["changed"] is False
    assert hap.states("be_demo") == {"a_blue": "ready", "a_green": "maint"}


def test_real_drain_with_live_sessions(capsys, hap):
    sock, color = hap.connect()
    assert color == "blue"
    try:
        rc, out = run(capsys, hap, backend="be_demo", switch_to="green", wait_drained=True, drain_timeout=1)
        assert rc == 1 and "a_blue (1 sessions)" in out["msg"] and out["changed"] is True
        assert hap.states("be_demo") == {"a_blue": "drain", "a_green": "ready"}
        assert os.path.exists(hap.state_file)  # the switch itself was persisted before the wait
    finally:
        sock.close()
    rc, out = run(capsys, hap, backend="be_demo", switch_to="green", wait_drained=True, drain_timeout=10)
    assert rc == 0 and out["after"]["a_blue"]["sessions"] == 0


def test_real_tracked_server_refused(capsys, hap):
    before = hap.client().dump_state()
    rc, out = run(capsys, hap, backend="be_track", switch_to="green")
    assert rc == 1 and "u_green" in out["msg"] and "IMAINT" in out["msg"] and "be_track/t_green" in out["msg"]
    assert rt.state_rows(hap.client().dump_state()) == rt.state_rows(before)
    # what the module refuses: HAProxy would accept 'ready' and leave the server in maint
    hap.client().command("set server be_track/u_green state ready")
    assert hap.states("be_track")["u_green"] == "maint"


def test_real_unresolved_server_refused(capsys, hap):
    before = hap.client().dump_state()
    rc, out = run(capsys, hap, backend="be_dns", switch_to="green")
    assert rc == 1 and "d_green" in out["msg"] and "RMAINT" in out["msg"]
    rc, out = run(capsys, hap, backend="be_dns", server="d_green", port=9000)
    assert rc == 1 and "no address" in out["msg"]
    rc, out = run(capsys, hap, backend="be_dns", server="d_green", state="ready")
    assert rc == 1 and "RMAINT" in out["msg"]
    assert rt.state_rows(hap.client().dump_state()) == rt.state_rows(before)


def test_real_reload_keeps_the_switch_and_takes_the_new_port(capsys, hap):
    rc, out = run(capsys, hap, backend="be_demo", switch_to="green")
    assert rc == 0 and out["state_file"] == hap.state_file
    moved = Color("blue")
    try:
        hap.write_config(moved.port, hap.green.port)
        hap.reload()
        servers = hap.client().servers("be_demo")
        assert servers["a_blue"]["state"] == "drain" and servers["a_green"]["state"] == "ready"
        assert servers["a_blue"]["port"] == moved.port
    finally:
        moved.close()


def test_real_crash_restart_comes_back_to_the_deployed_color(capsys, hap):
    # the deploy's path: the module plans, the commands go out in one write (socat), the module confirms
    rc, plan = run(capsys, hap, check=True, backend="be_demo", switch_to="green")
    hap.socat(";".join(plan["runtime_commands"]))
    assert hap.states("be_demo") == {"a_blue": "drain", "a_green": "ready"}
    rc, out = run(capsys, hap, backend="be_demo", switch_to="green")
    assert rc == 0 and out["runtime_commands"] == [] and out["state_file"] == hap.state_file
    # a port changed in the configuration while HAProxy was down must still apply
    moved = Color("green")
    try:
        hap.crash()
        hap.write_config(hap.blue.port, moved.port)
        hap.start_after_crash()
        servers = hap.client().servers("be_demo")
        assert servers["a_green"]["state"] == "ready" and servers["a_blue"]["state"] == "drain"
        assert servers["a_green"]["port"] == moved.port
        sock, color = hap.connect()
        sock.close()
        assert color == "green"
    finally:
        moved.close()


def test_real_crash_without_the_confirm_write_would_flip_back(capsys, hap):
    # the defect the confirm write fixes: a switch sent without persisting is lost by a crash
    run(capsys, hap, backend="be_demo", switch_to="blue")  # writes a file with blue ready
    hap.socat("set server be_demo/a_green state ready;set server be_demo/a_blue state drain")
    hap.crash()
    hap.start_after_crash()
    assert hap.states("be_demo") == {"a_blue": "ready", "a_green": "maint"}
    assert CLI.exists()
