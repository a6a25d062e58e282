"""AWX runs jobs through ansible-runner: do the same, the way AWX lays it out.

A private data dir like AWX's (project/, inventory/, env/extravars, env/envvars,
env/settings), the collection installed from the built tarball into
requirements_collections/ (as AWX's project update does), HOME pointed at an empty
temp dir, no terminal (stdin closed, new session), no ANSIBLE_*/PYTHONPATH from the
developer's shell and a cwd outside the repository. Runs:

* a tiny project playbook: ``seed.fleet.http_check`` gates on a local HTTP server
  (127.0.0.1 only) and must pass, with the result read back from the job events;
* the same project with a bad value for a ``seed.fleet.baseline`` option: the role's
  argument spec must stop the job before any task of the role runs;
* playbooks/deploy.yml and playbooks/rollback.yml (when they exist): ``--syntax-check``
  through the runner with the survey's variables as extravars.
"""
from __future__ import annotations

import http.server
import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = REPO / ".venv" / "bin"
GALAXY = yaml.safe_load((REPO / "galaxy.yml").read_text())

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


def _bin(name: str) -> str:
    cand = VENV_BIN / name
    return str(cand) if cand.exists() else shutil.which(name) or name


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "PYTHON"))}
    env.update(HOME=str(home), PATH=f"{VENV_BIN}:{env.get('PATH', '/usr/bin:/bin')}")
    env.pop("TERM", None)
    return env


@pytest.fixture(scope="module")
def pdd(tmp_path_factory, health_url) -> Path:
    """The private data dir, shaped like AWX's /runner."""
    base = tmp_path_factory.mktemp("runner")
    home = base / "home"
    home.mkdir()
    pdd = base / "pdd"
    (pdd / "project").mkdir(parents=True)
    (pdd / "inventory").mkdir()
    (pdd / "env").mkdir()
    # The project: the repo's playbooks (as a project sync would check them out) + the smoke one.
    shutil.copytree(REPO / "playbooks", pdd / "project" / "playbooks")
    (pdd / "project" / "smoke.yml").write_text(SMOKE)
    # The collection from the Galaxy artifact, as AWX installs collections/requirements.yml.
    build = base / "build"
    files = subprocess.run(["git", "-C", str(REPO), "ls-files", "-co", "--exclude-standard", "-z"],
                           capture_output=True, check=True).stdout.split(b"\0")
    for rel in filter(None, (f.decode() for f in files)):
        if (REPO / rel).is_file():
            (build / "src" / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / rel, build / "src" / rel)
    env = _env(home)
    r = subprocess.run([_bin("ansible-galaxy"), "collection", "build", "--output-path", str(build), str(build / "src")],
                       cwd=base, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120, check=False)
    assert r.returncode == 0, r.stdout + r.stderr
    tarball = build / f"{GALAXY['namespace']}-{GALAXY['name']}-{GALAXY['version']}.tar.gz"
    r = subprocess.run([_bin("ansible-galaxy"), "collection", "install", "--offline", "-p",
                        str(pdd / "requirements_collections"), str(tarball)],
                       cwd=base, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120, check=False)
    assert r.returncode == 0, r.stdout + r.stderr
    (pdd / "inventory" / "hosts.yml").write_text(yaml.safe_dump({"all": {"hosts": {"localhost": {
        "ansible_connection": "local",
        "ansible_python_interpreter": str(VENV_BIN / "python"),
    }}}}))
    (pdd / "env" / "extravars").write_text(yaml.safe_dump({"smoke_url": health_url}))
    (pdd / "env" / "envvars").write_text(yaml.safe_dump({
        "ANSIBLE_COLLECTIONS_PATH": str(pdd / "requirements_collections"),
        "ANSIBLE_FORCE_COLOR": "False",
        "ANSIBLE_HOST_KEY_CHECKING": "False",
    }))
    (pdd / "env" / "settings").write_text(yaml.safe_dump({
        "idle_timeout": 60, "job_timeout": 90, "pexpect_timeout": 5, "suppress_ansible_output": True,
    }))
    return pdd


def _run(pdd: Path, ident: str, playbook: str, cmdline: str | None = None) -> tuple[str, int, list[dict], str]:
    home = pdd.parent / "home"
    cmd = [_bin("ansible-runner"), "run", str(pdd), "-p", playbook, "--ident", ident]
    if cmdline:
        cmd += ["--cmdline", cmdline]
    r = subprocess.run(cmd, cwd=pdd.parent, env=_env(home), capture_output=True, text=True,
                       stdin=subprocess.DEVNULL, start_new_session=True, timeout=120, check=False)
    art = pdd / "artifacts" / ident
    status = (art / "status").read_text().strip() if (art / "status").exists() else f"no status (runner rc {r.returncode}: {r.stderr[-500:]})"
    rc = int((art / "rc").read_text()) if (art / "rc").exists() else -1
    event_files = sorted((art / "job_events").glob("*.json"), key=lambda p: int(p.name.split("-")[0]))
    events = [json.loads(p.read_text()) for p in event_files]
    stdout = (art / "stdout").read_text() if (art / "stdout").exists() else ""
    return status, rc, events, stdout


def test_smoke_job(pdd: Path):
    status, rc, events, stdout = _run(pdd, "smoke", "smoke.yml")
    assert status == "successful" and rc == 0, stdout[-3000:]
    ok = [e for e in events if e.get("event") == "runner_on_ok" and e["event_data"].get("task") == "Health gate against the job's local HTTP server"]
    assert ok, "no result event for the http_check task"
    res = ok[0]["event_data"]["res"]
    assert res["successes"] == 2 and res["attempts"] >= 2 and res["last_failure"] is None, res
    assert "seed.fleet.http_check" in ok[0]["event_data"].get("resolved_action", "seed.fleet.http_check")
    # Ansible used the HOME we gave it, not the developer's.
    assert (pdd.parent / "home" / ".ansible").is_dir()


def _bool_option(role: str) -> str:
    spec = yaml.safe_load((REPO / "roles" / role / "meta" / "argument_specs.yml").read_text())
    opts = spec["argument_specs"]["main"]["options"]
    return next(k for k, v in opts.items() if (v or {}).get("type") == "bool")


def test_role_argument_spec_enforced(pdd: Path):
    option = _bool_option("baseline")
    status, rc, events, stdout = _run(pdd, "badinput", "smoke.yml",
                                      cmdline=f"-e smoke_bad_role_input=true -e {option}=not-a-bool")
    assert status == "failed" and rc != 0, stdout[-3000:]
    failed = [e for e in events if e.get("event") == "runner_on_failed"]
    assert failed, stdout[-3000:]
    data = failed[0]["event_data"]
    assert "argument" in data.get("task", "").lower() or "argument" in json.dumps(data["res"]).lower(), data
    assert option in json.dumps(data["res"]), data["res"]
    started = [e["event_data"].get("task") for e in events if e.get("event") == "playbook_on_task_start"
               and e["event_data"].get("role") == "baseline"]
    assert len(started) <= 1, f"baseline tasks ran despite bad input: {started}"


@pytest.mark.parametrize("playbook", ["deploy.yml", "rollback.yml"])
def test_deploy_rollback_through_runner(pdd: Path, playbook: str):
    if not (REPO / "playbooks" / playbook).is_file():
        pytest.skip(f"playbooks/{playbook} not written yet")
    status, rc, dummy, stdout = _run(pdd, f"syntax-{playbook[:-4]}", f"playbooks/{playbook}",
                                     cmdline="--syntax-check -e blue_green_app=demo -e blue_green_version=v1")
    assert status == "successful" and rc == 0, stdout[-3000:]


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
