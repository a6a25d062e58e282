#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) seed.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: haproxy_cert
short_description: Replace a TLS certificate HAProxy serves without a reload (runtime API), and keep its file
version_added: 0.4.0
description:
  - Makes HAProxy serve O(content) (the certificate chain and its private key, PEM) for the certificate file O(path),
    and the file hold it for the next start.
  - When HAProxy has loaded O(path) and serves another certificate, or the file differs, the new PEM goes through the
    runtime API (C(set ssl cert) then C(commit ssl cert)); new handshakes get it at once, connections and handshakes in
    flight keep the old one, and nothing reloads. The file is written after the commit.
  - When HAProxy runs but has not loaded O(path) (a new app), the file is written and RV(needs_reload) says that
    HAProxy must reload to serve it. When HAProxy does not run, the file is written.
  - A certificate HAProxy refuses (for example a key that does not match) fails the task and changes nothing; the open
    transaction is aborted.
  - Idempotent - the same certificate already served and on disk changes nothing.
author:
  - seed.fleet maintainers (@seed-fleet)
options:
  socket:
    description: HAProxy runtime API, a unix socket path or C(tcp://HOST:PORT), at level C(admin).
    type: str
    default: /run/haproxy/admin.sock
  path:
    description: The certificate file, as HAProxy's configuration loads it (C(crt) of a C(bind), or a file in its C(crt)
      directory).
    type: path
    required: true
  content:
    description: The PEM certificate chain and its unencrypted private key.
    type: str
    required: true
  mode:
    description: Mode of the file (its owner is the user the task runs as, root with C(become)).
    type: raw
    default: "0600"
  timeout:
    description: Seconds each runtime API call may take.
    type: float
    default: 5
attributes:
  check_mode:
    support: full
    description: Reads the file and HAProxy's certificate and reports what would change; sends and writes nothing.
  diff_mode:
    support: none
    description: The content holds a private key.
seealso:
  - module: seed.fleet.haproxy_server
  - name: HAProxy management guide, set ssl cert
    description: The runtime API commands this module uses.
    link: https://docs.haproxy.org/3.0/management.html#9.3-set%20ssl%20cert
"""

EXAMPLES = r"""
- name: Rotate the certificate of an app without a reload
  seed.fleet.haproxy_cert:
    path: /etc/haproxy/certs/demo.pem
    content: "{{ demo_certificate_chain_and_key }}"
  register: demo_cert

- name: Reload HAProxy for a certificate it has not loaded yet
  ansible.builtin.systemd_service:
    name: haproxy
    state: reloaded
  when: demo_cert.needs_reload
"""

RETURN = r"""
file_changed:
  description: The file was (or, in check mode, would be) written.
  returned: always
  type: bool
runtime:
  description: C(committed) (swapped in through the runtime API), C(unchanged), C(not loaded) (HAProxy runs but has not
    loaded the file) or C(not running).
  returned: always
  type: str
  sample: committed
needs_reload:
  description: HAProxy runs and must reload to serve the file (it had not loaded it).
  returned: always
  type: bool
fingerprint:
  description: SHA-1 fingerprint of the new certificate (the first of the chain), as C(show ssl cert) prints it.
  returned: always
  type: str
  sample: 5A1F0C7D3E9B2A4C6D8E0F1A2B3C4D5E6F708192
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.seed.fleet.plugins.module_utils import _haproxy_cert
from ansible_collections.seed.fleet.plugins.module_utils._haproxy_runtime import PlanError, RuntimeAPIError, RuntimeClient


def main():
    module = AnsibleModule(
        argument_spec=dict(
            socket=dict(type="str", default="/run/haproxy/admin.sock"),
            path=dict(type="path", required=True),
            content=dict(type="str", required=True, no_log=True),
            mode=dict(type="raw", default="0600"),
            timeout=dict(type="float", default=5),
        ),
        supports_check_mode=True,
    )
    p = module.params
    try:
        mode = int(str(p["mode"]), 8)
    except ValueError:
        module.fail_json(msg="mode must be an octal mode such as 0600, not %r" % p["mode"])
    if not p["path"].startswith("/"):
        module.fail_json(msg="path must be absolute, not %r" % p["path"])
    if not os.path.isdir(os.path.dirname(p["path"])) and not module.check_mode:
        module.fail_json(msg="the directory of %s does not exist" % p["path"])
    try:
        client = RuntimeClient(p["socket"], p["timeout"])
        result = _haproxy_cert.sync(client, p["path"], p["content"], mode=mode, check_mode=module.check_mode)
    except (PlanError, _haproxy_cert.CertError, RuntimeAPIError, OSError) as exc:
        module.fail_json(msg="%s: %s" % (p["path"], exc))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
