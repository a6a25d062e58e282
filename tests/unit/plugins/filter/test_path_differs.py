# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""seed.fleet.path_differs on what seed.fleet.probe returns for a path."""
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.seed.fleet.plugins.filter.path_differs import path_differs
from ansible_collections.seed.fleet.plugins.module_utils import _probe

KEY = dict(exists=True, kind="file", owner="root", group="ssl-cert", mode="0640", uid=0, gid=110, size=227)


def test_as_wanted():
    assert path_differs(KEY, "file", "root", "ssl-cert", "0640") is False
    assert path_differs(KEY, "file", "root", "ssl-cert", "640") is False


@pytest.mark.parametrize("args", [("directory", "root", "ssl-cert", "0640"), ("file", "daemon", "ssl-cert", "0640"),
                                  ("file", "root", "root", "0640"), ("file", "root", "ssl-cert", "0600")])
def test_each_difference(args):
    assert path_differs(KEY, *args) is True


def test_missing():
    assert path_differs(dict(exists=False), "file", "root", "root", "0600") is True


def test_what_the_probe_reads(tmp_path):
    import grp
    import os
    import pwd
    path = tmp_path / "k"
    path.write_text("")
    os.chmod(str(path), 0o600)
    found = _probe.read_file(dict(path=str(path)))
    me, mine = pwd.getpwuid(os.getuid())[0], grp.getgrgid(os.getgid())[0]
    assert path_differs(found, "file", me, mine, "0600") is False
    assert path_differs(found, "file", me, mine, "0644") is True


@pytest.mark.parametrize("found, mode", [(None, "0600"), ({}, "0600"), (KEY, 384), (KEY, "rw")])
def test_bad_input(found, mode):
    with pytest.raises(AnsibleFilterError):
        path_differs(found, "file", "root", "root", mode)
