# -*- coding: utf-8 -*-
# Copyright (c) seed.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A deploy lock: one file per app on each load balancer; two runs cannot both hold it.

The file holds who took it (owner, run id, action, start time) as JSON. A run that finds the lock
held by another run stops, naming the holder; a lock older than its stale limit (its holder was
killed, or lost its connection before it could let go) is taken over, and the taker learns whose
lock it took. Only the run that holds the lock lets it go.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fcntl
import json
import os
import time

MODE = 0o600
DIR_MODE = 0o700


class LockError(Exception):
    """The lock is held by another run, or its file cannot be made or read."""


def holder_of(path):
    """The holder recorded in the lock file, or None when there is no lock.

    A file that is not a lock we wrote (cut short, edited by hand) is still a lock: its holder is
    unknown and its age is the file's."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
        mtime = os.stat(path).st_mtime
    except (IOError, OSError) as exc:
        if getattr(exc, "errno", None) == 2:
            return None
        raise LockError("cannot read the lock %s: %s" % (path, exc))
    try:
        data = json.loads(raw.decode("utf-8"))
        if not isinstance(data, dict) or not isinstance(data.get("started"), (int, float)):
            raise ValueError("not a lock record")
    except ValueError:
        data = {"owner": "unknown (unreadable lock file)", "run_id": "", "action": "", "started": mtime}
    return data


def holder_of_quiet(path):
    """holder_of, or None when the file cannot be read (for a failure's result)."""
    try:
        return holder_of(path)
    except LockError:
        return None


def describe(holder, now):
    """'alice@ctl (run 42, deploy) since 2026-12-04T04:00:00Z, 12 s ago'."""
    started = holder.get("started", now)
    return "%s (run %s, %s) since %s, %d s ago" % (
        holder.get("owner") or "unknown", holder.get("run_id") or "?", holder.get("action") or "?",
        time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)), max(0, int(now - started)))


class _Guard(object):
    """An exclusive flock on the lock's directory while a run reads and changes the lock, so two
    runs on this host never both judge the same lock free or stale."""

    def __init__(self, path):
        self.path = os.path.dirname(os.path.abspath(path))
        self.fd = None

    def __enter__(self):
        try:
            self.fd = os.open(self.path, os.O_RDONLY)
            fcntl.flock(self.fd, fcntl.LOCK_EX)
        except (IOError, OSError) as exc:
            if self.fd is not None:
                os.close(self.fd)
            raise LockError("cannot lock the directory %s: %s" % (self.path, exc))
        return self

    def __exit__(self, *_exc):
        os.close(self.fd)  # closing drops the flock
        return False


def _write(path, record):
    """The record replaces the file at once (a reader sees the old lock or the new one, never half)."""
    tmp = "%s.%d.tmp" % (path, os.getpid())
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, MODE)
        with os.fdopen(fd, "w") as handle:
            handle.write(json.dumps(record, sort_keys=True) + "\n")
        os.rename(tmp, path)
    except (IOError, OSError) as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise LockError("cannot write the lock %s: %s" % (path, exc))


def acquire(path, run_id, owner, action, stale_after, check_mode=False, now=None):
    """Take the lock for run_id. Returns (changed, holder, taken_over).

    changed: the lock was made (or, in check mode, would be); holder: the record now in force;
    taken_over: the stale record this call replaced, or None. Raises LockError when another run
    holds a lock younger than stale_after seconds."""
    now = time.time() if now is None else now
    record = {"owner": owner, "run_id": run_id, "action": action, "started": round(now, 3)}
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        if check_mode:
            return True, record, None  # no directory, no lock
        try:
            os.makedirs(directory, DIR_MODE)
        except (IOError, OSError) as exc:
            if not os.path.isdir(directory):
                raise LockError("cannot make the directory %s: %s" % (directory, exc))
    with _Guard(path):
        held = holder_of(path)
        if held is not None and held.get("run_id") == run_id:
            return False, held, None  # this run holds it already (a rollback that redeploys)
        if held is not None and now - held["started"] < stale_after:
            raise LockError("held by %s" % describe(held, now))
        if not check_mode:
            _write(path, record)
        return True, record, held


def release(path, run_id, check_mode=False):
    """Let go of the lock if run_id holds it. Returns (changed, holder_left): holder_left is the
    record of another run that holds the lock now (ours went stale and was taken over), else None."""
    if not os.path.isdir(os.path.dirname(os.path.abspath(path))):
        return False, None
    with _Guard(path):
        held = holder_of(path)
        if held is None:
            return False, None
        if held.get("run_id") != run_id:
            return False, held
        if not check_mode:
            try:
                os.unlink(path)
            except (IOError, OSError) as exc:
                raise LockError("cannot remove the lock %s: %s" % (path, exc))
        return True, None
