#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) seed.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: certificate_check
short_description: Refuse a TLS certificate that does not match its key or is not valid now
version_added: 0.1.0
description:
  - Reads a PEM certificate and its PEM private key, from files on the managed host or from the task's
    arguments, and fails when the key does not match the certificate, when the certificate is not valid yet
    or expired, or when it has fewer than O(min_days_valid) days left.
  - Roles run it before they write or reload anything that would use the pair, so a bad pair changes nothing.
  - Reads only; it never changes the host.
  - The private key never appears in the result or in a message.
requirements:
  - cryptography (Debian package C(python3-cryptography)) on the managed host
author:
  - seed.fleet maintainers (@seed-fleet)
options:
  certificate_path:
    description: Path on the managed host of the PEM certificate. Exactly one of O(certificate_path) and O(certificate).
    type: path
  certificate:
    description: The PEM certificate itself.
    type: str
  private_key_path:
    description: Path on the managed host of the PEM private key (unencrypted). Exactly one of O(private_key_path) and O(private_key).
    type: path
  private_key:
    description: The PEM private key itself (unencrypted).
    type: str
  name:
    description: What the certificate is, for the failure message (the variable that set it, for example).
    type: str
    default: the certificate
  min_days_valid:
    description: Fail when the certificate expires in fewer days than this (0 only refuses an expired one).
    type: int
    default: 0
attributes:
  check_mode:
    support: full
    description: Reads only; runs the same in check mode.
  diff_mode:
    support: none
    description: Nothing changes, so there is no diff.
notes:
  - A missing or unreadable file fails with its path.
seealso:
  - module: community.crypto.x509_certificate_info
"""

EXAMPLES = r"""
- name: Refuse the journal receiver's certificate before anything is reloaded
  seed.fleet.certificate_check:
    certificate_path: /etc/ssl/journal/server.crt
    private_key_path: /etc/ssl/journal/server.key
    name: monitoring_server_journal_remote_cert_file
    min_days_valid: 7

- name: Check a pair that comes from the inventory (vault)
  seed.fleet.certificate_check:
    certificate: "{{ web_cert }}"
    private_key: "{{ web_key }}"
    name: web_cert
"""

RETURN = r"""
subject:
  description: The certificate's subject (RFC 4514).
  returned: when the certificate could be read
  type: str
  sample: CN=mon1.example.com
issuer:
  description: The certificate's issuer (RFC 4514).
  returned: when the certificate could be read
  type: str
  sample: CN=seed.fleet monitoring CA (mon1.example.com)
not_before:
  description: Start of validity, UTC.
  returned: when the certificate could be read
  type: str
  sample: "2026-01-01T00:00:00Z"
not_after:
  description: End of validity, UTC.
  returned: when the certificate could be read
  type: str
  sample: "2028-04-05T00:00:00Z"
days_left:
  description: Whole days until O(certificate_path) expires (negative once expired).
  returned: when the certificate could be read
  type: int
  sample: 824
"""

import datetime
import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.seed.fleet.plugins.module_utils import _certificate


def _read(module, path, what):
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except (IOError, OSError) as exc:
        module.fail_json(msg="%s is refused before any change: cannot read %s %s (%s)"
                         % (module.params["name"], what, path, exc.strerror or exc))


def main():
    module = AnsibleModule(
        argument_spec=dict(
            certificate_path=dict(type="path"),
            certificate=dict(type="str"),
            private_key_path=dict(type="path"),
            private_key=dict(type="str", no_log=True),
            name=dict(type="str", default="the certificate"),
            min_days_valid=dict(type="int", default=0),
        ),
        required_one_of=[("certificate_path", "certificate"), ("private_key_path", "private_key")],
        mutually_exclusive=[("certificate_path", "certificate"), ("private_key_path", "private_key")],
        supports_check_mode=True,
    )
    if not _certificate.HAS_CRYPTOGRAPHY:
        module.fail_json(msg=missing_required_lib("cryptography (Debian: python3-cryptography)"),
                         exception=traceback.format_exc())
    params = module.params
    if params["min_days_valid"] < 0:
        module.fail_json(msg="min_days_valid must be 0 or more, not %d" % params["min_days_valid"])
    if params["certificate"] is not None:
        cert = params["certificate"].encode()
    else:
        cert = _read(module, params["certificate_path"], "the certificate")
    if params["private_key"] is not None:
        key = params["private_key"].encode()
    else:
        key = _read(module, params["private_key_path"], "the private key")
    now = datetime.datetime.now(datetime.timezone.utc)
    facts, problem = _certificate.judge(cert, key, now, params["min_days_valid"])
    if problem:
        module.fail_json(msg="%s is refused before any change: %s." % (params["name"], problem), **facts)
    module.exit_json(changed=False, **facts)


if __name__ == "__main__":
    main()
