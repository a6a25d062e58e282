# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""seed.fleet.deploy_lock: one run holds an app's lock; another fails at once naming the holder, takes
over a stale lock with a warning, and never removes a lock it does not hold. Real files, real
processes racing for one lock."""
from __future__ import annotations

import json
import multiprocessing
import os
import stat
import time

import pytest

from ansible_collections.seed.fleet.plugins.module_utils import _deploy_lock
from ansible_collections.seed.fleet.plugins.modules import deploy_lock
from ansible_collections.seed.fleet.tests.unit.plugins import module_run


@pytest.fixture()
def warned(monkeypatch):
    """The module's warn() calls (ansible-core's own warning list is process-wide and changes form by version)."""
    seen = []
    monkeypatch.setattr(deploy_lock.AnsibleModule, "warn", lambda self, msg: seen.append(msg))
    return seen


def lock_args(path, run_id="run-a", **kw):
    return dict({"path": str(path), "run_id": run_id, "owner": "alice@ctl", "action": "deploy"}, **kw)


def test_a_free_lock_is_taken_and_holds_who_took_it(tmp_path, capsys):
    path = tmp_path / "demo" / "deploy.lock"  # the directory is made
    rc, res = module_run.run(deploy_lock, capsys, lock_args(path))
    assert rc == 0 and res["changed"] and res["taken_over"] is None
    held = json.loads(path.read_text())
    assert (held["owner"], held["run_id"], held["action"]) == ("alice@ctl", "run-a", "deploy")
    assert abs(held["started"] - time.time()) < 5 and res["holder"] == held
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_the_same_run_takes_it_again_without_a_change(tmp_path, capsys):
    path = tmp_path / "deploy.lock"
    module_run.run(deploy_lock, capsys, lock_args(path))
    before = path.read_text()
    rc, res = module_run.run(deploy_lock, capsys, lock_args(path, action="rollback"))
    assert rc == 0 and not res["changed"] and path.read_text() == before


def test_another_run_fails_at_once_naming_the_holder(tmp_path, capsys):
    path = tmp_path / "deploy.lock"
    module_run.run(deploy_lock, capsys, lock_args(path))
    before = path.read_text()
    t0 = time.monotonic()
    rc, res = module_run.run(deploy_lock, capsys, lock_args(path, run_id="run-b", owner="bob@awx", action="rollback"))
    assert rc == 1 and res["failed"] and time.monotonic() - t0 < 2
    assert "held by alice@ctl (run run-a, deploy) since " in res["msg"] and " s ago" in res["msg"], res["msg"]
    assert res["holder"]["run_id"] == "run-a" and path.read_text() == before


def test_a_stale_lock_is_taken_over_with_a_warning(tmp_path, capsys, warned):
    path = tmp_path / "deploy.lock"
    path.write_text(json.dumps({"owner": "carol@ctl", "run_id": "run-old", "action": "deploy",
                                "started": time.time() - 7200}))
    rc, res = module_run.run(deploy_lock, capsys, lock_args(path, stale_after=3600))
    assert rc == 0 and res["changed"] and res["taken_over"]["run_id"] == "run-old"
    assert json.loads(path.read_text())["run_id"] == "run-a"
    assert len(warned) == 1 and "took over the stale deploy lock" in warned[0], warned
    assert "carol@ctl (run run-old, deploy)" in warned[0] and "older than 3600 s" in warned[0], warned


def test_a_lock_younger_than_the_stale_limit_is_not_taken_over(tmp_path):
    path = str(tmp_path / "deploy.lock")
    _deploy_lock.acquire(path, "run-old", "carol", "deploy", 3600, now=1000.0)
    with pytest.raises(_deploy_lock.LockError, match="held by carol"):
        _deploy_lock.acquire(path, "run-new", "dave", "deploy", 3600, now=1000.0 + 3599)
    changed, holder, taken = _deploy_lock.acquire(path, "run-new", "dave", "deploy", 3600, now=1000.0 + 3600)
    assert changed and holder["run_id"] == "run-new" and taken["run_id"] == "run-old"


def test_an_unreadable_lock_file_is_a_lock_aged_by_its_file(tmp_path):
    path = tmp_path / "deploy.lock"
    path.write_text("{half a reco")
    with pytest.raises(_deploy_lock.LockError, match=r"held by unknown \(unreadable lock file\)"):
        _deploy_lock.acquire(str(path), "run-a", "alice", "deploy", 3600)
    old = time.time() - 4000
    os.utime(path, (old, old))
    changed, _holder, taken = _deploy_lock.acquire(str(path), "run-a", "alice", "deploy", 3600)
    assert changed and taken["owner"].startswith("unknown")


def test_release_removes_only_this_runs_lock(tmp_path, capsys, warned):
    path = tmp_path / "deploy.lock"
    module_run.run(deploy_lock, capsys, lock_args(path, run_id="run-b"))
    rc, res = module_run.run(deploy_lock, capsys, lock_args(path, state="absent"))
    assert rc == 0 and not res["changed"] and path.exists()
    assert len(warned) == 1 and "left the deploy lock" in warned[0] and "run run-b" in warned[0], warned
    rc, res = module_run.run(deploy_lock, capsys, lock_args(path, run_id="run-b", state="absent"))
    assert rc == 0 and res["changed"] and not path.exists()
    rc, res = module_run.run(deploy_lock, capsys, lock_args(path, run_id="run-b", state="absent"))
    assert rc == 0 and not res["changed"]


def test_release_without_a_directory_changes_nothing(tmp_path, capsys):
    rc, res = module_run.run(deploy_lock, capsys, lock_args(tmp_path / "none" / "deploy.lock", state="absent"))
    assert rc == 0 and not res["changed"] and not (tmp_path / "none").exists()


def test_check_mode_fails_on_a_held_lock_and_writes_nothing(tmp_path, capsys):
    path = tmp_path / "demo" / "deploy.lock"
    rc, res = module_run.run(deploy_lock, capsys, lock_args(path), check=True)
    assert rc == 0 and res["changed"] and not path.parent.exists()
    module_run.run(deploy_lock, capsys, lock_args(path))
    rc, res = module_run.run(deploy_lock, capsys, lock_args(path, run_id="run-b"), check=True)
    assert rc == 1 and "held by alice@ctl" in res["msg"]
    rc, res = module_run.run(deploy_lock, capsys, lock_args(path, state="absent"), check=True)
    assert rc == 0 and res["changed"] and path.exists()
    path.unlink()
    rc, res = module_run.run(deploy_lock, capsys, lock_args(path), check=True)  # the directory exists now
    assert rc == 0 and res["changed"] and not path.exists()
    path.write_text(json.dumps({"owner": "carol", "run_id": "run-old", "action": "deploy", "started": time.time() - 7200}))
    rc, res = module_run.run(deploy_lock, capsys, lock_args(path), check=True)
    assert rc == 0 and res["changed"] and res["taken_over"]["run_id"] == "run-old"
    assert json.loads(path.read_text())["run_id"] == "run-old"


@pytest.mark.parametrize("args, message", [
    ({"path": "relative/deploy.lock"}, "path must be absolute"),
    ({"run_id": "  "}, "run_id must not be empty"),
    ({"stale_after": 59}, "stale_after must be at least 60 seconds"),
])
def test_bad_input_is_refused_and_nothing_is_written(tmp_path, capsys, args, message):
    base = lock_args(tmp_path / "deploy.lock")
    base.update(args)
    rc, res = module_run.run(deploy_lock, capsys, base)
    assert rc == 1 and message in res["msg"]
    assert list(tmp_path.iterdir()) == []


def _race(path, run_id, start, out):
    while time.time() < start:
        time.sleep(0.001)
    try:
        _deploy_lock.acquire(path, run_id, run_id, "deploy", 3600)
        out.put(run_id)
    except _deploy_lock.LockError:
        out.put(None)


@pytest.mark.parametrize("stale", [False, True])
def test_of_runs_racing_for_a_free_or_stale_lock_exactly_one_wins(tmp_path, stale, monkeypatch):
    path = str(tmp_path / "deploy.lock")
    if stale:
        _deploy_lock.acquire(path, "run-old", "carol", "deploy", 3600, now=time.time() - 7200)
    read = _deploy_lock.holder_of

    def slow_read(lock):  # widen the window between reading the lock and writing it (the forks inherit it)
        found = read(lock)
        time.sleep(0.05)
        return found
    monkeypatch.setattr(_deploy_lock, "holder_of", slow_read)
    ctx = multiprocessing.get_context("fork")
    out = ctx.Queue()
    start = time.time() + 0.3
    procs = [ctx.Process(target=_race, args=(path, "run-%d" % i, start, out)) for i in range(8)]
    for p in procs:
        p.start()
    winners = [w for w in (out.get(timeout=20) for _p in procs) if w]
    for p in procs:
        p.join(10)
    assert len(winners) == 1, winners
    assert json.loads(open(path).read())["run_id"] == winners[0]
    assert sorted(os.listdir(tmp_path)) == ["deploy.lock"]  # no temporary file left
