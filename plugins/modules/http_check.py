#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) seed.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: http_check
short_description: Health-gate an HTTP(S) endpoint
version_added: 0.1.0
description:
  - Sends HTTP(S) requests to O(url) until O(successes) consecutive responses pass every
    expectation (status in O(status_codes), body matching O(body_regex), headers matching
    O(expect_headers)), or fails when O(deadline) seconds have passed.
  - Returns how many attempts it took, latency statistics and the last failure reason.
  - Read-only; it never changes anything, so it also runs in check mode.
  - The request is sent from the managed host (use C(delegate_to) to probe from elsewhere).
author:
  - seed.fleet maintainers (@seed-fleet)
options:
  url:
    description: Absolute C(http://) or C(https://) URL to probe.
    type: str
    required: true
  method:
    description: HTTP method of each request.
    type: str
    default: GET
  status_codes:
    description: HTTP status codes counted as success. Redirects are not followed.
    type: list
    elements: int
    default: [200]
  body_regex:
    description: Python regular expression the response body must match (C(re.search); first 1 MiB).
    type: str
  headers:
    description: Request headers to send.
    type: dict
    default: {}
  expect_headers:
    description: Response headers that must be present, name (case-insensitive) to regular expression.
    type: dict
    default: {}
  timeout:
    description: Seconds each request may take.
    type: float
    default: 5
  successes:
    description: Number of consecutive passing responses required.
    type: int
    default: 1
  deadline:
    description: Overall seconds allowed for the whole check, retries included.
    type: float
    default: 60
  interval:
    description: Seconds to wait between attempts.
    type: float
    default: 1
  validate_certs:
    description: Verify TLS certificates for C(https://) URLs.
    type: bool
    default: true
attributes:
  check_mode:
    support: full
    description: The module is read-only; it sends its requests in check mode too.
  diff_mode:
    support: none
    description: Nothing changes, so there is no diff.
notes:
  - Fails with a message naming the URL and the reason (status, body, header, timeout or connection error).
seealso:
  - module: ansible.builtin.uri
"""

EXAMPLES = r"""
- name: Wait until the new instance answers healthy three times in a row
  seed.fleet.http_check:
    url: "http://127.0.0.1:8082/healthz"
    successes: 3
    interval: 0.5
    deadline: 30

- name: Check the version through the load balancer
  seed.fleet.http_check:
    url: "http://lb1/"
    body_regex: "version=v2"
    expect_headers:
      Content-Type: "^text/plain"
    timeout: 2
"""

RETURN = r"""
attempts:
  description: Number of requests sent.
  returned: always
  type: int
  sample: 4
successes:
  description: Consecutive passing responses at the end of the check.
  returned: always
  type: int
  sample: 3
latency_ms:
  description: Request latency statistics over all attempts, in milliseconds.
  returned: always
  type: dict
  contains:
    min:
      description: Fastest request.
      type: float
    avg:
      description: Mean.
      type: float
    max:
      description: Slowest request.
      type: float
    p50:
      description: Median (nearest rank).
      type: float
    p95:
      description: 95th percentile (nearest rank).
      type: float
  sample: {min: 1.2, avg: 2.0, max: 3.4, p50: 1.9, p95: 3.4}
last_failure:
  description: Reason of the last failing attempt, or null if none failed.
  returned: always
  type: str
  sample: "status 503 not in [200]"
status:
  description: HTTP status of the last response (null when the last attempt got no response).
  returned: always
  type: int
  sample: 200
elapsed:
  description: Seconds the whole check took.
  returned: always
  type: float
  sample: 1.53
url:
  description: The URL probed.
  returned: always
  type: str
  sample: http://127.0.0.1:8082/healthz
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.seed.fleet.plugins.module_utils._http_probe import HttpProbe, ProbeError


def main():
    module = AnsibleModule(
        argument_spec=dict(
            url=dict(type="str", required=True),
            method=dict(type="str", default="GET"),
            status_codes=dict(type="list", elements="int", default=[200]),
            body_regex=dict(type="str"),
            headers=dict(type="dict", default={}),
            expect_headers=dict(type="dict", default={}),
            timeout=dict(type="float", default=5),
            successes=dict(type="int", default=1),
            deadline=dict(type="float", default=60),
            interval=dict(type="float", default=1),
            validate_certs=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )
    params = dict((k, module.params[k]) for k in module.argument_spec)
    try:
        probe = HttpProbe(**params)
    except ProbeError as exc:
        module.fail_json(msg="%s: %s" % (params["url"], exc), url=params["url"])
    result = probe.run()
    ok = result.pop("ok")
    if not ok:
        module.fail_json(changed=False, **result)
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
