# -*- coding: utf-8 -*-
# Copyright (c) seed.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
name: blue_green_traffic_now
short_description: What a load balancer sends traffic to, from the blue-green rescue's runtime API read-back
version_added: 0.1.0
description:
  - Takes the loop results of the rescue's read-back (C(seed.fleet.haproxy_server) in check mode, once per runtime
    API address) and says, from the first address that answered, which color has servers ready and their health.
  - "For example C(green (ready: app1_green UP))."
  - "When no address answered: C(unknown, the runtime API does not answer (<first error>))."
  - Its companion C(seed.fleet.blue_green_revert_report) collects, per load balancer, whose revert failed and what
    each one sends traffic to. The rescue of C(seed.fleet.blue_green) uses both (C(roles/blue_green/tasks/rescue.yml)).
author:
  - seed.fleet maintainers
options:
  _input:
    description: The C(results) list of the registered read-back loop (items with C(before), C(failed), C(msg)).
    type: list
    elements: dict
    required: true
"""

EXAMPLES = r"""
- name: Say what traffic is on
  ansible.builtin.set_fact:
    traffic: "{{ readback.results | default([]) | seed.fleet.blue_green_traffic_now }}"
"""

RETURN = r"""
_value:
  description: One line saying which color(s) have servers ready, or why it is unknown.
  type: str
"""

import re

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.collections import is_sequence

_COLOR = re.compile(r"(blue|green)$")


def blue_green_traffic_now(results):
    """One line: the colors with servers ready on the first runtime API address that answered."""
    if results is None:
        results = []
    if isinstance(results, (str, bytes)) or not is_sequence(results):
        raise AnsibleFilterError("blue_green_traffic_now: expected the read-back loop's results (a list), got %r" % (results,))
    answered = [r for r in results if isinstance(r, dict) and not r.get("failed") and "before" in r]
    if not answered:
        errors = [str(r.get("msg")) for r in results if isinstance(r, dict) and r.get("msg")]
        return "unknown, the runtime API does not answer (%s)" % (errors + ["no answer"])[0]
    before = answered[0]["before"] or {}
    ready = sorted((name, srv) for name, srv in before.items() if isinstance(srv, dict) and srv.get("state") == "ready")
    colors = []
    for name, _srv in ready:
        m = _COLOR.search(name)
        if m and m.group(1) not in colors:
            colors.append(m.group(1))
    detail = ("ready: " + ", ".join("%s %s" % (name, srv.get("health", "")) for name, srv in ready)) if ready else "no server ready"
    return "%s (%s)" % (" + ".join(colors) or "no color", detail)


class FilterModule(object):
    def filters(self):
        return {"blue_green_traffic_now": blue_green_traffic_now}
