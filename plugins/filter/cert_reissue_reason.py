# -*- coding: utf-8 -*-
# Copyright (c) seed.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
name: cert_reissue_reason
short_description: Why a host's certificate from our own CA must be issued again (empty when it still fits)
version_added: 0.3.0
description:
  - Takes a host's current certificate (PEM text, or empty when there is none), the public half of the
    host's private key (PEM, such as C(openssl pkey -pubout) prints it) and the CA's certificate, and says why
    the certificate must be signed again, or returns an empty string when it still fits.
  - It fits when it carries the host key's public key, names O(common_name) and exactly O(dns_names), allows
    client authentication (O(client_auth)), was signed by the CA and has at least O(min_days) days left. That
    is what a signing task would check, without a signing request and a module run on the CA's host.
  - Needs the C(cryptography) library on the controller (ansible-core depends on it).
author:
  - seed.fleet maintainers
options:
  _input:
    description: The current certificate, PEM; empty when there is none.
    type: str
    required: true
  public_key:
    description: The public half of the host's private key, PEM; empty when there is no key.
    type: str
    required: true
  ca:
    description: The CA's certificate, PEM.
    type: str
    required: true
  common_name:
    description: The subject's common name the certificate must carry.
    type: str
    required: true
  dns_names:
    description: The DNS names of its subject alternative name, all of them.
    type: list
    elements: str
    required: true
  client_auth:
    description: Whether the certificate must allow client authentication (extended key usage).
    type: bool
    default: true
  min_days:
    description: Sign again when fewer days are left.
    type: int
    default: 30
"""

EXAMPLES = r"""
- name: Sign the client certificate only when it no longer fits
  community.crypto.x509_certificate_pipe:
    csr_content: "{{ csr.csr }}"
    provider: ownca
    ownca_path: /etc/ca/ca.crt
    ownca_privatekey_path: /etc/ca/ca.key
  when: >-
    current_cert | seed.fleet.cert_reissue_reason(public_key, ca_cert, common_name=inventory_hostname,
    dns_names=[inventory_hostname]) | length > 0
"""

RETURN = r"""
_value:
  description: The reason, or an empty string when the certificate still fits.
  type: str
"""

import datetime

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_bytes

from ansible_collections.seed.fleet.plugins.module_utils import _certificate


def cert_reissue_reason(cert, public_key, ca, common_name, dns_names, client_auth=True, min_days=30):
    if not _certificate.HAS_CRYPTOGRAPHY:
        raise AnsibleFilterError("cert_reissue_reason needs the cryptography library on the controller")
    if not isinstance(dns_names, list):
        raise AnsibleFilterError("cert_reissue_reason: dns_names must be a list")
    now = datetime.datetime.now(datetime.timezone.utc)
    reason = _certificate.reissue_reason(to_bytes(cert or ""), to_bytes(public_key or ""), to_bytes(ca or ""),
                                         str(common_name), [str(n) for n in dns_names], bool(client_auth),
                                         now, int(min_days))
    return reason or ""


class FilterModule(object):
    def filters(self):
        return {"cert_reissue_reason": cert_reissue_reason}
