"""monitoring_server probes every app of the catalogue through every load balancer (issue 17).

Renders the role's file_sd template with two LBs and a two-app catalogue (ansible-playbook,
the role's defaults): one target per LB and app port, with the app's module and labels;
without a catalogue, the one LB probe per LB of monitoring_server_blackbox_lb_url.
"""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BIN = REPO / ".venv" / "bin"
CATALOGUE = [
    {"name": "demo", "image": "seed-fleet/demo-app", "blue_port": 8081, "green_port": 8082},
    {"name": "api", "image": "seed-fleet/demo-app", "hosts": ["api.test"], "paths": ["/v1"], "blue_port": 8083,
     "green_port": 8084, "frontend_port": None, "tls": {"certificate": "x"}},
]


def _targets(tmp_path: Path, extra: dict) -> list:
    inventory = tmp_path / "hosts.ini"
    inventory.write_text("[lb]\nlb1 monitoring_scrape_address=10.0.0.1\nlb2\n")
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               PATH=f"{BIN}:{os.environ.get('PATH', '')}")
    out = tmp_path / "targets.json"
    run = subprocess.run([str(BIN / "ansible-playbook"), "-i", str(inventory), "-e", json.dumps(dict(extra, probe_out=str(out))),
                          str(REPO / "tests/checks/playbooks/blackbox_targets_probe.yml")],
                         cwd=REPO, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=300,
                         check=False)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    return json.loads(out.read_text())


def test_one_target_per_lb_and_app_port(tmp_path):
    got = [(t["targets"][0], t["labels"]) for t in _targets(tmp_path, {"fleet_apps": CATALOGUE})]
    want = []
    for lb, address in (("lb1", "10.0.0.1"), ("lb2", "lb2")):
        want += [("http://%s:80/" % address, {"__param_module": "app_demo_http", "lb": lb, "app": "demo", "probe": "app_via_lb"}),
                 ("https://%s:443/v1" % address, {"__param_module": "app_api_https", "lb": lb, "app": "api", "probe": "app_via_lb"})]
    assert got == want


def test_without_a_catalogue_one_lb_probe_per_lb(tmp_path):
    got = [(t["targets"][0], t["labels"]) for t in _targets(tmp_path, {})]
    assert got == [("http://10.0.0.1/", {"__param_module": "http_lb", "lb": "lb1", "probe": "app_via_lb"}),
                   ("http://lb2/", {"__param_module": "http_lb", "lb": "lb2", "probe": "app_via_lb"})]
