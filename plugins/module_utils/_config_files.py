# -*- coding: utf-8 -*-
# Copyright (c) seed.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The decisions of seed.fleet.config_files (private module_utils): which entries are wrong before
anything is written, and what each entry changes. No writes here; the module applies the plan."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
import stat

STATES = ("file", "directory", "absent")
MODE = re.compile(r"^[0-7]{3,4}$")


class Current(object):
    """What a path is now: kind ('file', 'directory', 'absent' or 'other') and, for a file, its bytes."""

    def __init__(self, kind, data=None):
        self.kind = kind
        self.data = data


def with_defaults(params):
    """The entries of params['files'] with the module-level owner, group and mode filled in where an entry has
    none (mode for files, directory_mode for directories; never on an absent entry)."""
    entries = []
    for entry in params["files"]:
        entry = dict(entry)
        if entry["state"] != "absent":
            for key in ("owner", "group"):
                if entry.get(key) is None:
                    entry[key] = params.get(key)
            if entry.get("mode") is None:
                entry["mode"] = params.get("directory_mode" if entry["state"] == "directory" else "mode")
        entries.append(entry)
    return entries


def read(path):
    """Current state of path, following no symlink (a link is 'other': we neither write through it nor replace it)."""
    try:
        st = os.lstat(path)
    except OSError:
        return Current("absent")
    if stat.S_ISDIR(st.st_mode):
        return Current("directory")
    if stat.S_ISREG(st.st_mode):
        with open(path, "rb") as handle:
            return Current("file", handle.read())
    return Current("other")


def problems(entries, current):
    """Every reason the entries cannot be applied, as sentences (empty when they can).
    `current` maps each path to its Current; checked before any entry is applied, so bad input changes nothing."""
    found = []
    seen = set()
    planned_dirs = set()
    for index, entry in enumerate(entries):
        path = entry["path"]
        where = "files[%d] (%s)" % (index, path)
        if not os.path.isabs(path) or os.path.normpath(path) != path or path == "/":
            found.append("%s: the path must be absolute and normalised, and not /" % where)
            continue
        if path in seen:
            found.append("%s: the path is given twice" % where)
        seen.add(path)
        state = entry["state"]
        if state == "file" and entry.get("content") is None:
            found.append("%s: state=file needs content" % where)
        if state != "file" and entry.get("content") is not None:
            found.append("%s: content is only for state=file" % where)
        if state != "file" and entry.get("validate"):
            found.append("%s: validate is only for state=file" % where)
        if entry.get("validate") and "%s" not in entry["validate"]:
            found.append("%s: validate must contain %%s (the file to check)" % where)
        if state == "absent" and any(entry.get(k) is not None for k in ("owner", "group", "mode")):
            found.append("%s: owner, group and mode are not for state=absent" % where)
        mode = entry.get("mode")
        if mode is not None and not (isinstance(mode, str) and MODE.match(mode)):
            found.append("%s: mode must be an octal string such as \"0644\" (quoted in YAML), not %r" % (where, mode))
        kind = current[path].kind
        if kind == "other" and state != "absent":
            found.append("%s: it is a symbolic link or a special file; replace it by hand" % where)
        elif state == "file" and kind == "directory":
            found.append("%s: it is a directory, not a file" % where)
        elif state == "directory" and kind == "file":
            found.append("%s: it is a file, not a directory" % where)
        parent = os.path.dirname(path)
        if state == "file" and parent not in planned_dirs and not os.path.isdir(parent):
            found.append("%s: its directory %s does not exist (list it first with state=directory)" % (where, parent))
        if state == "directory":
            blocker = _blocking_ancestor(parent)
            if blocker:
                found.append("%s: %s is in the way (not a directory)" % (where, blocker))
            while path not in planned_dirs and path != "/":
                planned_dirs.add(path)
                path = os.path.dirname(path)
    return found


def _blocking_ancestor(path):
    """The nearest existing ancestor-or-self of path when it is not a directory (makedirs would fail there), else None."""
    while not os.path.lexists(path):
        path = os.path.dirname(path)
    return None if os.path.isdir(path) else path


def content_changes(entry, cur):
    """True when the entry's content is not what the file holds (always False for a directory or absent)."""
    if entry["state"] != "file":
        return False
    return cur.kind != "file" or cur.data != entry["content"].encode("utf-8")


def text(data):
    """Bytes as text for a diff (undecodable bytes shown as replacement characters)."""
    return data.decode("utf-8", "replace") if data is not None else ""


def unknown_ids(entries):
    """Sentences for owners and groups that name no user or group on this host (numeric ids are taken as they are)."""
    import grp
    import pwd

    found = []
    for index, entry in enumerate(entries):
        for key, lookup, kind in (("owner", pwd.getpwnam, "user"), ("group", grp.getgrnam, "group")):
            name = entry.get(key)
            if name is None or str(name).isdigit():
                continue
            try:
                lookup(name)
            except KeyError:
                found.append("files[%d] (%s): there is no %s %s on this host" % (index, entry["path"], kind, name))
    return found
