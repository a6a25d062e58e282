# -*- coding: utf-8 -*-
# Copyright (c) seed.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
name: serial_batches
short_description: Split a list of hosts into batches the way the play keyword C(serial) does
version_added: 0.1.0
description:
  - Cuts O(_input) into consecutive batches whose sizes follow O(serial), with the semantics of Ansible's
    C(serial) play keyword, so a role can roll through hosts in batches while every host stays in one play.
  - O(serial) is a number of hosts, a percentage of all hosts (C("25%"), rounded down, at least one host),
    or a list of those used in turn, the last one repeating. V(0), an empty list or C("100%") gives one
    batch with every host.
  - The C(seed.fleet.blue_green) role uses it for C(blue_green_serial).
author:
  - seed.fleet maintainers
options:
  _input:
    description: The hosts, in order.
    type: list
    elements: str
    required: true
  serial:
    description: Batch size(s) as described above.
    type: raw
    required: true
"""

EXAMPLES = r"""
- name: Two hosts, then the rest half at a time
  ansible.builtin.debug:
    msg: "{{ ['a', 'b', 'c', 'd', 'e', 'f'] | seed.fleet.serial_batches([2, '50%']) }}"
    # -> [['a', 'b'], ['c', 'd', 'e'], ['f']]
"""

RETURN = r"""
_value:
  description: The batches, each a non-empty list of hosts; together they are O(_input) in order.
  type: list
  elements: list
"""

import re

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.collections import is_sequence

_PCT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*%\s*$")


def _size(value, total):
    """One batch size (>= 1, <= total) from a serial item, or 0 for 'all'."""
    if isinstance(value, bool):
        raise AnsibleFilterError("serial_batches: serial items must be numbers or percentages, got %r" % (value,))
    if isinstance(value, str):
        match = _PCT.match(value)
        if match:
            pct = float(match.group(1))
            if pct > 100:
                raise AnsibleFilterError("serial_batches: a percentage above 100%% makes no sense: %r" % (value,))
            return max(1, int(total * pct / 100.0)) if pct > 0 else 0
        if not value.strip().isdigit():
            raise AnsibleFilterError("serial_batches: %r is neither a number of hosts nor a percentage" % (value,))
        value = int(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or value < 0:
        raise AnsibleFilterError("serial_batches: batch sizes must be whole numbers >= 0, got %r" % (value,))
    return min(value, total)


def serial_batches(hosts, serial):
    """Batches of ``hosts`` following ``serial`` (see DOCUMENTATION)."""
    if isinstance(hosts, str) or not is_sequence(hosts):
        raise AnsibleFilterError("serial_batches: the input must be a list of hosts, got %r" % (hosts,))
    hosts = list(hosts)
    total = len(hosts)
    if total == 0:
        return []
    items = list(serial) if is_sequence(serial) and not isinstance(serial, str) else [serial]
    if not items:
        return [hosts]
    sizes = [_size(item, total) for item in items]
    if sizes[0] == 0 and len(sizes) == 1:
        return [hosts]
    if 0 in sizes:
        raise AnsibleFilterError("serial_batches: 0 or 0%% means 'all hosts' and only works alone, got %r" % (serial,))
    batches, start, i = [], 0, 0
    while start < total:
        size = sizes[min(i, len(sizes) - 1)]
        batches.append(hosts[start:start + size])
        start += size
        i += 1
    return batches


class FilterModule(object):
    def filters(self):
        return {"serial_batches": serial_batches}
