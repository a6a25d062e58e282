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
    O(expect_headers), answered within O(max_latency)), or fails when O(deadline) seconds have passed.
  - Returns how many attempts it took, latency statistics and the last failure reason.
  - Only C(http://) and C(https://) URLs; only C(GET) and C(HEAD) unless O(allow_unsafe_methods=true).
  - O(deadline) bounds the whole call, always; a server that trickles its answer one byte at a time
    (status line, headers or body) cannot hold the task past it, and O(timeout) bounds each request
    in the same way.
  - Invalid options (bad URL, method, header name or value, numbers out of range, bad regular expression)
    fail at once, before any request, with a message naming the option.
  - Secrets never appear in the result, messages or warnings - the password in a C(user:password@) URL,
    O(url_password), and the values of the C(Authorization), C(Cookie), C(Proxy-Authorization) and
    O(secret_headers) request headers are replaced by C(********).
  - The request is sent from the managed host (use C(delegate_to) to probe from elsewhere).
author:
  - seed.fleet maintainers (@seed-fleet)
options:
  url:
    description:
      - Absolute C(http://) or C(https://) URL to probe. Other schemes (C(file://), C(ftp://), ...) are refused.
      - Credentials in the URL (C(http://user:pw@host/)) are sent as HTTP basic authentication and
        redacted from the result. Non-ASCII characters are percent-encoded (host names IDNA-encoded).
    type: str
    required: true
  method:
    description:
      - HTTP method of each request.
      - Only C(GET) and C(HEAD) unless O(allow_unsafe_methods=true).
    type: str
    default: GET
  allow_unsafe_methods:
    description:
      - Allow methods other than C(GET) and C(HEAD) (C(POST), C(DELETE), ...), which may change state on the server.
      - Such requests are never sent in check mode; the task is then reported as skipped.
    type: bool
    default: false
  status_codes:
    description: HTTP status codes counted as success. Redirects are not followed.
    type: list
    elements: int
    default: [200]
  body_regex:
    description:
      - Python regular expression the response body must match (C(re.search)).
      - Only the first 1 MiB of the body is read. It is decoded with the charset of its C(Content-Type),
        else UTF-8; undecodable bytes are replaced, never an error.
      - Not possible with O(method=HEAD).
    type: str
  headers:
    description:
      - Request headers to send, name to value.
      - Names must be valid HTTP header names; values must be ISO-8859-1 text without CR, LF or other
        control characters.
      - The values of C(Authorization), C(Cookie), C(Proxy-Authorization) and of the headers named in
        O(secret_headers) are redacted from the result.
    type: dict
    default: {}
  secret_headers:
    description: More request header names (case-insensitive) whose values are secrets to redact, for example C(X-Api-Key).
    type: list
    elements: str
    default: []
  expect_headers:
    description: Response headers that must be present, name (case-insensitive) to regular expression.
    type: dict
    default: {}
  url_username:
    description: User name for HTTP basic authentication (sent with the first request).
    type: str
  url_password:
    description: Password for HTTP basic authentication; requires O(url_username).
    type: str
  timeout:
    description: Seconds each request may take, all of it (connecting, headers and body); at most 86400.
    type: float
    default: 5
  successes:
    description: Number of consecutive passing responses required (1 to 10000).
    type: int
    default: 1
  deadline:
    description: Overall seconds allowed for the whole check, retries and every read included; at most 86400.
    type: float
    default: 60
  interval:
    description: Seconds to wait between attempts (0 to 86400).
    type: float
    default: 1
  validate_certs:
    description: Verify TLS certificates for C(https://) URLs.
    type: bool
    default: true
  max_latency:
    description:
      - Seconds a passing response may take at most (from the request to the end of the body read); a slower one
        fails the attempt like a wrong status, with the time it took as the reason.
      - V(0) or unset - no limit but O(timeout).
    type: float
    version_added: 0.4.0
attributes:
  check_mode:
    support: partial
    description: Can run in check mode and return the same result as without it.
    details:
      - C(GET) and C(HEAD) requests are read-only and are sent in check mode too.
      - Any other method (O(allow_unsafe_methods)) is never sent in check mode; the task is skipped.
  diff_mode:
    support: none
    description: Nothing changes, so there is no diff.
notes:
  - Fails with a message naming the URL and the reason (status, body, header, latency, timeout or connection error).
  - When the last attempt is cut short by O(deadline) after an earlier failure, RV(last_failure) and
    RV(status) report that earlier failure, the last real one.
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

- name: Probe an API that needs a token, without showing the token
  seed.fleet.http_check:
    url: "https://app1.example.com/api/health"
    headers:
      X-Api-Key: "{{ vault_api_key }}"
    secret_headers: [X-Api-Key]
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
  description:
    - Reason of the last failing attempt, or null if none failed (secrets redacted).
    - An attempt cut short by the deadline after an earlier failure does not replace that failure.
  returned: always
  type: str
  sample: "status 503 not in [200]"
status:
  description: HTTP status of the last response judged (null when it got no response).
  returned: always
  type: int
  sample: 200
elapsed:
  description: Seconds the whole check took.
  returned: always
  type: float
  sample: 1.53
url:
  description: The URL probed, its password (if any) replaced by C(********).
  returned: always
  type: str
  sample: http://127.0.0.1:8082/healthz
skipped:
  description: True when check mode kept an unsafe method from being sent.
  returned: when skipped
  type: bool
  sample: true
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.seed.fleet.plugins.module_utils._http_probe import HttpProbe, ProbeError, find_secrets, redact_url


class HttpCheckModule(AnsibleModule):
    """Masks the probe's secrets in every result, including argument-spec failures
    (raised while the module is built, before main() could register them)."""

    def _mask_secrets(self):
        p = self.params
        self.no_log_values.update(find_secrets(p.get("url"), p.get("headers"), p.get("secret_headers"),
                                               p.get("url_password")))

    def exit_json(self, **kwargs):
        self._mask_secrets()
        super(HttpCheckModule, self).exit_json(**kwargs)

    def fail_json(self, msg, **kwargs):
        self._mask_secrets()
        super(HttpCheckModule, self).fail_json(msg, **kwargs)


def main():
    module = HttpCheckModule(
        argument_spec=dict(
            url=dict(type="str", required=True),
            method=dict(type="str", default="GET"),
            allow_unsafe_methods=dict(type="bool", default=False),
            status_codes=dict(type="list", elements="int", default=[200]),
            body_regex=dict(type="str"),
            headers=dict(type="dict", default={}),
            secret_headers=dict(type="list", elements="str", default=[], no_log=False),
            expect_headers=dict(type="dict", default={}),
            url_username=dict(type="str"),
            url_password=dict(type="str", no_log=True),
            timeout=dict(type="float", default=5),
            successes=dict(type="int", default=1),
            deadline=dict(type="float", default=60),
            interval=dict(type="float", default=1),
            validate_certs=dict(type="bool", default=True),
            max_latency=dict(type="float"),
        ),
        required_by=dict(url_password="url_username"),
        supports_check_mode=True,
    )
    params = dict((k, module.params[k]) for k in module.argument_spec)
    url = redact_url(params["url"])
    try:
        probe = HttpProbe(**params)
    except ProbeError as exc:
        module.fail_json(msg="%s: %s" % (url, exc) if exc.option != "url" else str(exc), url=url)
    result = probe.run(check_mode=module.check_mode)
    if not result.pop("ok"):
        module.fail_json(changed=False, **result)
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
