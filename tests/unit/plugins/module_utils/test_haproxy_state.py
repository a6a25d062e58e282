# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The server-state-file: one implementation for haproxy_server and the role's save-state command."""
from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from ansible_collections.seed.fleet.plugins.module_utils import _haproxy_runtime as rt
from ansible_collections.seed.fleet.tests.unit.plugins.fake_haproxy import FakeHAProxy

ROOT = Path(__file__).resolve().parents[4]
CLI = ROOT / "roles" / "load_balancer" / "files" / "seed_fleet_haproxy_save_state.py"
LIB = ROOT / "plugins" / "module_utils" / "_haproxy_runtime.py"

CONFIG = """
global
    stats socket /run/haproxy/admin.sock mode 600 level admin
frontend fe_http_80
    bind *:80
    default_backend be_demo
backend be_demo
    default-server check init-addr libc,none
    server h1_blue 127.0.0.1:9081   # moved
    server h1_green 127.0.0.1:8082 disabled
    server h2_v6 [::1]:7000
listen be_other
    server o1_blue 127.0.0.3:9901
"""


@pytest.fixture()
def fake():
    tmp = tempfile.mkdtemp(prefix="hap", dir="/tmp")
    proxy = FakeHAProxy({"be_demo": [("h1_blue", "127.0.0.1", 8081), ("h1_green", "127.0.0.1", 8082, True)],
                         "be_other": [("o1_blue", "127.0.0.3", 9001)]}).start(
        unix_path=os.path.join(tmp, "admin.sock"), tcp=False)
    proxy.tmp = Path(tmp)
    (proxy.tmp / "haproxy.cfg").write_text(CONFIG)
    yield proxy
    proxy.stop()
    shutil.rmtree(tmp, ignore_errors=True)


def _row(text, server):
    return [line.split() for line in text.splitlines() if (" %s " % server) in line][0]


def test_configured_ports():
    assert rt.configured_ports(CONFIG) == {("be_demo", "h1_blue"): "9081", ("be_demo", "h1_green"): "8082",
                                           ("be_demo", "h2_v6"): "7000", ("be_other", "o1_blue"): "9901"}


def test_rewrite_ports_only_touches_configured_servers(fake):
    dump = rt.RuntimeClient(fake.unix_path).dump_state()
    out = rt.rewrite_ports(dump, {("be_demo", "h1_blue"): "9081"})
    assert _row(out, "h1_blue")[18] == "9081" and _row(out, "h1_green")[18] == "8082"
    assert _row(out, "o1_blue")[18] == "9001"
    assert rt.rewrite_ports("garbage", {}) == "garbage"


def test_state_file_matches_ignores_what_haproxy_does_not_restore(fake, tmp_path):
    dump = rt.RuntimeClient(fake.unix_path).dump_state()
    path = tmp_path / "state"
    path.write_text(dump.replace(" 12 ", " 99 "))  # srv_time_since_last_change
    assert rt.state_file_matches(str(path), dump)
    fake.server("be_demo", "h1_blue").admin = 0x08
    assert not rt.state_file_matches(str(path), rt.RuntimeClient(fake.unix_path).dump_state())
    path.write_text("not a state file")
    assert not rt.state_file_matches(str(path), dump)
    assert not rt.state_file_matches(str(tmp_path / "missing"), dump)


def test_save_state_writes_only_when_the_file_differs(fake):
    client = rt.RuntimeClient(fake.unix_path)
    path, config = str(fake.tmp / "state"), str(fake.tmp / "haproxy.cfg")
    assert rt.save_state(client, path, config) is True
    assert _row(open(path).read(), "h1_blue")[18] == "9081"  # the configuration's port
    assert rt.save_state(client, path, config) is False
    fake.server("be_demo", "h1_green").admin = 0x04
    assert rt.save_state(client, path, config) is True
    assert _row(open(path).read(), "h1_green")[6] == "4"


def test_fix_state_file_ports(fake):
    client = rt.RuntimeClient(fake.unix_path)
    path, config = fake.tmp / "state", fake.tmp / "haproxy.cfg"
    rt.save_state(client, str(path), None)
    assert _row(path.read_text(), "h1_blue")[18] == "8081"
    assert rt.fix_state_file_ports(str(path), str(config)) is True
    assert _row(path.read_text(), "h1_blue")[18] == "9081"
    assert rt.fix_state_file_ports(str(path), str(config)) is False
    assert rt.fix_state_file_ports(str(fake.tmp / "missing"), str(config)) is False
    (fake.tmp / "junk").write_text("junk")
    assert rt.fix_state_file_ports(str(fake.tmp / "junk"), str(config)) is False


# -- the installed command: a thin CLI over the same functions -------------------------------

def _cli():
    spec = importlib.util.spec_from_file_location("seed_fleet_haproxy_save_state", str(CLI))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cli_save_and_fix_ports(fake, capsys):
    path = fake.tmp / "state"
    args = ["--state-file", str(path), "--config", str(fake.tmp / "haproxy.cfg"), "--lib", str(LIB)]
    assert _cli().main(["save", "--socket", fake.unix_path] + args) == 0
    assert _row(path.read_text(), "h1_blue")[18] == "9081"
    assert "written" in capsys.readouterr().out
    assert _cli().main(["save", "--socket", fake.unix_path] + args) == 0
    assert "already current" in capsys.readouterr().out
    (fake.tmp / "haproxy.cfg").write_text(CONFIG.replace("9081", "9082"))
    assert _cli().main(["fix-ports"] + args) == 0
    assert _row(path.read_text(), "h1_blue")[18] == "9082"
    assert fake.writes == []


def test_cli_keeps_the_file_when_haproxy_is_gone(fake, capsys):
    path = fake.tmp / "state"
    path.write_text("kept")
    code = _cli().main(["save", "--socket", str(fake.tmp / "gone.sock"), "--state-file", str(path), "--lib", str(LIB)])
    assert code == 1 and path.read_text() == "kept"
    assert "does not exist" in capsys.readouterr().err


def test_cli_reports_a_missing_library(tmp_path, capsys):
    assert _cli().main(["save", "--lib", str(tmp_path / "nope.py")]) == 2
    assert "cannot load" in capsys.readouterr().err
