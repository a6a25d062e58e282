# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""seed.fleet.config_files on a real directory tree: writes, idempotence, check mode and diff,
and bad input that fails with every reason and changes nothing."""
from __future__ import annotations

import os
import stat

import pytest

from ansible_collections.seed.fleet.plugins.module_utils import _config_files
from ansible_collections.seed.fleet.plugins.modules import config_files
from ansible_collections.seed.fleet.tests.unit.plugins import module_run


def run(capsys, files, **kw):
    return module_run.run(config_files, capsys, dict(files=files), **kw)


def mode_of(path):
    return stat.S_IMODE(os.lstat(path).st_mode)


def snapshot(root):
    """Every path under root with its kind, mode and content: a test that something changed nothing."""
    seen = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            data = open(p, "rb").read() if os.path.isfile(p) and not os.path.islink(p) else None
            seen[p] = (os.lstat(p).st_mode, data)
    return seen


@pytest.fixture()
def tree(tmp_path):
    d = tmp_path / "etc"
    d.mkdir()
    return d


def entries(tree):
    return [
        dict(path=str(tree / "conf.d"), state="directory", owner="root", group="root", mode="0750"),
        dict(path=str(tree / "conf.d" / "a.conf"), content="a = 1\n", owner="root", group="root", mode="0640"),
        dict(path=str(tree / "b.conf"), content="b = 2\n", mode="0644"),
    ]


def test_writes_then_changes_nothing(tree, capsys):
    rc, out = run(capsys, entries(tree))
    assert rc == 0 and out["changed"] is True
    assert out["changed_paths"] == [str(tree / "conf.d"), str(tree / "conf.d" / "a.conf"), str(tree / "b.conf")]
    assert (tree / "conf.d" / "a.conf").read_text() == "a = 1\n"
    assert mode_of(tree / "conf.d") == 0o750 and mode_of(tree / "conf.d" / "a.conf") == 0o640
    assert mode_of(tree / "b.conf") == 0o644
    assert not [n for n in os.listdir(tree / "conf.d") if n.startswith(".")], "a temporary file was left behind"
    rc, out = run(capsys, entries(tree))
    assert rc == 0 and out["changed"] is False and out["changed_paths"] == []


def test_check_mode_writes_nothing_and_shows_the_diff(tree, capsys):
    (tree / "b.conf").write_text("b = 1\n")
    before = snapshot(tree)
    rc, out = run(capsys, entries(tree), check=True, diff=True)
    assert rc == 0 and out["changed"] is True and len(out["changed_paths"]) == 3
    assert snapshot(tree) == before
    content = [d for d in out["diff"] if d["before"] == "b = 1\n"]
    assert content and content[0]["after"] == "b = 2\n" and content[0]["after_header"] == str(tree / "b.conf")
    created = [d for d in out["diff"] if d["after"] == dict(path=str(tree / "conf.d"), state="directory")]
    assert created


def test_content_and_mode_drift_are_put_back(tree, capsys):
    run(capsys, entries(tree))
    (tree / "b.conf").write_text("edited by hand\n")
    os.chmod(tree / "conf.d" / "a.conf", 0o666)
    rc, out = run(capsys, entries(tree), diff=True)
    assert out["changed_paths"] == [str(tree / "conf.d" / "a.conf"), str(tree / "b.conf")]
    assert (tree / "b.conf").read_text() == "b = 2\n" and mode_of(tree / "conf.d" / "a.conf") == 0o640
    attrs = [d for d in out["diff"] if isinstance(d["before"], dict) and "mode" in d["before"]]
    assert attrs and attrs[0]["before"]["mode"] == "0666" and attrs[0]["after"]["mode"] == "0640"


def test_a_rewritten_file_keeps_the_mode_it_is_given(tree, capsys):
    (tree / "b.conf").write_text("old\n")
    os.chmod(tree / "b.conf", 0o600)
    run(capsys, [dict(path=str(tree / "b.conf"), content="new\n", mode="0644")])
    assert mode_of(tree / "b.conf") == 0o644 and (tree / "b.conf").read_text() == "new\n"


def test_absent_removes_files_links_and_directories(tree, capsys):
    (tree / "gone.conf").write_text("x")
    (tree / "gone.d").mkdir()
    (tree / "gone.d" / "inner").write_text("y")
    (tree / "link").symlink_to(tree / "nowhere")
    files = [dict(path=str(tree / n), state="absent") for n in ("gone.conf", "gone.d", "link", "never")]
    rc, out = run(capsys, files)
    assert rc == 0 and out["changed_paths"] == [str(tree / n) for n in ("gone.conf", "gone.d", "link")]
    assert os.listdir(tree) == []
    rc, out = run(capsys, files)
    assert out["changed"] is False


def test_validate_runs_on_a_change_only_and_a_failure_changes_nothing(tree, capsys):
    run(capsys, entries(tree))
    same = entries(tree)
    same[2]["validate"] = "/bin/false %s"
    rc, out = run(capsys, same)
    assert rc == 0 and out["changed"] is False, "validate ran although the content did not change"
    bad = entries(tree)
    bad.insert(0, dict(path=str(tree / "new.conf"), content="z\n"))
    bad[2]["content"] = "a = 9\n"
    bad[2]["validate"] = "/bin/grep -q '^a = 1' %s"
    before = snapshot(tree)
    rc, out = run(capsys, bad)
    assert rc == 1 and "validate failed" in out["msg"] and str(tree / "conf.d" / "a.conf") in out["msg"]
    assert snapshot(tree) == before, "an entry was applied although a later one failed its validation"


def test_validate_sees_the_new_content(tree, capsys):
    files = [dict(path=str(tree / "v.conf"), content="good\n", validate="/bin/grep -qx good %s")]
    rc, out = run(capsys, files)
    assert rc == 0 and (tree / "v.conf").read_text() == "good\n"


@pytest.mark.parametrize("entry, reason", [
    (dict(path="etc/relative", content="x"), "absolute and normalised"),
    (dict(path="/etc/../etc/x", content="x"), "absolute and normalised"),
    (dict(path="/", state="directory"), "absolute and normalised"),
    (dict(path="{tree}/missing/x.conf", content="x"), "does not exist"),
    (dict(path="{tree}/f", state="file"), "needs content"),
    (dict(path="{tree}/d", state="directory", content="x"), "only for state=file"),
    (dict(path="{tree}/d", state="directory", validate="true %s"), "validate is only for state=file"),
    (dict(path="{tree}/f", content="x", validate="true"), "must contain %s"),
    (dict(path="{tree}/f", state="absent", mode="0644"), "not for state=absent"),
    (dict(path="{tree}/f", content="x", mode=420), "octal string"),
    (dict(path="{tree}/f", content="x", mode="u+rw"), "octal string"),
    (dict(path="{tree}/f", content="x", owner="no-such-user-here"), "no user no-such-user-here"),
    (dict(path="{tree}/f", content="x", group="no-such-group-here"), "no group no-such-group-here"),
    (dict(path="{tree}/adir", content="x"), "is a directory"),
    (dict(path="{tree}/afile", state="directory"), "is a file"),
    (dict(path="{tree}/alink", content="x"), "symbolic link"),
    (dict(path="{tree}/afile/sub/dir", state="directory"), "afile is in the way"),
])
def test_bad_input_fails_with_its_reason_and_changes_nothing(tree, capsys, entry, reason):
    (tree / "adir").mkdir()
    (tree / "afile").write_text("keep\n")
    (tree / "alink").symlink_to(tree / "afile")
    entry = dict(entry, path=entry["path"].format(tree=tree))
    files = [dict(path=str(tree / "first.conf"), content="first\n"), entry]
    before = snapshot(tree)
    rc, out = run(capsys, files)
    assert rc == 1 and reason in out["msg"], out["msg"]
    assert out["changed_paths"] == [] and snapshot(tree) == before


def test_a_path_given_twice_is_refused(tree, capsys):
    files = [dict(path=str(tree / "x"), content="1"), dict(path=str(tree / "x"), content="2")]
    rc, out = run(capsys, files)
    assert rc == 1 and "given twice" in out["msg"] and not (tree / "x").exists()


def test_every_problem_is_named_at_once():
    current = {"/a": _config_files.Current("absent"), "b": _config_files.Current("absent")}
    found = _config_files.problems([dict(path="/a", state="file", content=None),
                                    dict(path="b", state="file", content="x")], current)
    assert len(found) == 2 and "files[0] (/a)" in found[0] and "files[1] (b)" in found[1]


def test_a_directory_comes_with_its_missing_parents_and_files_may_follow_it(tree, capsys):
    files = [dict(path=str(tree / "a" / "b" / "c"), state="directory", mode="0700"),
             dict(path=str(tree / "a" / "b" / "f"), content="in a planned parent\n")]
    rc, out = run(capsys, files)
    assert rc == 0 and mode_of(tree / "a" / "b" / "c") == 0o700 and (tree / "a" / "b" / "f").read_text()


def test_module_defaults_fill_what_an_entry_leaves_out(tree, capsys):
    args = dict(owner="root", group="root", mode="0600", directory_mode="0700", files=[
        dict(path=str(tree / "d"), state="directory"),
        dict(path=str(tree / "d" / "own"), content="x", mode="0644"),
        dict(path=str(tree / "d" / "default"), content="y"),
        dict(path=str(tree / "gone"), state="absent"),
    ])
    rc, out = module_run.run(config_files, capsys, args)
    assert rc == 0, out
    assert mode_of(tree / "d") == 0o700 and mode_of(tree / "d" / "own") == 0o644 and mode_of(tree / "d" / "default") == 0o600
    rc, out = module_run.run(config_files, capsys, dict(args, mode=644))
    assert rc == 1 and "octal string" in out["msg"] and mode_of(tree / "d" / "default") == 0o600


def test_a_new_private_file_gets_its_mode_before_it_appears(tree, capsys, monkeypatch):
    seen = []
    real_rename = os.rename

    def rename(src, dst):
        seen.append(mode_of(src))
        return real_rename(src, dst)
    monkeypatch.setattr(os, "rename", rename)
    rc, out = run(capsys, [dict(path=str(tree / "key.pem"), content="secret\n", mode="0640")], diff=True)
    assert rc == 0 and seen == [0o640] and mode_of(tree / "key.pem") == 0o640
    assert not [d for d in out["diff"] if isinstance(d["before"], dict) and "mode" in d["before"]]


def test_a_missing_final_newline_is_a_change(tree, capsys):
    (tree / "n.conf").write_text("key = 1")
    rc, out = run(capsys, [dict(path=str(tree / "n.conf"), content="key = 1\n")])
    assert out["changed"] is True and (tree / "n.conf").read_text() == "key = 1\n"


def test_check_mode_warns_about_a_failed_validation_and_writes_nothing(tree, capsys, monkeypatch):
    # The module's warn() (ansible-core's warning list is process-wide and other tests' modules share it).
    warned = []
    monkeypatch.setattr(config_files.AnsibleModule, "warn", lambda self, msg: warned.append(msg))
    files = [dict(path=str(tree / "v.conf"), content="bad\n", validate="/bin/grep -qx good %s")]
    rc, out = run(capsys, files, check=True)
    assert rc == 0 and out["changed"] is True and not (tree / "v.conf").exists()
    assert len(warned) == 1 and "check mode" in warned[0] and "validate failed" in warned[0], warned
