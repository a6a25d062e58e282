#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) seed.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: docker_daemon_config
short_description: Manage /etc/docker/daemon.json as data, validated by dockerd
version_added: 0.1.0
description:
  - Merges keys into the Docker daemon configuration file (RFC 7386 JSON merge patch semantics,
    so nested objects such as C(log-opts) merge and a V(null) value removes a key), or replaces
    the whole file when O(replace=true). Removes keys listed in O(remove_keys).
  - Validates the candidate before writing it. Type checks of well-known keys always run; then
    dockerd itself checks it, with C(dockerd --validate --config-file) where the engine has it
    (Docker 23.0 and later) and otherwise (Docker 20.10, Debian 12) by letting dockerd's own
    configuration loader read the candidate as an unprivileged user, which stops with
    "needs to be started with root" right after the configuration was accepted.
    An invalid candidate fails with dockerd's message and the live file is left untouched.
  - Reports, from the keys that changed, whether the running daemon picks the change up with a
    reload (SIGHUP) or needs a restart, so a handler can reload when it can and restart only
    when it must.
  - The file is rewritten only when its data changes (formatting alone is not a change), as
    canonical JSON (sorted keys, two-space indent).
author:
  - seed.fleet maintainers (@seed-fleet)
options:
  path:
    description: Path of the daemon configuration file.
    type: path
    default: /etc/docker/daemon.json
  state:
    description:
      - V(present) writes the merged (or replaced) configuration.
      - V(absent) removes the file.
    type: str
    choices: [present, absent]
    default: present
  config:
    description:
      - Keys to set, as they appear in daemon.json (for example C(live-restore), C(log-opts)).
      - Nested objects are merged into the existing ones; lists and scalars replace; a V(null)
        value removes the key.
    type: dict
    default: {}
  replace:
    description: Make the file exactly O(config) instead of merging into what is there.
    type: bool
    default: false
  remove_keys:
    description: Top-level keys to remove (keys that are not present are ignored).
    type: list
    elements: str
    default: []
  remove_if_empty:
    description: Delete the file when the resulting configuration is empty instead of writing C({}).
    type: bool
    default: false
  validate:
    description:
      - V(auto) runs the built-in type checks, then dockerd when the binary is found (with a
        warning when it is not, for example in check mode before Docker is installed).
      - V(dockerd) runs both and fails when dockerd cannot be run.
      - V(builtin) runs the built-in type checks only; V(none) skips validation.
    type: str
    choices: [auto, dockerd, builtin, none]
    default: auto
  dockerd_path:
    description: The dockerd binary; searched in C(PATH), C(/usr/sbin) and C(/usr/bin) when not given.
    type: path
  backup:
    description: Keep a timestamped copy of the previous file when it changes.
    type: bool
    default: false
  mode:
    description: Permissions of the file.
    type: raw
    default: "0644"
attributes:
  check_mode:
    support: full
    description: Computes and validates the candidate (validation only reads a temporary copy) and writes nothing.
  diff_mode:
    support: full
    description: Before and after as canonical JSON; RV(changes) lists the changed keys.
notes:
  - O(remove_keys) and V(null) values remove keys; a key cannot be both set and removed.
  - The action to apply the change (RV(action)) assumes dockerd reads this file. Options given
    both as a flag in the service unit and in the file make dockerd refuse to start; dockerd
    validation here does not know the unit's flags.
seealso:
  - name: dockerd configuration reload behavior
    description: Options Docker applies on SIGHUP.
    link: https://docs.docker.com/reference/cli/dockerd/#configuration-reload-behavior
"""

EXAMPLES = r"""
- name: Turn on live-restore and log rotation, keep everything else in daemon.json
  seed.fleet.docker_daemon_config:
    config:
      live-restore: true
      log-driver: json-file
      log-opts:
        max-size: 10m
        max-file: "3"
  register: daemon_json

- name: Reload dockerd when that is enough
  ansible.builtin.systemd_service:
    name: docker
    state: reloaded
  when: daemon_json.action == 'reload'

- name: Remove the registry mirrors and one log option
  seed.fleet.docker_daemon_config:
    config:
      log-opts:
        max-file: null
    remove_keys: [registry-mirrors]

- name: Own the whole file
  seed.fleet.docker_daemon_config:
    replace: true
    config:
      live-restore: true
    validate: dockerd
"""

RETURN = r"""
config:
  description: The configuration the file holds after the task (what it would hold in check mode).
  returned: always
  type: dict
  sample: {"live-restore": true, "log-driver": "json-file"}
changes:
  description: Changed top-level keys, sorted, each with its old and new value (null when absent).
  returned: always
  type: list
  elements: dict
  contains:
    key:
      description: The daemon.json key.
      type: str
    before:
      description: Old value.
      type: raw
    after:
      description: New value.
      type: raw
    reload:
      description: Whether dockerd applies this key on reload (SIGHUP).
      type: bool
  sample: [{"key": "debug", "before": null, "after": true, "reload": true}]
action:
  description: What the running daemon needs to pick the change up.
  returned: always
  type: str
  choices: [none, reload, restart]
  sample: reload
restart_required:
  description: Whether a key that dockerd does not reload changed.
  returned: always
  type: bool
reload_keys:
  description: Changed keys dockerd applies on reload.
  returned: always
  type: list
  elements: str
restart_keys:
  description: Changed keys that need a dockerd restart.
  returned: always
  type: list
  elements: str
validated_by:
  description: Checks the candidate passed (C(builtin), C(dockerd --validate), C(dockerd config loader)).
  returned: always
  type: list
  elements: str
  sample: [builtin, dockerd config loader]
backup_file:
  description: Path of the backup copy.
  returned: when O(backup=true) and the file changed
  type: str
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.seed.fleet.plugins.module_utils._docker_daemon import (
    DaemonConfigError,
    DockerdValidator,
    builtin_errors,
    changes,
    classify,
    compute,
    load_text,
    render,
)


def validate_candidate(module, after):
    """Run the configured validation; fail the module (nothing written) on errors."""
    mode = module.params["validate"]
    done = []
    if mode == "none":
        return done
    errors = builtin_errors(after)
    if errors:
        module.fail_json(msg="invalid daemon configuration: %s" % "; ".join(errors), errors=errors)
    done.append("builtin")
    if mode == "builtin":
        return done
    dockerd = module.params["dockerd_path"] or module.get_bin_path("dockerd", opt_dirs=["/usr/sbin", "/usr/bin"])
    if not dockerd or not os.path.exists(dockerd):
        if mode == "dockerd":
            module.fail_json(msg="validate=dockerd but the dockerd binary was not found")
        module.warn("dockerd not found: daemon.json candidate checked by built-in rules only")
        return done
    validator = DockerdValidator(
        run=lambda argv: module.run_command(argv, environ_update={"LANG": "C", "LC_ALL": "C"}),
        dockerd=dockerd,
        setpriv=module.get_bin_path("setpriv"),
        timeout_bin=module.get_bin_path("timeout"),
    )
    method, error = validator.validate(after)
    if method is None:
        if mode == "dockerd":
            module.fail_json(msg="validate=dockerd but dockerd cannot validate this configuration here")
        module.warn("dockerd cannot validate this candidate here: checked by built-in rules only")
        return done
    if error:
        module.fail_json(msg="dockerd rejected the daemon configuration: %s" % error, validated_by=done + [method])
    done.append(method)
    return done


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", default="/etc/docker/daemon.json"),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            config=dict(type="dict", default={}),
            replace=dict(type="bool", default=False),
            remove_keys=dict(type="list", elements="str", default=[], no_log=False),
            remove_if_empty=dict(type="bool", default=False),
            validate=dict(type="str", choices=["auto", "dockerd", "builtin", "none"], default="auto"),
            dockerd_path=dict(type="path"),
            backup=dict(type="bool", default=False),
            mode=dict(type="raw", default="0644"),
        ),
        supports_check_mode=True,
    )
    p = module.params
    path = p["path"]
    exists = os.path.isfile(path)
    if os.path.exists(path) and not exists:
        module.fail_json(msg="%s exists and is not a regular file" % path)

    text = None
    if exists:
        with open(path, "r") as fh:
            text = fh.read()
    try:
        before = load_text(text, path) if not (p["replace"] or p["state"] == "absent") else _lenient(text, path)
        if p["state"] == "absent":
            after = {}
        else:
            after = compute(before, p["config"], p["remove_keys"], p["replace"])
    except DaemonConfigError as exc:
        module.fail_json(msg=to_native(exc))

    delete = exists and (p["state"] == "absent" or (p["remove_if_empty"] and not after))
    write = p["state"] == "present" and not (p["remove_if_empty"] and not after) and (not exists or before != after)

    validated_by = []
    if write:
        validated_by = validate_candidate(module, after)

    change_list = changes(before or {}, after)
    how = classify(change_list)
    changed = bool(delete or write)
    result = dict(
        changed=changed,
        config=after,
        changes=change_list,
        action=how["action"] if changed else "none",
        restart_required=changed and how["action"] == "restart",
        reload_keys=how["reload_keys"] if changed else [],
        restart_keys=how["restart_keys"] if changed else [],
        validated_by=validated_by,
    )
    if module._diff:
        result["diff"] = dict(
            before_header=path, after_header=path,
            before=text if before is None else (render(before) if exists else ""),
            after="" if delete else render(after),
        )

    if changed and not module.check_mode:
        if p["backup"] and exists:
            result["backup_file"] = module.backup_local(path)
        if delete:
            os.remove(path)
        else:
            _write(module, path, render(after))
    if not delete and os.path.exists(path):
        file_args = module.load_file_common_arguments(dict(path=path, mode=p["mode"]))
        result["changed"] = module.set_fs_attributes_if_different(file_args, result["changed"])
    module.exit_json(**result)


def _lenient(text, path):
    """The current config for replace/absent: an unparsable file is not an error there (None)."""
    try:
        return load_text(text, path)
    except DaemonConfigError:
        return None


def _write(module, path, content):
    directory = os.path.dirname(path) or "."
    if not os.path.isdir(directory):
        os.makedirs(directory, 0o755)
    tmp = os.path.join(directory, ".%s.seed-fleet.tmp" % os.path.basename(path))
    with open(tmp, "w") as fh:
        fh.write(content)
    module.atomic_move(tmp, path)


if __name__ == "__main__":
    main()
