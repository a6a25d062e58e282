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

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.seed.fleet.plugins.module_utils._docker_daemon import ARGUMENT_SPEC, run_module


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    run_module(module)


if __name__ == "__main__":
    main()
