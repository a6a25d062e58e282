"""blue_green's host and server lists keep the inventory's order, whatever the hash seed.

ansible-core's ``difference`` filter goes through a ``set``: the order of its result
changes with PYTHONHASHSEED, i.e. from one ansible-playbook run to the next. The
pre-switch hook's host (``_blue_green_hook_host``: the first app host that passed the
gate) was taken from such a list and so ran on app2 in some runs (CI, stop 31). This
check renders the role's vars under several hash seeds and wants one answer.
"""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BIN = REPO / ".venv" / "bin"
HOSTS = ["app%d" % i for i in range(1, 9)]


def _probe(tmp_path: Path, seed: int) -> dict:
    inventory = tmp_path / "hosts.ini"
    inventory.write_text("[app]\n%s\n" % "\n".join(HOSTS))
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0",
               PYTHONHASHSEED=str(seed), PATH=f"{BIN}:{os.environ.get('PATH', '')}")
    run = subprocess.run([str(BIN / "ansible-playbook"), "-i", str(inventory),
                          "-e", "probe_out=%s" % (tmp_path / "out.json"),
                          str(REPO / "tests/checks/playbooks/list_order_probe.yml")],
                         cwd=REPO, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=300,
                         check=False)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    return json.loads((tmp_path / "out.json").read_text())


def test_hook_host_and_good_servers_keep_inventory_order(tmp_path):
    want = {"hook_host": "app1", "good_servers": ["%s_green" % h for h in HOSTS if h != "app3"]}
    for seed in (1, 2, 3, 4, 5, 6):
        assert _probe(tmp_path, seed) == want, "PYTHONHASHSEED=%d" % seed
