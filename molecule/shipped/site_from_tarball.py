"""seed.fleet.site as a user runs it: from the Galaxy tarball, outside the repository.

usage: PYTHONPATH=tests/lib python3 molecule/shipped/site_from_tarball.py INVENTORY
(converge.yml sets PYTHONPATH to the repo's tests/lib, where shipping.py lives)

1. ``ansible-galaxy collection build`` of the repository (tracked and new files);
2. the tarball installed offline into an empty collections path in a temporary
   directory (community.docker & co. come from the pinned ``ansible`` package);
3. ``ansible-galaxy collection list`` there must show that copy and only that copy;
4. ``ansible-playbook seed.fleet.site -i INVENTORY`` with that directory as cwd,
   HOME an empty temporary directory, stdin closed, no controlling terminal and no
   ANSIBLE_*/PYTHON* settings from the caller (no repo ansible.cfg, no PYTHONPATH
   to the repo's collection link).

Prints the inner run's PLAY RECAP and the tasks it changed; when it fails, its tail.
SHIPPED_PROFILE=1 in the environment adds the slowest tasks (ansible.posix.profile_tasks).
Exit status: the inner ansible-playbook's (3 when the installed copy is not the one
Ansible would use, 4 when no host ran).
"""
from __future__ import annotations

import json
import os
import re
import sys
import tempfile
from pathlib import Path

import shipping  # tests/lib (PYTHONPATH, see usage)


def changed_tasks(output: str) -> list[str]:
    """'<task> on <host>' for every changed result of an ansible-playbook run."""
    task, out = "?", []
    for line in output.splitlines():
        head = re.match(r"^(?:TASK|RUNNING HANDLER) \[(.*)\] \**$", line)
        if head:
            task = head.group(1)
            continue
        hit = re.match(r"^changed: \[([^\]]+)\]", line)
        if hit:
            out.append(f"{task} on {hit.group(1)}")
    return out


def main(inventory: Path) -> int:
    with tempfile.TemporaryDirectory(prefix="seed-fleet-shipped-") as tmp:
        tmp_path = Path(tmp)
        home, user = tmp_path / "home", tmp_path / "user"
        home.mkdir()
        user.mkdir()
        collections = user / "collections"
        tarball = shipping.build_tarball(tmp_path / "build")
        env = shipping.clean_env(home, ANSIBLE_COLLECTIONS_PATH=str(collections))
        if os.environ.get("SHIPPED_PROFILE"):
            env.update(ANSIBLE_CALLBACKS_ENABLED="ansible.posix.profile_tasks", PROFILE_TASKS_TASK_OUTPUT_LIMIT="30")
        shipping.install_tarball(tarball, collections, env)
        print(f"installed {tarball.name} into an empty {collections}")

        r = shipping.run([shipping.tool("ansible-galaxy"), "collection", "list", shipping.FQCN, "--format", "json"],
                         cwd=user, env=env)
        found = sorted(path for path, colls in (json.loads(r.stdout or "{}") if r.returncode == 0 else {}).items()
                       if shipping.FQCN in colls)
        if found != [str(collections / "ansible_collections")]:
            print(f"{shipping.FQCN} resolves to {found or 'nothing'}, not only to the installed copy\n{r.stderr}")
            return 3

        r = shipping.run([shipping.tool("ansible-playbook"), f"{shipping.FQCN}.site", "-i", inventory],
                         cwd=user, env=env, timeout=1500)
        output = r.stdout + r.stderr
        if r.returncode != 0:
            print(f"ansible-playbook {shipping.FQCN}.site failed (rc {r.returncode}); its last lines:")
            print("\n".join(output.splitlines()[-120:]))
            return r.returncode
        hosts = shipping.recap(output)
        if not hosts:  # a wrong inventory path makes a "successful" run on no host
            print(f"no host ran; the inventory did not parse?\n{output[-3000:]}")
            return 4
        print("PLAY RECAP")
        for host, counts in hosts.items():
            print(f"{host} : " + " ".join(f"{k}={v}" for k, v in counts.items()))
        for line in changed_tasks(output):
            print(f"changed: {line}")
        if "TASKS RECAP" in output:
            print(output[output.index("TASKS RECAP"):])
        return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(main(Path(sys.argv[1]).resolve()))
