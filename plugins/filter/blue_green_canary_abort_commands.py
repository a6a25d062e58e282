# -*- coding: utf-8 -*-
# Copyright (c) seed.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
name: blue_green_canary_abort_commands
short_description: The HAProxy runtime API commands that take a waiting canary out of rotation
version_added: 0.2.0
description:
  - The commands the deadline timer of a canary that waits for approval sends on a load balancer when no decision
    came in time - every server of the canary's color (O(_input)) into C(maint) first, so that no request reaches
    it any more, then every server of both colors (O(_input) and O(live)) back to the weight of the configuration
    (C(set weight ... 100%)).
  - The order is the one that never leaves the backend without a server that may serve - the live color keeps its
    share all along and gets all of it at the end.
author:
  - seed.fleet maintainers
options:
  _input:
    description: The servers of the canary's color (C(<host>_<color>)).
    type: list
    elements: str
    required: true
  backend:
    description: The app's HAProxy backend.
    type: str
    required: true
  live:
    description: The servers of the live color.
    type: list
    elements: str
    required: true
"""

EXAMPLES = r"""
- name: The commands of the deadline timer
  ansible.builtin.set_fact:
    abort_commands: "{{ ['app1_green'] | seed.fleet.blue_green_canary_abort_commands('be_demo', ['app1_blue']) }}"
    # ['set server be_demo/app1_green state maint', 'set weight be_demo/app1_green 100%',
    #  'set weight be_demo/app1_blue 100%']
"""

RETURN = r"""
_value:
  description: The runtime API commands, in the order to send them.
  type: list
  elements: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.seed.fleet.plugins.module_utils._haproxy_runtime import PlanError, check_name


def _is_name(value):
    """A name HAProxy accepts for a backend or a server (nothing a shell or the runtime API would read as more)."""
    try:
        check_name("name", value)
    except (PlanError, TypeError):
        return False
    return isinstance(value, str)


def _names(what, value):
    if not isinstance(value, (list, tuple)) or not all(_is_name(v) for v in value):
        raise AnsibleFilterError("blue_green_canary_abort_commands: %s must be a list of HAProxy server names, got %r"
                                 % (what, value))
    return list(value)


def blue_green_canary_abort_commands(canary, backend, live):
    canary, live = _names("the canary's servers", canary), _names("live", live)
    if not canary:
        raise AnsibleFilterError("blue_green_canary_abort_commands: the canary has no server")
    if not _is_name(backend):
        raise AnsibleFilterError("blue_green_canary_abort_commands: backend must be an HAProxy name, got %r" % (backend,))
    both = sorted(set(canary) & set(live))
    if both:
        raise AnsibleFilterError("blue_green_canary_abort_commands: a server cannot be in both colors: %s"
                                 % ", ".join(both))
    return (["set server %s/%s state maint" % (backend, s) for s in canary]
            + ["set weight %s/%s 100%%" % (backend, s) for s in canary + live])


class FilterModule(object):
    def filters(self):
        return {"blue_green_canary_abort_commands": blue_green_canary_abort_commands}
