# -*- coding: utf-8 -*-
# Copyright (c) seed.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
name: key_lines_drift
short_description: The keys of a "KEY value" file whose line is not yet as wanted
version_added: 0.3.0
description:
  - Takes the text of a file of C(KEY value) lines (such as C(/etc/login.defs)) and the wanted values, and returns,
    as C(dict2items) would, the keys whose line still differs. Feed the result to the loop of a
    M(ansible.builtin.lineinfile) task with C(regexp='^\s*KEY\s') and C(line='KEY<separator>value'). On a
    converged host the loop is empty and no module runs (one read of the file instead of a module run per key).
  - The rule is the one M(ansible.builtin.lineinfile) applies, so the two agree on what is converged. The last line
    that matches C(^\s*KEY\s) (its line end included) counts; a key is converged when that line is exactly
    C(KEY<separator>value) and a newline, and drifts when it differs or no line matches.
  - A line that ends in CR LF is reported as drift. ansible-core 2.19's M(ansible.builtin.lineinfile) rewrites it,
    later releases leave it and report ok. Reporting a key too many costs a module run; missing one would leave
    the file wrong.
author:
  - seed.fleet maintainers
options:
  _input:
    description: The file's text (for example C(slurp)'s content, base64-decoded).
    type: str
    required: true
  wanted:
    description: Key to value; the values are compared as strings.
    type: dict
    required: true
  separator:
    description: What the lineinfile task puts between key and value.
    type: str
    default: "\t"
"""

EXAMPLES = r"""
- name: Set only the keys that differ
  ansible.builtin.lineinfile:
    path: /etc/login.defs
    regexp: '^\s*{{ item.key }}\s'
    line: "{{ item.key }}\t{{ item.value }}"
  loop: "{{ (login_defs.content | b64decode) | seed.fleet.key_lines_drift({'UMASK': '027', 'PASS_MAX_DAYS': 365}) }}"
"""

RETURN = r"""
_value:
  description: The drifted keys as C(key)/C(value) items, in the order of O(wanted).
  type: list
  elements: dict
"""

import re

from ansible.errors import AnsibleFilterError


def key_lines_drift(text, wanted, separator="\t"):
    if not isinstance(text, str):
        raise AnsibleFilterError("key_lines_drift: the input must be the file's text, not %s" % type(text).__name__)
    if not isinstance(wanted, dict):
        raise AnsibleFilterError("key_lines_drift: wanted must be a dict of key to value")
    lines = text.splitlines(True)  # with their line ends, as lineinfile reads them (a bare "KEY\n" matches)
    drift = []
    for key, value in wanted.items():
        pattern = re.compile(r"^\s*%s\s" % re.escape(str(key)))
        last = None
        for line in lines:
            if pattern.search(line):
                last = line
        # lineinfile rewrites a matching last line that has no line end (it adds one). A CRLF line end counts as
        # drift too: ansible-core 2.19's lineinfile rewrites it, later ones leave it (and then report ok).
        if last is None or last != "%s%s%s\n" % (key, separator, value):
            drift.append({"key": key, "value": value})
    return drift


class FilterModule(object):
    def filters(self):
        return {"key_lines_drift": key_lines_drift}
