"""Run seed.fleet against the ssh scenario's fleet the way production does (molecule/ssh).

    PYTHONPATH=tests/lib python3 tests/lib/ssh_fleet.py PLAYBOOK [ansible-playbook args...]

runs ``ansible-playbook PLAYBOOK -i inventories/example -i <overlay>
--vault-password-file inventories/example/.vault-pass.example ARGS`` as a user does:

* seed.fleet comes from the Galaxy tarball, built once per scenario and installed
  offline into an empty collections path (tests/lib/shipping.py); ``ansible-galaxy
  collection list`` must find that copy and only that copy;
* cwd is a directory outside the repository holding the user's ansible.cfg (only
  ``pipelining`` and ``gathering = smart``: no host_key_checking setting, so
  Ansible's default, checking ON, holds), HOME is an empty directory of the fleet,
  stdin is closed, no terminal, and no ANSIBLE_*/PYTHON*/MOLECULE_* setting of the
  caller reaches the run (Molecule's ansible.cfg turns host key checking off);
* the hosts are reached over SSH as ``deploy`` with sudo; the overlay (written by
  molecule/ssh/prepare.yml) only sets addresses, the SSH key and known_hosts paths
  and the generated admin key.

Output goes to stdout and to <fleet dir>/runs/<n>-<name>.log; the exit status is
ansible-playbook's (3 when the installed copy is not the one Ansible would use).
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import shipping

REPO = shipping.REPO
EXAMPLE = REPO / "inventories" / "example"
VAULT_PASS = EXAMPLE / ".vault-pass.example"
RECAP = re.compile(r"^(\S+)\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)
USER_CFG = """\
# The fleet user's ansible.cfg: nothing but speed. Host key checking keeps Ansible's default (on).
[defaults]
gathering = smart
forks = 10

[ssh_connection]
pipelining = True
"""


class NotTheInstalledCopy(RuntimeError):
    """seed.fleet would not come from the tarball installed for the fleet."""


def fleet_dir() -> Path:
    eph = os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY")
    if not eph:
        sys.exit("ssh_fleet: MOLECULE_EPHEMERAL_DIRECTORY is not set (run it from Molecule)")
    return Path(eph) / "fleet"


def user_dir(fleet: Path) -> Path:
    """The user's working directory (outside the repo), with their ansible.cfg."""
    user = fleet / "user"
    user.mkdir(mode=0o700, parents=True, exist_ok=True)
    (user / "ansible.cfg").write_text(USER_CFG)
    (fleet / "home").mkdir(mode=0o700, exist_ok=True)
    return user


def user_env(fleet: Path) -> dict[str, str]:
    return shipping.clean_env(fleet / "home", ANSIBLE_COLLECTIONS_PATH=str(fleet / "user" / "collections"),
                              ANSIBLE_FORCE_COLOR="0")


def collection(fleet: Path) -> Path:
    """seed.fleet from the Galaxy tarball in <fleet>/user/collections (built and installed once)."""
    collections = fleet / "user" / "collections"
    installed = collections / "ansible_collections" / shipping.GALAXY["namespace"] / shipping.GALAXY["name"]
    user = user_dir(fleet)
    env = user_env(fleet)
    if not (installed / "MANIFEST.json").is_file():
        tarball = shipping.build_tarball(fleet / "build")
        shipping.install_tarball(tarball, collections, env)
    r = shipping.run([shipping.tool("ansible-galaxy"), "collection", "list", shipping.FQCN, "--format", "json"],
                     cwd=user, env=env)
    found = sorted(path for path, colls in (json.loads(r.stdout or "{}") if r.returncode == 0 else {}).items()
                   if shipping.FQCN in colls)
    if found != [str(collections / "ansible_collections")]:
        raise NotTheInstalledCopy(f"{shipping.FQCN} resolves to {found or 'nothing'}, not only to {collections}\n"
                                  f"{r.stderr}")
    return installed


def command(playbook: str, args: list[str], fleet: Path, vault: Path | None = None,
            tool: str = "ansible-playbook") -> list[str]:
    """ansible-playbook PLAYBOOK (or, with tool="ansible", ansible PATTERN) on the example plus the overlay."""
    return [
        shipping.tool(tool), playbook,
        "-i", str(EXAMPLE), "-i", str(fleet / "overlay"),
        "--vault-password-file", str(vault or VAULT_PASS),
        *args,
    ]


def run(playbook: str, args: list[str], vault: Path | None = None, timeout: float = 1800,
        on_line=None, tool: str = "ansible-playbook") -> subprocess.CompletedProcess:
    """One ansible-playbook run; returns its output (stdout+stderr), rc and wall_seconds.
    on_line(line) is called for every output line as it comes (fault injection)."""
    fleet = fleet_dir()
    collection(fleet)
    runs = fleet / "runs"
    runs.mkdir(exist_ok=True)
    short = playbook.rsplit(".", 1)[-1] if playbook.startswith("seed.fleet.") else Path(playbook).stem
    short = f"adhoc-{short}" if tool == "ansible" else short
    log = runs / f"{len(list(runs.glob('*.log'))):02d}-{short}.log"
    cmd = command(playbook, args, fleet, vault, tool)
    started = time.monotonic()
    lines = []
    child_args = {"cwd": user_dir(fleet), "env": user_env(fleet), "stdout": subprocess.PIPE,
                  "stderr": subprocess.STDOUT, "stdin": subprocess.DEVNULL, "text": True, "start_new_session": True}
    with log.open("w") as fh, subprocess.Popen(cmd, **child_args) as child:
        fh.write(f"# {' '.join(cmd)}\n")
        for line in child.stdout:  # the log grows while the run goes on
            fh.write(line)
            fh.flush()
            lines.append(line)
            if on_line:
                on_line(line)
            if time.monotonic() - started > timeout:
                child.kill()
        rc = child.wait()
        took = time.monotonic() - started
        fh.write(f"# rc={rc} wall={took:.1f}s\n")
    proc = subprocess.CompletedProcess(cmd, rc, "".join(lines), None)
    proc.wall_seconds = took  # type: ignore[attr-defined]
    proc.log = log  # type: ignore[attr-defined]
    return proc


def recap(output: str) -> dict[str, dict[str, int]]:
    return {h: {"ok": int(o), "changed": int(c), "unreachable": int(u), "failed": int(f)}
            for h, o, c, u, f in RECAP.findall(output)}


def main() -> int:
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    try:
        proc = run(sys.argv[1], sys.argv[2:])
    except NotTheInstalledCopy as exc:
        print(exc)
        return 3
    sys.stdout.write(proc.stdout)
    sys.stdout.write(f"\nWALL_SECONDS={proc.wall_seconds:.1f}\n")  # type: ignore[attr-defined]
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main())
