# -*- coding: utf-8 -*-
# Copyright (c) seed.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
name: cert_reissue_reason
short_description: Why a certificate from our own CA must be signed again (empty when it still fits)
version_added: 0.3.0
description:
  - Takes a certificate (PEM text, or empty when there is none), the public half of its private key (PEM, such
    as C(openssl pkey -pubout) prints it) and the certificate of the CA that signs it, and says why the
    certificate must be signed again, or returns an empty string when it still fits.
  - It fits when it carries the key's public key, names O(common_name) and exactly O(subject_alt_name), allows
    each of O(extended_key_usage), is a CA certificate exactly when O(is_ca), was signed by the CA and has at
    least O(min_days) days left. That is what a signing task would check, without a signing request and a module
    run on the CA's host. For a CA that signs itself, give its own certificate as O(ca).
  - Needs the C(cryptography) library on the controller (ansible-core depends on it).
author:
  - seed.fleet maintainers
options:
  _input:
    description: The current certificate, PEM; empty when there is none.
    type: str
    required: true
  public_key:
    description: The public half of the certificate's private key, PEM; empty when there is no key.
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
  subject_alt_name:
    description: All of its subject alternative names, as C(DNS:name) and C(IP:address) strings.
    type: list
    elements: str
    default: []
  extended_key_usage:
    description: Extended key usages the certificate must allow.
    type: list
    elements: str
    choices: [clientAuth, serverAuth]
    default: []
  is_ca:
    description: Whether it must be a CA certificate (basic constraints).
    type: bool
    default: false
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
    subject_alt_name=['DNS:' ~ inventory_hostname], extended_key_usage=['clientAuth']) | length > 0
"""

RETURN = r"""
_value:
  description: The reason, or an empty string when the certificate still fits.
  type: str
"""

import datetime
import ipaddress

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_bytes

from ansible_collections.seed.fleet.plugins.module_utils import _certificate


def cert_reissue_reason(cert, public_key, ca, common_name, subject_alt_name=None, extended_key_usage=None,
                        is_ca=False, min_days=30):
    if not _certificate.HAS_CRYPTOGRAPHY:
        raise AnsibleFilterError("cert_reissue_reason needs the cryptography library on the controller")
    sans = list(subject_alt_name or [])
    usages = list(extended_key_usage or [])
    if not all(isinstance(n, str) and n.split(":", 1)[0] in ("DNS", "IP") and ":" in n for n in sans):
        raise AnsibleFilterError("cert_reissue_reason: subject_alt_name takes DNS:name and IP:address strings, got %r"
                                 % (sans,))
    if not all(u in _certificate.USAGES for u in usages):
        raise AnsibleFilterError("cert_reissue_reason: extended_key_usage takes %s, got %r"
                                 % (", ".join(sorted(_certificate.USAGES)), usages))
    try:
        # as the certificate carries an address (an IPv6 address has more than one spelling)
        sans = [("IP:%s" % ipaddress.ip_address(n[3:])) if n.startswith("IP:") else n for n in sans]
    except ValueError as exc:
        raise AnsibleFilterError("cert_reissue_reason: %s" % exc)
    now = datetime.datetime.now(datetime.timezone.utc)
    reason = _certificate.reissue_reason(to_bytes(cert or ""), to_bytes(public_key or ""), to_bytes(ca or ""),
                                         str(common_name), sans, usages, bool(is_ca), now, int(min_days))
    return reason or ""


class FilterModule(object):
    def filters(self):
        return {"cert_reissue_reason": cert_reissue_reason}
