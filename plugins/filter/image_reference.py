# -*- coding: utf-8 -*-
# Copyright (c) seed.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
name: image_reference
short_description: The image reference a deploy pulls and runs - by tag or by digest
version_added: 0.1.0
description:
  - Builds the reference of an image from its repository (O(_input), without a tag or a digest), its version (a tag) and
    an optional digest. With a digest the reference is C(repository@sha256:...), the only immutable one; without,
    C(repository:version).
  - Refuses a repository that already carries a tag or a digest, a tag Docker would not accept, and a digest that is not
    C(sha256:) followed by 64 lowercase hexadecimal digits, with a message that names the value.
  - C(seed.fleet.blue_green) runs the containers of a registry deploy by digest (see M(community.docker.docker_image_pull)
    and the filter C(seed.fleet.image_repo_digest)).
author:
  - seed.fleet maintainers
options:
  _input:
    description: The repository, for example C(registry.example.com:5000/shop/web) or C(seed-fleet/demo-app).
    type: str
    required: true
  version:
    description: The tag.
    type: str
    required: true
  digest:
    description: C(sha256:<64 hex digits>); empty for a reference by tag.
    type: str
    default: ""
"""

EXAMPLES = r"""
- name: By tag
  ansible.builtin.debug:
    msg: "{{ 'registry.example.com:5000/shop' | seed.fleet.image_reference('v2') }}"
    # -> registry.example.com:5000/shop:v2

- name: By digest
  ansible.builtin.debug:
    msg: "{{ 'registry.example.com:5000/shop' | seed.fleet.image_reference('v2', 'sha256:' ~ '0' * 64) }}"
    # -> registry.example.com:5000/shop@sha256:000...
"""

RETURN = r"""
_value:
  description: The reference.
  type: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.seed.fleet.plugins.module_utils import _image_ref


def image_reference(*args):
    """repository@digest, or repository:version (see DOCUMENTATION)."""
    try:
        return _image_ref.reference(*args)
    except ValueError as e:
        raise AnsibleFilterError("image_reference: %s" % e)


class FilterModule(object):
    def filters(self):
        return {"image_reference": image_reference}
