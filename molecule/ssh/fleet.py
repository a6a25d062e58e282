"""Run a seed.fleet playbook against the ssh scenario's fleet the way production does.

    python3 fleet.py PLAYBOOK [ansible-playbook args...]

runs ``ansible-playbook PLAYBOOK -i inventories/example -i <overlay>
--vault-password-file inventories/example/.vault-pass.example ARGS`` from the
repository root over SSH (user deploy, become via sudo, pipelining) with host key
checking ON: the environment is cleaned of Molecule's ANSIBLE_* settings (its
ansible.cfg turns host key checking off), the repository's ansible.cfg is used and
ANSIBLE_HOST_KEY_CHECKING=True overrides its ``host_key_checking = False``.
The overlay (written by prepare.yml) only sets the SSH key and known_hosts paths and
the generated admin key. Output goes to stdout and to <fleet dir>/runs/<n>-<name>.log;
the exit status is ansible-playbook's.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "inventories" / "example"


def fleet_dir() -> Path:
    eph = os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY")
    if not eph:
        sys.exit("fleet.py: MOLECULE_EPHEMERAL_DIRECTORY is not set (run it from Molecule)")
    return Path(eph) / "fleet"


def clean_env(fleet: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "MOLECULE_"))}
    venv_bin = REPO / ".venv" / "bin"
    env["PATH"] = f"{venv_bin}:{env.get('PATH', '')}"
    env.update({
        "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
        "ANSIBLE_COLLECTIONS_PATH": str(REPO / ".cache" / "collections"),
        "ANSIBLE_HOST_KEY_CHECKING": "True",
        "ANSIBLE_SSH_CONTROL_PATH_DIR": str(fleet / "cp"),
        "ANSIBLE_FORCE_COLOR": "0",
        "ANSIBLE_NOCOLOR": "1",
    })
    return env


def command(playbook: str, args: list[str], fleet: Path, vault: Path | None = None) -> list[str]:
    return [
        str(REPO / ".venv" / "bin" / "ansible-playbook"), playbook,
        "-i", str(EXAMPLE), "-i", str(fleet / "overlay"),
        "--vault-password-file", str(vault or EXAMPLE / ".vault-pass.example"),
        *args,
    ]


def run(playbook: str, args: list[str], vault: Path | None = None) -> subprocess.CompletedProcess:
    fleet = fleet_dir()
    (fleet / "cp").mkdir(parents=True, exist_ok=True)
    runs = fleet / "runs"
    runs.mkdir(exist_ok=True)
    short = playbook.rsplit(".", 1)[-1] if playbook.startswith("seed.fleet.") else Path(playbook).stem
    name = f"{len(list(runs.glob('*.log'))):02d}-{short}"
    log = runs / f"{name}.log"
    cmd = command(playbook, args, fleet, vault)
    started = time.monotonic()
    lines = []
    child_args = {"cwd": REPO, "env": clean_env(fleet), "stdout": subprocess.PIPE, "stderr": subprocess.STDOUT,
                  "stdin": subprocess.DEVNULL, "text": True}
    with log.open("w") as fh, subprocess.Popen(cmd, **child_args) as child:
        fh.write(f"# {' '.join(cmd)}\n")
        for line in child.stdout:  # the log grows while the run goes on
            fh.write(line)
            fh.flush()
            lines.append(line)
        rc = child.wait()
        took = time.monotonic() - started
        fh.write(f"# rc={rc} wall={took:.1f}s\n")
    proc = subprocess.CompletedProcess(cmd, rc, "".join(lines), None)
    proc.wall_seconds = took  # type: ignore[attr-defined]
    return proc


def main() -> int:
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    proc = run(sys.argv[1], sys.argv[2:])
    sys.stdout.write(proc.stdout)
    sys.stdout.write(f"\nWALL_SECONDS={proc.wall_seconds:.1f}\n")  # type: ignore[attr-defined]
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main())
