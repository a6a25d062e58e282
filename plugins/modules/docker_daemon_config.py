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
  - Checks every option, reads the live file and validates the candidate before it writes
    anything, so a failure (bad option, unreadable or non-UTF-8 file, invalid candidate) names
    the option or path and leaves the file, its mode and its directory untouched.
  - "Validation, step by step (RV(validated_by) lists the steps the candidate passed):"
  - C(builtin) (O(validate=builtin), V(auto), V(dockerd)) - types of well-known keys (booleans,
    integers, strings, lists, objects, string values in C(log-opts)) and values that dockerd only
    examines when it starts - C(bip) must be an IPv4 host address with its prefix length
    (C(172.17.0.1/16), not the network or broadcast address); C(fixed-cidr), C(fixed-cidr-v6) CIDRs;
    C(default-gateway), C(default-gateway-v6) and C(dns) addresses; C(default-address-pools)
    bases and sizes; C(log-level) names; C(registry-mirrors) URLs.
  - C(dockerd --validate) (Docker 23.0 and later) or C(dockerd config loader) (Docker 20.10, for
    example Debian 12, which has no C(--validate) - dockerd's configuration loader reads the
    candidate as user nobody and stops with "needs to be started with root" right after it
    accepted it). Both run the same loader - JSON syntax, unknown keys, value types, conflicting
    keys, and dockerd's own value checks (DNS addresses, labels, hosts, download limits, runtimes).
  - C(docker info log drivers) - C(log-driver) is one of the log drivers (built in or plugin) the
    running daemon lists in C(docker info). Only when the C(docker) CLI reaches a running daemon.
  - Neither dockerd step checks what only the daemon's start uses - the log driver's name and
    options, the storage driver and its options, C(data-root), C(exec-root), address pools,
    C(userns-remap), C(seccomp-profile), C(containerd). Such keys of the written file are listed
    in RV(not_validated); a bad value there stops dockerd at its next start.
  - Reports, from the keys that changed, whether the running daemon picks the change up with a
    reload (SIGHUP) or needs a restart, so a handler can reload when it can and restart only
    when it must. dockerd's reload applies a reloadable key only when the file sets it, so
    removing one (for example C(debug)) needs a restart, except for the keys the reload resets
    to their default (C(max-concurrent-downloads), C(max-concurrent-uploads),
    C(max-download-attempts), C(features)). To go back to a default without a restart, set the
    default value explicitly (for example C(debug) to V(false)).
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
      - V(absent) removes the file. O(config), O(remove_keys), O(replace) and O(remove_if_empty)
        are mutually exclusive with it (the task fails when one is given).
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
      - V(auto) runs the built-in checks, then dockerd when the binary is found (with a
        warning when it is not, for example in check mode before Docker is installed), then the
        C(log-driver) check when the running daemon lists its log drivers.
      - V(dockerd) is V(auto) but fails when dockerd cannot be run.
      - V(builtin) runs the built-in checks only; V(none) skips validation.
      - See the description for what each step checks and what none of them does.
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
    description:
      - Permissions of the file, octal (V("0644")) or symbolic (V(u=rw,go=r)), as in M(ansible.builtin.file).
      - Checked before anything is written; applied also when the content does not change.
    type: raw
    default: "0644"
attributes:
  check_mode:
    support: full
    description:
      - Computes and validates the candidate (dockerd reads a temporary copy outside the target
        directory) and writes nothing, neither the file, nor a backup, nor its mode.
  diff_mode:
    support: full
    description: Before and after as canonical JSON; RV(changes) lists the changed keys.
notes:
  - O(remove_keys) and V(null) values remove keys; a key cannot be both set and removed.
  - A file or candidate larger than 1 MiB is refused.
  - With O(replace=true) or O(state=absent) an unparsable or non-UTF-8 live file is replaced
    (or removed) instead of failing the task; the diff then shows its text as read.
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
      description:
        - Whether a reload (SIGHUP) makes the running daemon match the file for this key. False
          for keys dockerd does not reload, and for reloadable keys removed from the file whose
          old value the reload keeps.
      type: bool
  sample: [{"key": "debug", "before": null, "after": true, "reload": true}]
action:
  description: What the running daemon needs to pick the change up.
  returned: always
  type: str
  choices: [none, reload, restart]
  sample: reload
restart_required:
  description: Whether a change needs a restart (RV(action=restart)).
  returned: always
  type: bool
reload_keys:
  description: Changed keys dockerd applies on reload.
  returned: always
  type: list
  elements: str
restart_keys:
  description: Changed keys that need a dockerd restart (including reloadable keys removed from the file).
  returned: always
  type: list
  elements: str
validated_by:
  description:
    - Checks the candidate passed, in order, from C(builtin), C(dockerd --validate) or
      C(dockerd config loader), and C(docker info log drivers); the description says what each
      covers. Empty when nothing was written or O(validate=none).
  returned: always
  type: list
  elements: str
  sample: [builtin, dockerd config loader, docker info log drivers]
not_validated:
  description:
    - Keys of the written file whose values only dockerd's start examines, so no step of
      RV(validated_by) checked them (C(log-driver) is not among them when C(docker info log drivers)
      checked it). Sorted; empty when nothing was written.
  returned: always
  type: list
  elements: str
  sample: [log-opts]
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
