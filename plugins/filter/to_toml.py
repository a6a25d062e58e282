# -*- coding: utf-8 -*-
# Copyright (c) seed.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
name: to_toml
short_description: Render data as a TOML document
version_added: 0.1.0
description:
  - Serializes a dictionary into a TOML document (the subset configuration files use) with keys sorted
    case-insensitively, so the same data always gives the same text.
  - In each table its key/value pairs come first, then its sub-tables (C([a."b.c"])), then its arrays of
    tables (C([[a]]), a non-empty list whose items are all dictionaries). Other lists are inline arrays;
    a dictionary inside an inline array is an inline table.
  - "Values: strings (TOML basic strings: C(\"), C(\\) and control characters escaped), integers, floats,
    booleans, lists and dictionaries. Anything else (C(null), dates, bytes, non-string keys) fails with a
    message naming the key."
  - The C(seed.fleet.container_runtime) role renders C(/etc/containerd/config.toml) and the Podman files with it.
author:
  - seed.fleet maintainers
options:
  _input:
    description: The document, a dictionary (the root table).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Write a containerd config from data
  ansible.builtin.copy:
    dest: /etc/containerd/config.toml
    content: "{{ {'version': 2, 'plugins': {'io.containerd.grpc.v1.cri': {'sandbox_image': 'pause:3.9'}}} | seed.fleet.to_toml }}"
    mode: "0644"
    # version = 2
    #
    # [plugins]
    #
    # [plugins."io.containerd.grpc.v1.cri"]
    # sandbox_image = "pause:3.9"
"""

RETURN = r"""
_value:
  description: The TOML document; every line ends with a newline.
  type: str
"""

import math
import re
from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def _string(text):
    """A TOML basic string: quotes, backslashes and control characters escaped."""
    out = []
    for char in text:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append("\\u%04X" % ord(char))
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def _key(key, where):
    if not isinstance(key, str):
        raise AnsibleFilterError("to_toml: keys must be strings, got %r (%s) at %s" % (key, type(key).__name__, where or "the root"))
    return key if _BARE_KEY.match(key) else _string(key)


def _is_list(value):
    return isinstance(value, (list, tuple))


def _is_table_array(value):
    return _is_list(value) and len(value) > 0 and all(isinstance(item, Mapping) for item in value)


def _sorted(table):
    return sorted(table.items(), key=lambda item: (str(item[0]).lower(), str(item[0])))


def _value(value, where):
    """An inline value: scalar, inline array or inline table."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(float(value))
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, Mapping):
        if not value:
            return "{}"
        return "{ " + ", ".join("%s = %s" % (_key(k, where), _value(v, "%s.%s" % (where, k))) for k, v in _sorted(value)) + " }"
    if _is_list(value):
        return "[" + ", ".join(_value(item, "%s[%d]" % (where, i)) for i, item in enumerate(value)) + "]"
    raise AnsibleFilterError("to_toml: %s: %r (%s) has no TOML form (strings, numbers, booleans, lists and dictionaries only)"
                             % (where or "the root", value, type(value).__name__))


def _table(table, path, out):
    """Append the lines of one table (its pairs, then sub-tables, then arrays of tables) to ``out``."""
    where = ".".join(path)
    items = [(_key(k, where), k, v) for k, v in _sorted(table)]
    for key, raw, value in items:
        if not isinstance(value, Mapping) and not _is_table_array(value):
            out.append("%s = %s\n" % (key, _value(value, "%s.%s" % (where, raw) if where else raw)))
    for key, raw, value in items:
        if isinstance(value, Mapping):
            out.append("\n[%s]\n" % ".".join(path + [key]))
            _table(value, path + [key], out)
    for key, raw, value in items:
        if _is_table_array(value):
            for item in value:
                out.append("\n[[%s]]\n" % ".".join(path + [key]))
                _table(item, path + [key], out)
    return out


def to_toml(data):
    """``data`` (a dictionary) as a TOML document (see DOCUMENTATION)."""
    if not isinstance(data, Mapping):
        raise AnsibleFilterError("to_toml: the input must be a dictionary (the root table), got %r" % (data,))
    return "".join(_table(data, [], []))


class FilterModule(object):
    def filters(self):
        return {"to_toml": to_toml}
