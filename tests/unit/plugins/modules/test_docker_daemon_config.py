# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""seed.fleet.docker_daemon_config end to end on a temporary daemon.json."""
from __future__ import annotations

import json
import os

import pytest

from ansible_collections.seed.fleet.plugins.module_utils import _docker_daemon
from ansible_collections.seed.fleet.plugins.modules import docker_daemon_config
from ansible_collections.seed.fleet.tests.unit.plugins import module_run

LIVE = '{\n  "live-restore": true,\n  "log-opts": {\n    "max-size": "10m"\n  }\n}\n'


def run(capsys, args, check=False, diff=False):
    return module_run.run(docker_daemon_config, capsys, args, check=check, diff=diff)


@pytest.fixture()
def live(tmp_path):
    path = tmp_path / "docker" / "daemon.json"
    path.parent.mkdir()
    path.write_text(LIVE)
    os.chmod(path, 0o644)
    return path


def args(path, **kw):
    kw.setdefault("validate", "builtin")
    return dict(path=str(path), **kw)


def test_reloadable_change_merges_and_reports_reload(capsys, live):
    rc, out = run(capsys, args(live, config={"debug": True, "log-opts": {"max-file": "3"}}), diff=True)
    assert rc == 0 and out["changed"] is True
    assert json.loads(live.read_text()) == {"debug": True, "live-restore": True, "log-opts": {"max-size": "10m", "max-file": "3"}}
    assert out["action"] == "restart" and out["restart_keys"] == ["log-opts"] and out["reload_keys"] == ["debug"]
    assert out["validated_by"] == ["builtin"]
    assert '"debug": true' in out["diff"]["after"] and '"debug"' not in out["diff"]["before"]


def test_reload_only(capsys, live):
    rc, out = run(capsys, args(live, config={"max-concurrent-downloads": 6}))
    assert rc == 0 and out["changed"] and out["action"] == "reload" and out["restart_required"] is False
    assert out["changes"] == [{"key": "max-concurrent-downloads", "before": None, "after": 6, "reload": True}]


def test_idempotent_and_formatting_is_not_a_change(capsys, live):
    live.write_text('{"log-opts": {"max-size": "10m"}, "live-restore": true}')  # same data, other layout
    rc, out = run(capsys, args(live, config={"live-restore": True}))
    assert rc == 0 and out["changed"] is False and out["action"] == "none" and out["changes"] == []
    assert live.read_text() == '{"log-opts": {"max-size": "10m"}, "live-restore": true}'


def test_check_mode_writes_nothing(capsys, live):
    rc, out = run(capsys, args(live, config={"debug": True}, remove_keys=["log-opts"]), check=True)
    assert rc == 0 and out["changed"] is True and out["config"] == {"debug": True, "live-restore": True}
    assert live.read_text() == LIVE


def test_remove_keys_and_remove_if_empty(capsys, live):
    rc, out = run(capsys, args(live, remove_keys=["live-restore", "log-opts"], remove_if_empty=True))
    assert rc == 0 and out["changed"] and not live.exists()
    # dockerd's reload keeps a removed live-restore live: removing it is a restart
    assert out["action"] == "restart" and out["reload_keys"] == [] and out["restart_keys"] == ["live-restore", "log-opts"]
    rc, out = run(capsys, args(live, remove_keys=["live-restore"], remove_if_empty=True))
    assert rc == 0 and out["changed"] is False


def test_state_absent(capsys, live):
    rc, out = run(capsys, args(live, state="absent"), check=True)
    assert out["changed"] and live.exists()
    rc, out = run(capsys, args(live, state="absent"))
    assert out["changed"] and not live.exists()
    rc, out = run(capsys, args(live, state="absent"))
    assert out["changed"] is False


def test_replace_and_create(capsys, tmp_path):
    path = tmp_path / "new" / "daemon.json"
    rc, out = run(capsys, args(path, config={"live-restore": True}, replace=True))
    assert rc == 0 and out["changed"] and json.loads(path.read_text()) == {"live-restore": True}
    assert oct(os.stat(path).st_mode & 0o777) == "0o644"
    rc, out = run(capsys, args(path, config={"debug": True}, replace=True))
    assert json.loads(path.read_text()) == {"debug": True}
    assert out["reload_keys"] == ["debug"] and out["restart_keys"] == ["live-restore"]  # live-restore dropped


def test_mode_is_enforced(capsys, live):
    os.chmod(live, 0o600)
    rc, out = run(capsys, args(live, config={"live-restore": True}))
    assert out["changed"] is True and oct(os.stat(live).st_mode & 0o777) == "0o644"


@pytest.mark.parametrize(
    "kw, message",
    [
        ({"config": {"log-opts": {"max-file": 3}}}, "log-opts.max-file must be a string"),
        ({"config": {"debug": "yes"}}, "debug must be a boolean"),
        ({"config": {"debug": True}, "remove_keys": ["debug"]}, "both set in config and listed in remove_keys"),
        ({"config": {"registry-mirrors": ["mirror:5000"]}}, "http:// or https:// URL"),
    ],
)
def test_bad_input_fails_and_leaves_file(capsys, live, kw, message):
    rc, out = run(capsys, args(live, **kw))
    assert rc == 1 and out["failed"] and message in out["msg"]
    assert live.read_text() == LIVE
    assert not [p for p in os.listdir(live.parent) if p != "daemon.json"]  # no temp or backup files


def test_unparsable_live_file_fails_merge_but_replace_recovers(capsys, live):
    live.write_text("{broken")
    rc, out = run(capsys, args(live, config={"debug": True}))
    assert rc == 1 and "is not valid JSON" in out["msg"] and live.read_text() == "{broken"
    rc, out = run(capsys, args(live, config={"debug": True}, replace=True), diff=True)
    assert rc == 0 and out["changed"] and json.loads(live.read_text()) == {"debug": True}
    assert out["diff"]["before"] == "{broken"


def test_dockerd_rejection_leaves_live_file(capsys, live, monkeypatch):
    def fake_validate(self, config):
        return "dockerd --validate", "the following directives don't match any configuration option: bogus"

    monkeypatch.setattr(_docker_daemon.DockerdValidator, "validate", fake_validate)
    fake = live.parent / "dockerd"
    fake.write_text("#!/bin/sh\nexit 0\n")
    fake.chmod(0o755)
    rc, out = run(capsys, args(live, config={"bogus": 1}, validate="dockerd", dockerd_path=str(fake)))
    assert rc == 1 and "dockerd rejected the daemon configuration" in out["msg"] and "bogus" in out["msg"]
    assert live.read_text() == LIVE


def test_validate_dockerd_requires_binary(capsys, live):
    rc, out = run(capsys, args(live, config={"debug": True}, validate="dockerd", dockerd_path="/nonexistent/dockerd"))
    assert rc == 1 and "dockerd binary was not found" in out["msg"] and live.read_text() == LIVE


def test_auto_without_dockerd_warns(capsys, live, monkeypatch):
    # Record the warning at the source: ansible-core de-duplicates warnings per
    # process, so the JSON result alone depends on which tests ran before.
    warned = []
    monkeypatch.setattr(docker_daemon_config.AnsibleModule, "warn", lambda self, msg: warned.append(msg))
    rc, out = run(capsys, args(live, config={"debug": True}, validate="auto", dockerd_path="/nonexistent/dockerd"))
    assert rc == 0 and out["changed"] and out["validated_by"] == ["builtin"]
    assert any("dockerd not found" in msg for msg in warned)


def test_backup(capsys, live):
    rc, out = run(capsys, args(live, config={"debug": True}, backup=True))
    assert os.path.exists(out["backup_file"]) and open(out["backup_file"]).read() == LIVE


REAL = "/usr/sbin/dockerd" if os.path.exists("/usr/sbin/dockerd") else None


@pytest.mark.skipif(REAL is None, reason="no dockerd binary here")
def test_real_dockerd_end_to_end(capsys, live):
    rc, out = run(capsys, args(live, config={"bogus-key": True}, validate="dockerd", dockerd_path=REAL))
    assert rc == 1 and "bogus-key" in out["msg"] and live.read_text() == LIVE
    rc, out = run(capsys, args(live, config={"debug": True}, validate="dockerd", dockerd_path=REAL))
    assert rc == 0 and out["changed"] and out["validated_by"][0] == "builtin" and out["validated_by"][1].startswith("dockerd")
    assert json.loads(live.read_text())["debug"] is True


# --- defects of issue #12 (each of these failed before its fix) ----------------

def _snapshot(directory):
    """Every entry of a directory: bytes, mode and mtime (a failed run must change none of it)."""
    out = {}
    for name in sorted(os.listdir(directory)):
        full = os.path.join(directory, name)
        st = os.lstat(full)
        data = open(full, "rb").read() if os.path.isfile(full) else None
        out[name] = (data, st.st_mode, st.st_mtime_ns)
    return out


def test_unreadable_file_fails_cleanly(capsys):
    # /proc/self/mem is a regular file that fails every read (EIO), even for root
    rc, out = run(capsys, args("/proc/self/mem", config={"debug": True}))
    assert rc == 1 and "cannot read /proc/self/mem" in out["msg"] and "Input/output error" in out["msg"]
    assert "exception" not in out


def test_non_utf8_file_fails_cleanly(capsys, live):
    live.write_bytes(b'{"labels":["caf\xe9"]}')
    before = _snapshot(live.parent)
    rc, out = run(capsys, args(live, config={"debug": True}, backup=True))
    assert rc == 1 and str(live) in out["msg"] and "not UTF-8" in out["msg"]
    assert "exception" not in out and _snapshot(live.parent) == before


@pytest.fixture()
def immutable_dir(live):
    """The daemon.json directory made immutable: not even root can create a file in it."""
    import subprocess
    if subprocess.run(["chattr", "+i", str(live.parent)], capture_output=True, check=False).returncode != 0:
        pytest.skip("chattr +i not available here")
    yield live
    subprocess.run(["chattr", "-i", str(live.parent)], check=True)


def test_unwritable_directory_fails_cleanly(capsys, immutable_dir):
    live = immutable_dir
    before = _snapshot(live.parent)
    rc, out = run(capsys, args(live, config={"debug": True}))
    assert rc == 1 and "cannot write %s" % live in out["msg"] and "not permitted" in out["msg"]
    assert "exception" not in out and _snapshot(live.parent) == before


def test_invalid_mode_is_refused_before_any_write(capsys, live):
    before = _snapshot(live.parent)
    rc, out = run(capsys, args(live, config={"debug": True}, mode="0999"))
    assert _snapshot(live.parent) == before
    assert rc == 1 and "mode" in out["msg"] and "0999" in out["msg"]


@pytest.mark.parametrize(
    "start, kw, action, reload_keys, restart_keys",
    [
        ({"debug": True, "live-restore": True}, {"remove_keys": ["debug"]}, "restart", [], ["debug"]),
        ({"debug": True}, {"config": {"debug": None}}, "restart", [], ["debug"]),
        ({"debug": True}, {"config": {"debug": False}}, "reload", ["debug"], []),
        ({"max-concurrent-downloads": 9}, {"remove_keys": ["max-concurrent-downloads"]}, "reload",
         ["max-concurrent-downloads"], []),
    ],
    ids=["remove-debug", "null-debug", "explicit-false", "remove-resetting-key"],
)
def test_removing_a_reloadable_key_needs_a_restart(capsys, live, start, kw, action, reload_keys, restart_keys):
    live.write_text(json.dumps(start))
    rc, out = run(capsys, args(live, **kw))
    assert rc == 0 and out["changed"]
    assert (out["action"], out["reload_keys"], out["restart_keys"]) == (action, reload_keys, restart_keys)
    assert out["restart_required"] is (action == "restart")


@pytest.mark.parametrize(
    "bip", ["172.17.0.0/16", "172.17.255.255/16", "172.17.0.1", "not-an-address", "fd00::1/64"],
)
def test_bad_bip_is_refused(capsys, live, bip):
    rc, out = run(capsys, args(live, config={"bip": bip}))
    assert rc == 1 and "bip" in out["msg"] and live.read_text() == LIVE


def test_good_bip_is_accepted(capsys, live):
    rc, out = run(capsys, args(live, config={"bip": "172.17.0.1/16"}))
    assert rc == 0 and out["changed"]


@pytest.fixture()
def world_readable_dir():
    """The loader fallback runs dockerd as nobody: its stand-in must be readable by nobody."""
    import shutil
    import tempfile
    from pathlib import Path
    directory = tempfile.mkdtemp(prefix="seed-fleet-fake-dockerd-")
    os.chmod(directory, 0o755)
    yield Path(directory)
    shutil.rmtree(directory)


def _fake_dockerd(directory, has_validate=False, message="dockerd needs to be started with root privileges."):
    """A dockerd stand-in: 20.10-like (no --validate, stops after loading the config) or 23+-like."""
    fake = directory / "dockerd"
    help_text = "--validate  Validate daemon configuration and exit" if has_validate else "--config-file string"
    fake.write_text('#!/bin/sh\nif [ "$1" = --help ]; then echo "%s"; exit 0; fi\n'
                    'if [ "$1" = --validate ]; then echo "configuration OK" >&2; exit 0; fi\n'
                    'echo "%s" >&2; exit 1\n' % (help_text, message))
    fake.chmod(0o755)
    return str(fake)


def test_unknown_log_driver_refused_when_the_daemon_lists_its_drivers(capsys, live, world_readable_dir, monkeypatch):
    monkeypatch.setattr(_docker_daemon, "discover_log_drivers", lambda run, docker: ["json-file", "local", "journald"])
    dockerd = _fake_dockerd(world_readable_dir)
    rc, out = run(capsys, args(live, config={"log-driver": "nosuch"}, validate="auto", dockerd_path=dockerd))
    assert rc == 1 and "log-driver" in out["msg"] and "nosuch" in out["msg"] and live.read_text() == LIVE
    rc, out = run(capsys, args(live, config={"log-driver": "journald"}, validate="auto", dockerd_path=dockerd))
    assert rc == 0 and out["validated_by"] == ["builtin", "dockerd config loader", "docker info log drivers"]
    assert "log-driver" not in out["not_validated"] and "log-opts" in out["not_validated"]


def test_log_driver_reported_as_not_validated_when_undiscoverable(capsys, live, world_readable_dir, monkeypatch):
    monkeypatch.setattr(_docker_daemon, "discover_log_drivers", lambda run, docker: None)
    rc, out = run(capsys, args(live, config={"log-driver": "nosuch"}, validate="auto", dockerd_path=_fake_dockerd(world_readable_dir)))
    assert rc == 0 and out["validated_by"] == ["builtin", "dockerd config loader"]
    assert out["not_validated"] == ["log-driver", "log-opts"]


@pytest.mark.parametrize("extra", [{"config": {"debug": True}}, {"remove_keys": ["debug"]}, {"replace": True},
                                   {"remove_if_empty": True}])
def test_state_absent_refuses_config(capsys, live, extra):
    rc, out = run(capsys, args(live, state="absent", **extra))
    assert rc == 1 and "state=absent" in out["msg"] and list(extra)[0] in out["msg"]
    assert live.read_text() == LIVE
