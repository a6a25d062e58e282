"""What an operator checks on the load balancer after seed.fleet.load_balancer and a blue->green switch."""
import os
import re
import subprocess
import time
from pathlib import Path

import pytest

SOCKET = "/run/haproxy/admin.sock"


def cli(host, command):
    return host.check_output("echo %s | socat -t 5 - UNIX-CONNECT:%s", command, SOCKET)


def server_states(host, backend):
    """server name -> srv_admin_state from the runtime API."""
    out = cli(host, "show servers state %s" % backend)
    rows = [line.split() for line in out.splitlines()[2:] if line.strip()]
    return {r[3]: int(r[6]) for r in rows}


def colors(host, count=30, url="http://127.0.0.1/", extra=""):
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


def answering_pid(host):
    out = host.run("echo 'show info' | socat -t 2 - UNIX-CONNECT:%s", SOCKET).stdout
    match = re.search(r"^Pid: (\d+)$", out, re.M)
    return match.group(1) if match else None


def reload_haproxy(host, timeout=15):
    """systemctl reload returns once USR2 is sent: wait until the new worker answers the socket."""
    before = answering_pid(host)
    host.run_test("systemctl reload haproxy")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pid = answering_pid(host)
        if pid and pid != before:
            return
        time.sleep(0.2)
    pytest.fail("no new HAProxy worker answered after the reload")


def demo(host, count=30):
    return colors(host, count, extra="-H 'Host: demo.example'")


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


def test_traffic_goes_only_to_the_ready_color(host):
    assert set(demo(host)) == {"green"}
    # api was not switched: still blue only, routed by path on the same port
    assert set(colors(host, 20, url="http://127.0.0.1/api/x")) == {"blue"}
    states = server_states(host, "be_demo")
    assert states["load_balancer-lb1_green"] & 0x01 == 0
    assert states["load_balancer-lb1_blue"] & 0x08  # drain


def test_tls_frontend(host):
    out = colors(host, 10, url="https://demo.example/",
                 extra="-k --resolve demo.example:443:127.0.0.1")
    assert set(out) == {"green"}


def test_hsts_on_https_answers_only(host):
    https = host.check_output("curl -sk -o /dev/null -D - --resolve demo.example:443:127.0.0.1 https://demo.example/")
    assert re.search(r"^strict-transport-security: max-age=31536000\s*$", https, re.M | re.I), https
    plain = host.check_output("curl -s -o /dev/null -D - -H 'Host: demo.example' http://127.0.0.1/")
    assert "strict-transport-security" not in plain.lower(), plain


def test_state_file_written_by_the_switch(host):
    state = host.file("/var/lib/haproxy/server-state")
    assert state.exists
    assert re.search(r"be_demo \d+ load_balancer-lb1_blue 127.0.0.1 \d+ 8 ", state.content_string)


def test_reload_is_hitless_and_keeps_the_color(host):
    worker_before = host.check_output("pgrep -f -n 'haproxy -Ws'")
    # 150 requests in the background while the reload happens; every one must be answered by green.
    host.run_test("(for i in $(seq 150); do curl -s -m 2 -H 'Host: demo.example' http://127.0.0.1/ "
                  "|| echo FAILED; done > /tmp/during-reload.txt) & "
                  "sleep 0.3; systemctl reload haproxy; wait")
    during = host.check_output("cat /tmp/during-reload.txt").split()
    assert len(during) == 150 and set(during) == {"green"}
    assert host.check_output("pgrep -f -n 'haproxy -Ws'") != worker_before  # a new worker took over
    assert set(demo(host)) == {"green"}


def test_restart_keeps_the_color(host):
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
        reload_haproxy(host)
        out = cli(host, "show servers state be_api")
        row = [line.split() for line in out.splitlines() if "load_balancer-lb1_blue" in line][0]
        assert row[7] == "7"  # srv_uweight
        assert row[18] == "8081"  # srv_port, from haproxy.cfg
    finally:
        cli(host, "set server %s weight 1" % blue)


def main_pid(host):
    return host.check_output("systemctl show -p MainPID --value haproxy").strip()


def crash_haproxy(host):
    """kill -9 the master and its workers (by PID); systemd (Restart=always) starts HAProxy again."""
    master = main_pid(host)
    workers = host.check_output("pgrep -P %s || true", master).split()
    host.run_test("kill -9 %s %s" % (master, " ".join(workers)))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        pid = main_pid(host)
        if pid not in ("0", master) and host.service("haproxy").is_running:
            break
        time.sleep(0.3)
    else:
        pytest.fail("HAProxy was not started again after the crash")
    wait_for_api(host)
    assert answering_pid(host) not in workers


def switch_like_a_deploy(host, color):
    """blue_green's switch: the module plans, one socat write sends, the module confirms and persists."""
    plan = host.ansible("seed.fleet.haproxy_server", "backend=be_demo switch_to=%s" % color, check=True)
    assert plan["runtime_commands"], plan
    cli(host, ";".join(plan["runtime_commands"]))
    confirm = host.ansible("seed.fleet.haproxy_server", "backend=be_demo switch_to=%s" % color, check=False)
    assert confirm["runtime_commands"] == [] and confirm["changed"], confirm
    assert confirm["state_file"] == "/var/lib/haproxy/server-state"


def test_crash_restart_comes_back_to_the_color_users_were_on(host):
    # The ExecStop/ExecReload hooks cannot save anything after a kill -9: only the state file the
    # deploy's confirm call wrote can bring the switch back.
    assert set(demo(host)) == {"green"}
    switch_like_a_deploy(host, "blue")
    try:
        assert set(demo(host, 10)) == {"blue"}
        crash_haproxy(host)
        states = server_states(host, "be_demo")
        assert states["load_balancer-lb1_blue"] & 0x01 == 0 and states["load_balancer-lb1_green"] & 0x08
        assert set(demo(host)) == {"blue"}
    finally:
        switch_like_a_deploy(host, "green")
    crash_haproxy(host)
    assert set(demo(host)) == {"green"}


def test_port_changed_in_the_config_wins_after_reload_and_crash(host):
    cfg = "/etc/haproxy/haproxy.cfg"

    def set_blue_port(old, new):
        host.run_expect([0], "sed -i '/^backend be_api$/,/^$/s/_blue 127.0.0.1:%d$/_blue 127.0.0.1:%d/' %s"
                        % (old, new, cfg))
        assert "_blue 127.0.0.1:%d" % new in "\n".join(section(host.file(cfg).content_string, "backend be_api"))

    def api_port():
        out = cli(host, "show servers state be_api")
        return [r.split()[18] for r in out.splitlines() if " load_balancer-lb1_blue " in r][0]

    host.run_expect([0], "cp %s /root/haproxy.cfg.orig" % cfg)
    try:
        set_blue_port(8081, 8091)
        reload_haproxy(host)
        assert api_port() == "8091"
        # a crash after another port change: nothing was saved, the start takes the port from the config
        set_blue_port(8091, 8092)
        crash_haproxy(host)
        assert api_port() == "8092"
        assert set(demo(host, 10)) == {"green"}  # the color stayed
    finally:
        host.run_expect([0], "cp /root/haproxy.cfg.orig %s" % cfg)
        reload_haproxy(host)
    assert api_port() == "8081"
    deadline = time.monotonic() + 10  # blue was DOWN on the wrong port: it has to pass its checks again
    while http_codes(host, "http://127.0.0.1/api/x", 1) != ["200"] and time.monotonic() < deadline:
        time.sleep(0.2)
    assert set(colors(host, 10, url="http://127.0.0.1/api/x")) == {"blue"}


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


# Preview (api has preview_port 8090 on the default 127.0.0.1): fe_api_preview -> be_api_preview,
# the same servers as be_api, all in maint until a deploy puts the idle color ready there.
PREVIEW = "http://127.0.0.1:8090/"


def http_codes(host, url, count=5):
    """HTTP status of each request; 000 when the connection fails."""
    return host.check_output(
        "for i in $(seq %d); do curl -s -o /dev/null -m 2 -w '%%{http_code} ' %s; done; true" % (count, url)).split()


def metric(host, name, labels):
    out = host.check_output("curl -sf http://127.0.0.1:8405/metrics")
    match = re.search(r"^%s\{%s\} (\S+)$" % (re.escape(name), re.escape(labels)), out, re.M)
    assert match, "%s{%s} not exported" % (name, labels)
    return float(match.group(1))


def section(cfg, header):
    return cfg.split("\n%s\n" % header, 1)[1].split("\n\n", 1)[0].splitlines()


def test_preview_config_mirrors_the_backend(host):
    cfg = host.file("/etc/haproxy/haproxy.cfg").content_string
    live, preview = section(cfg, "backend be_api"), section(cfg, "backend be_api_preview")
    servers = [line.split() for line in preview if line.strip().startswith("server ")]
    assert [s[1:3] for s in servers] == [
        ["load_balancer-lb1_blue", "127.0.0.1:8081"],
        ["load_balancer-lb1_green", "127.0.0.1:8082"],
    ]
    assert all(s[-1] == "disabled" for s in servers)
    # same balance, checks and servers as be_api; only "disabled" differs
    assert [line.replace(" disabled", "") for line in preview] == [line.replace(" disabled", "") for line in live]
    assert section(cfg, "frontend fe_api_preview") == ["    bind 127.0.0.1:8090", "    default_backend be_api_preview"]
    assert set(server_states(host, "be_api_preview")) == set(server_states(host, "be_api"))


def test_preview_listens_on_loopback_only(host):
    assert host.socket("tcp://127.0.0.1:8090").is_listening
    assert not host.socket("tcp://0.0.0.0:8090").is_listening
    own = host.check_output("hostname -I").split()[0]
    assert http_codes(host, "http://%s:8090/" % own, 1) == ["000"]  # refused
    assert http_codes(host, "http://%s:80/api/x" % own, 1) == ["200"]  # the live frontend is on every address


def test_preview_is_503_while_every_preview_server_is_in_maint(host):
    assert all(state & 0x01 for state in server_states(host, "be_api_preview").values())
    assert http_codes(host, PREVIEW) == ["503"] * 5
    assert metric(host, "haproxy_backend_active_servers", 'proxy="be_api_preview"') == 0


def test_preview_switch_serves_green_only_and_leaves_the_live_backend(host):
    live_before = {b: server_states(host, b) for b in ("be_api", "be_demo")}
    fe_before = metric(host, "haproxy_frontend_http_requests_total", 'proxy="fe_http_80"')
    result = host.ansible("seed.fleet.haproxy_server",
                          "backend=be_api_preview switch_to=green switch_others_state=maint", check=False)
    assert result["changed"], result
    deadline = time.monotonic() + 10  # green has to pass its health checks (inter 500ms, rise 2)
    while http_codes(host, PREVIEW, 1) != ["200"] and time.monotonic() < deadline:
        time.sleep(0.2)
    assert set(colors(host, 20, url=PREVIEW)) == {"green"}
    states = server_states(host, "be_api_preview")
    assert states["load_balancer-lb1_green"] & 0x01 == 0 and states["load_balancer-lb1_blue"] & 0x01
    # the live side saw none of it: same states, api still blue, no request counted on fe_http_80
    assert {b: server_states(host, b) for b in ("be_api", "be_demo")} == live_before
    assert metric(host, "haproxy_frontend_http_requests_total", 'proxy="fe_http_80"') == fe_before
    assert set(colors(host, 10, url="http://127.0.0.1/api/x")) == {"blue"}


def test_preview_state_survives_reload(host):
    reload_haproxy(host)
    states = server_states(host, "be_api_preview")
    assert states["load_balancer-lb1_green"] & 0x01 == 0 and states["load_balancer-lb1_blue"] & 0x01
    assert re.search(r"^\d+ be_api_preview \d+ load_balancer-lb1_green ",
                     host.file("/var/lib/haproxy/server-state").content_string, re.M)
    deadline = time.monotonic() + 10
    while http_codes(host, PREVIEW, 1) != ["200"] and time.monotonic() < deadline:
        time.sleep(0.2)
    assert set(colors(host, 10, url=PREVIEW)) == {"green"}
    assert set(colors(host, 10, url="http://127.0.0.1/api/x")) == {"blue"}


# --- certificate rotation without a reload (issue 17 item 2) ------------------------------------------

PROJECT = Path(os.environ.get("MOLECULE_PROJECT_DIRECTORY", Path(__file__).resolve().parents[3]))
# A bounded loop of TLS handshakes inside the LB to 127.0.0.1:443 (SNI demo.example), one request
# each, for at most argv[1] s or until <file>.stop exists: "status sha1-of-the-certificate" lines.
HANDSHAKES = r"""
import hashlib, os, socket, ssl, sys, time
end = time.time() + float(sys.argv[1])
out = open(sys.argv[2], "w")
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
while time.time() < end and not os.path.exists(sys.argv[2] + ".stop"):
    try:
        with socket.create_connection(("127.0.0.1", 443), timeout=5) as raw:
            with ctx.wrap_socket(raw, server_hostname="demo.example") as tls:
                fp = hashlib.sha1(tls.getpeercert(binary_form=True)).hexdigest().upper()
                tls.sendall(b"GET / HTTP/1.1\r\nHost: demo.example\r\nConnection: close\r\n\r\n")
                data = b""
                while True:
                    chunk = tls.recv(4096)
                    if not chunk:
                        break
                    data += chunk
        out.write("%s %s\n" % (data.split(b" ", 2)[1].decode() if data else "EMPTY", fp))
    except Exception as exc:
        out.write("ERR:%s -\n" % type(exc).__name__)
    out.flush()
    time.sleep(0.01)
"""


def fingerprint(host, path):
    out = host.check_output("openssl x509 -in %s -noout -fingerprint -sha1", path)
    return out.split("=", 1)[1].replace(":", "").strip().upper()


def test_certificate_rotation_under_load_needs_no_reload(host):
    """A new certificate for demo.example goes in through the role (the runtime API), under a loop of
    handshakes: none fails, the new one is served at once, and the same worker serves it."""
    worker = answering_pid(host)
    old = fingerprint(host, "/root/demo.crt")
    host.run_test("openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=demo.example "
                  "-keyout /root/demo.key.new -out /root/demo.crt.new 2>/dev/null "
                  "&& mv /root/demo.key.new /root/demo.key && mv /root/demo.crt.new /root/demo.crt")
    new = fingerprint(host, "/root/demo.crt")
    log = "/tmp/handshakes.txt"
    host.run_test("rm -f %s %s.stop", log, log)
    subprocess.run(["docker", "exec", "-d", "load_balancer-lb1", "python3", "-c", HANDSHAKES, "240", log], check=True)
    time.sleep(1)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(PROJECT / ".cache" / "collections"),
               ANSIBLE_ROLES_PATH=str(PROJECT / "roles"), ANSIBLE_FORCE_COLOR="0")
    proc = subprocess.run([str(PROJECT / ".venv" / "bin" / "ansible-playbook"), "-i",
                           str(Path(os.environ["MOLECULE_INVENTORY_FILE"]).parent),
                           str(PROJECT / "molecule" / "load_balancer" / "converge.yml")],
                          env=env, capture_output=True, text=True, timeout=900, check=False)
    time.sleep(1)
    host.run_test("touch %s.stop", log)
    time.sleep(0.5)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    assert "RUNNING HANDLER [seed.fleet.load_balancer : Reload haproxy]" not in out, out[-3000:]
    rows = [line.split() for line in host.check_output("cat %s", log).splitlines()]
    print("certificate rotation: %d handshakes, %d failed" % (len(rows), sum(r[0] != "200" for r in rows)))
    assert len(rows) > 20 and all(r[0] == "200" for r in rows), [r for r in rows if r[0] != "200"][:5]
    assert rows[0][1] == old and rows[-1][1] == new, (old, new, rows[0], rows[-1])
    assert {r[1] for r in rows} == {old, new}
    assert answering_pid(host) == worker  # no reload: the worker that served the old certificate serves the new one
    assert fingerprint(host, "/etc/haproxy/certs/demo.pem") == new  # the file follows, for the next start
