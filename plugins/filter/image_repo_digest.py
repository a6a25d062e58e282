# -*- coding: utf-8 -*-
# Copyright (c) seed.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
name: image_repo_digest
short_description: The digest a pull resolved, from an image's RepoDigests
version_added: 0.1.0
description:
  - Picks the C(sha256:...) digest of one repository from the C(RepoDigests) list Docker keeps for a pulled image
    (entries C(repository@sha256:...); short Docker Hub names and C(docker.io/library/...) match each other).
  - Fails with a clear message when the list has none for that repository, which is the case for an image loaded from an
    archive or built locally - or returns O(missing) when it is given.
author:
  - seed.fleet maintainers
options:
  _input:
    description: The image's C(RepoDigests), as in the C(image) result of M(community.docker.docker_image_pull).
    type: list
    elements: str
    required: true
  repository:
    description: The repository, without a tag or a digest.
    type: str
    required: true
  missing:
    description: What to return when the image has no digest from O(repository) (loaded or built locally); unset - fail.
    type: str
"""

EXAMPLES = r"""
- name: Pin what the tag points at now
  ansible.builtin.set_fact:
    pinned: "{{ pulled.image.RepoDigests | seed.fleet.image_repo_digest('registry.example.com:5000/shop') }}"
"""

RETURN = r"""
_value:
  description: The digest, C(sha256:) and 64 hex digits.
  type: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.seed.fleet.plugins.module_utils import _image_ref


def image_repo_digest(*args):
    """The digest of a repository among an image's RepoDigests (see DOCUMENTATION)."""
    try:
        return _image_ref.repo_digest(*args)
    except ValueError as e:
        raise AnsibleFilterError("image_repo_digest: %s" % e)


class FilterModule(object):
    def filters(self):
        return {"image_repo_digest": image_repo_digest}
