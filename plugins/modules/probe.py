#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) seed.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: probe
short_description: Several read-only checks of a host in one module run
version_added: 0.3.0
description:
  - Runs read-only commands, looks at files, reads C(getent) databases and dpkg's list of installed
    packages, all in one module run, and returns what it found. A role that checks a dozen things before
    it decides what to change pays one module run for them instead of one per check (each module run
    starts Python on the host and loads Ansible's module code again, about 0.2 CPU-seconds).
  - Nothing is changed, so the module runs in check mode too, and the commands run there. Give it
    commands that only read.
  - A failed read is a result, not a failure, for the commands (their C(rc)) and the files (C(exists));
    the tasks that use the results decide what a failure means. A C(getent) database that cannot be read
    fails the module.
author:
  - seed.fleet maintainers (@seed-fleet)
options:
  commands:
    description: Read-only commands, run without a shell (give C(/bin/sh -c) in O(commands[].argv) for one), with C(LC_ALL=C).
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Key of the command's result in RV(commands).
        type: str
        required: true
      argv:
        description: The program (a name looked up in C(PATH), or an absolute path) and its arguments.
        type: list
        elements: str
        required: true
      enabled:
        description: V(false) leaves the command out (a role builds one list for all its optional parts).
        type: bool
        default: true
  files:
    description: Paths to look at (without following a final symbolic link).
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Key of the path's result in RV(files).
        type: str
        required: true
      path:
        description: Absolute path.
        type: path
        required: true
      content:
        description: Also return a regular file's text (UTF-8; bytes that are not are replaced).
        type: bool
        default: false
      enabled:
        description: V(false) leaves the path out.
        type: bool
        default: true
  getent:
    description:
      - C(getent) databases to read, such as V(passwd) and V(shadow), returned as the facts
        C(getent_<database>) in the shape M(ansible.builtin.getent) gives them.
      - A usable password hash in V(shadow) is returned as C(HASH) (a locked one as C(!HASH)), so that
        no hash reaches the controller's output.
    type: list
    elements: str
    default: []
  packages:
    description:
      - Debian package names whose installed version is returned in RV(packages) (V(null) when not
        installed), read from C(/var/lib/dpkg/status). A C(=version) or C(:arch) suffix is ignored for the lookup.
    type: list
    elements: str
    default: []
attributes:
  check_mode:
    support: full
    description: Reads as in a normal run (the commands run too), since nothing is changed.
  diff_mode:
    support: none
    description: Nothing is changed, so there is no diff.
notes:
  - Reads C(/var/lib/dpkg/status) directly, which is what C(dpkg-query) reads; on a host without dpkg every
    package is V(null).
seealso:
  - module: ansible.builtin.command
  - module: ansible.builtin.stat
  - module: ansible.builtin.getent
  - module: ansible.builtin.package_facts
"""

EXAMPLES = r"""
- name: Read what the later tasks check, in one module run
  seed.fleet.probe:
    commands:
      - name: nft
        argv: [nft, list, tables]
        enabled: "{{ firewall_enabled }}"
      - name: units
        argv: [systemctl, show, --property=ActiveState, --, chrony.service]
    files:
      - name: login_defs
        path: /etc/login.defs
        content: true
    getent: [passwd, shadow]
    packages: [chrony, nftables]
  register: probe

- name: Install chrony only when it is missing
  ansible.builtin.apt:
    name: chrony
  when: probe.packages.chrony is none
"""

RETURN = r"""
commands:
  description:
    - Each enabled command by name, with C(rc), C(stdout) and C(stderr) (trailing newlines removed) and
      C(stdout_lines).
    - A program that is not found gives C(rc) V(null) and C(msg) C(No such file or directory).
  returned: always
  type: dict
  sample: {"nft": {"rc": 0, "stdout": "table inet filter", "stderr": "", "stdout_lines": ["table inet filter"]}}
files:
  description:
    - Each enabled path by name, with C(exists) and, when it exists, C(kind) (V(file), V(directory), V(link),
      V(other)), C(mode) (octal string), C(uid), C(gid), C(owner) and C(group) (names, V(null) when unknown), C(size),
      C(writable) (by the user the module runs as), C(target) for a link, and C(content) when asked for a
      regular file.
  returned: always
  type: dict
  sample: {"login_defs": {"exists": true, "kind": "file", "mode": "0644", "uid": 0, "gid": 0,
                          "owner": "root", "group": "root", "size": 10734, "writable": true}}
packages:
  description: Each name asked for, with its installed version, or V(null).
  returned: always
  type: dict
  sample: {"chrony": "4.3-2+deb12u1", "nftables": null}
selections:
  description:
    - Each name asked for in O(packages), with dpkg's selection (V(install), V(hold), V(deinstall), V(purge)),
      or V(null) when dpkg does not know the package.
  returned: always
  type: dict
  sample: {"docker.io": "hold", "nftables": null}
ansible_facts:
  description: C(getent_<database>) for each database in O(getent).
  returned: when O(getent) is given
  type: dict
  sample: {"getent_passwd": {"root": ["x", "0", "0", "root", "/root", "/bin/bash"]}}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.seed.fleet.plugins.module_utils import _probe


def main():
    module = AnsibleModule(
        argument_spec=dict(
            commands=dict(type="list", elements="dict", default=[], options=dict(
                name=dict(type="str", required=True),
                argv=dict(type="list", elements="str", required=True),
                enabled=dict(type="bool", default=True),
            )),
            files=dict(type="list", elements="dict", default=[], options=dict(
                name=dict(type="str", required=True),
                path=dict(type="path", required=True),
                content=dict(type="bool", default=False),
                enabled=dict(type="bool", default=True),
            )),
            getent=dict(type="list", elements="str", default=[]),
            packages=dict(type="list", elements="str", default=[]),
        ),
        supports_check_mode=True,
    )
    found = _probe.problems(module.params)
    if found:
        module.fail_json(msg="; ".join(found), problems=found)
    facts = _probe.getent(module, module.params["getent"])
    versions, selections = _probe.packages(module.params["packages"])
    result = dict(
        changed=False,
        commands=_probe.run_commands(module, module.params["commands"]),
        files=_probe.read_files(module.params["files"]),
        packages=versions,
        selections=selections,
    )
    if facts:
        result["ansible_facts"] = facts
    module.exit_json(**result)


if __name__ == "__main__":
    main()
