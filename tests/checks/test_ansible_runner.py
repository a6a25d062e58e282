"""AWX runs jobs through ansible-runner: do the same, the way AWX lays it out.

A private data dir like AWX's (project/, inventory/hosts as AWX writes it,
env/extravars, env/envvars, env/settings), the collection installed from the built
tarball into requirements_collections/ (as AWX's project update does), HOME pointed
at an empty temp dir, no terminal (stdin closed, new session), no ANSIBLE_*/PYTHONPATH
from the developer's shell and a cwd outside the repository (tests/lib/shipping.py).
Runs, on the controller alone:

* a tiny project playbook: ``seed.fleet.http_check`` gates on a local HTTP server
  (127.0.0.1 only) and must pass, with the result read back from the job events;
* the same project with a bad value for a ``seed.fleet.baseline`` option: the role's
  argument spec must stop the job before any task of the role runs.

The real deploy and rollback through ansible-runner, against real hosts, run in the
Molecule scenario molecule/ssh (tests/test_ssh.py, the AWX tests).
"""
from __future__ import annotations

import http.server
import json
import threading
from pathlib import Path

import pytest
import shipping  # tests/lib, on sys.path through pytest.ini
import yaml

REPO = Path(__file__).resolve().parents[2]

SMOKE = """\
---
- name: seed.fleet through ansible-runner
  hosts: all
  gather_facts: false
  tasks:
    - name: Health gate against the job's local HTTP server
      seed.fleet.http_check:
        url: "{{ smoke_url }}"
        successes: 2
        interval: 0.1
        deadline: 15
      register: __smoke_check

    - name: The gate really ran
      ansible.builtin.assert:
        that:
          - __smoke_check.successes == 2
          - __smoke_check.status == 200

    - name: A seed.fleet role from the installed collection (its argument spec first)
      ansible.builtin.include_role:
        name: seed.fleet.baseline
      when: smoke_bad_role_input | default(false) | bool
"""


class _Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server API)
        body = b"ok\n"
        self.send_response(200 if self.path == "/healthz" else 404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def health_url():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/healthz"
    server.shutdown()


@pytest.fixture(scope="module")
def pdd(tmp_path_factory, health_url) -> Path:
    """The private data dir, shaped like AWX's /runner."""
    base = tmp_path_factory.mktemp("runner")
    (base / "home").mkdir()
    tarball = shipping.build_tarball(base / "build")
    collection = shipping.install_tarball(tarball, base / "collections", shipping.clean_env(base / "home"))
    return shipping.awx_private_data_dir(
        base, project={"smoke.yml": SMOKE}, collection=collection,
        inventory={"all": {"hosts": {"localhost": {
            "ansible_connection": "local",
            "ansible_python_interpreter": str(shipping.VENV_BIN / "python"),
        }}}},
        extravars={"smoke_url": health_url},
        settings={"idle_timeout": 60, "job_timeout": 90})


def test_smoke_job(pdd: Path):
    job = shipping.runner_job(pdd, "smoke", "smoke.yml", timeout=120)
    assert job.status == "successful" and job.rc == 0, job.stdout[-3000:]
    ok = job.results("Health gate against the job's local HTTP server")
    assert ok, "no result event for the http_check task"
    res = ok[0]["res"]
    assert res["successes"] == 2 and res["attempts"] >= 2 and res["last_failure"] is None, res
    assert "seed.fleet.http_check" in ok[0].get("resolved_action", "seed.fleet.http_check")
    # Ansible used the HOME we gave it, not the developer's.
    assert (pdd.parent / "home" / ".ansible").is_dir()


def _bool_option(role: str) -> str:
    spec = yaml.safe_load((REPO / "roles" / role / "meta" / "argument_specs.yml").read_text())
    opts = spec["argument_specs"]["main"]["options"]
    return next(k for k, v in opts.items() if (v or {}).get("type") == "bool")


def test_role_argument_spec_enforced(pdd: Path):
    option = _bool_option("baseline")
    job = shipping.runner_job(pdd, "badinput", "smoke.yml", timeout=120,
                              cmdline=f"-e smoke_bad_role_input=true -e {option}=not-a-bool")
    assert job.status == "failed" and job.rc != 0, job.stdout[-3000:]
    failed = [e for e in job.events if e.get("event") == "runner_on_failed"]
    assert failed, job.stdout[-3000:]
    data = failed[0]["event_data"]
    assert "argument" in data.get("task", "").lower() or "argument" in json.dumps(data["res"]).lower(), data
    assert option in json.dumps(data["res"]), data["res"]
    started = [e["event_data"].get("task") for e in job.events if e.get("event") == "playbook_on_task_start"
               and e["event_data"].get("role") == "baseline"]
    assert len(started) <= 1, f"baseline tasks ran despite bad input: {started}"
