"""seed.fleet as users get it: the Galaxy tarball, installed, run by ansible-runner like AWX.

One place for what tests/checks/test_galaxy_build.py, tests/checks/test_ansible_runner.py
and the Molecule scenario molecule/ssh (tests/lib/ssh_fleet.py and its tests) share:

* build_tarball(): ``ansible-galaxy collection build`` of the tracked and new (not
  ignored) files, so no venv, cache, lab state or local junk can reach the artifact;
* install_tarball(): the tarball installed offline into a collections path;
* clean_env(): a user's environment: a HOME we choose, no ANSIBLE_*/PYTHON* from the
  developer's shell (no repo ansible.cfg, no PYTHONPATH to the repo's collection
  link), no TERM; community.docker & co. come from the pinned ``ansible`` package;
* awx_private_data_dir(): a private data dir laid out like the one AWX hands to
  ansible-runner (project/, inventory/hosts as AWX writes it, env/extravars,
  env/envvars, env/settings, requirements_collections/);
* runner_job(): ``ansible-runner run`` on it with HOME empty, stdin closed and no
  controlling terminal; its status, rc, job events and stdout;
* recap(): a PLAY RECAP as {host: {ok: n, changed: n, ...}}.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = REPO / ".venv" / "bin"
GALAXY = yaml.safe_load((REPO / "galaxy.yml").read_text())
FQCN = f"{GALAXY['namespace']}.{GALAXY['name']}"


def tool(name: str) -> str:
    """A console script of the venv (falls back to PATH)."""
    cand = VENV_BIN / name
    return str(cand) if cand.exists() else shutil.which(name) or name


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    """Like a user's shell with HOME=home; extra entries are added on top."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "PYTHON", "MOLECULE_"))}
    env.pop("TERM", None)
    env.update(HOME=str(home), PATH=f"{VENV_BIN}:{env.get('PATH', '/usr/bin:/bin')}", ANSIBLE_NOCOLOR="1")
    env.update(extra)
    return env


def run(cmd, cwd: Path, env: dict[str, str], timeout: int = 180) -> subprocess.CompletedProcess:
    """A command with no terminal: stdin closed, its own session, output captured."""
    return subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, start_new_session=True, timeout=timeout, check=False)


def build_tarball(work: Path) -> Path:
    """Build <namespace>-<name>-<version>.tar.gz from a copy of the tracked and new files."""
    src = work / "src"
    files = subprocess.run(["git", "-C", str(REPO), "ls-files", "-co", "--exclude-standard", "-z"],
                           capture_output=True, check=True).stdout.split(b"\0")
    for rel in filter(None, (f.decode() for f in files)):
        if (REPO / rel).is_file():
            (src / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / rel, src / rel)
    r = run([tool("ansible-galaxy"), "collection", "build", "--force", "--output-path", work / "dist", src],
            cwd=work, env=clean_env(work))
    out = work / "dist" / f"{GALAXY['namespace']}-{GALAXY['name']}-{GALAXY['version']}.tar.gz"
    if r.returncode != 0 or not out.is_file():
        raise RuntimeError(f"ansible-galaxy collection build failed (rc {r.returncode}):\n{r.stdout}{r.stderr}")
    return out


def install_tarball(tarball: Path, collections: Path, env: dict[str, str]) -> Path:
    """Install offline into collections (dependencies: the pinned ``ansible`` package); the collection dir."""
    r = run([tool("ansible-galaxy"), "collection", "install", "--offline", "-p", collections, tarball],
            cwd=collections.parent, env=env)
    path = collections / "ansible_collections" / GALAXY["namespace"] / GALAXY["name"]
    if r.returncode != 0 or not (path / "MANIFEST.json").is_file():
        raise RuntimeError(f"ansible-galaxy collection install failed (rc {r.returncode}):\n{r.stdout}{r.stderr}")
    return path


def recap(output: str) -> dict[str, dict[str, int]]:
    """The PLAY RECAP of an ansible-playbook run: {host: {"ok": n, "changed": n, ...}}."""
    part = output.rsplit("PLAY RECAP", 1)[-1] if "PLAY RECAP" in output else ""
    return {m.group(1): {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", m.group(2))}
            for m in re.finditer(r"^(\S+)\s+:\s+(ok=.*)$", part, re.M)}


def awx_inventory_script(inventory: dict) -> str:
    """A YAML-style inventory dict as AWX writes it for a job: an executable that prints script JSON."""
    data: dict = {"_meta": {"hostvars": {}}}

    def walk(name: str, group: dict) -> None:
        group = group or {}
        hosts = group.get("hosts") or {}
        children = group.get("children") or {}
        data[name] = {"hosts": sorted(hosts), "children": sorted(children), "vars": group.get("vars") or {}}
        for host, hostvars in hosts.items():
            data["_meta"]["hostvars"].setdefault(host, {}).update(hostvars or {})
        for child, sub in children.items():
            walk(child, sub)

    walk("all", inventory["all"])
    return "#! /usr/bin/env python3\n# -*- coding: utf-8 -*-\nprint(%r)\n" % json.dumps(data)


def awx_private_data_dir(base: Path, *, project: dict[str, str], inventory: dict, extravars: dict,
                         collection: Path, envvars: dict | None = None, settings: dict | None = None) -> Path:
    """A private data dir shaped like AWX's /runner; the installed collection is copied into
    requirements_collections/ as AWX's project update does. Returns the directory."""
    pdd = base / "pdd"
    for rel, text in project.items():
        (pdd / "project" / rel).parent.mkdir(parents=True, exist_ok=True)
        (pdd / "project" / rel).write_text(text)
    shutil.copytree(collection, pdd / "requirements_collections" / "ansible_collections"
                    / GALAXY["namespace"] / GALAXY["name"])
    (pdd / "inventory").mkdir()
    hosts = pdd / "inventory" / "hosts"
    hosts.write_text(awx_inventory_script(inventory))
    hosts.chmod(stat.S_IRUSR | stat.S_IWUSR | stat.S_IXUSR)
    (pdd / "env").mkdir()
    (pdd / "env" / "extravars").write_text(yaml.safe_dump(extravars))
    (pdd / "env" / "envvars").write_text(yaml.safe_dump({
        # As AWX: the job's requirements; the image's own collections (here: the
        # pinned ``ansible`` package) are found on Python's path.
        "ANSIBLE_COLLECTIONS_PATH": str(pdd / "requirements_collections"),
        "ANSIBLE_FORCE_COLOR": "False",
        "ANSIBLE_HOST_KEY_CHECKING": "False",
        "ANSIBLE_RETRY_FILES_ENABLED": "False",
        **(envvars or {}),
    }))
    (pdd / "env" / "settings").write_text(yaml.safe_dump({
        "idle_timeout": 300, "job_timeout": 600, "pexpect_timeout": 5, "suppress_ansible_output": True,
        **(settings or {}),
    }))
    return pdd


@dataclass
class Job:
    """What AWX reads back from ansible-runner's artifacts."""

    status: str
    rc: int
    stdout: str
    events: list[dict] = field(default_factory=list)

    def results(self, task: str | None = None, action: str | None = None, event: str = "runner_on_ok") -> list[dict]:
        """event_data of the job's events of this kind, for a task name and/or a module (FQCN)."""
        return [e["event_data"] for e in self.events if e.get("event") == event
                and (task is None or e["event_data"].get("task") == task)
                and (action is None or e["event_data"].get("resolved_action") == action)]


def runner_job(pdd: Path, ident: str, playbook: str, cmdline: str | None = None, timeout: int = 600) -> Job:
    """``ansible-runner run`` as AWX starts it: HOME=<pdd>/../home (empty at first), no terminal."""
    home = pdd.parent / "home"
    home.mkdir(exist_ok=True)
    cmd = [tool("ansible-runner"), "run", pdd, "-p", playbook, "--ident", ident]
    if cmdline:
        cmd += ["--cmdline", cmdline]
    r = run(cmd, cwd=pdd.parent, env=clean_env(home), timeout=timeout)
    art = pdd / "artifacts" / ident
    status = (art / "status").read_text().strip() if (art / "status").exists() else \
        f"no status (runner rc {r.returncode}: {r.stdout[-500:]}{r.stderr[-1500:]})"
    rc = int((art / "rc").read_text()) if (art / "rc").exists() else -1
    files = sorted((art / "job_events").glob("*.json"), key=lambda p: int(p.name.split("-")[0]))
    stdout = (art / "stdout").read_text() if (art / "stdout").exists() else ""
    return Job(status, rc, stdout, [json.loads(p.read_text()) for p in files])
