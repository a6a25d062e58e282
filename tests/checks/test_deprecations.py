"""Deprecations are failures: nothing of ours may trigger an ansible-core deprecation.

On the newest core (.venv) with ANSIBLE_DEPRECATION_WARNINGS=true:

* ``ansible-playbook --syntax-check`` of every playbook (playbooks/, molecule/*/),
* a real controller-only run of tests/checks/playbooks/deprecation_probe.yml (every
  filter, the load_balancer stats hash, seed.fleet.http_check against a local server),

and the output is scanned by tests/lib/deprecations.py: a deprecation whose origin is a
file of this repository (or that names seed.fleet) fails; deprecations of dependencies
are not ours. ``make test`` also scans the Molecule logs of the same run after the
scenarios (stage molecule-deprecations), which covers the roles on real hosts.
A canary proves the scanner sees a deprecation in a file laid out like ours.
"""
from __future__ import annotations

import http.server
import os
import subprocess
import threading
from pathlib import Path

import pytest

import deprecations  # tests/lib, via pytest.ini

REPO = Path(__file__).resolve().parents[2]

BIN = REPO / ".venv" / "bin"
PROBE = REPO / "tests" / "checks" / "playbooks" / "deprecation_probe.yml"


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_DEPRECATION_WARNINGS="true",
               ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", PATH=f"{BIN}:{env.get('PATH', '')}")
    return env


def _play(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "ansible-playbook"), *args], cwd=cwd, env=_env(), capture_output=True,
                          text=True, stdin=subprocess.DEVNULL, timeout=300, check=False)


def _playbooks() -> list[Path]:
    found = sorted((REPO / "playbooks").glob("*.yml"))
    for scenario in sorted((REPO / "molecule").glob("*/molecule.yml")):
        found += sorted(p for p in scenario.parent.glob("*.yml") if p.name != "molecule.yml")
    return found


@pytest.mark.parametrize("playbook", _playbooks(), ids=lambda p: str(p.relative_to(REPO)))
def test_syntax_check_has_no_deprecation_of_ours(playbook: Path):
    r = _play("--syntax-check", "-i", str(REPO / "inventories" / "lab" / "hosts.yml"), str(playbook))
    out = r.stdout + r.stderr
    assert r.returncode == 0, out[-3000:]
    mine = deprecations.ours(out)
    assert not mine, "deprecations caused by our files:\n\n" + "\n\n".join(mine)


class _Healthy(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's naming)
        body = b"ok\n"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_probe_run_has_no_deprecation_of_ours(tmp_path: Path):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Healthy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        inv = tmp_path / "hosts.yml"
        inv.write_text("all:\n  hosts:\n    probe:\n      ansible_connection: local\n"
                       f"      ansible_python_interpreter: {BIN / 'python'}\n")
        r = _play("-i", str(inv), "-e", f"probe_port={server.server_address[1]}", str(PROBE))
    finally:
        server.shutdown()
    out = r.stdout + r.stderr
    assert r.returncode == 0, out[-3000:]
    assert "probe" in out and "failed=0" in out
    mine = deprecations.ours(out)
    assert not mine, "deprecations caused by our files:\n\n" + "\n\n".join(mine)


def test_canary_a_deprecation_in_our_layout_is_seen(tmp_path: Path):
    """A conditional wrapped in {{ }} is deprecated on 2.19+; in a repo-shaped tree it counts as ours,
    seen from this repository it is someone else's."""
    book = tmp_path / "playbooks" / "canary.yml"
    book.parent.mkdir()
    book.write_text("---\n- name: Canary\n  hosts: localhost\n  gather_facts: false\n  tasks:\n"
                    "    - name: Deprecated conditional\n      ansible.builtin.debug:\n        msg: hi\n"
                    "      when: \"{{ 1 == 1 }}\"\n")
    r = _play("-i", "localhost,", "-c", "local", "-e", f"ansible_python_interpreter={BIN / 'python'}",
              str(book), cwd=tmp_path)
    out = r.stdout + r.stderr
    assert "[DEPRECATION WARNING]" in out, out[-3000:]
    assert deprecations.ours(out, repo=tmp_path), out[-3000:]
    assert not deprecations.ours(out), "a file outside this repository was counted as ours"


def test_scanner_on_text():
    repo = Path("/srv/seed")
    theirs = ("[DEPRECATION WARNING]: Something in a dependency.\n\n"
              "Origin: /venv/lib/python3.13/site-packages/ansible_collections/community/x/plugins/y.py:3:1\n\n"
              "This feature will be removed from collection 'community.x' version 9.0.0.\n")
    mine = ("[DEPRECATION WARNING]: Conditionals should not be surrounded by templating delimiters.\n\n"
            "Origin: /srv/seed/roles/baseline/tasks/main.yml:12:9\n\nok: [h1]\n")
    assert deprecations.blocks(theirs + mine) and len(deprecations.blocks(theirs + mine)) == 2
    assert deprecations.ours(theirs, repo=repo) == []
    assert len(deprecations.ours(theirs + mine, repo=repo)) == 1
    named = "[DEPRECATION WARNING]: The seed.fleet.old filter is deprecated.\n"
    assert deprecations.ours(named, repo=repo)
