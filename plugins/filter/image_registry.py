# -*- coding: utf-8 -*-
# Copyright (c) seed.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
name: image_registry
short_description: The registry host of an image repository
version_added: 0.1.0
description:
  - The first part of the repository's name when it is a host (it has a dot or a port, or is C(localhost)), else
    C(docker.io), as Docker reads a name. C(seed.fleet.blue_green) logs in to it when registry credentials are given.
author:
  - seed.fleet maintainers
options:
  _input:
    description: The repository, without a tag or a digest.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: The registry to log in to
  ansible.builtin.debug:
    msg: "{{ 'registry.example.com:5000/shop' | seed.fleet.image_registry }}"
    # -> registry.example.com:5000
"""

RETURN = r"""
_value:
  description: The registry host (with its port when the name has one).
  type: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.seed.fleet.plugins.module_utils import _image_ref


def image_registry(*args):
    """The registry host of a repository (see DOCUMENTATION)."""
    try:
        return _image_ref.registry(*args)
    except ValueError as e:
        raise AnsibleFilterError("image_registry: %s" % e)


class FilterModule(object):
    def filters(self):
        return {"image_registry": image_registry}
