"""The production road (issue #13): inventories/example, verbatim plus an overlay of
addresses and key paths, over SSH as `deploy` with sudo, pipelining and host key
checking on. converge ran site.yml twice (the second with changed=0); these tests
run the runbooks' commands on that one fleet, in file order (one deploy history):

1. what the site runs left, and that SSH really is the road (host keys checked);
2. docs/runbooks/deploy.md: deploy v1 (the first deploy site.yml skipped), then v2;
3. docs/runbooks/rollback.md: roll back to v1 (warm switch);
4. site.yml --limit <one app host> and site.yml --tags monitoring_agent;
5. the warm color's retire timer survives a restart of the app host inside the window.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(HERE))
import fleet  # noqa: E402  pylint: disable=wrong-import-position

FLEET = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "fleet"
LB_URL = "http://10.20.2.10/"  # lb1.example.com's address in inventories/example
APPS = {"app1.example.com": "ssh-app1", "app2.example.com": "ssh-app2"}
CONTAINERS = {"lb1.example.com": "ssh-lb1", **APPS, "mon1.example.com": "ssh-mon1"}
RECAP = re.compile(r"^(\S+)\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)


def run(playbook: str, *args: str, ok: bool = True) -> subprocess.CompletedProcess:
    proc = fleet.run(playbook, list(args))
    if ok:
        assert proc.returncode == 0, proc.stdout[-6000:]
    return proc


def recap(proc) -> dict[str, dict[str, int]]:
    return {h: {"ok": int(o), "changed": int(c), "unreachable": int(u), "failed": int(f)}
            for h, o, c, u, f in RECAP.findall(proc.stdout)}


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


# --- 1. the road -------------------------------------------------------------------

def test_site_ran_over_ssh_as_deploy_with_sudo():
    site_logs = sorted((FLEET / "runs").glob("*-site.log"))
    assert len(site_logs) >= 2, "converge and idempotence each ran site.yml"
    last = site_logs[-1].read_text()
    totals = recap(type("P", (), {"stdout": last}))
    assert set(totals) == set(CONTAINERS)
    assert all(t["changed"] == 0 and t["failed"] == 0 for t in totals.values()), totals
    # No version in inventories/example: site.yml said it skips the first deploy, and how.
    assert "no blue_green_version is set" in last and "seed.fleet.deploy" in last


@pytest.mark.parametrize("name, container", sorted(CONTAINERS.items()))
def test_hosts_are_hardened_and_reached_by_key(name, container):
    sshd = dexec(container, "sshd -T")
    assert "passwordauthentication no" in sshd and "permitrootlogin no" in sshd
    assert "ssh-ed25519" in dexec(container, "cat /home/deploy/.ssh/authorized_keys")
    assert dexec(container, "systemctl is-active ssh nftables") == "active\nactive"


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
    proc = fleet.run("seed.fleet.site", [], vault=path)
    assert proc.returncode != 0 and error in proc.stdout, proc.stdout[-3000:]
    assert not re.search(r"^changed: \[", proc.stdout, re.M)
    assert all(t["changed"] == 0 for t in recap(proc).values())
    assert before == {c: dexec(c, "stat -c %Y /etc/ssh/sshd_config /etc/nftables.conf | xargs") for c in CONTAINERS.values()}


# --- 2. deploy (docs/runbooks/deploy.md) ---------------------------------------------

def test_deploy_first_version():
    run("seed.fleet.deploy", "-e", "blue_green_version=v1")
    assert_users_see("v1", "blue")


def test_deploy_v2():
    run("seed.fleet.deploy", "-e", "blue_green_version=v2")
    assert_users_see("v2", "green")
    for container in APPS.values():
        assert dexec(container, "docker inspect -f '{{.State.Running}}' demo-blue") == "true"  # warm
        assert dexec(container, "systemctl is-enabled seed-fleet-demo-retire-blue.timer") == "enabled"


# --- 3. rollback (docs/runbooks/rollback.md) -----------------------------------------

def test_rollback_to_v1():
    run("seed.fleet.rollback")
    assert_users_see("v1", "blue")
    for container in APPS.values():
        assert dexec(container, "systemctl is-enabled seed-fleet-demo-retire-blue.timer", check=False) != "enabled"
        assert dexec(container, "systemctl is-enabled seed-fleet-demo-retire-green.timer") == "enabled"


# --- 4. site.yml runs on part of the fleet -------------------------------------------

def test_site_limited_to_one_app_host():
    """The runbooks' pattern, with a version pinned (the issue's failing case): the
    first-deploy play says it skips (part of the fleet) instead of failing."""
    proc = run("seed.fleet.site", "--limit", "app1.example.com", "-e", "blue_green_version=v1")
    assert set(recap(proc)) == {"app1.example.com"}
    assert recap(proc)["app1.example.com"]["changed"] == 0
    assert "only part of the fleet" in proc.stdout
    assert_users_see("v1", "blue")


def test_site_tags_monitoring_agent():
    proc = run("seed.fleet.site", "--tags", "monitoring_agent")
    assert set(recap(proc)) == set(CONTAINERS)
    assert all(t["changed"] == 0 for t in recap(proc).values()), recap(proc)


# --- 5. the retire timer survives a reboot -------------------------------------------

def wait_for_ssh(address: str, deadline: float = 90) -> None:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        probe = subprocess.run(["ssh", "-i", str(FLEET / "id_ed25519"), "-o", "BatchMode=yes", "-o", "ConnectTimeout=3",
                                "-o", f"UserKnownHostsFile={FLEET / 'known_hosts'}", "-o", "StrictHostKeyChecking=yes",
                                f"deploy@{address}", "true"], capture_output=True, check=False)
        if probe.returncode == 0:
            return
        time.sleep(2)
    pytest.fail(f"no SSH on {address} after {deadline} s")


def test_retire_timer_survives_a_restart_inside_the_warm_window():
    keep = 100
    run("seed.fleet.deploy", "-e", "blue_green_version=v3", "-e", f"blue_green_keep_previous_seconds={keep}")
    switched = time.monotonic()  # the timer's window starts at the end of the deploy
    assert_users_see("v3", "green")
    # Reboot app1 inside the window: its old color comes back with Docker (unless-stopped).
    subprocess.run(["docker", "restart", "-t", "20", "ssh-app1"], check=True, capture_output=True)
    wait_for_ssh("10.20.2.21")
    end = time.monotonic() + 60
    while dexec("ssh-app1", "docker inspect -f '{{.State.Running}}' demo-blue", check=False) != "true" \
            and time.monotonic() < end:
        time.sleep(1)
    assert dexec("ssh-app1", "systemctl is-active seed-fleet-demo-retire-blue.timer") == "active"
    assert time.monotonic() - switched < keep, "the restart took the whole window: nothing proved"
    # After the deadline the timer has stopped the old color on every app host, the
    # restarted one included, and it does not fire again.
    time.sleep(max(0, keep + 5 - (time.monotonic() - switched)))
    for container in APPS.values():
        end = time.monotonic() + 40
        while dexec(container, "docker inspect -f '{{.State.Running}}' demo-blue") != "false" and time.monotonic() < end:
            time.sleep(1)
        assert dexec(container, "docker inspect -f '{{.State.Running}}' demo-blue") == "false", container
        assert dexec(container, "systemctl is-active seed-fleet-demo-retire-blue.timer", check=False) != "active"
    assert_users_see("v3", "green")


# --- 6. add an app host (docs/runbooks/add-app-host.md) --------------------------------

APP3 = ["-i", str(FLEET / "overlay-app3")]  # the runbook's inventory edit (step 1)


def show_stat() -> list[dict[str, str]]:
    out = dexec("ssh-lb1", "echo 'show stat' | socat -t 2 - UNIX-CONNECT:/run/haproxy/admin.sock")
    head, *rows = out.lstrip("# ").splitlines()
    keys = head.split(",")
    return [dict(zip(keys, r.split(","))) for r in rows if r.startswith("be_demo,")]


def test_add_an_app_host():
    # Step 2: converge the new host only; the deploy is skipped (part of the fleet).
    proc = run("seed.fleet.site", *APP3, "--limit", "app3.example.com")
    assert set(recap(proc)) == {"app3.example.com"} and "site.yml skips the deploy" in proc.stdout
    # Step 3: the LBs learn app3's servers; no user sees an error meanwhile.
    proc = run("seed.fleet.site", *APP3, "--limit", "lb")
    servers = {r["svname"]: r["status"] for r in show_stat()}
    assert {"app3.example.com_blue", "app3.example.com_green"} <= set(servers), servers
    assert_users_see("v3", "green")
    # Step 4: deploy the live version: a full deploy onto the idle color, app3 included.
    run("seed.fleet.deploy", *APP3, "-e", "blue_green_version=v3")
    assert_users_see("v3", "blue")
    servers = {r["svname"]: r["status"] for r in show_stat()}
    assert servers["app3.example.com_blue"] == "UP", servers
    assert dexec("ssh-app3", "docker inspect -f '{{.State.Running}}' demo-blue") == "true"


# --- 7. changing the SSH port over SSH ----------------------------------------------

def test_ssh_port_change_keeps_the_run_connected():
    mon = ["--limit", "mon1.example.com", "--tags", "baseline"]
    # baseline_ssh_port=2222 while Ansible still connects on 22: both ports stay open.
    proc = run("seed.fleet.site", *mon, "-e", "baseline_ssh_port=2222")
    assert "set ansible_port=2222" in proc.stdout
    ports = dexec("ssh-mon1", "sshd -T | awk '$1 == \"port\" {print $2}' | sort -n | xargs")
    assert ports == "22 2222"
    # The inventory moves to 2222: the run connects there and 22 closes.
    run("seed.fleet.site", *mon, "-e", "baseline_ssh_port=2222", "-e", "ansible_port=2222")
    assert dexec("ssh-mon1", "sshd -T | awk '$1 == \"port\" {print $2}' | xargs") == "2222"
    # And back to the example's 22 the same way.
    run("seed.fleet.site", *mon, "-e", "ansible_port=2222")
    run("seed.fleet.site", *mon)
    assert dexec("ssh-mon1", "sshd -T | awk '$1 == \"port\" {print $2}' | xargs") == "22"
