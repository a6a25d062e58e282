"""What an operator checks on the load balancer after seed.fleet.load_balancer and a blue->green switch."""
import re
import time

import pytest

SOCKET = "/run/haproxy/admin.sock"


def cli(host, command):
    return host.check_output("echo %s | socat -t 5 - UNIX-CONNECT:%s", command, SOCKET)


def server_states(host, backend):
    """server name -> srv_admin_state from the runtime API."""
    out = cli(host, "show servers state %s" % backend)
    rows = [line.split() for line in out.splitlines()[2:] if line.strip()]
    return {r[3]: int(r[6]) for r in rows}


def colours(host, count=30, url="http://127.0.0.1/", extra=""):
    out = host.check_output(
        "for i in $(seq %d); do curl -s -m 2 %s %s; done" % (count, extra, url))
    return out.split()


def wait_for_api(host, timeout=15):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if host.run("echo 'show info' | socat -t 2 - UNIX-CONNECT:%s", SOCKET).rc == 0 and \
                host.socket("tcp://0.0.0.0:80").is_listening:
            return
        time.sleep(0.2)
    pytest.fail("HAProxy runtime API did not come back")


def demo(host, count=30):
    return colours(host, count, extra="-H 'Host: demo.example'")


def test_haproxy_runs_master_worker(host):
    svc = host.service("haproxy")
    assert svc.is_running and svc.is_enabled
    cmdlines = host.check_output("pgrep -a haproxy")
    assert "-Ws" in cmdlines and len(cmdlines.splitlines()) >= 2  # master + worker
    assert host.run("haproxy -c -q -f /etc/haproxy/haproxy.cfg").rc == 0


def test_runtime_socket_is_admin_and_root_only(host):
    sock = host.file(SOCKET)
    assert sock.is_socket and sock.user == "root" and sock.mode == 0o600
    # admin level: "set" commands are accepted (a harmless one: the same weight again)
    assert cli(host, "set server be_api/load_balancer-lb1_blue weight 1").strip() == ""
    assert "HAProxy" in host.check_output("echo 'show info' | socat -t 5 - TCP:127.0.0.1:9999")


def test_traffic_goes_only_to_the_ready_colour(host):
    assert set(demo(host)) == {"green"}
    # api was not switched: still blue only, routed by path on the same port
    assert set(colours(host, 20, url="http://127.0.0.1/api/x")) == {"blue"}
    states = server_states(host, "be_demo")
    assert states["load_balancer-lb1_green"] & 0x01 == 0
    assert states["load_balancer-lb1_blue"] & 0x08  # drain


def test_tls_frontend(host):
    out = colours(host, 10, url="https://demo.example/",
                  extra="-k --resolve demo.example:443:127.0.0.1")
    assert set(out) == {"green"}


def test_state_file_written_by_the_switch(host):
    state = host.file("/var/lib/haproxy/server-state")
    assert state.exists
    assert re.search(r"be_demo \d+ load_balancer-lb1_blue 127.0.0.1 \d+ 8 ", state.content_string)


def test_reload_is_hitless_and_keeps_the_colour(host):
    worker_before = host.check_output("pgrep -f -n 'haproxy -Ws'")
    # 150 requests in the background while the reload happens; every one must be answered by green.
    host.run_test("(for i in $(seq 150); do curl -s -m 2 -H 'Host: demo.example' http://127.0.0.1/ "
                  "|| echo FAILED; done > /tmp/during-reload.txt) & "
                  "sleep 0.3; systemctl reload haproxy; wait")
    during = host.check_output("cat /tmp/during-reload.txt").split()
    assert len(during) == 150 and set(during) == {"green"}
    assert host.check_output("pgrep -f -n 'haproxy -Ws'") != worker_before  # a new worker took over
    assert set(demo(host)) == {"green"}


def test_restart_keeps_the_colour(host):
    host.run_test("systemctl restart haproxy")
    wait_for_api(host)
    assert server_states(host, "be_demo")["load_balancer-lb1_blue"] & 0x08
    assert set(demo(host)) == {"green"}


def test_manual_runtime_change_survives_reload_but_ports_come_from_config(host):
    # An operator's change through the socket (not through the module) is saved by the unit on
    # reload; a runtime port change is not (the configuration's port wins, so config edits apply).
    blue = "be_api/load_balancer-lb1_blue"
    cli(host, "set server %s weight 7" % blue)
    cli(host, "set server %s addr 127.0.0.1 port 8082" % blue)
    try:
        host.run_test("systemctl reload haproxy")
        wait_for_api(host)
        out = cli(host, "show servers state be_api")
        row = [line.split() for line in out.splitlines() if "load_balancer-lb1_blue" in line][0]
        assert row[7] == "7"  # srv_uweight
        assert row[18] == "8081"  # srv_port, from haproxy.cfg
    finally:
        cli(host, "set server %s weight 1" % blue)


def test_invalid_config_left_the_old_one_running(host):
    # side_effect tried timeout client "5parsecs": it must not be on disk nor live.
    assert "5parsecs" not in host.file("/etc/haproxy/haproxy.cfg").content_string
    assert "timeout client 30s" in host.file("/etc/haproxy/haproxy.cfg").content_string
    assert host.service("haproxy").is_running
    assert set(demo(host, 10)) == {"green"}


def test_health_checks_and_retries_configured(host):
    cfg = host.file("/etc/haproxy/haproxy.cfg").content_string
    assert "http-check send meth GET uri /healthz" in cfg
    assert "retry-on conn-failure empty-response 503" in cfg
    stat = cli(host, "show stat be_demo 4 -1")
    assert "load_balancer-lb1_green" in stat and ",UP," in stat


def test_prometheus_endpoint(host):
    out = host.check_output("curl -sf http://127.0.0.1:8405/metrics")
    assert 'haproxy_backend_active_servers{proxy="be_demo"}' in out


def test_stats_page_requires_auth(host):
    assert host.check_output("curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:8404/stats") == "401"
    code = host.check_output(
        "curl -s -o /dev/null -w '%{http_code}' -u admin:molecule-stats-secret http://127.0.0.1:8404/stats")
    assert code == "200"
    assert "molecule-stats-secret" not in host.file("/etc/haproxy/haproxy.cfg").content_string


def test_tls_key_is_private(host):
    pem = host.file("/etc/haproxy/certs/demo.pem")
    assert pem.user == "root" and pem.mode == 0o600
