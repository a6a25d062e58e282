# -*- coding: utf-8 -*-
# Copyright (c) seed.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tolerant look-ups in Ansible's mappings (hostvars, registered results) for filters (private module_utils)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def get(mapping, key, default=None):
    """mapping[key] when mapping holds key; default for a missing key or for anything that is
    not a mapping (an undefined variable, a string, None): filters read hostvars that may lack a host."""
    try:
        if key in mapping:
            return mapping[key]
    except (TypeError, KeyError):
        pass
    return default
