#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) seed.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: config_files
short_description: Keep several small files and directories as given, in one module run
version_added: 0.3.0
description:
  - Keeps a list of files (with their content), directories and absent paths as given, with their owner,
    group and mode, in one module run. A role that writes a dozen small configuration files with
    M(ansible.builtin.template) pays two module runs per file on every run (a C(stat), then C(file) for the
    attributes) to find that nothing changed; this module pays one for all of them.
  - Render the content on the controller, for example with
    C(lookup('ansible.builtin.template', 'name.j2')) or C(lookup('ansible.builtin.file', 'name', rstrip=false)).
  - Everything is checked before anything is written. A relative or repeated path, a missing parent
    directory, a path of the wrong kind (a directory where a file goes, a symbolic link), a user or group that
    does not exist, or a file whose O(files[].validate) command fails, fails the task with every reason and
    changes nothing.
  - A file is written to a temporary file in its directory with its owner, group and mode, then renamed
    over the old one, so that a reader never sees half a file or the wrong permissions.
  - Entries are applied in their order, so a directory must come before the files in it.
author:
  - seed.fleet maintainers (@seed-fleet)
options:
  owner:
    description: Owner of every entry that does not name its own O(files[].owner).
    type: str
  group:
    description: Group of every entry that does not name its own O(files[].group).
    type: str
  mode:
    description: Mode of every V(file) entry that does not name its own O(files[].mode); a quoted octal string.
    type: raw
  directory_mode:
    description: Mode of every V(directory) entry that does not name its own O(files[].mode); a quoted octal string.
    type: raw
  files:
    description: The files, directories and absent paths, in the order they are applied.
    type: list
    elements: dict
    required: true
    suboptions:
      path:
        description: Absolute, normalised path (no C(..), no repeated or trailing C(/)).
        type: path
        required: true
      state:
        description:
          - V(file) writes O(files[].content) (its directory must exist or come earlier in the list);
            V(directory) creates the directory and any missing parent (those with the default mode);
            V(absent) removes a file, a link or a directory with its contents.
        type: str
        choices: [file, directory, absent]
        default: file
      content:
        description: The file's text (UTF-8). Required for V(file), refused otherwise.
        type: str
      owner:
        description:
          - Owner name or UID; O(owner) when not given; unchanged when neither is given (a new file is then
            owned by the user the module runs as).
        type: str
      group:
        description: Group name or GID; O(group) when not given; unchanged when neither is given.
        type: str
      mode:
        description:
          - Mode as a quoted octal string such as V("0644"); O(mode) or O(directory_mode) when not given;
            unchanged when neither is given.
          - A number is refused (YAML reads an unquoted C(0644) as 420), and so is a symbolic mode.
        type: raw
      validate:
        description:
          - Command that checks a new content before it replaces the file, with C(%s) for the path of a copy,
            as in M(ansible.builtin.template). Run only when the content changes; a failure changes nothing.
        type: str
attributes:
  check_mode:
    support: full
    description:
      - Reports what would change and writes nothing.
      - Runs the O(files[].validate) commands on the new content; a failure is a warning, not an error, since what
        the validator needs (its package, a directory) may come from earlier tasks that check mode did not run.
  diff_mode:
    support: full
    description: One diff per changed path (content, or the state and attributes).
notes:
  - Meant for small text files (configuration, units, scripts); every file is read into memory to compare.
  - Use M(ansible.builtin.template) for a single file, for a file that needs a backup, or where SELinux contexts matter.
seealso:
  - module: ansible.builtin.template
  - module: ansible.builtin.file
"""

EXAMPLES = r"""
- name: Write the core dump limits, their drop-in directory and the sudo rules
  seed.fleet.config_files:
    owner: root
    group: root
    mode: "0644"
    directory_mode: "0755"
    files:
      - path: /etc/systemd/system.conf.d
        state: directory
      - path: /etc/systemd/system.conf.d/50-coredump.conf
        content: "{{ lookup('ansible.builtin.template', 'coredump.conf.j2') }}"
      - path: /etc/sudoers.d/admins
        content: "{{ lookup('ansible.builtin.template', 'sudoers.j2') }}"
        mode: "0440"
        validate: /usr/sbin/visudo -cf %s
      - path: /etc/security/limits.d/old.conf
        state: absent
  register: written

- name: Say whether the drop-in changed
  ansible.builtin.debug:
    msg: the drop-in changed
  when: "'/etc/systemd/system.conf.d/50-coredump.conf' in written.changed_paths"
"""

RETURN = r"""
changed_paths:
  description: The paths that changed (or would change, in check mode), in the order of O(files).
  returned: always
  type: list
  elements: str
  sample: ["/etc/systemd/system.conf.d/50-coredump.conf"]
"""

import os
import shutil
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.seed.fleet.plugins.module_utils import _config_files as cf


def _set_attributes(module, path, entry, changed, diff):
    changed = module.set_owner_if_different(path, entry["owner"], changed, diff)
    changed = module.set_group_if_different(path, entry["group"], changed, diff)
    return module.set_mode_if_different(path, entry["mode"], changed, diff)


def _validate(module, entry, where):
    """Run the entry's validate command on a copy of its new content; the failure message, or None."""
    handle, tmp = tempfile.mkstemp(dir=module.tmpdir)
    with os.fdopen(handle, "wb") as out:
        out.write(entry["content"].encode("utf-8"))
    rc, out, err = module.run_command(entry["validate"] % tmp)
    if rc != 0:
        return "%s: validate failed (rc %d): %s" % (where, rc, (err or out).strip())
    return None


def _write(module, entry):
    path = entry["path"]
    handle, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".%s." % os.path.basename(path))
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(entry["content"].encode("utf-8"))
            out.flush()
            os.fsync(out.fileno())
        # Owner, group and mode go on the temporary file (created 0600), then one rename in the same
        # directory replaces the old file: no reader sees the file with other permissions (atomic_move
        # would give a new file the umask's mode until the attributes are set).
        _set_attributes(module, tmp, entry, False, None)
        os.rename(tmp, path)
    finally:
        if os.path.lexists(tmp):
            os.unlink(tmp)


def _remove(path, kind):
    if kind == "directory":
        shutil.rmtree(path)
    else:
        os.unlink(path)


def _apply(module, entry, cur):
    """Apply one entry (in check mode: only find out); its diffs, empty when it changed nothing."""
    path = entry["path"]
    state = entry["state"]
    diffs = []
    if state == "absent" or cur.kind == "absent":
        if state != cur.kind:
            diffs.append(dict(before_header=path, after_header=path,
                              before=dict(path=path, state=cur.kind), after=dict(path=path, state=state)))
    if state == "absent":
        if diffs and not module.check_mode:
            _remove(path, cur.kind)
        return diffs
    if state == "directory" and cur.kind == "absent" and not module.check_mode:
        os.makedirs(path)
    if state == "file" and cf.content_changes(entry, cur):
        diffs.append(dict(before_header=path, after_header=path, before=cf.text(cur.data), after=entry["content"]))
        if not module.check_mode:
            _write(module, entry)
    if cur.kind != "absent" or not module.check_mode:
        attributes = dict(before=dict(path=path), after=dict(path=path))
        if _set_attributes(module, path, entry, False, attributes):
            diffs.append(dict(before_header=path, after_header=path, **attributes))
    return diffs


def main():
    module = AnsibleModule(
        argument_spec=dict(
            owner=dict(type="str"),
            group=dict(type="str"),
            mode=dict(type="raw"),
            directory_mode=dict(type="raw"),
            files=dict(type="list", elements="dict", required=True, options=dict(
                path=dict(type="path", required=True),
                state=dict(type="str", choices=list(cf.STATES), default="file"),
                content=dict(type="str"),
                owner=dict(type="str"),
                group=dict(type="str"),
                mode=dict(type="raw"),
                validate=dict(type="str"),
            )),
        ),
        supports_check_mode=True,
    )
    entries = cf.with_defaults(module.params)
    current = {}
    for entry in entries:
        if entry["path"] not in current:
            current[entry["path"]] = cf.read(entry["path"])
    found = cf.problems(entries, current) + cf.unknown_ids(entries)
    if not found:
        for index, entry in enumerate(entries):
            if entry.get("validate") and cf.content_changes(entry, current[entry["path"]]):
                failure = _validate(module, entry, "files[%d] (%s)" % (index, entry["path"]))
                if failure and module.check_mode:
                    # What the validator needs (its package, a directory) may come from earlier tasks that
                    # check mode did not run: say it, as ansible.builtin.template (no validation) would not.
                    module.warn("check mode: %s" % failure)
                elif failure:
                    found.append(failure)
    if found:
        module.fail_json(msg="; ".join(found), problems=found, changed_paths=[])

    result = dict(changed=False, changed_paths=[])
    diffs = []
    for entry in entries:
        path = entry["path"]
        try:
            path_diffs = _apply(module, entry, current[path])
        except (OSError, IOError) as exc:
            module.fail_json(msg="%s: %s" % (path, to_native(exc)), **result)
        if path_diffs:
            result["changed"] = True
            result["changed_paths"].append(path)
            diffs.extend(path_diffs)
    if module._diff:
        result["diff"] = diffs
    module.exit_json(**result)


if __name__ == "__main__":
    main()
