# -*- coding: utf-8 -*-
# Copyright (c) seed.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
name: tls_bundle_problem
short_description: Why a certificate-and-key bundle (as HAProxy loads it) must not be installed
version_added: 0.1.0
description:
  - Reads a PEM bundle - the certificate (then its chain) and its private key in one text, as HAProxy loads a C(crt)
    file - and returns the first reason to refuse it, or an empty string - no certificate or no key, a key that is
    encrypted or does not match the certificate, a certificate that is not valid yet or has expired, or one with fewer
    than O(min_days) days left.
  - Runs on the controller (needs the C(cryptography) library there, as Ansible itself does). The text never quotes the
    key. C(seed.fleet.load_balancer) checks every app's C(tls.certificate) with it before anything is written.
author:
  - seed.fleet maintainers
options:
  _input:
    description: The PEM bundle.
    type: str
    required: true
  min_days:
    description: Refuse a certificate with fewer days left than this (V(0) - only an expired one).
    type: int
    default: 0
"""

EXAMPLES = r"""
- name: Refuse a bundle HAProxy should not serve
  ansible.builtin.assert:
    that: (lookup('ansible.builtin.file', 'shop.pem') | seed.fleet.tls_bundle_problem) == ''
"""

RETURN = r"""
_value:
  description: The reason, for example C(it does not match its private key) or C(it is not valid now - it expired ...); empty when
    the bundle is fine.
  type: str
"""

import datetime
import re

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_bytes

from ansible_collections.seed.fleet.plugins.module_utils import _certificate

_CERT = re.compile(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.S)
_KEY = re.compile(r"-----BEGIN ((?:RSA |EC |ENCRYPTED )?PRIVATE KEY)-----.+?-----END \1-----", re.S)


def tls_bundle_problem(pem, min_days=0):
    if not _certificate.HAS_CRYPTOGRAPHY:
        raise AnsibleFilterError("tls_bundle_problem needs the cryptography library on the controller")
    if not isinstance(pem, str):
        raise AnsibleFilterError("tls_bundle_problem: expected the PEM text, got a %s" % type(pem).__name__)
    cert, key = _CERT.search(pem), _KEY.search(pem)
    if not cert:
        return "it holds no PEM certificate"
    if not key:
        return "it holds no PEM private key (HAProxy needs the certificate and its key in one file)"
    if key.group(1).startswith("ENCRYPTED"):
        return "its private key is encrypted (HAProxy cannot load it without a passphrase)"
    now = datetime.datetime.now(datetime.timezone.utc)
    problem = _certificate.judge(to_bytes(cert.group(0)), to_bytes(key.group(0)), now, int(min_days))[1]
    return problem or ""


class FilterModule(object):
    def filters(self):
        return {"tls_bundle_problem": tls_bundle_problem}
