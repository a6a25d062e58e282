"""Lynis on a plain host vs one hardened by seed.fleet.baseline (profile standard); prints JSON.

For each Debian suite, two systemd containers of seed-fleet/node:<suite> (the flags of
lab/hosts/kinds.yml kind `firewall`: SYS_ADMIN, NET_ADMIN, NET_RAW, seccomp unconfined,
the host cgroup namespace and a rw cgroup mount, tmpfs /run, /run/lock, /tmp; never
--privileged, no published ports) on a docker network of the run's own. The hardened one
is converged with harden.yml (seed.fleet.baseline, an admin with an ed25519 key generated
for the run, SSH allowed from that network only, no NTP servers). Then, in both, Debian's
`lynis` is installed (apt-get, from the image's package lists, else after apt-get update)
and `lynis audit system --quick` runs; /var/log/lynis-report.dat is read back.
Traffic: Ansible's docker connection and apt to the Debian mirror of the image.
Needs `make venv images`. The containers and the network are removed at the end, also
after a failure or Ctrl-C.

    .venv/bin/python benchmarks/hardening/run.py [--suites bookworm,trixie] [--reports DIR]

Per suite: for each host the hardening index, the warning and suggestion ids, the tests
performed; `fixed` (ids only on the plain host), `new` (only on the hardened one),
`remaining` (on both). The JSON also goes to benchmarks/hardening/results/<date>.json;
--reports keeps the raw reports, the audits' output and the converge log.
"""
from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
BIN = REPO / ".venv" / "bin"
PREFIX = "hardening-"
# lab/hosts/kinds.yml: kind firewall + seed_fleet_host_common.
RUN_FLAGS = ["--cap-add", "SYS_ADMIN", "--cap-add", "NET_ADMIN", "--cap-add", "NET_RAW",
             "--security-opt", "seccomp=unconfined", "-v", "/sys/fs/cgroup:/sys/fs/cgroup:rw",
             "--cgroupns", "host", "--tmpfs", "/run", "--tmpfs", "/run/lock", "--tmpfs", "/tmp"]
COMMAND = "/lib/systemd/systemd"
KINDS = ("plain", "hardened")
RECAP = re.compile(r"^(\S+)\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)\s+skipped=(\d+)", re.M)
INSTALL = ("apt-get install -y -q lynis || (apt-get update -q && apt-get install -y -q lynis)")


def say(msg: str) -> None:
    print(f"[hardening] {msg}", file=sys.stderr, flush=True)


def run(cmd: list[str], check: bool = True, timeout: float | None = None, **kw) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=timeout, **kw)
    if check and proc.returncode != 0:
        sys.stderr.write(proc.stdout[-3000:] + proc.stderr[-3000:])
        raise RuntimeError(f"{' '.join(cmd[:4])} ... failed ({proc.returncode})")
    return proc


def docker_exec(name: str, script: str, timeout: float, check: bool = True) -> subprocess.CompletedProcess:
    return run(["docker", "exec", "-e", "DEBIAN_FRONTEND=noninteractive", name, "sh", "-c", script],
               check=check, timeout=timeout)


def wait_booted(name: str, timeout: float = 180) -> str:
    """systemd's state once boot is over (running, or degraded: some unit failed in the container)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        proc = run(["docker", "exec", name, "systemctl", "is-system-running"], check=False, timeout=30)
        state = proc.stdout.strip()
        if state in ("running", "degraded"):
            return state
        time.sleep(1)
    raise RuntimeError(f"{name}: systemd did not finish booting in {timeout:.0f} s")


def parse_report(text: str) -> dict:
    """The parts of lynis-report.dat compared here (key=value lines; list keys end in [])."""
    warnings, suggestions, values = set(), set(), {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if not sep:
            continue
        if key == "warning[]":
            warnings.add(value.split("|", 1)[0])
        elif key == "suggestion[]":
            suggestions.add(value.split("|", 1)[0])
        elif not key.endswith("[]"):
            values[key] = value
    executed = [t for t in values.get("tests_executed", "").split("|") if t]
    done = values.get("lynis_tests_done", "")
    return {
        "hardening_index": int(values["hardening_index"]),
        "warnings": sorted(warnings),
        "suggestions": sorted(suggestions),
        "tests_performed": int(done) if done.isdigit() else len(executed),
        "lynis_version": values.get("lynis_version"),
    }


def audit(name: str, reports: Path | None) -> dict:
    """Install lynis, run the quick audit, read the report back."""
    t0 = time.monotonic()
    docker_exec(name, INSTALL, timeout=900)
    t1 = time.monotonic()
    out = docker_exec(name, "lynis audit system --quick --no-colors", timeout=1800, check=False)
    report = run(["docker", "exec", name, "cat", "/var/log/lynis-report.dat"], timeout=60).stdout
    if reports:
        (reports / f"{name}.out").write_text(out.stdout + out.stderr)
        (reports / f"{name}-report.dat").write_text(report)
    result = parse_report(report)
    result.update(install_s=round(t1 - t0, 1), audit_s=round(time.monotonic() - t1, 1))
    say(f"{name}: hardening index {result['hardening_index']} ({result['audit_s']} s)")
    return result


def converge(hosts: list[str], tmp: Path, reports: Path | None) -> dict:
    key = tmp / "admin_key"
    run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "hardening-benchmark", "-f", str(key)])
    inventory = tmp / "inventory.ini"
    inventory.write_text("[hardened]\n" + "".join(f"{h}\n" for h in hosts) + "\n[hardened:vars]\n"
                         "ansible_connection=community.docker.docker\nansible_python_interpreter=/usr/bin/python3\n")
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"),
               ANSIBLE_COLLECTIONS_PATH=str(REPO / ".cache" / "collections"),
               ANSIBLE_FORCE_COLOR="0", ANSIBLE_NOCOLOR="1", ANSIBLE_RETRY_FILES_ENABLED="0",
               PATH=f"{BIN}:{os.environ['PATH']}")
    t0 = time.monotonic()
    proc = run([str(BIN / "ansible-playbook"), "-i", str(inventory), "-e", f"hardening_admin_key={key}.pub",
                str(HERE / "harden.yml")], check=False, cwd=REPO, env=env, timeout=3600)
    took = round(time.monotonic() - t0, 1)
    if reports:
        (reports / "converge.log").write_text(proc.stdout + proc.stderr)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-2000:])
        raise RuntimeError(f"harden.yml failed ({proc.returncode})")
    recap = {m[0]: {"ok": int(m[1]), "changed": int(m[2]), "failed": int(m[4]), "skipped": int(m[5])}
             for m in RECAP.findall(proc.stdout)}
    say(f"converged {', '.join(hosts)} in {took} s")
    return {"converge_s": took, "recap": recap}


def git(*args: str) -> str:
    return run(["git", *args], cwd=REPO, timeout=60).stdout.strip()


def on_sigterm(_signum, _frame) -> None:
    raise KeyboardInterrupt


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suites", default="bookworm,trixie", help="comma-separated Debian suites")
    parser.add_argument("--reports", type=Path, help="keep the lynis reports, audit output and converge log here")
    args = parser.parse_args()
    suites = [s for s in args.suites.split(",") if s]
    if args.reports:
        args.reports.mkdir(parents=True, exist_ok=True)
    signal.signal(signal.SIGTERM, on_sigterm)

    tag = f"{os.getpid()}"
    network = f"{PREFIX}net-{tag}"
    names = {(suite, kind): f"{PREFIX}{suite}-{kind}-{tag}" for suite in suites for kind in KINDS}
    started: list[str] = []
    have_network = False
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=len(names))
    t0 = time.time()
    out: dict = {"benchmark": "lynis audit system --quick: plain node vs seed.fleet.baseline (profile standard)",
                 "git_commit": git("rev-parse", "--short", "HEAD"),
                 # the role is read from the work tree: say when it differs from the commit
                 "git_dirty": bool(git("status", "--porcelain", "--", "roles", "plugins")),
                 "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                 "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
                 "suites": {}}
    tmp = Path(tempfile.mkdtemp(prefix="hardening-"))
    try:
        for suite in suites:
            run(["docker", "image", "inspect", f"seed-fleet/node:{suite}"], timeout=60)
        say(f"network {network}")
        run(["docker", "network", "create", network], timeout=60)
        have_network = True
        for (suite, kind), name in names.items():
            started.append(name)
            run(["docker", "run", "-d", "--name", name, "--network", network, *RUN_FLAGS, f"seed-fleet/node:{suite}",
                 COMMAND], timeout=120)
        states = {name: wait_booted(name) for name in started}
        say("booted: " + ", ".join(f"{n} {s}" for n, s in states.items()))
        say("converging the hardened hosts with harden.yml")
        conv = converge([names[(s, "hardened")] for s in suites], tmp, args.reports)
        say("installing lynis and auditing all hosts in parallel")
        futures = {key: pool.submit(audit, name, args.reports) for key, name in names.items()}
        results = {key: f.result() for key, f in futures.items()}
        for suite in suites:
            plain, hard = results[(suite, "plain")], results[(suite, "hardened")]
            before = set(plain["warnings"]) | set(plain["suggestions"])
            after = set(hard["warnings"]) | set(hard["suggestions"])
            image = run(["docker", "image", "inspect", "--format", "{{.Id}}", f"seed-fleet/node:{suite}"],
                        timeout=60).stdout.strip()
            out["suites"][suite] = {
                "image": f"seed-fleet/node:{suite}", "image_id": image[7:19],
                "lynis_version": plain.pop("lynis_version"),
                "plain": plain, "hardened": {k: v for k, v in hard.items() if k != "lynis_version"},
                "index_gain": hard["hardening_index"] - plain["hardening_index"],
                "fixed": sorted(before - after), "new": sorted(after - before), "remaining": sorted(before & after),
                "converge": {"converge_s": conv["converge_s"], **conv["recap"].get(names[(suite, "hardened")], {})},
            }
    except KeyboardInterrupt:
        say("interrupted")
        return 130
    except (RuntimeError, subprocess.TimeoutExpired) as exc:
        say(f"failed: {exc}")
        return 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        pool.shutdown(wait=False, cancel_futures=True)
        if started:
            say("removing " + ", ".join(started))
            subprocess.run(["docker", "rm", "-f", *started], capture_output=True, check=False)
        if have_network:
            subprocess.run(["docker", "network", "rm", network], capture_output=True, check=False)
        shutil.rmtree(tmp, ignore_errors=True)
    out["lynis_version"] = {s: r["lynis_version"] for s, r in out["suites"].items()}
    out["wall_s"] = round(time.time() - t0, 1)
    doc = json.dumps(out, indent=2, sort_keys=True)
    print(doc)
    results_dir = HERE / "results"
    results_dir.mkdir(exist_ok=True)
    (results_dir / f"{time.strftime('%Y-%m-%d', time.gmtime())}.json").write_text(doc + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
