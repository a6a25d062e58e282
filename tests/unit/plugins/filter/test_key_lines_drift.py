# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""seed.fleet.key_lines_drift agrees with ansible.builtin.lineinfile: a key is reported exactly when
lineinfile (regexp '^\\s*KEY\\s', line 'KEY<TAB>value') would change the file - checked by running
the real lineinfile module in check mode on each case (CR LF lines: reported, as ansible-core 2.19 rewrites them)."""
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible.modules import lineinfile

from ansible_collections.seed.fleet.plugins.filter.key_lines_drift import key_lines_drift
from ansible_collections.seed.fleet.tests.unit.plugins import module_run

WANTED = {"UMASK": "027", "PASS_MAX_DAYS": 365, "ENCRYPT_METHOD": "YESCRYPT"}

CASES = {
    "converged": "# comment\nUMASK\t027\nPASS_MAX_DAYS\t365\nENCRYPT_METHOD\tYESCRYPT\n",
    "debian default": "UMASK\t\t022\nPASS_MAX_DAYS\t99999\n#ENCRYPT_METHOD SHA512\n",
    "space instead of tab": "UMASK 027\nPASS_MAX_DAYS\t365\nENCRYPT_METHOD\tYESCRYPT\n",
    "last match counts (good last)": "UMASK\t022\nUMASK\t027\nPASS_MAX_DAYS\t365\nENCRYPT_METHOD\tYESCRYPT\n",
    "last match counts (bad last)": "UMASK\t027\nUMASK\t022\nPASS_MAX_DAYS\t365\nENCRYPT_METHOD\tYESCRYPT\n",
    "indented": "  UMASK\t027\nPASS_MAX_DAYS\t365\nENCRYPT_METHOD\tYESCRYPT\n",
    "trailing blank": "UMASK\t027 \nPASS_MAX_DAYS\t365\nENCRYPT_METHOD\tYESCRYPT\n",
    "bare key line": "UMASK\nPASS_MAX_DAYS\t365\nENCRYPT_METHOD\tYESCRYPT\n",
    "prefix of another key": "UMASK_X\t027\nPASS_MAX_DAYS\t365\nENCRYPT_METHOD\tYESCRYPT\n",
    "longer key after it": "UMASK\t027\nUMASK_X\t1\nPASS_MAX_DAYS\t365\nENCRYPT_METHOD\tYESCRYPT\n",
    "no final newline": "UMASK\t027\nPASS_MAX_DAYS\t365\nENCRYPT_METHOD\tYESCRYPT",
    "crlf": "UMASK\t027\r\nPASS_MAX_DAYS\t365\r\nENCRYPT_METHOD\tYESCRYPT\r\n",
    "empty": "",
}


def lineinfile_changes(capsys, path, key, value):
    args = dict(path=str(path), regexp=r"^\s*%s\s" % key, line="%s\t%s" % (key, value))
    rc, out = module_run.run(lineinfile, capsys, args, check=True)
    assert rc == 0, out
    return out["changed"]


@pytest.mark.parametrize("name", sorted(CASES))
def test_agrees_with_lineinfile(tmp_path, capsys, name):
    path = tmp_path / "login.defs"
    path.write_bytes(CASES[name].encode())
    drifted = {item["key"] for item in key_lines_drift(CASES[name], WANTED)}
    expected = {key for key, value in WANTED.items() if lineinfile_changes(capsys, path, key, value)}
    assert expected <= drifted, "a key lineinfile would change is not reported"
    if name != "crlf":  # ansible-core 2.19's lineinfile rewrites CR LF lines, later releases do not
        assert drifted == expected


def test_converged_file_gives_an_empty_loop_and_items_keep_the_wanted_order():
    assert key_lines_drift(CASES["converged"], WANTED) == []
    assert key_lines_drift("", WANTED) == [{"key": k, "value": v} for k, v in WANTED.items()]


def test_separator():
    assert key_lines_drift("A = 1\n", {"A": 1}, separator=" = ") == []


@pytest.mark.parametrize("text, wanted", [(None, {}), (b"UMASK 027", {}), ("x", ["UMASK"])])
def test_bad_input(text, wanted):
    with pytest.raises(AnsibleFilterError):
        key_lines_drift(text, wanted)
