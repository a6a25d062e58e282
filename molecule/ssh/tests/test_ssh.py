"""The production road (issue #13): inventories/example, verbatim plus an overlay of
addresses and key paths, over SSH as `deploy` with sudo, pipelining and host key
checking on, with seed.fleet installed from the Galaxy tarball into an empty
collections path and run outside the repo (tests/lib/ssh_fleet.py). converge ran
site.yml twice (the second with changed=0); these tests run the runbooks' commands on
that one fleet, in file order (one deploy history):

1. what the site runs left, and that SSH really is the road (host keys checked);
2. docs/runbooks/deploy.md: deploy v1 (the first deploy site.yml skipped), then v2;
3. docs/runbooks/rollback.md: roll back to v1 (warm switch);
4. AWX's way (was molecule/shipped): ansible-runner on a private data dir laid out
   like AWX's, the collection from the tarball: roll back to v2, then deploy v3;
5. site.yml --limit <one app host> and site.yml --tags monitoring_agent;
6. one app host's sshd stops in the middle of site.yml;
7. docs/runbooks/stuck-drain.md: a slow upload blocks the retirement of the old color;
8. the warm color's retire timer survives a restart of the app host inside the window;
9. docs/runbooks/add-app-host.md;
10. docs/runbooks/lb-host-replacement.md: lb1 destroyed and rebuilt (new host keys);
11. changing the SSH port over SSH (last: it leaves mon1 on port 2222).
"""
from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

import pytest
import yaml

import shipping  # tests/lib, on sys.path through the repo's pytest.ini
import ssh_fleet  # tests/lib

FLEET = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "fleet"
LB_ADDRESS = "10.20.2.10"  # lb1.example.com's address in inventories/example
LB_URL = f"http://{LB_ADDRESS}/"
APPS = {"app1.example.com": "ssh-app1", "app2.example.com": "ssh-app2"}
CONTAINERS = {"lb1.example.com": "ssh-lb1", **APPS, "mon1.example.com": "ssh-mon1"}
ADMIN_SOCKET = "/run/haproxy/admin.sock"


def run(playbook: str, *args: str, ok: bool = True, on_line=None, tool: str = "ansible-playbook") -> subprocess.CompletedProcess:
    """ssh_fleet.run; tool="ansible" runs an ad-hoc command (the runbooks' one-liners): playbook is then the pattern."""
    proc = ssh_fleet.run(playbook, list(args), on_line=on_line, tool=tool)
    if ok:
        assert proc.returncode == 0, proc.stdout[-6000:]
    return proc


def recap(proc) -> dict[str, dict[str, int]]:
    return ssh_fleet.recap(proc.stdout)


def dexec(container: str, cmd: str, check: bool = True) -> str:
    proc = subprocess.run(["docker", "exec", container, "sh", "-c", cmd], capture_output=True, text=True, check=False)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def users_see(n: int = 6) -> list[str]:
    out = []
    for _i in range(n):
        with urllib.request.urlopen(LB_URL, timeout=5) as resp:  # noqa: S310 (our own test network)
            out.append(f"{resp.status} {resp.read().decode().strip()}")
    return out


def assert_users_see(version: str, color: str) -> None:
    got = users_see()
    assert all(g.startswith("200 ") and f"version={version} color={color}" in g for g in got), got


def on_lb(command: str) -> str:
    """A runbook's "on the LB" command, as the runbook writes it."""
    return dexec("ssh-lb1", command)


def show_stat() -> list[dict[str, str]]:
    out = on_lb(f"echo 'show stat' | socat -t 2 - UNIX-CONNECT:{ADMIN_SOCKET}")
    head, *rows = out.lstrip("# ").splitlines()
    keys = head.split(",")
    return [row for row in (dict(zip(keys, r.split(","))) for r in rows if r.startswith("be_demo,"))
            if row["svname"] not in ("BACKEND", "FRONTEND")]


def wait_until_up(servers: list[str], deadline: float = 20) -> dict[str, str]:
    """HAProxy's own checks see these servers UP (a server out of maint is checked first)."""
    end = time.monotonic() + deadline
    while True:
        status = {r["svname"]: r["status"] for r in show_stat()}
        if all(status.get(s) == "UP" for s in servers) or time.monotonic() > end:
            return status
        time.sleep(1)


def running(container: str, name: str) -> bool:
    return dexec(container, f"docker inspect -f '{{{{.State.Running}}}}' {name}", check=False) == "true"


def assert_lb_points_only_at_running_colors(apps: dict[str, str]) -> None:
    """Every server HAProxy sends traffic to (UP, not drain/maint) has its container running."""
    ready = [r["svname"] for r in show_stat() if r["status"] == "UP"]
    assert ready, show_stat()
    for server in ready:
        host, color = server.rsplit("_", 1)
        if host in apps:
            assert running(apps[host], f"demo-{color}"), f"the LB sends traffic to {server}: not running"


def wait_for_ssh(address: str, deadline: float = 90) -> None:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        probe = subprocess.run(["ssh", "-i", str(FLEET / "id_ed25519"), "-o", "BatchMode=yes", "-o", "ConnectTimeout=3",
                                "-o", f"UserKnownHostsFile={FLEET / 'known_hosts'}", "-o", "StrictHostKeyChecking=yes",
                                "-o", "ControlMaster=no", f"deploy@{address}", "true"], capture_output=True, check=False)
        if probe.returncode == 0:
            return
        time.sleep(1)
    pytest.fail(f"no SSH on {address} after {deadline} s")


class SlowUpload:
    """A client that uploads a body one byte a second through the LB: a session on
    one server that does not end by itself (stuck-drain.md: "stuck clients")."""

    def __init__(self) -> None:
        self.sock = socket.create_connection((LB_ADDRESS, 80), timeout=10)
        self.sock.sendall(b"POST / HTTP/1.1\r\nHost: demo\r\nContent-Length: 100000000\r\n\r\n")
        self.stop = threading.Event()
        self.error: str = ""
        self.thread = threading.Thread(target=self._trickle, daemon=True)
        self.thread.start()

    def _trickle(self) -> None:
        while not self.stop.wait(1):
            try:
                self.sock.sendall(b"x")
            except OSError as exc:
                self.error = str(exc) or type(exc).__name__
                return

    @property
    def alive(self) -> bool:
        return self.thread.is_alive()

    def close(self) -> None:
        self.stop.set()
        self.sock.close()


# --- 1. the road -------------------------------------------------------------------

def test_site_ran_over_ssh_as_deploy_with_sudo():
    site_logs = sorted((FLEET / "runs").glob("*-site.log"))
    assert len(site_logs) >= 2, "converge and idempotence each ran site.yml"
    last = site_logs[-1].read_text()
    totals = ssh_fleet.recap(last)
    assert set(totals) == set(CONTAINERS)
    assert all(t["changed"] == 0 and t["failed"] == 0 for t in totals.values()), totals
    # No version in inventories/example: site.yml said it skips the first deploy, and how.
    assert "no blue_green_version is set" in last and "seed.fleet.deploy" in last


def test_site_ran_from_the_installed_tarball():
    """The runs used seed.fleet from the tarball, not the repository (was molecule/shipped)."""
    installed = ssh_fleet.collection(FLEET)
    assert (installed / "MANIFEST.json").is_file() and not (installed / "molecule").exists()
    first = sorted((FLEET / "runs").glob("*-site.log"))[0].read_text()
    assert first.startswith(f"# {shipping.tool('ansible-playbook')} seed.fleet.site -i ")
    assert (FLEET / "user" / "ansible.cfg").read_text() == ssh_fleet.USER_CFG
    assert "host_key_checking" not in ssh_fleet.USER_CFG


@pytest.mark.parametrize("name, container", sorted(CONTAINERS.items()))
def test_hosts_are_hardened_and_reached_by_key(name, container):
    sshd = dexec(container, "sshd -T")
    assert "passwordauthentication no" in sshd and "permitrootlogin no" in sshd
    assert "ssh-ed25519" in dexec(container, "cat /home/deploy/.ssh/authorized_keys")
    services = ["ssh", "nftables", "prometheus-node-exporter", "chrony"]
    services += ["haproxy"] if name.startswith("lb") else ["docker"] if name in APPS else []
    assert dexec(container, f"systemctl is-active {' '.join(services)}").split() == ["active"] * len(services)


def test_host_keys_are_checked():
    """Without the collected known_hosts the same login is refused: checking is on."""
    base = ["ssh", "-i", str(FLEET / "id_ed25519"), "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes",
            "-o", "ControlMaster=no", "deploy@10.20.2.21", "true"]
    good = subprocess.run(base[:1] + ["-o", f"UserKnownHostsFile={FLEET / 'known_hosts'}"] + base[1:],
                          capture_output=True, text=True, check=False, timeout=30)
    assert good.returncode == 0, good.stderr
    bad = subprocess.run(base[:1] + ["-o", "UserKnownHostsFile=/dev/null"] + base[1:],
                         capture_output=True, text=True, check=False, timeout=30)
    assert bad.returncode != 0 and "Host key verification failed" in bad.stderr


@pytest.mark.parametrize("password_file, error", [
    ("wrong", "Decryption failed"),
    ("missing", "was not found"),
])
def test_a_bad_vault_password_stops_before_any_change(tmp_path, password_file, error):
    path = tmp_path / "vault-pass"
    if password_file == "wrong":
        path.write_text("not-the-password\n")
    before = {c: dexec(c, "stat -c %Y /etc/ssh/sshd_config /etc/nftables.conf | xargs") for c in CONTAINERS.values()}
    proc = ssh_fleet.run("seed.fleet.site", [], vault=path)
    assert proc.returncode != 0 and error in proc.stdout, proc.stdout[-3000:]
    assert not re.search(r"^changed: \[", proc.stdout, re.M)
    assert all(t["changed"] == 0 for t in recap(proc).values())
    assert before == {c: dexec(c, "stat -c %Y /etc/ssh/sshd_config /etc/nftables.conf | xargs") for c in CONTAINERS.values()}


# --- 2. deploy (docs/runbooks/deploy.md) ---------------------------------------------

def test_deploy_first_version():
    run("seed.fleet.deploy", "-e", "blue_green_app=demo", "-e", "blue_green_version=v1")
    assert_users_see("v1", "blue")


def test_deploy_v2():
    run("seed.fleet.deploy", "-e", "blue_green_app=demo", "-e", "blue_green_version=v2")
    assert_users_see("v2", "green")
    for container in APPS.values():
        assert running(container, "demo-blue")  # warm
        assert dexec(container, "systemctl is-enabled seed-fleet-demo-retire-blue.timer") == "enabled"


# --- 3. rollback (docs/runbooks/rollback.md) -----------------------------------------

def test_rollback_to_v1():
    run("seed.fleet.rollback", "-e", "blue_green_app=demo")
    assert_users_see("v1", "blue")
    for container in APPS.values():
        assert dexec(container, "systemctl is-enabled seed-fleet-demo-retire-blue.timer", check=False) != "enabled"
        assert dexec(container, "systemctl is-enabled seed-fleet-demo-retire-green.timer") == "enabled"


# --- 4. AWX's way: ansible-runner, the collection from the tarball --------------------

# An AWX project that uses the collection: its playbooks by FQCN, the collection
# from collections/requirements.yml (installed into requirements_collections/).
PROJECT = {
    "deploy.yml": "---\n- name: Deploy\n  ansible.builtin.import_playbook: seed.fleet.deploy\n",
    "rollback.yml": "---\n- name: Roll back\n  ansible.builtin.import_playbook: seed.fleet.rollback\n",
    "collections/requirements.yml": "---\ncollections:\n  - name: seed.fleet\n",
}


@pytest.fixture(scope="module")
def awx_inventory() -> str:
    """The inventory as AWX's inventory update stores it: `ansible-inventory --list --export`
    of the example plus the overlay (vault values stay encrypted), served by a script."""
    r = shipping.run([shipping.tool("ansible-inventory"), "-i", ssh_fleet.EXAMPLE, "-i", FLEET / "overlay",
                      "--vault-password-file", ssh_fleet.VAULT_PASS, "--list", "--export"], cwd=ssh_fleet.user_dir(FLEET), env=ssh_fleet.user_env(FLEET))
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert "__ansible_vault" in json.dumps(data["all"]["vars"]), "vault values are not kept encrypted"
    return "#! /usr/bin/env python3\nprint(%r)\n" % json.dumps(data)


def did(job, action, changed=None):
    """The hosts on which a task of this module succeeded (and changed, if asked)."""
    return sorted({e["host"] for e in job.results(action=action)
                   if changed is None or bool(e["res"].get("changed")) == changed})


def awx_job(tmp_path_factory, awx_inventory, ident, playbook, extravars):
    """One AWX job: its own private data dir and empty HOME, the vault credential's password,
    host key checking on (the fleet's known_hosts come with the inventory's ssh args)."""
    collection = ssh_fleet.collection(FLEET)
    pdd = shipping.awx_private_data_dir(
        tmp_path_factory.mktemp(ident), project=PROJECT, inventory={"all": {}}, extravars=extravars,
        collection=collection, envvars={"ANSIBLE_HOST_KEY_CHECKING": "True", "ANSIBLE_PIPELINING": "True"},
        settings={"idle_timeout": 900, "job_timeout": 1500})
    (pdd / "inventory" / "hosts").write_text(awx_inventory)
    job = shipping.runner_job(pdd, ident, playbook, cmdline=f"--vault-password-file {ssh_fleet.VAULT_PASS}",
                              timeout=1600)
    assert job.status == "successful" and job.rc == 0, job.status + "\n" + job.stdout[-4000:]
    # Ansible used the HOME it was given, the collection from requirements_collections.
    assert (pdd.parent / "home" / ".ansible").is_dir()
    paths = {e["event_data"].get("task_path", "") for e in job.events if e["event_data"].get("role") == "blue_green"}
    assert paths and all(p.startswith(str(pdd / "requirements_collections") + "/") for p in paths), sorted(paths)[:3]
    assert not [e for e in job.results(event="runner_on_failed") if not e.get("ignore_errors")]
    return job


def test_awx_rollback(tmp_path_factory, awx_inventory):
    job = awx_job(tmp_path_factory, awx_inventory, "rollback", "rollback.yml", {"blue_green_app": "demo"})
    assert did(job, "seed.fleet.haproxy_server", changed=True) == ["lb1.example.com"]
    assert not did(job, "community.docker.docker_container", changed=True)  # warm: a switch, no redeploy
    assert_users_see("v2", "green")


def test_awx_deploy_v3(tmp_path_factory, awx_inventory):
    job = awx_job(tmp_path_factory, awx_inventory, "deploy", "deploy.yml",
                  {"blue_green_app": "demo", "blue_green_version": "v3"})
    # The deploy's steps, as AWX shows them from the job events: the new color
    # started and health-gated on every app host, the LB switched.
    assert did(job, "community.docker.docker_container", changed=True) == sorted(APPS)
    assert set(APPS) <= set(did(job, "seed.fleet.http_check"))
    assert did(job, "seed.fleet.haproxy_server", changed=True) == ["lb1.example.com"]
    assert_users_see("v3", "blue")


# --- 5. site.yml runs on part of the fleet -------------------------------------------

def test_site_limited_to_one_app_host():
    """The runbooks' pattern, with a version pinned (the issue's failing case): the
    first-deploy play says it skips (part of the fleet) instead of failing. Only that
    play's tag: the whole site.yml under --limit runs in test_add_an_app_host (step 2)."""
    proc = run("seed.fleet.site", "--limit", "app1.example.com", "--tags", "blue_green", "-e", "blue_green_version=v3")
    assert set(recap(proc)) == {"app1.example.com"}
    assert recap(proc)["app1.example.com"]["changed"] == 0
    assert "only part of the fleet" in proc.stdout
    assert_users_see("v3", "blue")


def test_site_tags_monitoring_agent():
    proc = run("seed.fleet.site", "--tags", "monitoring_agent")
    assert set(recap(proc)) == set(CONTAINERS)
    assert all(t["changed"] == 0 for t in recap(proc).values()), recap(proc)


# --- 6. an app host's sshd stops in the middle of site.yml ----------------------------

def test_sshd_of_one_app_host_stops_mid_site():
    """app2's sshd stops (and its sessions end) once the LB play starts: the other hosts
    finish, the recap names app2 unreachable, users keep being served and the LB only
    sends traffic to colors whose container runs. The run has the tags of the plays from
    the LB's on that touch every host (the baseline before it is what the other site.yml
    runs here prove; here it would cost five minutes and prove nothing more)."""
    stopped = threading.Event()

    def stop_app2(line: str) -> None:
        if not stopped.is_set() and line.startswith("PLAY [Load balancers]"):
            dexec("ssh-app2", "systemctl stop ssh.service; pkill -KILL -u deploy || true")
            stopped.set()

    try:
        proc = run("seed.fleet.site", "--tags", "load_balancer,monitoring_agent", ok=False, on_line=stop_app2)
        assert stopped.is_set(), proc.stdout[-3000:]
        assert proc.returncode != 0
        totals = recap(proc)
        assert set(totals) == set(CONTAINERS), totals
        assert totals["app2.example.com"]["unreachable"] >= 1, totals
        others = {h: t for h, t in totals.items() if h != "app2.example.com"}
        assert all(t["unreachable"] == 0 and t["failed"] == 0 for t in others.values()), totals
        # The other hosts ran the plays after the stop to the end (the monitoring agent's).
        assert re.search(r"^ok: \[mon1\.example\.com\]", proc.stdout.split("PLAY [Monitoring agent")[-1], re.M)
        assert "UNREACHABLE!" in proc.stdout and "app2.example.com" in proc.stdout.split("UNREACHABLE!")[0][-300:]
        assert_users_see("v3", "blue")
        assert_lb_points_only_at_running_colors(APPS)
    finally:
        dexec("ssh-app2", "systemctl start ssh.service")
    wait_for_ssh("10.20.2.22")
    assert_lb_points_only_at_running_colors(APPS)


# --- 7. a drain that never ends (docs/runbooks/stuck-drain.md) ------------------------

def test_stuck_drain_runbook():
    """A deploy that stops the old color at once (blue_green_keep_previous_seconds=0) waits
    for it to drain; a slow upload on it never ends: the runbook's symptom and steps."""
    upload = SlowUpload()
    try:
        time.sleep(2)
        stuck = sorted(r["svname"] for r in show_stat() if r["svname"].endswith("_blue") and int(r["scur"]) > 0)
        assert stuck, show_stat()
        deploy = ("seed.fleet.deploy", "-e", "blue_green_version=v2",
                  "-e", "blue_green_keep_previous_seconds=0", "-e", "blue_green_drain_timeout=5")
        proc = run(*deploy, ok=False)
        assert proc.returncode != 0
        message = r"servers of backend be_demo still have sessions after 5(\.0)?s: .*" + re.escape(stuck[0]) + r" \(1 sessions\)"
        assert re.search(message, proc.stdout), proc.stdout[-4000:]
        assert_users_see("v2", "green")  # traffic is already on the new color
        # Look (on the LB, the runbook's commands).
        state = on_lb(f'echo "show servers state be_demo" | socat stdio {ADMIN_SOCKET}')
        assert all(s in state for s in stuck)
        stat = on_lb(f'echo "show stat" | socat stdio {ADMIN_SOCKET} | cut -d, -f1,2,5,18 | grep be_demo')
        assert f"be_demo,{stuck[0]},1," in stat, stat
        assert on_lb(f'echo "show sess" | socat stdio {ADMIN_SOCKET} | grep be_demo')
        # Decide: the session does not fall (one byte a second) -> cut it.
        assert upload.alive, upload.error
        for server in stuck:
            on_lb(f'echo "shutdown sessions server be_demo/{server}" | socat stdio {ADMIN_SOCKET}')
        end = time.monotonic() + 10
        while upload.alive and time.monotonic() < end:
            time.sleep(0.5)
        assert not upload.alive, "the stuck upload survived 'shutdown sessions'"
    finally:
        upload.close()
    # Rerun the playbook that failed: the switch was recorded, so it is a no-op...
    proc = run(*deploy)
    assert "nothing to deploy" in proc.stdout
    assert_users_see("v2", "green")
    # ... that does not stop the old color: the runbook's last step does.
    assert all(running(c, "demo-blue") for c in APPS.values())
    run("app", "-b", "-m", "community.docker.docker_container", "-a", "name=demo-blue state=stopped", tool="ansible")
    assert not any(running(c, "demo-blue") for c in APPS.values())
    assert_users_see("v2", "green")


# --- 8. the retire timer survives a reboot -------------------------------------------

def test_retire_timer_survives_a_restart_inside_the_warm_window():
    keep = 60
    run("seed.fleet.deploy", "-e", "blue_green_version=v3", "-e", f"blue_green_keep_previous_seconds={keep}")
    switched = time.monotonic()  # the timer's window starts at the end of the deploy
    assert_users_see("v3", "blue")
    # Reboot app1 inside the window: its old color comes back with Docker (unless-stopped).
    subprocess.run(["docker", "restart", "-t", "5", "ssh-app1"], check=True, capture_output=True)
    wait_for_ssh("10.20.2.21")
    end = time.monotonic() + 30
    while not running("ssh-app1", "demo-green") and time.monotonic() < end:
        time.sleep(1)
    assert dexec("ssh-app1", "systemctl is-active seed-fleet-demo-retire-green.timer") == "active"
    assert time.monotonic() - switched < keep, "the restart took the whole window: nothing proved"
    # After the deadline the timer has stopped the old color on every app host, the
    # restarted one included, and it does not fire again.
    time.sleep(max(0, keep + 3 - (time.monotonic() - switched)))
    for container in APPS.values():
        end = time.monotonic() + 40
        while running(container, "demo-green") and time.monotonic() < end:
            time.sleep(1)
        assert not running(container, "demo-green"), container
        assert dexec(container, "systemctl is-active seed-fleet-demo-retire-green.timer", check=False) != "active"
    assert_users_see("v3", "blue")


# --- 9. add an app host (docs/runbooks/add-app-host.md) --------------------------------

APP3 = ["-i", str(FLEET / "overlay-app3")]  # the runbook's inventory edit (step 1)


def test_add_an_app_host():
    # Step 2: converge the new host only; the deploy is skipped (part of the fleet).
    proc = run("seed.fleet.site", *APP3, "--limit", "app3.example.com")
    assert set(recap(proc)) == {"app3.example.com"} and "site.yml skips the deploy" in proc.stdout
    # Step 3: the LBs learn app3's servers and the monitoring server its targets; no user
    # sees an error meanwhile.
    run("seed.fleet.site", *APP3, "--limit", "lb:monitoring", "--tags", "load_balancer,lb_vip,monitoring_server")
    servers = {r["svname"]: r["status"] for r in show_stat()}
    assert {"app3.example.com_blue", "app3.example.com_green"} <= set(servers), servers
    assert_users_see("v3", "blue")
    # Step 4: deploy the live version: a full deploy onto the idle color, app3 included.
    run("seed.fleet.deploy", *APP3, "-e", "blue_green_app=demo", "-e", "blue_green_version=v3")
    assert_users_see("v3", "green")
    servers = {r["svname"]: r["status"] for r in show_stat()}
    assert servers["app3.example.com_green"] == "UP", servers
    assert running("ssh-app3", "demo-green")
    # Step 5: Prometheus scrapes app3's node_exporter (the runbook's command, on mon1).
    assert wait_for_target("app3.example.com") == "up"


def wait_for_target(instance: str, deadline: float = 60) -> str:
    """The health Prometheus gives a host's node_exporter (mon1's API, as the add-app-host runbook asks it)."""
    ask = ("curl -s --cacert /etc/prometheus/web/ca.crt -u \"prometheus:$(cat /etc/prometheus/web/prometheus.password)\" "
           "'https://127.0.0.1:9090/api/v1/targets?state=active'")
    end = time.monotonic() + deadline
    while True:
        targets = json.loads(dexec("ssh-mon1", ask))["data"]["activeTargets"]
        node = {t["labels"].get("instance"): t for t in targets if t["labels"].get("job") == "node"}
        target = node.get(instance)
        if target and target["health"] == "up":
            return "up"
        if time.monotonic() > end:
            return f"{target['health']} ({target['scrapeUrl']}: {target['lastError']})" if target else f"not a target: {sorted(node)}"
        time.sleep(2)


# --- 10. replace the LB host (docs/runbooks/lb-host-replacement.md) -------------------

def _lb1_command(image: str) -> list[str]:
    """docker run for a new ssh-lb1: molecule.yml's host (kind firewall from
    lab/hosts/kinds.yml, same address) from the image the dead one ran (its suite)."""
    table = yaml.safe_load((ssh_fleet.REPO / "lab" / "hosts" / "kinds.yml").read_text())
    kind, common = table["seed_fleet_host_kinds"]["firewall"], table["seed_fleet_host_common"]
    return (["docker", "run", "-d", "--name", "ssh-lb1", "--hostname", "lb1", "--network", "ssh-net", "--ip", LB_ADDRESS,
             "--cgroupns", common["cgroupns_mode"]]
            + [a for cap in kind["capabilities"] for a in ("--cap-add", cap)]
            + [a for opt in kind["security_opts"] for a in ("--security-opt", opt)]
            + [a for path in common["tmpfs"] for a in ("--tmpfs", path)]
            + [a for vol in kind["volumes"] for a in ("-v", vol)]
            + [image, common["command"]])


def hand_over(container: str) -> None:
    """What the provider does for a new host (prepare.yml): its own host keys, sshd,
    deploy with the fleet's key and the same password sudo."""
    shadow = dexec("ssh-mon1", "getent shadow deploy").split(":")[1]
    key = (FLEET / "id_ed25519.pub").read_text().strip()
    # A provider hands a host over once it has booted: `is-system-running --wait` fails at once while
    # systemd's bus is not up yet (a loaded machine), so ask until it says running or degraded.
    dexec(container, "for i in $(seq 120); do case $(systemctl is-system-running --wait 2>/dev/null) in "
                     "running|degraded) exit 0;; esac; sleep 0.5; done; exit 1")
    dexec(container, " && ".join([
        "rm -f /etc/ssh/ssh_host_*_key*", "ssh-keygen -A",
        "useradd -m -s /bin/bash deploy", f"usermod -p '{shadow}' deploy",
        "install -d -m 0700 -o deploy -g deploy /home/deploy/.ssh",
        f"echo '{key}' > /home/deploy/.ssh/authorized_keys",
        "chown deploy:deploy /home/deploy/.ssh/authorized_keys", "chmod 0600 /home/deploy/.ssh/authorized_keys",
        "echo 'deploy ALL=(ALL:ALL) ALL' > /etc/sudoers.d/90-provider-admin", "chmod 0440 /etc/sudoers.d/90-provider-admin",
        "systemctl start ssh"]))  # running, its unit disabled: baseline enables it (Debian 13: see ssh.yml)


def test_lb_host_replacement_runbook(tmp_path):
    # The single LB's state.json, backed up before the host dies (the runbook's "its backup").
    backup = tmp_path / "state.json"
    backup.write_text(on_lb("cat /var/lib/seed-fleet/demo/state.json"))
    live = json.loads(backup.read_text())["live"]
    assert (live["version"], live["color"]) == ("v3", "green")
    image = subprocess.run(["docker", "inspect", "-f", "{{.Config.Image}}", "ssh-lb1"],
                           check=True, capture_output=True, text=True).stdout.strip()
    assert image.startswith("seed-fleet/node:"), image
    subprocess.run(["docker", "rm", "-f", "ssh-lb1"], check=True, capture_output=True)
    subprocess.run(_lb1_command(image), check=True, capture_output=True)
    # Step 1: a new host, same name and address, new host keys.
    hand_over("ssh-lb1")
    known_hosts = FLEET / "known_hosts"
    stale = subprocess.run(["ssh", "-i", str(FLEET / "id_ed25519"), "-o", "BatchMode=yes", "-o", "ControlMaster=no",
                            "-o", f"UserKnownHostsFile={known_hosts}", "-o", "StrictHostKeyChecking=yes",
                            f"deploy@{LB_ADDRESS}", "true"], capture_output=True, text=True, check=False, timeout=30)
    assert stale.returncode != 0 and "REMOTE HOST IDENTIFICATION HAS CHANGED" in stale.stderr
    # The runbook's known_hosts step: drop the old key, add the new one (from the provider).
    subprocess.run(["ssh-keygen", "-f", str(known_hosts), "-R", LB_ADDRESS], check=True, capture_output=True)
    subprocess.run(["ssh-keygen", "-f", str(known_hosts), "-R", f"[{LB_ADDRESS}]:2222"], check=True, capture_output=True)
    with known_hosts.open("a") as fh:
        fh.write(f"{LB_ADDRESS} {' '.join(dexec('ssh-lb1', 'cat /etc/ssh/ssh_host_ed25519_key.pub').split()[:2])}\n")
    wait_for_ssh(LB_ADDRESS)
    # Step 2: converge it, limited to the new host (app3 is in the inventory by now).
    proc = run("seed.fleet.site", *APP3, "--limit", "lb1.example.com", ok=False)
    assert proc.returncode == 0, proc.stdout[-6000:] + "\n---- sshd on the new lb1 ----\n" + dexec(
        "ssh-lb1", "systemctl status ssh --no-pager; journalctl -b -u ssh -u sshd --no-pager | tail -n 60", check=False)
    assert set(recap(proc)) == {"lb1.example.com"}
    # A fresh HAProxy renders blue ready, green maint: not the live color.
    ready = {r["svname"] for r in show_stat() if r["status"] != "MAINT"}
    assert all(s.endswith("_blue") for s in ready), ready
    # Step 3: green is live (the backup says so): make the new LB agree, then restore the state.
    run("lb1.example.com", *APP3, "-b", "-m", "seed.fleet.haproxy_server",
        "-a", "backend=be_demo switch_to=green switch_others_state=maint", tool="ansible")
    run("lb1.example.com", *APP3, "-b", "-m", "ansible.builtin.file",
        "-a", "path=/var/lib/seed-fleet/demo state=directory owner=root mode=0700", tool="ansible")
    run("lb1.example.com", *APP3, "-b", "-m", "ansible.builtin.copy",
        "-a", f"src={backup} dest=/var/lib/seed-fleet/demo/state.json owner=root mode=0600", tool="ansible")
    # Step 5: check.
    greens = [f"{h}_green" for h in [*APPS, "app3.example.com"]]
    servers = wait_until_up(greens)
    assert all(servers[s] == "UP" for s in greens), servers
    assert_users_see("v3", "green")
    assert on_lb("cat /var/lib/seed-fleet/demo/state.json") == backup.read_text()
    # With the state back, a deploy of the live version is a no-op: nothing restarts, green stays live.
    containers = {**APPS, "app3.example.com": "ssh-app3"}
    started = {c: dexec(c, "docker inspect -f '{{.State.StartedAt}}' demo-green") for c in containers.values()}
    proc = run("seed.fleet.deploy", *APP3, "-e", "blue_green_app=demo", "-e", "blue_green_version=v3")
    assert "nothing to deploy" in proc.stdout
    assert started == {c: dexec(c, "docker inspect -f '{{.State.StartedAt}}' demo-green") for c in containers.values()}
    assert_users_see("v3", "green")


# --- 11. changing the SSH port over SSH (last: mon1 stays on 2222) ---------------------

def test_ssh_port_change_keeps_the_run_connected():
    # Only the parts the port touches: sshd and the firewall that lets it in.
    mon = ["--limit", "mon1.example.com", "--tags", "baseline_ssh,baseline_firewall"]
    # baseline_ssh_port=2222 while Ansible still connects on 22: both ports stay open.
    proc = run("seed.fleet.site", *mon, "-e", "baseline_ssh_port=2222")
    assert "set ansible_port=2222" in proc.stdout
    ports = dexec("ssh-mon1", "sshd -T | awk '$1 == \"port\" {print $2}' | sort -n | xargs")
    assert ports == "22 2222"
    # The inventory moves to 2222: the run connects there and 22 closes.
    run("seed.fleet.site", *mon, "-e", "baseline_ssh_port=2222", "-e", "ansible_port=2222")
    assert dexec("ssh-mon1", "sshd -T | awk '$1 == \"port\" {print $2}' | xargs") == "2222"
