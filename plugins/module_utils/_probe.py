# -*- coding: utf-8 -*-
# Copyright (c) seed.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read-only reads of seed.fleet.probe: commands, files, getent databases and dpkg's package list.

Each function reads, never writes; a read that fails is a result (rc, exists, missing), not an
exception, because the tasks that use it decide what a failure means."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import grp
import os
import pwd
import stat

DPKG_STATUS = "/var/lib/dpkg/status"
# What a usable password hash in getent shadow is replaced with: the probe's callers need to know
# whether an account has a usable password (not empty, not locked with ! or *), never the hash.
HASH_MASK = "HASH"


def problems(params):
    """Every reason the parameters are refused (names empty or given twice, an empty argv, a relative path)."""
    found = []
    for kind in ("commands", "files"):
        seen = set()
        for index, entry in enumerate(params.get(kind) or []):
            name = entry.get("name") or ""
            where = "%s[%d]" % (kind, index)
            if not name:
                found.append("%s has no name" % where)
            elif name in seen:
                found.append("%s: the name %r is given twice" % (where, name))
            seen.add(name)
            if kind == "commands" and not entry.get("argv"):
                found.append("%s (%s): argv is empty" % (where, name))
            if kind == "files" and not os.path.isabs(entry.get("path") or ""):
                found.append("%s (%s): path %r is not absolute" % (where, name, entry.get("path")))
    for db in params.get("getent") or []:
        if not db or "/" in db or db.startswith("-"):
            found.append("getent: %r is not a database name" % (db,))
    return found


def enabled(entries):
    """The entries whose `enabled` is not false."""
    return [e for e in entries or [] if e.get("enabled", True) is not False]


def run_commands(module, entries):
    """{name: {rc, stdout, stderr, stdout_lines}} for each command; a missing program gives rc None and msg."""
    out = {}
    for entry in enabled(entries):
        argv = [str(a) for a in entry["argv"]]
        program = argv[0] if os.path.isabs(argv[0]) else module.get_bin_path(argv[0])
        if not program or not os.path.exists(program):
            out[entry["name"]] = dict(rc=None, stdout="", stderr="", stdout_lines=[],
                                      msg="No such file or directory: %s" % argv[0])
            continue
        rc, stdout, stderr = module.run_command([program] + argv[1:], environ_update={"LC_ALL": "C"})
        out[entry["name"]] = dict(rc=rc, stdout=stdout.rstrip("\n"), stderr=stderr.rstrip("\n"),
                                  stdout_lines=stdout.splitlines())
    return out


def _name(lookup, number):
    try:
        return lookup(number)[0]
    except KeyError:
        return None


def read_file(entry):
    """What a path is: exists, kind, mode, uid, gid, owner, group, size, writable, a link's target, and its text
    when `content` is asked for."""
    path = entry["path"]
    try:
        st = os.lstat(path)
    except OSError:
        return dict(exists=False)
    kind = ("link" if stat.S_ISLNK(st.st_mode) else "directory" if stat.S_ISDIR(st.st_mode)
            else "file" if stat.S_ISREG(st.st_mode) else "other")
    info = dict(exists=True, kind=kind, mode="%04o" % stat.S_IMODE(st.st_mode), uid=st.st_uid,
                gid=st.st_gid, owner=_name(pwd.getpwuid, st.st_uid), group=_name(grp.getgrgid, st.st_gid),
                size=st.st_size, writable=os.access(path, os.W_OK))
    if kind == "link":
        info["target"] = os.readlink(path)
    if entry.get("content") and kind == "file":
        with open(path, "rb") as handle:
            info["content"] = handle.read().decode("utf-8", "replace")
    return info


def read_files(entries):
    return dict((e["name"], read_file(e)) for e in enabled(entries))


def parse_getent(db, text):
    """getent's lines as ansible.builtin.getent gives them ({key: [the other fields]}), hashes masked."""
    table = {}
    for line in text.splitlines():
        if not line:
            continue
        fields = line.split(":")
        rest = fields[1:]
        if db == "shadow" and rest:
            secret = rest[0]
            lock = secret[:len(secret) - len(secret.lstrip("!*"))]
            if secret[len(lock):]:
                rest[0] = lock + HASH_MASK
        table.setdefault(fields[0], rest)
    return table


def getent(module, databases):
    """{getent_<db>: table} for ansible_facts; a database getent cannot read fails the module."""
    facts = {}
    program = module.get_bin_path("getent", required=True)
    for db in databases or []:
        rc, stdout, stderr = module.run_command([program, db], environ_update={"LC_ALL": "C"})
        if rc != 0:
            module.fail_json(msg="getent %s failed (rc %s): %s" % (db, rc, stderr.strip()))
        facts["getent_%s" % db] = parse_getent(db, stdout)
    return facts


def parse_dpkg_status(text, names):
    """({name: installed version or None}, {name: selection or None}) for each name (a name may carry
    an =version or :arch suffix); the selection is dpkg's wanted state: install, hold, deinstall, purge."""
    wanted = dict((n, n.split("=", 1)[0].split(":", 1)[0]) for n in names)
    found, selections = {}, {}
    for stanza in text.split("\n\n"):
        fields = {}
        for line in stanza.splitlines():
            if line[:1] in (" ", "\t") or ":" not in line:
                continue
            key, value = line.split(":", 1)
            fields[key] = value.strip()
        status = fields.get("Status", "").split()
        if status[-1:] == ["installed"]:
            found[fields.get("Package")] = fields.get("Version")
        if status:
            selections[fields.get("Package")] = status[0]
    return (dict((n, found.get(base)) for n, base in wanted.items()),
            dict((n, selections.get(base)) for n, base in wanted.items()))


def packages(names, status_path=DPKG_STATUS):
    if not names:
        return {}, {}
    try:
        with open(status_path, "rb") as handle:
            text = handle.read().decode("utf-8", "replace")
    except (IOError, OSError):
        text = ""
    return parse_dpkg_status(text, names)
