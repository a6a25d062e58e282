#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) seed.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: prometheus_check
short_description: Judge a Prometheus query against thresholds (the metric analysis of a canary step)
version_added: 0.1.0
description:
  - Sends the PromQL instant query O(query) to the Prometheus HTTP API (C(GET <url>/api/v1/query)) O(samples)
    times, O(interval) seconds apart, and judges every sample against O(max_value) and O(min_value).
  - A sample breaches when a value of any of its series is above O(max_value), below O(min_value), or C(NaN).
    The task fails when more than O(failure_limit) samples breach; it stops at the sample that decides it, since
    the samples left could not change the verdict.
  - Not enough data to judge is never a pass. A sample whose result holds no series fails the task at once with
    a message saying so (O(no_data=fail)), or counts as a breach (O(no_data=breach)).
  - With O(mode=answers) it is the pre-flight check run before any traffic moves - one query, which must be
    answered with at least one series (a scalar counts as one); no thresholds are judged.
  - A Prometheus that does not answer, answers with an HTTP error or with something that is not its API,
    or refuses the query (C({"status":"error"})) fails the task with a message naming the URL, the query
    and the reason. An instant query that returns a range vector (matrix) cannot be judged and fails too.
  - The password (O(url_password)) never appears in the result or in messages.
  - Options are checked before any request; an invalid one fails the task with a message naming it.
  - The query is sent from the managed host (use C(delegate_to) to ask from elsewhere).
author:
  - seed.fleet maintainers (@seed-fleet)
options:
  url:
    description:
      - Base URL of the Prometheus server, C(http://) or C(https://), with its route prefix if it has one,
        for example C(https://mon1:9090). A trailing slash is fine.
      - No credentials in the URL (use O(url_username) and O(url_password)), no query string.
    type: str
    required: true
  query:
    description:
      - PromQL expression, evaluated as an instant query. It must return an instant vector or a scalar.
      - "Placeholders C(${name}) are replaced by the values of O(variables) before it is sent, for example
        C(${app}), C(${color}) and C(${backend}); a placeholder O(variables) does not define is an error
        that names it."
    type: str
    required: true
  variables:
    description:
      - "Values of the placeholders in O(query), name to value, for example C({app: demo, color: green})."
      - A value goes into the query as it is, so it must not contain quotes, backslashes or control characters.
    type: dict
    default: {}
  mode:
    description:
      - V(judge) samples the query and judges it against O(max_value) and O(min_value) (one of them is required).
      - V(answers) sends the query once and succeeds when Prometheus answers with at least one series;
        O(max_value), O(min_value), O(samples), O(interval), O(failure_limit) and O(no_data) are not used.
    type: str
    choices: [judge, answers]
    default: judge
  max_value:
    description: A sample breaches when a value of any of its series is greater than this.
    type: float
  min_value:
    description: A sample breaches when a value of any of its series is less than this.
    type: float
  samples:
    description: How many times to send the query (1 to 10000).
    type: int
    default: 1
  interval:
    description: Seconds from the start of one query to the start of the next (0 to 86400).
    type: float
    default: 2.0
  failure_limit:
    description:
      - Breaching samples allowed; one more fails the task.
      - Must be below O(samples), or the analysis could never fail.
    type: int
    default: 0
  no_data:
    description:
      - What a sample whose result holds no series is.
      - V(fail) fails the task at once, saying the query returned no series.
      - V(breach) counts it as a breaching sample.
    type: str
    choices: [fail, breach]
    default: fail
  timeout:
    description: Seconds to wait for each answer (more than 0, at most 86400).
    type: float
    default: 5
  validate_certs:
    description: Verify the server's TLS certificate for C(https://) URLs.
    type: bool
    default: true
  ca_path:
    description: CA bundle (PEM) to verify the server's certificate with, instead of the system's.
    type: path
  url_username:
    description: User name for HTTP basic authentication (sent with every request).
    type: str
  url_password:
    description: Password for HTTP basic authentication; requires O(url_username).
    type: str
attributes:
  check_mode:
    support: full
    description: It only reads, so it runs in check mode as without it.
  diff_mode:
    support: none
    description: Nothing changes, so there is no diff.
notes:
  - Prometheus's own warnings about the query (for example a rate over a counter that does not look like one) are
    shown as task warnings.
  - Redirects are not followed; a redirect fails the task with the URL it points to.
seealso:
  - module: seed.fleet.haproxy_watch
  - name: Prometheus HTTP API, instant queries
    description: The request the module sends and the answers it reads.
    link: https://prometheus.io/docs/prometheus/latest/querying/api/#instant-queries
"""

EXAMPLES = r"""
- name: Before any traffic moves, check that Prometheus answers the canary query
  seed.fleet.prometheus_check:
    url: https://mon1:9090
    ca_path: /etc/prometheus/web/ca.crt
    url_username: prometheus
    url_password: "{{ vault_prometheus_password }}"
    mode: answers
    query: 'up{job="app", app="${app}", color="${color}"}'
    variables:
      app: demo
      color: green

- name: Canary analysis - 5xx ratio of the green servers at most 1 %, 5 samples 10 s apart, one breach allowed
  seed.fleet.prometheus_check:
    url: https://mon1:9090
    ca_path: /etc/prometheus/web/ca.crt
    url_username: prometheus
    url_password: "{{ vault_prometheus_password }}"
    query: >-
      sum by (server) (rate(haproxy_server_http_responses_total{proxy="${backend}", server=~".*_${color}", code="5xx"}[1m]))
      / sum by (server) (rate(haproxy_server_http_responses_total{proxy="${backend}", server=~".*_${color}"}[1m]))
    variables:
      backend: be_demo
      color: green
    max_value: 0.01
    samples: 5
    interval: 10
    failure_limit: 1
    no_data: breach

- name: At least 20 requests per second reach the new color
  seed.fleet.prometheus_check:
    url: http://127.0.0.1:9090
    query: 'sum(rate(haproxy_server_http_responses_total{proxy="be_demo", server=~".*_green"}[1m]))'
    min_value: 20
"""

RETURN = r"""
series:
  description:
    - The series of every sample taken, in order - a list per sample of its series (labels and value).
    - A sample that held no series (O(no_data=breach)) is an empty list.
  returned: when the query was judged
  type: list
  elements: list
  contains:
    labels:
      description: The series' labels (empty for a scalar or an aggregation without labels).
      type: dict
    value:
      description: The value, or null when it is not a finite number (C(NaN), C(+Inf), C(-Inf); RV(msg) shows which).
      type: float
  sample: [[{labels: {server: app1_green}, value: 0.0}, {labels: {server: app2_green}, value: 0.002}]]
breaches:
  description: How many samples breached.
  returned: when the query was judged
  type: int
  sample: 0
samples:
  description: How many samples were taken (fewer than O(samples) when the breaches decided the task early).
  returned: when the query was judged
  type: int
  sample: 3
query:
  description: The query as sent, placeholders replaced.
  returned: when the placeholders could be replaced
  type: str
  sample: 'max(rate(errors_total{server=~".*_green"}[1m]))'
msg:
  description: One line - the samples, their breaches, the threshold and the limit, and each sample's value
    (the worst of its series); when failing, the breaching values with their labels, or why nothing could be judged.
  returned: always
  type: str
  sample: "3 sample(s), 0 breach(es) of max 0.01 (limit 0): 0.0, 0.0, 0.0"
"""

import time

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.urls import open_url

from ansible_collections.seed.fleet.plugins.module_utils._prometheus import (
    PrometheusError,
    check_options,
    fetcher,
    render_query,
    run,
    url_secret,
)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            url=dict(type="str", required=True),
            query=dict(type="str", required=True),
            variables=dict(type="dict", default={}),
            mode=dict(type="str", choices=["judge", "answers"], default="judge"),
            max_value=dict(type="float"),
            min_value=dict(type="float"),
            samples=dict(type="int", default=1),
            interval=dict(type="float", default=2.0),
            failure_limit=dict(type="int", default=0),
            no_data=dict(type="str", choices=["fail", "breach"], default="fail"),
            timeout=dict(type="float", default=5),
            validate_certs=dict(type="bool", default=True),
            ca_path=dict(type="path"),
            url_username=dict(type="str"),
            url_password=dict(type="str", no_log=True),
        ),
        required_by=dict(url_password="url_username"),
        supports_check_mode=True,
    )
    p = module.params
    # A password in the URL is refused below; it must not show in `invocation` either.
    secret = url_secret(p["url"])
    if secret:
        module.no_log_values.add(secret)
    query = None
    try:
        query = render_query(p["query"], p["variables"])
        opts = check_options(mode=p["mode"], max_value=p["max_value"], min_value=p["min_value"], samples=p["samples"],
                             interval=p["interval"], failure_limit=p["failure_limit"], no_data=p["no_data"],
                             timeout=p["timeout"])
        fetch = fetcher(open_url, p["url"], timeout=opts.pop("timeout"), validate_certs=p["validate_certs"],
                        ca_path=p["ca_path"], url_username=p["url_username"], url_password=p["url_password"])
        result = run(fetch, query, p["url"], sleep=time.sleep, clock=time.monotonic, **opts)
    except (ValueError, PrometheusError) as exc:
        extra = {"query": query} if query is not None else {}
        module.fail_json(msg=str(exc), changed=False, **extra)
    for warning in result.pop("api_warnings"):
        module.warn("Prometheus: %s" % warning)
    if not result.pop("ok"):
        module.fail_json(changed=False, **result)
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
