# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""seed.fleet.probe: real commands and files, getent's shape (hashes masked), dpkg's status file, bad input."""
from __future__ import annotations

import grp
import os
import pwd

import pytest

from ansible_collections.seed.fleet.plugins.module_utils import _probe
from ansible_collections.seed.fleet.plugins.modules import probe
from ansible_collections.seed.fleet.tests.unit.plugins import module_run


def run(capsys, check=False, **args):
    return module_run.run(probe, capsys, args, check=check)


def test_commands_run_in_check_mode_and_report_rc(capsys, tmp_path):
    marker = tmp_path / "x"
    marker.write_text("a\nb\n")
    rc, out = run(capsys, check=True, commands=[
        dict(name="cat", argv=["cat", str(marker)]),
        dict(name="fails", argv=["/bin/sh", "-c", "echo oops >&2; exit 3"]),
        dict(name="off", argv=["/bin/false"], enabled=False),
    ])
    assert rc == 0 and out["changed"] is False
    assert out["commands"]["cat"] == dict(rc=0, stdout="a\nb", stderr="", stdout_lines=["a", "b"])
    assert out["commands"]["fails"]["rc"] == 3 and out["commands"]["fails"]["stderr"] == "oops"
    assert "off" not in out["commands"]


def test_commands_run_with_the_c_locale(capsys):
    rc, out = run(capsys, commands=[dict(name="env", argv=["/bin/sh", "-c", "echo $LC_ALL"])])
    assert out["commands"]["env"]["stdout"] == "C"


def test_a_missing_program_is_a_result(capsys):
    rc, out = run(capsys, commands=[dict(name="nft", argv=["no-such-program-here", "list"]),
                                    dict(name="abs", argv=["/no/such/program"])])
    assert rc == 0
    for name in ("nft", "abs"):
        assert out["commands"][name]["rc"] is None
        assert "No such file" in out["commands"][name]["msg"]


def test_files(capsys, tmp_path):
    conf = tmp_path / "login.defs"
    conf.write_bytes(b"UMASK\t027\r\nPASS_MAX_DAYS 99\n")
    os.chmod(conf, 0o640)
    (tmp_path / "d").mkdir()
    os.symlink(str(conf), str(tmp_path / "link"))
    rc, out = run(capsys, files=[
        dict(name="defs", path=str(conf), content=True),
        dict(name="plain", path=str(conf)),
        dict(name="dir", path=str(tmp_path / "d"), content=True),
        dict(name="link", path=str(tmp_path / "link"), content=True),
        dict(name="none", path=str(tmp_path / "none")),
        dict(name="off", path=str(conf), enabled=False),
    ])
    files = out["files"]
    assert files["defs"]["content"] == "UMASK\t027\r\nPASS_MAX_DAYS 99\n"
    assert files["defs"]["kind"] == "file" and files["defs"]["mode"] == "0640" and files["defs"]["size"] == 28
    assert files["plain"]["owner"] == pwd.getpwuid(os.getuid())[0]
    assert files["plain"]["group"] == grp.getgrgid(os.getgid())[0]
    assert "content" not in files["plain"]
    assert files["plain"]["writable"] is os.access(str(conf), os.W_OK)
    assert files["dir"]["kind"] == "directory" and "content" not in files["dir"]
    assert files["link"]["kind"] == "link" and "content" not in files["link"]
    assert files["link"]["target"] == str(conf) and "target" not in files["defs"]
    assert files["none"] == dict(exists=False)
    assert "off" not in files


def test_unknown_ids_have_no_name(tmp_path):
    path = tmp_path / "f"
    path.write_text("")
    os.chown(str(path), 64999, 64998)
    info = _probe.read_file(dict(path=str(path)))
    assert (info["uid"], info["owner"], info["gid"], info["group"]) == (64999, None, 64998, None)


def test_getent_passwd_as_facts(capsys):
    rc, out = run(capsys, getent=["passwd"])
    assert rc == 0
    assert out["ansible_facts"]["getent_passwd"]["root"][:3] == ["x", "0", "0"]


def test_getent_without_databases_sets_no_facts(capsys):
    rc, out = run(capsys)
    assert "ansible_facts" not in out and out["commands"] == {} and out["packages"] == {} and out["selections"] == {}


def test_an_unknown_getent_database_fails(capsys):
    rc, out = run(capsys, getent=["no_such_db"])
    assert rc == 1 and "getent no_such_db failed" in out["msg"]


@pytest.mark.parametrize("field, shown", [
    ("$6$salt$hash", "HASH"),
    ("!$6$salt$hash", "!HASH"),
    ("!!", "!!"),
    ("*", "*"),
    ("!", "!"),
    ("", ""),
    ("!*$y$j9T$x", "!*HASH"),
])
def test_shadow_hashes_are_masked(field, shown):
    table = _probe.parse_getent("shadow", "alice:%s:19000:0:99999:7:::\n" % field)
    assert table["alice"][0] == shown
    assert table["alice"][1:3] == ["19000", "0"]


def test_masking_keeps_what_baseline_aged_accounts_reads():
    from ansible_collections.seed.fleet.plugins.filter.baseline_aged_accounts import baseline_aged_accounts
    passwd = _probe.parse_getent("passwd", "alice:x:1001:1001::/home/alice:/bin/bash\n"
                                           "bob:x:1002:1002::/home/bob:/bin/bash\n"
                                           "carol:x:1003:1003::/home/carol:/bin/bash\n")
    shadow = _probe.parse_getent("shadow", "alice:$6$a$b:1::::::\nbob:!$6$a$b:1::::::\ncarol::1::::::\n")
    assert baseline_aged_accounts(passwd, shadow) == ["alice"]


def test_getent_keeps_the_first_of_a_repeated_key():
    assert _probe.parse_getent("passwd", "a:x:1\na:x:2\n\n") == {"a": ["x", "1"]}


STATUS = """Package: chrony
Status: install ok installed
Priority: optional
Version: 4.3-2+deb12u1
Description: a
 long text with Status: deinstall ok config-files

Package: telnet
Status: deinstall ok config-files
Version: 0.17+2.4-2

Package: docker.io
Status: hold ok installed
Architecture: amd64
Version: 20.10.24+dfsg1-1+b3
"""


def test_dpkg_status():
    found, selections = _probe.parse_dpkg_status(STATUS, ["chrony", "telnet", "docker.io=20.10.*", "nftables",
                                                          "chrony:amd64"])
    assert found == {"chrony": "4.3-2+deb12u1", "telnet": None, "docker.io=20.10.*": "20.10.24+dfsg1-1+b3",
                     "nftables": None, "chrony:amd64": "4.3-2+deb12u1"}
    assert selections == {"chrony": "install", "telnet": "deinstall", "docker.io=20.10.*": "hold", "nftables": None,
                          "chrony:amd64": "install"}


def test_packages_read_the_status_file(tmp_path):
    status = tmp_path / "status"
    status.write_text(STATUS)
    assert _probe.packages(["chrony"], str(status)) == ({"chrony": "4.3-2+deb12u1"}, {"chrony": "install"})
    assert _probe.packages(["chrony"], str(tmp_path / "none")) == ({"chrony": None}, {"chrony": None})
    assert _probe.packages([], str(status)) == ({}, {})


@pytest.mark.parametrize("args, reason", [
    (dict(commands=[dict(name="a", argv=["true"]), dict(name="a", argv=["true"])]), "given twice"),
    (dict(commands=[dict(name="a", argv=[])]), "argv is empty"),
    (dict(commands=[dict(name="", argv=["true"])]), "has no name"),
    (dict(files=[dict(name="f", path="etc/x")]), "not absolute"),
    (dict(files=[dict(name="f", path="/a"), dict(name="f", path="/b")]), "given twice"),
    (dict(getent=["../passwd"]), "not a database name"),
    (dict(getent=["-s"]), "not a database name"),
])
def test_bad_input_fails_before_any_read(capsys, tmp_path, args, reason):
    marker = tmp_path / "ran"
    args.setdefault("commands", []).append(dict(name="zz_marker", argv=["touch", str(marker)]))
    rc, out = run(capsys, **args)
    assert rc == 1 and reason in out["msg"]
    assert not marker.exists()
