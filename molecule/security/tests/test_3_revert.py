"""A failed revert is reported: a deploy failing after the switch, on a load balancer whose
runtime socket is moved away right after the switch. The rescue cannot put traffic back:
the run must fail, name the LB, say where traffic is (read back through the TCP runtime
API) and record it in the history. Runs last: it leaves traffic on the failed color.
"""
import subprocess

from conftest import LB, PROJECT, host, playbook, state

SOCK = "/run/haproxy/admin.sock"
# Moves the socket away once a server of the idle color is UP in the live backend (the switch
# happened); reads HAProxy through the TCP runtime API, which stays.
WATCH = (
    "for i in $(seq 1500); do "
    "  if echo 'show stat' | socat - tcp:127.0.0.1:9999 | awk -F, '$1 == \"be_demo\" && $2 ~ /_%s$/ && $18 == \"UP\" {f=1} END {exit !f}'; then "
    "    mv %s %s.gone; echo moved > /opt/revert-watch; exit 0; fi; sleep 0.1; done")
TRAFFIC = "for i in $(seq 3000); do curl -s -o /dev/null -m 2 http://127.0.0.1/; sleep 0.03; done"


def test_failed_revert_fails_loudly_and_is_recorded():
    lb = host(LB)
    lb.run("rm -f /opt/revert-watch %s.gone" % SOCK)
    live_before = state()["live"]["color"]
    idle = "green" if live_before == "blue" else "blue"
    subprocess.run(["docker", "exec", "-d", LB, "bash", "-c", WATCH % (idle, SOCK, SOCK)], check=True)
    subprocess.run(["docker", "exec", "-d", LB, "bash", "-c", TRAFFIC], check=True)
    try:
        rc, out = playbook(PROJECT / "playbooks" / "deploy.yml", "-e", "blue_green_version=v3",
                           "-e", "blue_green_verify_seconds=8",
                           "-e", '{"blue_green_env": {"APP_FAIL_AFTER_REQUESTS": "20"}}')
    finally:
        moved = lb.run("cat /opt/revert-watch").stdout.strip()
        lb.run("test -S %s.gone && mv %s.gone %s" % (SOCK, SOCK, SOCK))
    assert moved == "moved", "the socket was never moved (no switch seen)\n" + out[-3000:]
    assert rc != 0
    assert "REVERTING THE LOAD BALANCER FAILED on %s" % LB in out, out[-3000:]
    assert "Traffic now (read back):" in out
    assert "%s: %s (ready:" % (LB, idle) in out, out[-3000:]
    assert "Traffic is on" not in out
    last = state()["history"][-1]
    assert last["version"] == "v3" and last["result"] == "revert_failed", last
    assert LB in last["revert_failed"]
    assert last["traffic_now"][LB].startswith(idle)
