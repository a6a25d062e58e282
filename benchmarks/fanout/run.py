"""Fan-out benchmark: how `site.yml` and `deploy.yml` cost grows with the number of hosts; prints JSON.

For each fleet size N (--sizes, default 1,4,12,24), from nothing: start the fleet (up.yml:
fanout-lb1 and fanout-mon1, firewall kind, plus N app hosts fanout-app1..N, dind kind, on
the docker network fanout-net; node image of SEED_FLEET_SUITE, default bookworm), write a
throwaway inventory under .cache/bench/fanout (inventories/lab's group_vars, hosts named as
in the lab: lb1, mon1, app1..N), then run

  site-cold    playbooks/site.yml, first run (packages, services, v1 of the demo app)
  site-warm    playbooks/site.yml again: must change nothing (exit 1 otherwise)
  deploy       playbooks/deploy.yml -e blue_green_version=v2, batched (--deploy-serial)

and remove the fleet (always, also on failure or SIGTERM). With --connection ssh, the fleet is
first handed over as a provider does (lab/ssh.yml: sshd with each host's own keys, the admin
with the benchmark's key and sudo; not timed in the runs) and every run goes over SSH to the
containers' addresses on fanout-net as that admin, become through sudo, host keys checked. Per run it records the wall
time, tasks and module runs per host (callback/fanout_stats.py), controller CPU (getrusage
of the waited-for children: ansible-playbook, its workers, their `docker exec` clients),
target CPU (cgroup accounting of each container, cgroup v1 cpuacct.usage or v2 cpu.stat;
containers started inside the app hosts are added when their cgroup is not below the host's)
and the CPU of the docker engine (dockerd, containerd and the fleet's shims; shared with
anything else using the engine, so reported apart). Before each run the fleet's idle
target CPU is sampled for --idle-seconds, so the background (systemd, Prometheus, the app)
can be told from the run's own cost.

Output: JSON on stdout and in .cache/bench/fanout/result.json, a PNG beside it
(matplotlib from .cache/tools/bench, see README), each run's ansible output in
.cache/test-logs/fanout-<suite>-<N>-<run>.log; --save NAME copies JSON and PNG to
benchmarks/fanout/results/NAME.{json,png}. Traffic: Ansible's own connections to the
fleet's containers (docker exec) and the fleet's traffic on fanout-net (with --connection ssh, SSH from the controller to the
containers' addresses on that network); nothing published.

    .venv/bin/python benchmarks/fanout/run.py --sizes 1,4,12,24
"""
from __future__ import annotations

import argparse
import fcntl
import json
import os
import platform
import resource
import shutil
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
BIN = REPO / ".venv" / "bin"
WORK = REPO / ".cache" / "bench" / "fanout"
LOGS = REPO / ".cache" / "test-logs"
LAB_VARS = REPO / "inventories" / "lab" / "group_vars"
ARCHIVE = REPO / ".lab" / "images" / "demo-app.tar"
PLOT_PY = REPO / ".cache" / "tools" / "bench" / "bin" / "python"
LABEL = "owner=seed-fleet-fanout"
NETWORK = "fanout-net"
MAX_HOSTS = 48  # bound: app hosts per fleet
RUNS = ("site-cold", "site-warm", "deploy")
CGROUP = Path("/sys/fs/cgroup")
_child: subprocess.Popen | None = None


class Failed(Exception):
    """A playbook of the benchmark failed: recorded in the JSON, the fleet removed, exit 2."""


def interrupted(signum, _frame):
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):  # once: the clean-up must not be cut short
        signal.signal(sig, signal.SIG_IGN)
    raise Failed(f"interrupted by signal {signum}")


def say(msg: str) -> None:
    print(f"[fanout] {time.strftime('%H:%M:%S')} {msg}", file=sys.stderr, flush=True)


def fleet(apps: int) -> list[dict]:
    """The hosts of one fleet size: one LB and one monitoring server (as in the lab) and N app hosts."""
    def host(name: str, kind: str) -> dict:
        return {"name": f"fanout-{name}", "hostname": name, "kind": kind,
                "networks": [{"name": NETWORK, "aliases": [name]}]}
    return [host("lb1", "firewall"), host("mon1", "firewall")] + [host(f"app{i}", "dind") for i in range(1, apps + 1)]


def write_inventory(hosts: list[dict], inv: Path) -> None:
    """inventories/lab with this fleet's hosts: its group_vars as they are, but the admin key and
    the image archive by absolute path (the lab's are relative to its inventory directory)."""
    shutil.rmtree(inv, ignore_errors=True)
    (inv / "group_vars").mkdir(parents=True)
    groups: dict[str, dict] = {"lb": {}, "app": {}, "monitoring": {}}
    for h in hosts:
        group = {"lb1": "lb", "mon1": "monitoring"}.get(h["hostname"], "app")
        groups[group][h["hostname"]] = {"ansible_host": h["name"]}
    (inv / "hosts.yml").write_text("# Written by benchmarks/fanout/run.py (throwaway).\n"
                                   + yaml.safe_dump({"all": {"children": {g: {"hosts": hs} for g, hs in groups.items()}}}))
    for src in sorted(LAB_VARS.glob("*.yml")):
        data = yaml.safe_load(src.read_text())
        if src.stem == "all":
            data["baseline_admin_users"][0]["ssh_keys"] = [
                "{{ lookup('ansible.builtin.file', '%s') }}" % (WORK / "ssh" / "id_ed25519.pub")]
            data["blue_green_image_archive"] = str(ARCHIVE)
        (inv / "group_vars" / src.name).write_text(f"# {src.relative_to(REPO)}, adapted by benchmarks/fanout/run.py.\n"
                                                   + yaml.safe_dump(data, sort_keys=False, width=1000))


def env(stats: Path | None = None) -> dict[str, str]:
    e = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_FORCE_COLOR="0", ANSIBLE_NOCOLOR="1",
             PATH=f"{BIN}:{os.environ['PATH']}", PYTHONPATH=str(REPO / ".cache" / "collections"))
    if stats:
        e.update(ANSIBLE_CALLBACK_PLUGINS=str(HERE / "callback"), ANSIBLE_CALLBACKS_ENABLED="fanout_stats",
                 FANOUT_STATS_OUT=str(stats))
    return e


def playbook(args: list[str], log: Path, timeout: int, stats: Path | None = None) -> int:
    """ansible-playbook in its own process group (killed as a group on timeout or interruption)."""
    global _child  # pylint: disable=global-statement
    LOGS.mkdir(parents=True, exist_ok=True)
    with log.open("w") as fh:
        fh.write(f"### ansible-playbook {' '.join(args)}\n")
        fh.flush()
        _child = subprocess.Popen([str(BIN / "ansible-playbook"), *args], cwd=REPO, env=env(stats), stdout=fh,
                                  stderr=subprocess.STDOUT, start_new_session=True)
        try:
            return _child.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            say(f"timeout after {timeout} s: {' '.join(args)}")
            return 124
        finally:
            stop_child()  # also when interrupted: the playbook's group goes with us
            _child = None


def stop_child() -> None:
    if _child is not None and _child.poll() is None:
        os.killpg(_child.pid, signal.SIGTERM)
        try:
            _child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(_child.pid, signal.SIGKILL)
            _child.wait()


def docker(*args: str) -> str:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=False).stdout


def sweep() -> None:
    """Remove whatever carries the benchmark's label (a fleet left by an interrupted run)."""
    ids = docker("ps", "-aq", "--filter", f"label={LABEL}").split()
    if ids:
        subprocess.run(["docker", "rm", "-f", "-v", *ids], capture_output=True, check=False)
    for net in docker("network", "ls", "-q", "--filter", f"label={LABEL}").split():
        subprocess.run(["docker", "network", "rm", net], capture_output=True, check=False)


# --- CPU accounting -------------------------------------------------------------------------------

def cgroup_dir(cid: str) -> Path | None:
    """The cgroup directory of a container (cgroup v1 cpuacct or v2 unified), by its full id."""
    bases = [b for b in (CGROUP / "cpuacct", CGROUP / "cpu,cpuacct") if b.is_dir()] or [CGROUP]
    for base in bases:
        for rel in (f"docker/{cid}", f"system.slice/docker-{cid}.scope"):
            if (base / rel).is_dir():
                return base / rel
        for root, dirs, _files in os.walk(base):  # nested (a container's own engine), bounded depth
            if root.count(os.sep) - str(base).count(os.sep) >= 6:
                dirs[:] = []
                continue
            for d in dirs:
                if cid in d:
                    return Path(root) / d
    return None


def cgroup_cpu(path: Path) -> float:
    try:
        if (path / "cpuacct.usage").exists():
            return int((path / "cpuacct.usage").read_text()) / 1e9
        for line in (path / "cpu.stat").read_text().splitlines():
            if line.startswith("usage_usec "):
                return int(line.split()[1]) / 1e6
    except (OSError, ValueError):
        pass
    return 0.0


class Targets:
    """CPU seconds of the fleet's containers and of the containers running inside the app hosts."""

    def __init__(self, names: list[str]):
        ids = docker("inspect", "--format", "{{.Name}} {{.Id}}", *names).split()
        self.outer = {ids[i].lstrip("/"): ids[i + 1] for i in range(0, len(ids), 2)}
        self.dirs = {cid: cgroup_dir(cid) for cid in self.outer.values()}
        missing = [n for n, cid in self.outer.items() if self.dirs[cid] is None]
        if missing:
            raise Failed(f"no cgroup found for {', '.join(missing)} under {CGROUP}")

    def inner(self, apps: list[str]) -> dict[str, Path]:
        """Containers inside the app hosts whose cgroup is not already counted below their host's."""
        found = {}
        for name in apps:
            outer = str(self.dirs[self.outer[name]])
            for cid in docker("exec", name, "sh", "-c", "docker ps -aq --no-trunc 2>/dev/null || true").split():
                d = cgroup_dir(cid)
                if d and not str(d).startswith(outer + os.sep):
                    found[cid] = d
        return found

    def usage(self, inner: dict[str, Path]) -> dict[str, float]:
        out = {cid: cgroup_cpu(d) for cid, d in self.dirs.items() if d}
        out.update({cid: cgroup_cpu(d) for cid, d in inner.items()})
        return out


def engine_cpu(ids: list[str]) -> float:
    """dockerd, containerd and the fleet containers' shims (clock ticks from /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmd = (proc / "cmdline").read_bytes().split(b"\0")
            name = os.path.basename(cmd[0].decode(errors="replace"))
            if name in ("dockerd", "containerd") or (name.startswith("containerd-shim")
                                                     and any(i.encode() in cmd for i in ids)):
                fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            continue
    return total / tick


def controller_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


# --- one fleet size --------------------------------------------------------------------------------

def per_group(stats: dict, hosts: list[dict]) -> dict:
    """Tasks and module runs per host, by group (lb1, mon1, the mean of the app hosts)."""
    by = {"lb": ["lb1"], "monitoring": ["mon1"], "app": [h["hostname"] for h in hosts if h["kind"] == "dind"]}
    out = {}
    for group, names in by.items():
        rows = [stats["hosts"].get(n, {}) for n in names]
        out[group] = {k: round(sum(r.get(k, 0) for r in rows) / len(rows), 1)
                      for k in ("tasks", "module_runs", "changed", "skipped")}
    everyone = list(stats["hosts"].values())
    out["mean_per_host"] = {k: round(sum(r[k] for r in everyone) / max(1, len(everyone)), 1) for k in ("tasks", "module_runs")}
    return out


def top_tasks(stats: dict, n: int = 20) -> list[dict]:
    acc: dict[tuple[str, str], list[float]] = {}
    for t in stats["tasks"]:
        acc.setdefault((t["name"], t["action"]), []).append(t["seconds"] or 0.0)
    rows = sorted(acc.items(), key=lambda kv: -sum(kv[1]))[:n]
    return [{"task": name, "action": action, "seconds": round(sum(s), 1), "times": len(s)} for (name, action), s in rows]


def one_run(name: str, args: list[str], hosts: list[dict], targets: Targets, suite: str, opts) -> dict:
    apps = [h["name"] for h in hosts if h["kind"] == "dind"]
    names = [h["name"] for h in hosts]
    tag = f"{suite}{opts.tag}-{len(apps)}-{name}"
    stats_file = WORK / f"stats-{tag}.json"
    stats_file.unlink(missing_ok=True)
    inner = targets.inner(apps)
    idle0 = sum(targets.usage(inner).values())
    time.sleep(opts.idle_seconds)
    idle = (sum(targets.usage(inner).values()) - idle0) / opts.idle_seconds
    say(f"N={len(apps)} {name} (fleet idle: {idle:.3f} CPU-s/s)")
    load0 = os.getloadavg()[0]
    tgt0, eng0, ctl0, t0 = targets.usage(inner), engine_cpu(list(targets.outer.values())), controller_cpu(), time.monotonic()
    rc = playbook(args, LOGS / f"fanout-{tag}.log", opts.timeout, stats_file)
    wall = time.monotonic() - t0
    ctl, eng = controller_cpu() - ctl0, engine_cpu(list(targets.outer.values())) - eng0
    tgt1 = targets.usage({})
    inner.update(targets.inner(apps))
    tgt1.update(targets.usage(inner))
    tgt = sum(v - tgt0.get(cid, 0.0) for cid, v in tgt1.items())
    if rc != 0:
        raise Failed(f"{name} at N={len(apps)} failed ({rc}); log: {LOGS / f'fanout-{tag}.log'}")
    stats = json.loads(stats_file.read_text())
    nhosts = len(names)
    return {
        "rc": rc, "wall_s": round(wall, 1), "hosts": nhosts,
        "changed": sum(h["changed"] for h in stats["hosts"].values()),
        "per_host": per_group(stats, hosts),
        "controller_cpu_s": round(ctl, 1), "target_cpu_s": round(tgt, 1), "engine_cpu_s": round(eng, 1),
        "target_idle_cpu_s_per_s": round(idle, 3),
        "cpu_s_per_host": round((ctl + tgt) / nhosts, 2),
        "cpu_s_per_host_less_idle": round((ctl + max(0.0, tgt - idle * wall)) / nhosts, 2),
        "loadavg_1m": [round(load0, 2), round(os.getloadavg()[0], 2)],
        "top_tasks": top_tasks(stats),
        "log": str((LOGS / f"fanout-{tag}.log").relative_to(REPO)),
    }


def one_size(result: dict, apps: int, suite: str, opts) -> None:
    """Fill result (already in the JSON, so a failed run keeps the runs before it)."""
    hosts = fleet(apps)
    fleet_file = WORK / "fleet.yml"
    fleet_file.write_text(yaml.safe_dump({"seed_fleet_hosts": hosts, "fanout_dir": str(WORK)}))
    inv = WORK / "inventory"
    write_inventory(hosts, inv)
    say(f"N={apps}: starting {len(hosts)} hosts")
    t0 = time.monotonic()
    log = LOGS / f"fanout-{suite}{opts.tag}-{apps}-up.log"
    if playbook([str(HERE / "up.yml"), "-e", f"@{fleet_file}"], log, opts.timeout) != 0:
        raise Failed(f"fleet N={apps} did not start; log: {log}")
    result.update({"apps": apps, "hosts": len(hosts), "up_s": round(time.monotonic() - t0, 1), "runs": {}})
    inventory = ["-i", str(inv)]
    if opts.connection == "ssh":
        t0, log = time.monotonic(), LOGS / f"fanout-{suite}{opts.tag}-{apps}-handover.log"
        if playbook([*inventory, "lab/ssh.yml", "-e", f"lab_ssh_dir={WORK / 'ssh'}", "-e", f"lab_ssh_network={NETWORK}"],
                    log, opts.timeout) != 0:
            raise Failed(f"fleet N={apps} was not handed over for SSH; log: {log}")
        result["handover_s"] = round(time.monotonic() - t0, 1)
        inventory += ["-i", str(WORK / "ssh" / "inventory")]
    targets = Targets([h["name"] for h in hosts])
    inventory += ["-f", str(opts.forks)]
    for name in RUNS:
        if name == "deploy":
            args = [*inventory, "playbooks/deploy.yml", "-e", "blue_green_version=v2",
                    "-e", json.dumps({"blue_green_serial": opts.deploy_serial})]
        else:
            args = [*inventory, "playbooks/site.yml"]
        result["runs"][name] = one_run(name, args, hosts, targets, suite, opts)
        say(f"N={apps} {name}: {result['runs'][name]['wall_s']} s, changed={result['runs'][name]['changed']}")


def down(apps: int, suite: str, tag: str) -> None:
    fleet_file = WORK / "fleet.yml"
    if fleet_file.exists():
        playbook([str(HERE / "up.yml"), "-e", f"@{fleet_file}", "-e", "fanout_state=absent"],
                 LOGS / f"fanout-{suite}{tag}-{apps}-down.log", 600)
    sweep()


def summarise(sizes: list[dict]) -> dict:
    """Per run: T(N), T(N)/T(smallest N) (T(N)/T(1) when 1 ran), CPU-s, tasks and module runs per host."""
    base = sizes[0]
    out: dict = {"ratio_base_apps": base["apps"]}
    for name in RUNS:
        t_base = base["runs"].get(name, {}).get("wall_s")
        out[name] = [{"apps": s["apps"], "hosts": s.get("hosts"), "wall_s": s["runs"][name]["wall_s"],
                      "t_ratio": round(s["runs"][name]["wall_s"] / t_base, 2) if t_base else None,
                      "cpu_s_per_host": s["runs"][name]["cpu_s_per_host"],
                      "tasks_per_host": s["runs"][name]["per_host"]["mean_per_host"]["tasks"],
                      "module_runs_per_host": s["runs"][name]["per_host"]["mean_per_host"]["module_runs"]}
                     for s in sizes if name in s["runs"]]
    return out


def write(result: dict, started: float, partial: bool = False) -> None:
    result["partial"] = partial
    result["wall_s"] = round(time.time() - started, 1)
    result["summary"] = summarise(result["sizes"]) if result["sizes"] and result["sizes"][0]["runs"] else {}
    result["warm_changed"] = sum(s["runs"]["site-warm"]["changed"] for s in result["sizes"] if "site-warm" in s["runs"])
    (WORK / "result.json").write_text(json.dumps(result, indent=2) + "\n")


def plot(save: str | None, drawable: bool) -> None:
    (WORK / "fanout.png").unlink(missing_ok=True)
    if not drawable:
        say("no PNG: no run finished")
    elif PLOT_PY.exists():
        subprocess.call([str(PLOT_PY), str(HERE / "plot.py"), str(WORK / "result.json"), str(WORK / "fanout.png")])
    else:
        say(f"no PNG: create {PLOT_PY.parent.parent} with matplotlib (see README)")
    if save:
        (HERE / "results").mkdir(exist_ok=True)
        shutil.copy(WORK / "result.json", HERE / "results" / f"{save}.json")
        if (WORK / "fanout.png").exists():
            shutil.copy(WORK / "fanout.png", HERE / "results" / f"{save}.png")


# What each systemd host (with Docker inside) takes of the machine's inotify instances (a per-user
# limit, and every container runs as root), rounded up from a failed run: with Debian's default
# fs.inotify.max_user_instances of 128, the systemd of the 21st of 26 hosts did not boot.
INOTIFY_INSTANCES_PER_HOST = 8


def kernel_limits_short(hosts: int) -> list[str]:
    """The per-user kernel limits too small for this many systemd hosts, each with the command that raises it."""
    wanted = {"fs/inotify/max_user_instances": hosts * INOTIFY_INSTANCES_PER_HOST}
    short = []
    for key, need in wanted.items():
        try:
            have = int(Path("/proc/sys", key).read_text())
        except (OSError, ValueError):
            continue
        if have < need:
            name = key.replace("/", ".")
            short.append(f"{name} is {have}, {hosts} hosts need about {need} (sysctl -w {name}={max(need, 1024)})")
    return short


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1,4,12,24", help="app hosts per fleet, comma-separated (each fleet also has lb1, mon1)")
    parser.add_argument("--forks", type=int, default=30, help="ansible forks (default 30)")
    parser.add_argument("--deploy-serial", default="25%", help="blue_green_serial of the deploy run (default 25%%)")
    parser.add_argument("--idle-seconds", type=int, default=10, help="idle CPU sample of the fleet before each run")
    parser.add_argument("--timeout", type=int, default=3600, help="bound of each ansible-playbook run, seconds")
    parser.add_argument("--connection", choices=("docker", "ssh"), default="docker",
                        help="docker (default) or ssh: the fleet handed over first (lab/ssh.yml), every run over SSH with sudo")
    parser.add_argument("--note", default="", help="recorded in the JSON (e.g. what else ran on the machine)")
    parser.add_argument("--save", metavar="NAME", help="also write benchmarks/fanout/results/NAME.json and .png")
    opts = parser.parse_args()
    sizes = sorted({int(s) for s in opts.sizes.split(",") if s.strip()})
    if not sizes or sizes[0] < 1 or sizes[-1] > MAX_HOSTS or not 1 <= opts.forks <= 64:
        parser.error(f"sizes must be 1..{MAX_HOSTS} app hosts, forks 1..64")
    suite = os.environ.get("SEED_FLEET_SUITE") or "bookworm"
    opts.tag = "" if opts.connection == "docker" else f"-{opts.connection}"  # in the log names
    if opts.connection == "ssh":  # as lab/lab.sh: the overlay's known_hosts is checked (ansible.cfg turns it off)
        os.environ["ANSIBLE_HOST_KEY_CHECKING"] = "True"
    limits = kernel_limits_short(sizes[-1] + 2)
    if limits:
        raise SystemExit("fanout: " + "; ".join(limits))
    if not docker("image", "ls", "-q", f"seed-fleet/node:{suite}").strip() or not ARCHIVE.exists():
        raise SystemExit(f"fanout: seed-fleet/node:{suite} or {ARCHIVE} missing: make images SUITES={suite}")
    WORK.mkdir(parents=True, exist_ok=True)
    lock = (WORK / "lock").open("w")  # one run at a time: the names and the clean-up are shared
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        raise SystemExit(f"fanout: another run holds {WORK / 'lock'}") from None
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, interrupted)
    started = time.time()
    result: dict = {
        "benchmark": "fanout", "suite": suite, "note": opts.note,
        "command": shlex.join(([f"SEED_FLEET_SUITE={suite}"] if suite != "bookworm" else [])
                              + [".venv/bin/python", "benchmarks/fanout/run.py", *sys.argv[1:]]),
        "fleet": "lb1 + mon1 (firewall kind) + N app hosts (dind kind), inventories/lab group_vars, "
                 + {"docker": "docker connection", "ssh": "SSH as the admin with sudo (after lab/ssh.yml)"}[opts.connection],
        "connection": opts.connection,
        "forks": opts.forks, "deploy_serial": opts.deploy_serial,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "cgroup": "v2" if (CGROUP / "cgroup.controllers").exists() else "v1",
                    "loadavg_at_start": [round(x, 2) for x in os.getloadavg()]},
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)), "sizes": [],
    }
    try:
        sweep()
        for apps in sizes:
            entry: dict = {"apps": apps, "runs": {}}
            result["sizes"].append(entry)
            try:
                one_size(entry, apps, suite, opts)
            finally:
                say(f"N={apps}: removing the fleet")
                down(apps, suite, opts.tag)
            write(result, started, partial=apps != sizes[-1])  # a later failure keeps what ran
    except Failed as exc:
        result["error"] = str(exc)
        say(f"failed: {exc}")
    finally:
        stop_child()
        sweep()
    write(result, started)
    plot(opts.save, bool(result["summary"]))
    print(json.dumps(result, indent=2))
    if "error" in result:
        return 2
    if result["warm_changed"]:
        say(f"the warm site.yml run changed {result['warm_changed']} task results")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
