#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) seed.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: deploy_lock
short_description: Take or let go of an app's deploy lock, so two deploys or rollbacks of one app never interleave
version_added: 0.4.0
description:
  - Keeps a lock file (JSON with the owner, the run's ID, the action and the start time). With O(state=present) the
    run O(run_id) takes the lock; when another run holds it, the task fails at once and its message names the holder
    (owner, run, action, since when).
  - A lock older than O(stale_after) seconds is taken over (its holder was killed or lost its connection before it
    let go); the module warns and returns the old holder in RV(taken_over).
  - Taking a lock the same run already holds changes nothing (a rollback that redeploys takes it twice).
  - With O(state=absent) the lock is removed only when O(run_id) holds it; a lock another run holds now (ours went stale
    and was taken over) is left in place, with a warning.
  - Reads and changes of the lock happen under an exclusive C(flock) of its directory, so two runs on one host never
    both find it free or both take over the same stale lock.
  - seed.fleet.blue_green takes the lock of an app on every load balancer before it reads the deploy state, and lets
    go of it when the deploy or rollback ends, failed or not.
author:
  - seed.fleet maintainers (@seed-fleet)
options:
  path:
    description: The lock file (absolute). Its directory is made (mode C(0700)) when missing.
    type: path
    required: true
  state:
    description: V(present) takes the lock, V(absent) lets go of it.
    type: str
    choices: [present, absent]
    default: present
  run_id:
    description: What tells this run from others (an AWX job ID, or a value the play makes once per run).
    type: str
    required: true
  owner:
    description: Who runs it (user and controller), shown to a run that finds the lock held.
    type: str
    default: unknown
  action:
    description: What the run does (for example V(deploy) or V(rollback)), shown to a run that finds the lock held.
    type: str
    default: deploy
  stale_after:
    description: Seconds after which a lock another run holds is taken over. At least 60.
    type: int
    default: 3600
attributes:
  check_mode:
    support: full
    description: Fails as a real run would when another run holds the lock; takes and removes nothing.
  diff_mode:
    support: none
    description: The lock lives only while a run does.
seealso:
  - module: seed.fleet.haproxy_server
"""

EXAMPLES = r"""
- name: Take the deploy lock of the app on each load balancer
  seed.fleet.deploy_lock:
    path: /var/lib/seed-fleet/demo/deploy.lock
    run_id: "{{ awx_job_id | default('cli-20261204T040000-1234') }}"
    owner: alice@controller
    action: deploy

- name: Let go of it (only this run's lock is removed)
  seed.fleet.deploy_lock:
    path: /var/lib/seed-fleet/demo/deploy.lock
    run_id: "{{ awx_job_id | default('cli-20261204T040000-1234') }}"
    state: absent
"""

RETURN = r"""
holder:
  description: The lock in force after the task (this run's with O(state=present)); null when there is none.
  returned: always
  type: dict
  sample: {"owner": "alice@controller", "run_id": "awx-42", "action": "deploy", "started": 1796443200.0}
taken_over:
  description: The stale lock this run took over, or null.
  returned: always
  type: dict
  sample: null
"""

import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.seed.fleet.plugins.module_utils import _deploy_lock


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            run_id=dict(type="str", required=True),
            owner=dict(type="str", default="unknown"),
            action=dict(type="str", default="deploy"),
            stale_after=dict(type="int", default=3600),
        ),
        supports_check_mode=True,
    )
    p = module.params
    if not p["path"].startswith("/"):
        module.fail_json(msg="path must be absolute, not %r" % p["path"])
    if not p["run_id"].strip():
        module.fail_json(msg="run_id must not be empty: it is what tells this run from others")
    if p["stale_after"] < 60:
        module.fail_json(msg="stale_after must be at least 60 seconds, not %d" % p["stale_after"])
    try:
        if p["state"] == "present":
            changed, holder, taken = _deploy_lock.acquire(p["path"], p["run_id"], p["owner"], p["action"],
                                                          p["stale_after"], check_mode=module.check_mode)
            if taken is not None:
                module.warn("took over the stale deploy lock %s of %s (older than %d s)"
                            % (p["path"], _deploy_lock.describe(taken, holder["started"]), p["stale_after"]))
            module.exit_json(changed=changed, holder=holder, taken_over=taken)
        changed, other = _deploy_lock.release(p["path"], p["run_id"], check_mode=module.check_mode)
        if other is not None:
            module.warn("left the deploy lock %s in place: another run holds it now, %s"
                        % (p["path"], _deploy_lock.describe(other, time.time())))
        module.exit_json(changed=changed, holder=other, taken_over=None)
    except _deploy_lock.LockError as exc:
        module.fail_json(msg="deploy lock %s: %s" % (p["path"], exc), holder=_deploy_lock.holder_of_quiet(p["path"]),
                         taken_over=None)


if __name__ == "__main__":
    main()
