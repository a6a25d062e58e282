# -*- coding: utf-8 -*-
# Copyright (c) seed.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
name: platform_problem
short_description: Say why a host is not a platform seed.fleet supports, or nothing
version_added: 0.2.0
description:
  - Reads the distribution facts of a host and returns an empty string when seed.fleet supports it
    (Debian 12 "bookworm" and Debian 13 "trixie"), else one sentence naming the role, the supported
    releases and what the host is.
  - Every role asserts it in its first task, so an unsupported host stops before anything changes.
    This file is the one list of supported releases.
author:
  - seed.fleet maintainers
options:
  _input:
    description: The host's C(ansible_facts) (at least the C(min) subset).
    type: dict
    required: true
  role:
    description: The role that asks, for the message.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Fail early on an unsupported platform
  ansible.builtin.assert:
    that: (ansible_facts | seed.fleet.platform_problem('baseline')) | length == 0
    fail_msg: "{{ ansible_facts | seed.fleet.platform_problem('baseline') }}"
"""

RETURN = r"""
_value:
  description: V('') for a supported host; otherwise the reason, for a C(fail_msg).
  type: str
"""

from ansible.errors import AnsibleFilterError

# distribution -> major version -> codename: the releases every role is tested on.
SUPPORTED = {"Debian": {"12": "bookworm", "13": "trixie"}}


def supported_text():
    return ", ".join("%s %s (%s)" % (dist, major, name)
                     for dist, releases in sorted(SUPPORTED.items()) for major, name in sorted(releases.items()))


def platform_problem(facts, role):
    if not isinstance(facts, dict):
        raise AnsibleFilterError("platform_problem: expected ansible_facts (a dict), got %s" % type(facts).__name__)
    dist = facts.get("distribution")
    major = str(facts.get("distribution_major_version", ""))
    if dist is None:
        return ("seed.fleet.%s: the distribution facts are missing (gather at least the 'min' subset); it supports %s."
                % (role, supported_text()))
    if major in SUPPORTED.get(dist, {}):
        return ""
    release = facts.get("distribution_release") or "unknown release"
    return ("seed.fleet.%s supports %s; this host is %s %s (%s). Nothing was changed."
            % (role, supported_text(), dist, facts.get("distribution_version") or major or "?", release))


class FilterModule(object):
    def filters(self):
        return {"platform_problem": platform_problem}
