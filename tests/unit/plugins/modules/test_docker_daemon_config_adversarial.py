# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""seed.fleet.docker_daemon_config against bad input: every case fails cleanly and changes nothing.

Each case runs the real module (argument parsing included) on a temporary daemon.json and
asserts: exit code 1, ``failed``, no traceback (no ``exception`` in the result), a message
naming the option, key or path at fault, and a byte-identical directory afterwards (same
content, mode and mtime of every entry; no temporary or backup file left).
"""
from __future__ import annotations

import json
import os
import subprocess

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.seed.fleet.plugins.module_utils._docker_daemon import MAX_BYTES
from ansible_collections.seed.fleet.plugins.modules import docker_daemon_config

LIVE = b'{\n  "live-restore": true,\n  "log-opts": {\n    "max-size": "10m"\n  }\n}\n'


def run(capsys, args):
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exc:
            docker_daemon_config.main()
    return exc.value.code, json.loads(capsys.readouterr().out)


def snapshot(top):
    """Every entry under ``top``: bytes, mode and mtime."""
    out = {}
    for root, dirs, files in os.walk(top):
        for name in sorted(dirs + files):
            full = os.path.join(root, name)
            st = os.lstat(full)
            data = open(full, "rb").read() if os.path.isfile(full) else None
            out[os.path.relpath(full, top)] = (data, st.st_mode, st.st_mtime_ns)
    return out


# (id, live file content, options, substrings the message must contain)
# Options are given for a daemon.json at {live} in directory {dir}; backup=True wherever
# a backup could be made, so "no backup left" is tested too.
CASES = [
    # -- wrong types and values of options (AnsibleModule's argument checks) ---------------
    ("config-list", LIVE, {"config": ["debug"]}, ["config"]),
    ("config-int", LIVE, {"config": 5}, ["config"]),
    ("config-bare-word", LIVE, {"config": "debug"}, ["config"]),
    ("replace-not-bool", LIVE, {"replace": "maybe", "config": {"debug": True}}, ["replace"]),
    ("remove-keys-dict", LIVE, {"remove_keys": {"debug": 1}}, ["remove_keys"]),
    ("remove-if-empty-not-bool", LIVE, {"remove_if_empty": "often"}, ["remove_if_empty"]),
    ("validate-choice", LIVE, {"validate": "sometimes", "config": {"debug": True}}, ["validate"]),
    ("state-choice", LIVE, {"state": "gone"}, ["state"]),
    ("backup-not-bool", LIVE, {"backup": "perhaps", "config": {"debug": True}}, ["backup"]),
    ("unsupported-owner", LIVE, {"owner": "root", "config": {"debug": True}}, ["owner"]),
    # -- path, mode, conflicting options (checked before the file is read) -----------------
    ("path-empty", LIVE, {"path": "", "config": {"debug": True}}, ["path"]),
    ("path-trailing-slash", LIVE, {"path": "{dir}/", "config": {"debug": True}}, ["path"]),
    ("mode-not-octal", LIVE, {"mode": "0999", "config": {"debug": True}}, ["mode", "0999"]),
    ("mode-bad-symbolic", LIVE, {"mode": "u+z", "config": {"debug": True}}, ["mode", "u+z"]),
    ("mode-ls-style", LIVE, {"mode": "rw-r--r--", "config": {"debug": True}}, ["mode", "rw-r--r--"]),
    ("mode-too-large", LIVE, {"mode": 0o17777, "config": {"debug": True}}, ["mode", "out of range"]),
    ("mode-list", LIVE, {"mode": ["0644"], "config": {"debug": True}}, ["mode"]),
    ("mode-bool", LIVE, {"mode": True, "config": {"debug": True}}, ["mode"]),
    ("absent-with-config", LIVE, {"state": "absent", "config": {"debug": True}}, ["state=absent", "config"]),
    ("absent-with-remove-keys", LIVE, {"state": "absent", "remove_keys": ["debug"]}, ["state=absent", "remove_keys"]),
    ("absent-with-replace", LIVE, {"state": "absent", "replace": True}, ["state=absent", "replace"]),
    ("set-and-remove", LIVE, {"config": {"debug": True}, "remove_keys": ["debug"]}, ["remove_keys", "debug"]),
    ("empty-key", LIVE, {"config": {"": 1}}, ["keys", "non-empty"]),
    ("blank-remove-key", LIVE, {"remove_keys": [" "]}, ["keys", "non-empty"]),
    # -- invalid daemon.json values (built-in checks) ----------------------------------------
    ("debug-string", LIVE, {"config": {"debug": "yes"}}, ["debug", "boolean"]),
    ("negative-limit", LIVE, {"config": {"max-concurrent-downloads": -1}}, ["max-concurrent-downloads"]),
    ("int-beyond-go-int", LIVE, {"config": {"shutdown-timeout": 2 ** 64}}, ["shutdown-timeout"]),
    ("log-opts-number", LIVE, {"config": {"log-opts": {"max-file": 3}}}, ["log-opts.max-file"]),
    ("mirror-not-http", LIVE, {"config": {"registry-mirrors": ["ftp://mirror"]}}, ["registry-mirrors"]),
    ("bip-network-address", LIVE, {"config": {"bip": "172.17.0.0/16"}}, ["bip", "172.17.0.0/16"]),
    ("bip-fullwidth-digits", LIVE, {"config": {"bip": "\uff11\uff17\uff12.17.0.1/16"}}, ["bip"]),
    ("fixed-cidr-33", LIVE, {"config": {"fixed-cidr": "10.0.0.0/33"}}, ["fixed-cidr"]),
    ("dns-not-ip", LIVE, {"config": {"dns": ["8.8.8.x"]}}, ["dns", "8.8.8.x"]),
    ("gateway-v6-is-v4", LIVE, {"config": {"default-gateway-v6": "10.0.0.1"}}, ["default-gateway-v6"]),
    ("log-level-unicode", LIVE, {"config": {"log-level": "d\u00ebbug"}}, ["log-level"]),
    ("log-driver-empty", LIVE, {"config": {"log-driver": ""}}, ["log-driver"]),
    ("pool-size-shorter-than-base", LIVE, {"config": {"default-address-pools": [{"base": "10.0.0.0/16", "size": 8}]}},
     ["default-address-pools"]),
    ("hosts-not-list", LIVE, {"config": {"hosts": "unix:///run/docker.sock"}}, ["hosts"]),
    ("nan-value", LIVE, {"config": {"x-metric": float("nan")}}, ["JSON"]),
    ("huge-value", LIVE, {"config": {"labels": ["x" * MAX_BYTES]}}, ["{live}", "bytes"]),
    # -- the live file --------------------------------------------------------------------
    ("invalid-json", b'{"debug": tru', {"config": {"debug": True}}, ["{live}", "not valid JSON"]),
    ("json-list", b"[1, 2]", {"config": {"debug": True}}, ["{live}", "JSON object", "list"]),
    ("json-null", b"null", {"config": {"debug": True}}, ["{live}", "JSON object"]),
    ("latin-1", b'{"labels":["caf\xe9"]}', {"config": {"debug": True}}, ["{live}", "not UTF-8", "0xe9"]),
    ("utf-16-bom", '{"debug": true}'.encode("utf-16"), {"config": {"debug": True}}, ["{live}", "not UTF-8"]),
    ("huge-file", b"{" + b" " * MAX_BYTES + b"}", {"config": {"debug": True}}, ["{live}", "larger than"]),
    ("path-is-directory", LIVE, {"path": "{dir}", "config": {"debug": True}}, ["{dir}", "not a regular file"]),
    ("parent-is-a-file", LIVE, {"path": "{live}/daemon.json", "config": {"debug": True}},
     ["cannot write {live}/daemon.json", "{live} is not a directory"]),
    ("unreadable-file", LIVE, {"path": "/proc/self/mem", "config": {"debug": True}},
     ["cannot read /proc/self/mem", "Input/output error"]),
    ("unwritable-directory", "immutable", {"config": {"debug": True}}, ["cannot write {live}", "not permitted"]),
    # -- dockerd ------------------------------------------------------------------------
    ("dockerd-missing", LIVE, {"config": {"debug": True}, "validate": "dockerd", "dockerd_path": "{dir}/no-dockerd"},
     ["dockerd", "{dir}/no-dockerd"]),
    ("dockerd-is-directory", LIVE, {"config": {"debug": True}, "validate": "dockerd", "dockerd_path": "{dir}"},
     ["dockerd", "not an executable file"]),
]


@pytest.fixture()
def workdir(tmp_path):
    directory = tmp_path / "docker"
    directory.mkdir()
    immutable = []
    yield directory, immutable
    for path in immutable:
        subprocess.run(["chattr", "-i", str(path)], check=True)


def _fill(value, live, directory):
    if isinstance(value, str):
        return value.replace("{live}", str(live)).replace("{dir}", str(directory))
    if isinstance(value, dict):
        return dict((k, _fill(v, live, directory)) for k, v in value.items())
    if isinstance(value, list):
        return [_fill(v, live, directory) for v in value]
    return value


def test_there_are_enough_cases():
    assert len(CASES) >= 35 and len(set(c[0] for c in CASES)) == len(CASES)


@pytest.mark.parametrize("content, options, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_fails_cleanly_and_changes_nothing(capsys, workdir, content, options, expected):
    directory, immutable = workdir
    live = directory / "daemon.json"
    live.write_bytes(LIVE if content == "immutable" else content)
    os.chmod(live, 0o640)  # not the default mode: a run that "fixed" the mode would show
    if content == "immutable":
        if subprocess.run(["chattr", "+i", str(directory)], capture_output=True, check=False).returncode != 0:
            pytest.skip("chattr +i not available here")
        immutable.append(directory)
    before = snapshot(directory.parent)
    args = dict(path=str(live), validate="builtin", backup=True)
    args.update(_fill(options, live, directory))
    rc, out = run(capsys, args)
    assert snapshot(directory.parent) == before
    assert rc == 1 and out.get("failed") is True, out
    assert "exception" not in out and "Traceback" not in out["msg"]
    for text in _fill(expected, live, directory):
        assert text in out["msg"], (text, out["msg"])
