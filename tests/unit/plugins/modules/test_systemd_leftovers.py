# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""seed.fleet.systemd_leftovers: a daemon systemd lost track of is found in its unit's control
group (a /proc tree written by the test) and stopped for real (a child process of the test)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ansible_collections.seed.fleet.plugins.module_utils import _systemd_leftovers
from ansible_collections.seed.fleet.plugins.modules import systemd_leftovers
from ansible_collections.seed.fleet.tests.unit.plugins import module_run

# /proc/<pid>/cgroup as a Debian 13 container on a cgroup v1 host shows it (abridged), and on v2.
V1 = "9:name=systemd:/docker/5fe2/system.slice/{unit}\n4:memory:/docker/5fe2/system.slice/{unit}\n0::/docker/5fe2/system.slice/{unit}\n"
V2 = "0::/system.slice/{unit}\n"
LISTENER = "sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups"
SESSION = "sshd-session: deploy [priv]"


@pytest.fixture()
def proc(tmp_path, monkeypatch):
    """A /proc tree: proc(pid, cmdline, cgroup) adds a process."""
    monkeypatch.setattr(systemd_leftovers, "PROC", str(tmp_path))

    def add(pid, cmdline, cgroup):
        d = tmp_path / str(pid)
        d.mkdir()
        (d / "cgroup").write_text(cgroup)
        (d / "cmdline").write_bytes(cmdline.replace(" ", "\0").encode() + b"\0" if cmdline else b"")
        real = Path("/proc/%d/stat" % pid)
        if real.exists():  # a real process of the test: its zombie state shows once it exits
            (d / "stat").symlink_to(real)
        else:
            (d / "stat").write_text("%d (x) S 1" % pid)
    (tmp_path / "self").mkdir()
    return add


@pytest.fixture()
def systemctl(monkeypatch):
    """systemctl show answers the ActiveState set in .state (.after_reload once reloaded); every call is recorded."""
    class Fake:
        state = "inactive"
        after_reload = None
        calls = []

        def __call__(self, module, args, **kw):
            self.calls.append(args)
            if args[1] == "daemon-reload":
                self.state = self.after_reload or self.state
                return (0, "", "")
            return (0, self.state + "\n", "")
    fake = Fake()
    monkeypatch.setattr("ansible.module_utils.basic.AnsibleModule.run_command", lambda module, args, **kw: fake(module, args))
    monkeypatch.setattr("ansible.module_utils.basic.AnsibleModule.get_bin_path", lambda *a, **kw: "/bin/systemctl")
    return fake


@pytest.fixture()
def daemon():
    """A real process the module may stop (it stands in for the forgotten sshd)."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield child
    child.kill()
    child.wait()


def run(capsys, check=False, **args):
    args.setdefault("unit", "ssh")
    args.setdefault("match", r"\[listener\]")
    return module_run.run(systemd_leftovers, capsys, args, check=check)


# --- finding them ------------------------------------------------------------------------

@pytest.mark.parametrize("layout", [V1, V2])
def test_finds_the_listener_only(tmp_path, proc, layout):
    proc(92, LISTENER, layout.format(unit="ssh.service"))
    proc(140, SESSION, layout.format(unit="ssh.service"))  # a connection: never touched
    proc(150, LISTENER, layout.format(unit="ssh-rescue.service"))  # another unit's sshd
    proc(160, "", layout.format(unit="ssh.service"))  # gone meanwhile (empty cmdline)
    assert _systemd_leftovers.find(str(tmp_path), "ssh", r"\[listener\]") == [(92, LISTENER)]


def test_v1_named_hierarchy_wins_over_the_unified_line(tmp_path, proc):
    # systemd on a cgroup v1 host tracks units in name=systemd; the unified line may say otherwise.
    proc(7, LISTENER, "9:name=systemd:/system.slice/other.service\n0::/system.slice/ssh.service\n")
    assert _systemd_leftovers.find(str(tmp_path), "ssh.service", "listener") == []


@pytest.mark.parametrize("cgroup, expected", [
    ("/docker/abc/system.slice/ssh.service", True),
    ("/system.slice/ssh.service/", True),
    ("/system.slice/sshd.service", False),
    ("/system.slice/xssh.service", False),
    ("/user.slice/user-0.slice/session-1.scope", False),
    ("", False),
    (None, False),
])
def test_in_unit(cgroup, expected):
    assert _systemd_leftovers.in_unit(cgroup, "ssh.service") is expected


@pytest.mark.parametrize("unit, name", [("ssh", "ssh.service"), ("ssh.service", "ssh.service"),
                                        ("ssh.socket", "ssh.socket"), ("my.app", "my.app.service")])
def test_unit_name(unit, name):
    assert _systemd_leftovers.unit_name(unit) == name


# --- the module ----------------------------------------------------------------------------

@pytest.mark.parametrize("state", ["active", "activating", "reloading", "deactivating", "refreshing"])
def test_a_tracked_unit_is_left_alone(capsys, proc, systemctl, daemon, state):
    systemctl.state = state
    proc(daemon.pid, LISTENER, V2.format(unit="ssh.service"))
    rc, out = run(capsys)
    assert rc == 0 and out["changed"] is False and out["stopped"] == [] and out["active_state"] == state
    assert daemon.poll() is None


def test_a_forgotten_listener_is_stopped(capsys, proc, systemctl, daemon):
    proc(daemon.pid, LISTENER, V1.format(unit="ssh.service"))
    rc, out = run(capsys)
    assert rc == 0 and out["changed"] is True and out["active_state"] == "inactive"
    assert out["stopped"] == [{"pid": daemon.pid, "cmdline": LISTENER}]
    assert daemon.wait(timeout=5) == -15  # SIGTERM, as systemd stops it
    show = ["/bin/systemctl", "show", "--property=ActiveState", "--value", "--", "ssh.service"]
    assert systemctl.calls == [show, ["/bin/systemctl", "daemon-reload"], show]  # reloaded before the signal


def test_a_reload_that_takes_the_process_back_stops_nothing(capsys, proc, systemctl, daemon):
    systemctl.after_reload = "active"
    proc(daemon.pid, LISTENER, V2.format(unit="ssh.service"))
    rc, out = run(capsys)
    assert rc == 0 and out["changed"] is False and out["stopped"] == []
    assert daemon.poll() is None


def test_check_mode_reports_and_stops_nothing(capsys, proc, systemctl, daemon):
    proc(daemon.pid, LISTENER, V2.format(unit="ssh.service"))
    rc, out = run(capsys, check=True)
    assert rc == 0 and out["changed"] is True and [s["pid"] for s in out["stopped"]] == [daemon.pid]
    assert daemon.poll() is None


def test_nothing_left_over_is_no_change(capsys, proc, systemctl):
    proc(140, SESSION, V2.format(unit="ssh.service"))
    rc, out = run(capsys)
    assert rc == 0 and out["changed"] is False and out["stopped"] == []


def test_a_process_that_ignores_sigterm_fails_the_task(capsys, proc, systemctl):
    stubborn = subprocess.Popen([sys.executable, "-c",
                                 "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); time.sleep(60)"],
                                stdout=subprocess.PIPE, text=True)
    try:
        assert stubborn.stdout.readline().strip() == "ready"
        proc(stubborn.pid, LISTENER, V2.format(unit="ssh.service"))
        rc, out = run(capsys, timeout=0.5)
        assert rc == 1 and "still run 0.5 s after SIGTERM" in out["msg"] and str(stubborn.pid) in out["msg"]
    finally:
        stubborn.kill()
        stubborn.wait()


@pytest.mark.parametrize("args, message", [
    ({"match": "["}, "match is not a regular expression"),
    ({"timeout": 0}, "timeout must be more than 0 seconds"),
])
def test_bad_input_fails_clearly_and_touches_nothing(capsys, proc, systemctl, daemon, args, message):
    proc(daemon.pid, LISTENER, V2.format(unit="ssh.service"))
    rc, out = run(capsys, **args)
    assert rc == 1 and message in out["msg"]
    assert daemon.poll() is None and systemctl.calls == []


def test_systemctl_failure_is_reported(capsys, proc, monkeypatch):
    monkeypatch.setattr("ansible.module_utils.basic.AnsibleModule.get_bin_path", lambda *a, **kw: "/bin/systemctl")
    monkeypatch.setattr("ansible.module_utils.basic.AnsibleModule.run_command",
                        lambda *a, **kw: (1, "", "Failed to connect to bus"))
    rc, out = run(capsys)
    assert rc == 1 and "Failed to connect to bus" in out["msg"]
