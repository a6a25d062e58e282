"""What an operator checks after seed.fleet.monitoring_server and monitoring_agent ran.

Two hosts: the server (group ``monitoring``) and an agent; both run the agent.
Cross-host checks (targets up, journal shipping) use testinfra hosts built from
Molecule's inventory.
"""
from __future__ import annotations

import base64
import json
import os
import re
import time
import uuid
from pathlib import Path

import pytest
import testinfra
import yaml
from testinfra.utils.ansible_runner import AnsibleRunner

INVENTORY = os.environ["MOLECULE_INVENTORY_FILE"]
RUNNER = AnsibleRunner(INVENTORY)
ALL_HOSTS = sorted(RUNNER.get_hosts("all"))
SERVERS = sorted(RUNNER.get_hosts("monitoring"))
AGENTS = [h for h in ALL_HOSTS if h not in SERVERS]
ROLE_FILES = Path(__file__).resolve().parents[3] / "roles" / "monitoring_server" / "files"
CREDS = "prometheus:molecule-scrape-secret"
ALERTS = {
    "InstanceDown", "DiskAlmostFull", "MemoryPressure", "HighLoad", "ClockSkew",
    "LbBackendDown", "LbServerDown", "AppHigh5xxRatio", "ProbeFailing", "TlsCertificateExpiring",
}


def _host(name):
    return testinfra.get_host(f"ansible://{name}", ansible_inventory=INVENTORY)


@pytest.fixture(scope="module")
def server():
    assert len(SERVERS) == 1, f"expected one host in group monitoring, got {SERVERS}"
    return _host(SERVERS[0])


@pytest.fixture(scope="module")
def agent():
    assert AGENTS, "expected at least one agent-only host"
    return _host(AGENTS[0])


def _wait(check, timeout=90.0, interval=2.0):
    """Call check() until it returns a truthy value or the deadline passes; return the last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


WEB_CA = "/etc/prometheus/web/ca.crt"
WEB_PASSWORD_FILE = "/etc/prometheus/web/prometheus.password"  # pragma: allowlist secret
UPLOAD_TLS = "/etc/ssl/journal-upload"
CLIENT_CA = "/etc/prometheus/web/client-ca.crt"


def _web_creds(host):
    """prometheus:<password the role generated> (no password in this scenario's inventory)."""
    return "prometheus:" + host.check_output(f"cat {WEB_PASSWORD_FILE}")


def _api(host, path):
    out = host.check_output(f"curl -sf --cacert {WEB_CA} -u '{_web_creds(host)}' 'https://127.0.0.1:9090{path}'")
    data = json.loads(out)
    assert data["status"] == "success", data
    return data["data"]


def _status(host, url, creds=None, extra=""):
    auth = f"-u '{creds}' " if creds else ""
    return host.check_output(f"curl -s -o /dev/null -w '%{{http_code}}' -m 10 {extra} {auth}'{url}'")


# --- agent side (every host) ------------------------------------------------------

@pytest.mark.parametrize("name", ALL_HOSTS)
def test_metrics_need_credentials(name):
    host = _host(name)
    url = "http://127.0.0.1:9100/metrics"
    assert _status(host, url) == "401"
    assert _status(host, url, "prometheus:wrong-password") == "401"
    assert _status(host, url, CREDS) == "200"
    # The password is stored only as a bcrypt hash.
    web = host.file("/etc/prometheus/node-exporter/web-config.yml")
    assert web.mode == 0o640
    assert "molecule-scrape-secret" not in web.content_string
    assert re.search(r'"prometheus": "\$2b\$10\$', web.content_string)


@pytest.mark.parametrize("name", ALL_HOSTS)
def test_sandbox_keeps_filesystem_and_timex_collectors(name):
    host = _host(name)
    out = host.check_output("systemd-analyze security prometheus-node-exporter.service --no-pager")
    exposure = float(re.search(r"Overall exposure level for prometheus-node-exporter\.service: ([0-9.]+)", out).group(1))
    assert exposure <= 3.5, out[-400:]
    metrics = host.check_output(f"curl -sf -u '{CREDS}' http://127.0.0.1:9100/metrics")
    assert re.search(r"^node_filesystem_avail_bytes\{", metrics, re.M), "filesystem collector broken by the sandbox"
    assert 'node_scrape_collector_success{collector="filesystem"} 1' in metrics
    assert 'node_scrape_collector_success{collector="timex"} 1' in metrics
    assert re.search(r"^node_timex_offset_seconds ", metrics, re.M)


@pytest.mark.parametrize("name", ALL_HOSTS)
def test_textfile_collector_dir_is_read(name):
    host = _host(name)
    d = host.file("/var/lib/prometheus/node-exporter")
    assert d.is_directory and d.user == "prometheus"
    marker = f"seed_fleet_verify_textfile{{run=\"{uuid.uuid4().hex[:8]}\"}} 1"
    host.check_output(f"printf '%s\\n' '{marker}' > /var/lib/prometheus/node-exporter/verify.prom")
    try:
        metrics = host.check_output(f"curl -sf -u '{CREDS}' http://127.0.0.1:9100/metrics")
        assert marker in metrics
    finally:
        host.run("rm -f /var/lib/prometheus/node-exporter/verify.prom")


@pytest.mark.parametrize("name", AGENTS)
def test_journal_upload_runs_on_agents(name):
    host = _host(name)
    assert host.service("systemd-journal-upload").is_enabled
    assert host.service("systemd-journal-upload").is_running
    assert f"URL=https://{SERVERS[0]}:19532" in host.file("/etc/systemd/journal-upload.conf.d/50-seed-fleet.conf").content_string
    key = host.file(f"{UPLOAD_TLS}/client.key")
    assert (key.user, key.group, key.mode) == ("root", "systemd-journal", 0o640)
    # The client certificate was signed by the server's client CA (checked with openssl on the agent).
    server = _host(SERVERS[0])
    ca = server.check_output(f"cat {CLIENT_CA}")
    payload = base64.b64encode(ca.encode()).decode()
    host.check_output(f"echo {payload} | base64 -d > /tmp/client-ca.pem")
    assert host.run(f"openssl verify -CAfile /tmp/client-ca.pem {UPLOAD_TLS}/client.crt").rc == 0


# --- server side ------------------------------------------------------------------

def test_every_inventory_target_is_up(server):
    def targets():
        # Every target up, and the file_sd ones discovered too (file_sd is read a moment after the
        # static jobs: "all up" alone can hold before the node job exists).
        data = _api(server, "/api/v1/targets?state=active")["activeTargets"]
        nodes = {t["labels"]["instance"] for t in data if t["labels"].get("job") == "node"}
        return data if data and all(t["health"] == "up" for t in data) and nodes == set(ALL_HOSTS) else None

    data = _wait(targets) or _api(server, "/api/v1/targets?state=active")["activeTargets"]
    down = [(t["labels"].get("job"), t["labels"].get("instance"), t.get("lastError")) for t in data if t["health"] != "up"]
    assert not down, f"targets not up: {down}"
    by_job = {}
    for t in data:
        by_job.setdefault(t["labels"]["job"], set()).add(t["labels"]["instance"])
    assert by_job["node"] == set(ALL_HOSTS), "node targets must be exactly the inventory hosts"
    assert {"prometheus", "alertmanager", "blackbox_exporter", "blackbox_http"} <= set(by_job)
    # And the same through PromQL: up == 1 for every node exporter.
    result = _api(server, "/api/v1/query?query=up%7Bjob%3D%22node%22%7D")["result"]
    assert {r["metric"]["instance"]: r["value"][1] for r in result} == {h: "1" for h in ALL_HOSTS}


def test_file_sd_comes_from_inventory(server):
    node = json.loads(server.file("/etc/prometheus/file_sd/node.json").content_string)
    assert sorted(t["labels"]["instance"] for t in node) == ALL_HOSTS
    assert sorted(t["targets"][0] for t in node) == sorted(f"{h}:9100" for h in ALL_HOSTS)
    # No host in group lb here: HAProxy's list is empty, not missing.
    assert json.loads(server.file("/etc/prometheus/file_sd/haproxy.json").content_string) == []
    secret = server.file("/etc/prometheus/secrets/node_exporter.password")
    assert secret.mode == 0o640 and secret.group == "prometheus"
    assert "molecule-scrape-secret" not in server.file("/etc/prometheus/prometheus.yml").content_string


def test_configs_pass_their_checkers(server):
    server.check_output("promtool check config /etc/prometheus/prometheus.yml")
    server.check_output("amtool check-config /etc/prometheus/alertmanager.yml")
    server.check_output("prometheus-blackbox-exporter --config.check --config.file=/etc/prometheus/blackbox.yml")


def test_alert_rules_are_loaded(server):
    groups = _api(server, "/api/v1/rules?type=alert")["groups"]
    rules = {r["name"]: r for g in groups for r in g["rules"]}
    assert ALERTS <= set(rules), f"missing: {ALERTS - set(rules)}"
    assert all(r["health"] == "ok" for r in rules.values()), {n: r.get("lastError") for n, r in rules.items()}


def test_rule_unit_tests_pass_against_the_deployed_rules(server):
    spec = yaml.safe_load((ROLE_FILES / "tests" / "seed-fleet.rules.test.yml").read_text())
    spec["rule_files"] = ["/etc/prometheus/rules.d/seed-fleet.rules.yml"]
    payload = base64.b64encode(yaml.safe_dump(spec).encode()).decode()
    path = f"/tmp/seed-fleet-rules-test-{uuid.uuid4().hex[:8]}.yml"
    server.check_output(f"echo {payload} | base64 -d > {path}")
    try:
        result = server.run(f"promtool test rules {path}")
    finally:
        server.run(f"rm -f {path}")
    assert result.rc == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout + result.stderr


def test_alertmanager_is_ready_and_wired(server):
    assert _status(server, "https://127.0.0.1:9093/-/ready", _web_creds(server), f"--cacert {WEB_CA}") == "200"
    active = _wait(lambda: _api(server, "/api/v1/alertmanagers")["activeAlertmanagers"])
    assert active and "9093" in active[0]["url"]


def test_blackbox_probe_succeeds_with_body_match(server):
    result = _wait(lambda: _api(server, "/api/v1/query?query=probe_success%7Bjob%3D%22blackbox_http%22%7D")["result"])
    assert result and all(r["value"][1] == "1" for r in result), result
    ok = server.check_output("curl -sf 'http://127.0.0.1:9115/probe?module=http_lb&target=http://127.0.0.1:9115/-/healthy'")
    assert re.search(r"^probe_success 1$", ok, re.M)
    # Same status code, body that does not match: the probe must fail.
    bad = server.check_output("curl -sf 'http://127.0.0.1:9115/probe?module=http_lb&target=http://127.0.0.1:9115/metrics'")
    assert re.search(r"^probe_success 0$", bad, re.M)


# Answers 200 "Healthy" for Host api.test only (404 otherwise), for at most argv[1] seconds.
HOST_ROUTED = r"""
import http.server, sys, threading
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        ok = self.headers.get("Host") == "api.test"
        body = b"Healthy" if ok else b"not this app"
        self.send_response(200 if ok else 404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
server = http.server.HTTPServer(("127.0.0.1", 18080), Handler)
threading.Timer(float(sys.argv[1]), server.shutdown).start()
server.serve_forever()
"""


def test_app_probes_reach_their_app_by_host(server):
    """Issue 17: the catalogue's apps get blackbox modules that send the app's Host (and TLS
    server name): a probe reaches the app the load balancer routes that host to."""
    modules = yaml.safe_load(server.file("/etc/prometheus/blackbox.yml").content_string)["modules"]
    assert {"app_demo_http", "app_demo_https", "app_api_http", "app_api_https"} <= set(modules), sorted(modules)
    assert modules["app_api_http"]["http"]["headers"] == {"Host": "api.test"}
    assert modules["app_api_https"]["http"]["tls_config"]["server_name"] == "api.test"
    assert modules["app_api_https"]["http"]["fail_if_not_ssl"] is True
    # api's certificate is checked (system CAs, against api.test); the catch-all demo has no name to check
    assert modules["app_api_https"]["http"]["tls_config"]["insecure_skip_verify"] is False
    assert modules["app_demo_https"]["http"]["tls_config"]["insecure_skip_verify"] is True
    assert "headers" not in modules["app_demo_http"]["http"]  # the catch-all app: any Host
    payload = base64.b64encode(HOST_ROUTED.encode()).decode()
    server.check_output("echo %s | base64 -d > /tmp/host-routed.py" % payload)
    server.check_output("setsid timeout 60 python3 /tmp/host-routed.py 45 </dev/null >/dev/null 2>&1 &")
    assert _wait(lambda: server.run("curl -sf -H 'Host: api.test' http://127.0.0.1:18080/").stdout == "Healthy", 20, 0.5)
    probe = "curl -sf 'http://127.0.0.1:9115/probe?module=%s&target=http://127.0.0.1:18080/'"
    assert re.search(r"^probe_success 1$", server.check_output(probe % "app_api_http"), re.M)
    assert re.search(r"^probe_success 0$", server.check_output(probe % "app_demo_http"), re.M)


def test_agent_log_line_reaches_the_server(server, agent):
    tag = f"seed-fleet-verify-{uuid.uuid4().hex[:12]}"
    agent.check_output(f"logger -t {tag} central-logging-check")

    def arrived():
        out = server.run(f"journalctl -D /var/log/journal/remote -t {tag} --no-pager -q -o cat")
        return "central-logging-check" in out.stdout

    assert _wait(arrived, timeout=60), f"log line {tag} did not reach /var/log/journal/remote on the server"


def test_dashboards_are_shipped(server):
    for name in ("seed-fleet-hosts.json", "seed-fleet-haproxy.json", "seed-fleet-deploys.json"):
        f = server.file(f"/var/lib/seed-fleet/grafana-dashboards/{name}")
        assert f.exists
        assert json.loads(f.content_string)["uid"] == name[:-5]


# --- the monitoring plane's doors: TLS + basic auth, client certificates ------------

@pytest.mark.parametrize("port", [9090, 9093])
def test_prometheus_and_alertmanager_need_tls_and_a_login(server, port):
    url = f"https://127.0.0.1:{port}/-/healthy"
    ca = f"--cacert {WEB_CA}"
    assert _status(server, url, extra=ca) == "401"
    assert _status(server, url, "prometheus:wrong-password", ca) == "401"
    assert _status(server, url, _web_creds(server), ca) == "200"
    # Plain HTTP gets no page, and a client that does not trust the role's CA stops at the handshake.
    assert _status(server, f"http://127.0.0.1:{port}/-/healthy", _web_creds(server)) != "200"
    assert server.run(f"curl -s -o /dev/null -m 10 -u '{_web_creds(server)}' {url}").rc == 60


def test_generated_web_password_is_kept_root_and_prometheus_only(server):
    secret = server.file(WEB_PASSWORD_FILE)
    assert (secret.user, secret.group, secret.mode) == ("root", "prometheus", 0o640)
    password = secret.content_string
    assert len(password) >= 32
    web = server.file("/etc/prometheus/web/web-config.yml").content_string
    assert password not in web and '"prometheus": "$2b$10$' in web
    assert password not in server.file("/etc/prometheus/prometheus.yml").content_string


def test_prometheus_scrapes_itself_and_alertmanager_over_https(server):
    def up():
        data = _api(server, "/api/v1/targets?state=active")["activeTargets"]
        jobs = {t["labels"]["job"]: t for t in data if t["labels"]["job"] in ("prometheus", "alertmanager")}
        return jobs if len(jobs) == 2 and all(t["health"] == "up" for t in jobs.values()) else None

    jobs = _wait(up)
    assert jobs, _api(server, "/api/v1/targets?state=active")
    assert all(t["scrapeUrl"].startswith("https://") for t in jobs.values())
    ams = _api(server, "/api/v1/alertmanagers")["activeAlertmanagers"]
    assert [a["url"][:8] for a in ams] == ["https://"]


def test_journal_receiver_trusts_only_the_client_ca(server):
    """Debian 12's journal-remote has no --trust: it listens on loopback, stunnel checks client certificates."""
    socket = server.check_output("systemctl show -p Listen systemd-journal-remote.socket")
    assert socket.strip() == "Listen=127.0.0.1:19530 (Stream)", socket
    assert server.service("stunnel@seed-fleet-journal-remote").is_running
    conf = server.file("/etc/stunnel/seed-fleet-journal-remote.conf").content_string
    for line in ("accept = 19532", "connect = 127.0.0.1:19530", f"CAfile = {CLIENT_CA}", "verifyChain = yes",
                 "requireCert = yes"):
        assert line in conf.splitlines(), line
    listeners = server.check_output("ss -Htln")
    assert re.search(r"0\.0\.0\.0:19532\b", listeners) and not re.search(r"(\*|0\.0\.0\.0):19530\b", listeners), listeners


def _entry(tag):
    """One journal entry in the export format journal-remote takes on /upload."""
    now = int(time.time() * 1e6)
    return (f"__REALTIME_TIMESTAMP={now}\n__MONOTONIC_TIMESTAMP={now}\n_BOOT_ID={uuid.uuid4().hex}\n"
            f"_HOSTNAME=upload-check\nSYSLOG_IDENTIFIER={tag}\nMESSAGE=upload-check {tag}\n\n")


def _upload(agent, tag, tls_args):
    payload = base64.b64encode(_entry(tag).encode()).decode()
    agent.check_output(f"echo {payload} | base64 -d > /tmp/{tag}.export")
    return agent.run(
        f"curl -s -o /dev/null -w '%{{http_code}}' -m 15 -X POST -H 'Content-Type: application/vnd.fdo.journal' "
        f"--data-binary @/tmp/{tag}.export {tls_args} https://{SERVERS[0]}:19532/upload")


def _arrived(server, tag, timeout=30):
    def seen():
        out = server.run(f"journalctl -D /var/log/journal/remote -t {tag} --no-pager -q -o cat")
        return f"upload-check {tag}" in out.stdout
    return _wait(seen, timeout=timeout)


def test_journal_upload_needs_a_client_certificate_from_the_ca(server, agent):
    trust = f"--cacert {UPLOAD_TLS}/server-ca.crt"
    # A key and certificate from a CA of its own (same name as the agent): not the server's client CA.
    agent.check_output(
        "cd /tmp && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 "
        f"-subj '/CN={AGENTS[0]}' -keyout rogue.key -out rogue.crt 2>/dev/null")
    tags = {case: f"seed-fleet-upload-{case}-{uuid.uuid4().hex[:8]}" for case in ("none", "rogue", "good")}
    none = _upload(agent, tags["none"], trust)
    rogue = _upload(agent, tags["rogue"], f"{trust} --cert /tmp/rogue.crt --key /tmp/rogue.key")
    good = _upload(agent, tags["good"], f"{trust} --cert {UPLOAD_TLS}/client.crt --key {UPLOAD_TLS}/client.key")
    assert good.rc == 0 and good.stdout.startswith("2"), (good.rc, good.stdout, good.stderr)
    assert _arrived(server, tags["good"]), "the upload with the agent's certificate did not reach the central journal"
    for case, result in (("none", none), ("rogue", rogue)):
        assert not result.stdout.startswith("2"), (case, result.rc, result.stdout)
        assert not _arrived(server, tags[case], timeout=5), f"upload without a valid client certificate ({case}) was stored"
