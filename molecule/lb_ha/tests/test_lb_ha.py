"""Two HAProxy hosts behind one floating address (seed.fleet.lb_vip), in order:
one holder, bad input refused, a deploy with a failover in the middle (both LBs keep one
color), then failovers under a bounded load sent from this machine to the floating
address on the scenario's own network: HAProxy stopped, LB killed, killed LB back (no
fail-back), planned switch-overs by the runbook's playbook. Each measurement is printed
as JSON (pytest -s) and appended to $LB_HA_RESULTS when set.

The tests run in file order and build on each other.
"""
import datetime
import json
import os
import re
import socket
import subprocess
import time
from pathlib import Path

import pytest
import testinfra
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
import vip_load

PROJECT = Path(os.environ.get("MOLECULE_PROJECT_DIRECTORY", Path(__file__).resolve().parents[3]))
INVENTORY = os.environ.get("MOLECULE_INVENTORY_FILE")
VIP = "10.121.21.100"
LBS = ["lb_ha-lb1", "lb_ha-lb2"]
HOSTS = dict((name, testinfra.get_host("docker://" + name)) for name in LBS)
TEXTFILE = "/var/lib/prometheus/node-exporter/seed_fleet_vrrp_demo.prom"
RESULTS = {}
# The goals of issue #21 (at most 3 s of failures per failover, LBs at most 1 s apart in a
# deploy, 0 failed on a planned switch-over) depend on the machine's load: benchmarks/failover/run.py
# holds a run of this scenario to them (GOALS there). Here, on a machine shared with other
# scenarios, every run is held to what must never happen at any speed: the address moved by
# itself (VRRP, not a restart) within BOUND_S, the two LBs never disagreed for longer than one
# deploy step, and a planned switch-over resets nothing and times out at most 1 request in 5,000.
BOUND_S = 10.0
DIVERGENCE_BOUND_S = 3.0


def playbook(name, *extra):
    env = dict(os.environ)
    env["ANSIBLE_COLLECTIONS_PATH"] = str(PROJECT / ".cache" / "collections")
    env["ANSIBLE_ROLES_PATH"] = str(PROJECT / "roles")
    env["ANSIBLE_FORCE_COLOR"] = "0"
    env.setdefault("ANSIBLE_PIPELINING", "True")
    cmd = [str(PROJECT / ".venv" / "bin" / "ansible-playbook"), "-i", str(Path(INVENTORY).parent),
           str(PROJECT / "playbooks" / name)] + list(extra)
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def run_playbook(name, *extra):
    proc = playbook(name, *extra)
    out = proc.communicate(timeout=600)[0]
    return proc.returncode, out


def adhoc(host, module, args):
    env = dict(os.environ)
    env["ANSIBLE_COLLECTIONS_PATH"] = str(PROJECT / ".cache" / "collections")
    cmd = [str(PROJECT / ".venv" / "bin" / "ansible"), "-i", str(Path(INVENTORY).parent), host, "-b",
           "-m", module, "-a", args]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300, check=False)
    return proc.returncode, proc.stdout + proc.stderr


def running(name):
    out = subprocess.run(["docker", "inspect", "-f", "{{.State.Running}}", name],
                         capture_output=True, text=True, check=False).stdout.strip()
    return out == "true"


def holders():
    return [n for n in LBS if running(n) and (" inet %s/" % VIP) in HOSTS[n].check_output("ip -4 -o addr show")]


def vrrp_holders():
    """The LBs holding the address by VRRP (on an interface, not on lo as a draining LB keeps it)."""
    vrrp = re.compile(r"^\d+: (?!lo\s)\S+\s+inet %s/" % re.escape(VIP), re.M)
    return [n for n in LBS if running(n) and vrrp.search(HOSTS[n].check_output("ip -4 -o addr show"))]


def arp_entry_here():
    """The MAC address this machine sends the floating address's packets to."""
    out = subprocess.run(["ip", "neigh", "show", VIP], capture_output=True, text=True, check=False).stdout
    found = re.search(r"lladdr (\S+)", out)
    return found.group(1) if found else None


def wait_for(cond, timeout=30.0, step=0.25):
    end = time.time() + timeout
    while time.time() < end:
        value = cond()
        if value:
            return value
        time.sleep(step)
    return cond()


def vrrp_state(name):
    return HOSTS[name].check_output("cat %s" % TEXTFILE)


def colors(name):
    """be_demo servers and their admin state on one LB (what the switch writes)."""
    out = HOSTS[name].check_output("echo 'show servers state be_demo' | socat -t 2 - unix:/run/haproxy/admin.sock")
    rows = [line.split() for line in out.splitlines()[2:] if line.strip() and not line.startswith("#")]
    return sorted((r[3], r[6]) for r in rows)


def live(name):
    """The live deploy as the LB's state file says (version and color)."""
    state = json.loads(HOSTS[name].check_output("cat /var/lib/seed-fleet/demo/state.json"))["live"]
    return state["version"], state["color"]


def why():
    """What keepalived said lately on each LB (an assertion's message when the address is not where it should be)."""
    lines = []
    for name in LBS:
        if running(name):
            out = HOSTS[name].run("journalctl -u keepalived --no-pager -q -n 25 -o short-precise")
            lines.append("--- %s:\n%s" % (name, out.stdout))
    return "\n".join(lines)


def holder_is(name, timeout=BOUND_S):
    """The address ends up on `name` alone within `timeout` s (a busy machine may take a moment)."""
    return wait_for(lambda: holders() == [name], timeout)


def both_up():
    """Start what an earlier test may have left stopped; wait for exactly one holder, by VRRP
    (not a draining LB's address on lo), the same one for 2 s."""
    for name in LBS:
        if not running(name):
            subprocess.run(["docker", "start", name], check=True, capture_output=True)
    for name in LBS:
        assert wait_for(lambda n=name: HOSTS[n].run("systemctl start haproxy keepalived").rc == 0, 30)

    def settled():
        first = vrrp_holders()
        if len(first) != 1 or holders() != first:
            return None
        time.sleep(2)
        return first if vrrp_holders() == first and holders() == first else None

    found = wait_for(settled, 40)
    assert found, "%s\n%s" % (holders(), why())
    return found[0]


def record(key, summary):
    RESULTS[key] = summary
    print(json.dumps({key: summary}))
    path = os.environ.get("LB_HA_RESULTS")
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.write(json.dumps({key: summary}) + "\n")


def measured(key, fault, seconds=14, before=3.0, after=None):
    """Run `fault` `before` seconds into a bounded load on the VIP; return the summary.

    With `after`, the load runs until `after` seconds past the end of `fault` (at most 110 s
    in all): a fault that takes a while (a playbook) is covered from its start to its end.
    """
    load = vip_load.Load(VIP, 80, seconds=110 if after is not None else seconds, workers=8, timeout=2.0).start()
    time.sleep(before)
    fault_at = time.time()
    fault()
    if after is not None:
        load.stop(after)
    load.wait()
    summary = load.summary(fault_at)
    summary["holder_after"] = holders()
    record(key, summary)
    return summary


def test_one_holder_and_nonlocal_bind():
    # nopreempt: the first keepalived up takes the address; priorities decide a tie
    assert wait_for(lambda: len(holders()) == 1), holders()
    holder = holders()[0]
    other = [n for n in LBS if n != holder][0]
    assert "seed_fleet_vrrp_master{vrrp_instance=\"demo\"} 1" in vrrp_state(holder)
    assert "seed_fleet_vrrp_master{vrrp_instance=\"demo\"} 0" in vrrp_state(other)
    for name in LBS:
        host = HOSTS[name]
        conf = host.file("/etc/keepalived/keepalived.conf")
        assert conf.mode == 0o600 and conf.user == "root"
        assert host.service("keepalived").is_running and host.service("keepalived").is_enabled
        assert host.file("/etc/sysctl.d/60-seed-fleet-lb-vip.conf").contains("net.ipv4.ip_nonlocal_bind")
        # HAProxy may bind the address on the host that does not hold it
        host.check_output("python3 -c \"import socket; s=socket.socket(); s.bind(('%s', 0))\"" % VIP)
        assert "seed-fleet-vrrp" in host.check_output("journalctl -t seed-fleet-vrrp --no-pager -q")
    assert "priority 150" in HOSTS["lb_ha-lb1"].check_output("grep priority /etc/keepalived/keepalived.conf")
    # VRRPv3, sub-second adverts, adverts accepted from the peer only, no (unused) secret
    conf = HOSTS["lb_ha-lb1"].check_output("cat /etc/keepalived/keepalived.conf")
    assert re.search(r"^\s*version 3$", conf, re.M) and re.search(r"^\s*advert_int 0.5$", conf, re.M), conf
    assert re.search(r"^\s*check_unicast_src$", conf, re.M) and "auth_pass" not in conf, conf


def test_traffic_through_the_floating_address():
    load = vip_load.Load(VIP, 80, seconds=2, workers=2).start().wait()
    summary = load.summary()
    assert summary["failed"] == 0 and summary["ok"] > 10, summary
    assert any("version=v1" in b for b in summary["bodies"]), summary


def taking(servers):
    """The servers of colors() that take traffic (admin state 0: no maint, no drain)."""
    return [server for server, admin in servers if admin == "0"]


def test_a_switch_that_fails_on_one_lb_goes_back_on_both():
    """Issue 17 item 3: lb2's runtime socket goes away while the deploy's pre-switch hook runs, just
    before the switch. lb1 must not stay on the new color alone: every LB goes back, and the run
    names lb2. (Early in the file: the LBs are as converge left them, one color live on both.)"""
    both_up()
    version, color = live("lb_ha-lb1")
    new = "blue" if color == "green" else "green"
    before = [colors(n) for n in LBS]
    assert taking(before[0]) == taking(before[1]) == ["lb_ha-app1_" + color], before
    app = testinfra.get_host("docker://lb_ha-app1")
    marker = "/tmp/pre-switch-hook-started"
    deploy = playbook("deploy.yml", "-e", "blue_green_version=v9", "-e", json.dumps({
        "blue_green_pre_switch_command": ["sh", "-c", "touch %s && sleep 8" % marker]}))
    try:
        started = wait_for(lambda: app.run("docker exec demo-%s test -e %s" % (new, marker)).rc == 0, 300, 0.2)
        assert started, deploy.communicate(timeout=600)[0][-4000:]
        HOSTS["lb_ha-lb2"].check_output("mv /run/haproxy/admin.sock /run/haproxy/admin.sock.away")
        out = deploy.communicate(timeout=600)[0]
        HOSTS["lb_ha-lb2"].check_output("mv /run/haproxy/admin.sock.away /run/haproxy/admin.sock")
        after = [colors(n) for n in LBS]
    finally:
        if deploy.poll() is None:
            deploy.kill()
        HOSTS["lb_ha-lb2"].run("test -e /run/haproxy/admin.sock || mv /run/haproxy/admin.sock.away /run/haproxy/admin.sock")
        # runbook lb-failure.md step 4: the LB whose rescue could not reach HAProxy is made to agree
        rc, told = adhoc("lb_ha-lb2", "seed.fleet.haproxy_server",
                         "backend=be_demo switch_to=%s switch_others_state=maint" % color)
        assert rc == 0, told
    assert colors("lb_ha-lb1") == colors("lb_ha-lb2")  # the tests after this one start from agreeing LBs
    squashed = "".join(out.split())
    assert deploy.returncode != 0, out[-4000:]
    assert "".join(("the switch to %s failed on lb_ha-lb2" % new).split()) in squashed, out[-4000:]
    # lb1 switched and went back to what it was; lb2 never moved: its old color alone takes traffic
    # (admin state 0; its new color, made ready before the hook, stays out: drain, as lb2's own
    # rescue could not reach the runtime API that the test took away)
    assert after[0] == before[0], after
    assert taking(after[1]) == taking(before[1]), after
    assert live("lb_ha-lb1") == (version, color)
    summary = vip_load.Load(VIP, 80, seconds=2, workers=2).start().wait().summary()
    assert summary["failed"] == 0 and all("version=%s" % version in b for b in summary["bodies"]), summary


def test_bad_input_is_refused_before_anything_is_written():
    before = dict((n, HOSTS[n].file("/etc/keepalived/keepalived.conf").sha256sum) for n in LBS)
    cases = [
        (["-e", "lb_vip_priority=120"], "have the same priority 120 and no tie-break"),
        (["-e", '{"lb_vip_addresses": [{"name": "demo", "address": "10.99.0.100", "virtual_router_id": 121}]}'],
         "is outside the network 10.121.21.0/24"),
        (["-e", "lb_vip_vrrp_version=2", "-e", "lb_vip_advert_int=1", "-e", "lb_vip_auth_pass="],
         "VRRP secret is missing or empty"),
        # VRRPv3 carries no authentication: a secret would give a false sense of safety
        (["-e", "lb_vip_auth_pass=mol-vrrp"], "VRRPv3 has no authentication"),
        (["-e", "lb_vip_vrrp_version=2", "-e", "lb_vip_auth_pass=mol-vrrp"], "VRRPv2 advertises in whole seconds"),
        # keepalived would kill a check whose second try was about to succeed
        (["-e", "lb_vip_check_timeout=2"], "shorter than the check may take"),
    ]
    for extra, message in cases:
        rc, out = run_playbook("lb_vip.yml", *extra)
        assert rc != 0 and message in out, out[-3000:]
        assert "mol-vrrp" not in out
    assert before == dict((n, HOSTS[n].file("/etc/keepalived/keepalived.conf").sha256sum) for n in LBS)
    # the tie-break makes equal priorities valid (check mode: nothing written)
    rc, out = run_playbook("lb_vip.yml", "--check", "-e", "lb_vip_priority=120",
                           "-e", "lb_vip_priority_tiebreak=inventory_order")
    assert rc == 0, out[-3000:]


def _bundle(expired=False, mismatch=False):
    """A PEM bundle (certificate then key) as an app's tls.certificate, made here with cryptography."""
    now = datetime.datetime.now(datetime.timezone.utc)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "demo.test")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=10))
            .not_valid_after(now - datetime.timedelta(days=1) if expired else now + datetime.timedelta(days=30))
            .sign(key, hashes.SHA256()))
    shown = ec.generate_private_key(ec.SECP256R1()) if mismatch else key
    return (cert.public_bytes(serialization.Encoding.PEM).decode()
            + shown.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()).decode())


@pytest.mark.parametrize("kind, message", [
    ({"mismatch": True}, "TLS certificate of demo: it does not match its private key - nothing was changed"),
    ({"expired": True}, "TLS certificate of demo: it is not valid now: it expired"),
], ids=["key-mismatch", "expired"])
def test_a_bad_tls_certificate_is_refused_before_anything_changes(tmp_path, kind, message):
    """#17 bad input: the load balancer refuses an app certificate that does not match its key or has
    expired, before any file is written, and never prints the key."""
    play = tmp_path / "lb.yml"
    # prepare.yml's play, with the apps below
    play.write_text("- hosts: lb\n  gather_facts: true\n  roles:\n    - role: seed.fleet.load_balancer\n"
                    "      vars: {load_balancer_check_inter: 500ms, load_balancer_stats_password: molecule-stats-secret}\n")
    bundle = _bundle(**kind)
    apps = tmp_path / "apps.json"
    apps.write_text(json.dumps({"load_balancer_apps": [{
        "name": "demo", "frontend_port": 80, "health_path": "/healthz", "backend_group": "app",
        "blue_port": 8081, "green_port": 8082, "preview_port": 8090, "tls": {"certificate": bundle}}]}))
    before = dict((n, HOSTS[n].file("/etc/haproxy/haproxy.cfg").sha256sum) for n in LBS)
    rc, out = run_playbook(str(play), "-e", "@%s" % apps)
    assert rc != 0 and "".join(message.split()) in "".join(out.split()), out[-3000:]
    assert "PRIVATE KEY" not in out
    assert not re.search(r"changed=[1-9]", out), out[-2000:]
    assert before == dict((n, HOSTS[n].file("/etc/haproxy/haproxy.cfg").sha256sum) for n in LBS)


VRRP_COUNTERS = """
table inet lbtest {
    chain input {
        type filter hook input priority filter + 10; policy accept;
        ip saddr %s meta l4proto vrrp counter comment "peer"
        ip saddr %s meta l4proto vrrp counter comment "other"
    }
}
"""
# A VRRPv3 advert for router id 121 at priority 254 (would win any election) for the VIP.
FORGED = ("python3 -c \"import socket; s = socket.socket(socket.AF_INET, socket.SOCK_RAW, 112); "
          "[s.sendto(bytes([0x31, 121, 254, 1, 0, 50, 0, 0]) + socket.inet_aton('%s'), ('%s', 0)) "
          "for _ in range(10)]\"")


def test_vrrp_gets_through_the_firewall_from_the_peer_only():
    """baseline's default-deny firewall runs on both LBs; lb_vip opened VRRP for the peer only."""
    addresses = {"lb_ha-lb1": "10.121.21.11", "lb_ha-lb2": "10.121.21.12"}
    holder = holders()[0]
    backup = [n for n in LBS if n != holder][0]
    for name in LBS:
        peer = [addresses[n] for n in LBS if n != name][0]
        assert "managed-by: seed.fleet.baseline" in HOSTS[name].check_output("cat /etc/nftables.conf")
        rules = HOSTS[name].check_output("nft list chain inet seed_fleet allow")
        vrrp = [line.strip() for line in rules.splitlines() if "l4proto" in line]
        assert len(vrrp) == 1, rules
        assert re.match(r'ip saddr %s meta l4proto (vrrp|112) accept comment "lb_vip VRRP peers"$'
                        % re.escape(peer), vrrp[0]), rules
    # counters behind the firewall (priority filter + 10) see only what it accepted
    host = HOSTS[backup]
    host.check_output("nft -f - <<'EOF'\n%s\nEOF" % (VRRP_COUNTERS % (addresses[holder], "10.121.21.21")))
    try:
        app = testinfra.get_host("docker://lb_ha-app1")
        app.check_output(FORGED % (VIP, addresses[backup]))
        time.sleep(2)
        counters = host.check_output("nft list table inet lbtest")
    finally:
        host.run("nft delete table inet lbtest")
    peer_packets = int(re.search(r'packets (\d+) bytes \d+ comment "peer"', counters).group(1))
    other_packets = int(re.search(r'packets (\d+) bytes \d+ comment "other"', counters).group(1))
    assert peer_packets > 0 and other_packets == 0, counters
    # the forged advert changed nothing: one holder, the same one
    assert holders() == [holder]


SAMPLER = r"""
end=$((SECONDS+$1))
rm -f /opt/colors.stop
while [ $SECONDS -lt $end ] && [ ! -e /opt/colors.stop ]; do
    s=$(echo 'show servers state be_demo' | socat -t 2 - unix:/run/haproxy/admin.sock \
        | awk 'NF > 6 && $1 !~ /^#/ {printf "%s=%s,", $4, $7}')
    echo "$(date +%s.%N) $s"
    sleep 0.05
done
"""


def divergence(samples):
    """Longest stretch (s) in which the two LBs' latest samples differed; samples: {lb: [(t, state)]}."""
    events = sorted((t, name, st) for name, rows in samples.items() for t, st in rows)
    last, since, longest = {}, None, 0.0
    for t, name, st in events:
        last[name] = st
        differ = len(last) == 2 and len(set(last.values())) == 2
        if differ and since is None:
            since = t
        elif not differ and since is not None:
            longest, since = max(longest, t - since), None
    return round(longest, 3)


def test_deploy_with_a_failover_in_the_middle_keeps_one_color():
    """Deploy v2 through both LBs; keepalived on the holder stops mid-deploy."""
    assert colors("lb_ha-lb1") == colors("lb_ha-lb2")
    holder = holders()[0]
    for name in LBS:  # each LB samples its own state every 50 ms (same clock: one kernel)
        subprocess.run(["docker", "exec", "-d", name, "bash", "-c", "(" + SAMPLER + ") > /opt/colors.log",
                        "sampler", "240"], check=True)
    deploy = playbook("deploy.yml", "-e", "blue_green_version=v2")
    time.sleep(3)
    HOSTS[holder].check_output("systemctl stop keepalived")
    out = deploy.communicate(timeout=600)[0]
    assert deploy.returncode == 0, out[-4000:]
    time.sleep(0.5)
    samples = {}
    for name in LBS:
        HOSTS[name].run("touch /opt/colors.stop")
        rows = [line.split(" ", 1) for line in HOSTS[name].check_output("cat /opt/colors.log").splitlines()]
        samples[name] = [(float(r[0]), r[1] if len(r) > 1 else "") for r in rows]
    assert all(len(v) > 20 for v in samples.values()), dict((n, len(v)) for n, v in samples.items())
    longest = divergence(samples)
    record("deploy_lb_divergence", {"longest_divergence_s": longest,
                                    "samples": dict((n, len(v)) for n, v in samples.items())})
    # the switch goes to every LB in one parallel step: the backup is never half a deploy behind
    assert longest <= DIVERGENCE_BOUND_S, longest
    assert colors("lb_ha-lb1") == colors("lb_ha-lb2")
    assert live("lb_ha-lb1") == live("lb_ha-lb2")
    assert live("lb_ha-lb1") == ("v2", "green")
    other = [n for n in LBS if n != holder][0]
    assert holder_is(other), "%s\n%s" % (holders(), why())
    summary = vip_load.Load(VIP, 80, seconds=2, workers=2).start().wait().summary()
    assert summary["failed"] == 0 and all("version=v2" in b for b in summary["bodies"]), summary
    for name in LBS:
        assert HOSTS[name].file("/var/lib/haproxy/server-state").exists
    # the stopped one comes back as backup: nopreempt, no fail-back
    HOSTS[holder].check_output("systemctl start keepalived")
    time.sleep(4)
    assert holders() == [other], why()


def test_failover_when_haproxy_stops():
    active = both_up()
    other = [n for n in LBS if n != active][0]
    summary = measured("haproxy_stopped", lambda: HOSTS[active].check_output("systemctl stop haproxy"))
    assert summary["holder_after"] == [other]
    # the check fails once, the peer takes over (the goal, 3 s, is the benchmark's)
    assert summary["outage_s"] <= BOUND_S, summary
    assert summary["failed_window_s"] <= BOUND_S, summary
    # recovery_s also counts the time `systemctl stop` takes to stop HAProxy on a busy machine
    assert summary["recovery_s"] <= BOUND_S + 2, summary
    assert "seed_fleet_vrrp_state{vrrp_instance=\"demo\",state=\"FAULT\"} 1" in vrrp_state(active)
    assert "MASTER" in vrrp_state(other)
    HOSTS[active].check_output("systemctl start haproxy")
    assert wait_for(lambda: "BACKUP" in vrrp_state(active), 15), why()
    assert holders() == [other], why()


def test_failover_when_the_lb_dies():
    active = both_up()
    other = [n for n in LBS if n != active][0]
    summary = measured("lb_killed",
                       lambda: subprocess.run(["docker", "kill", active], check=True, capture_output=True))
    assert summary["holder_after"] == [other]
    assert summary["failed_window_s"] <= BOUND_S, summary
    # VRRPv3 adverts every 0.5 s: the peer waits 3 of them + skew (~1.8 s), then a client's SYN
    # sent to the dead host is retried after 1 s (the goal, at most 3 s, is the benchmark's)
    assert summary["outage_s"] <= BOUND_S, summary
    assert summary["recovery_s"] <= BOUND_S + 0.5, summary
    RESULTS["killed"] = active


def test_killed_lb_comes_back_without_taking_the_address():
    back = RESULTS.get("killed")
    if back is None or running(back):
        both_up()
        back = [n for n in LBS if n not in holders()][0]
        subprocess.run(["docker", "kill", back], check=True, capture_output=True)
    holder = [n for n in LBS if n != back][0]

    def restart():
        subprocess.run(["docker", "start", back], check=True, capture_output=True)

    summary = measured("lb_restarted", restart, seconds=20)
    assert summary["failed"] == 0, summary
    assert wait_for(lambda: running(back) and HOSTS[back].service("keepalived").is_running, 30)
    assert wait_for(lambda: "BACKUP" in vrrp_state(back), 30), why()
    assert holders() == [holder], why()
    # the deploy state file survived on the restarted LB
    assert live(back) == live(holder)
    wait_for(lambda: colors(back) == colors(holder), 20)
    RESULTS["colors_after_restart"] = (colors(back), colors(holder))
    if colors(back) != colors(holder):
        # runbook lb-failure.md step 4: make the restarted LB agree before it may take over
        version, color = live(holder)
        rc, out = adhoc(back, "seed.fleet.haproxy_server",
                        "backend=be_demo switch_to=%s switch_others_state=drain" % color)
        assert rc == 0, out[-2000:]
    assert colors(back) == colors(holder)


def test_killed_lb_restored_the_live_color_by_itself():
    """The switch is persisted when it is confirmed: a hard-killed LB restarts on the live color."""
    back, holder = RESULTS["colors_after_restart"]
    assert back == holder


def _ask(sock):
    """Send one request on an open connection; the answer's status line, or the error."""
    try:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: vip\r\nConnection: close\r\n\r\n")
        answer = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
        return answer.split(b"\r\n", 1)[0].decode(errors="replace")
    except OSError as exc:
        return type(exc).__name__
    finally:
        sock.close()


@pytest.mark.parametrize("handoff", [False, True])
def test_connections_opened_before_the_switch_over_are_answered_after_it(handoff):
    """The race of a planned switch-over, made certain: connections are opened (handshake with the old
    holder) while the runbook's playbook runs, the address moves (this machine's ARP entry follows the
    peer's gratuitous ARP), then a request is sent on each. It reaches the peer, which passes it to the
    old holder (lb-vip-handoff) instead of resetting it. Without the hand-off (lb_handover_handoff=false)
    the peer resets them: the race is real and this test sees it."""
    active = both_up()
    other = [n for n in LBS if n != active][0]
    handover = playbook("lb_handover.yml", "-e", "lb_handover_from=%s" % active,
                        "-e", "lb_handover_handoff=%s" % str(handoff).lower())
    other_mac = HOSTS[other].check_output("cat /sys/class/net/eth0/address").strip()
    opened = []  # (time, socket); kept for 6 s (HAProxy's timeout http-request is 10 s)
    deadline = time.time() + 90
    # Connections are opened until the peer holds the address and this machine's ARP entry
    # follows it (the peer's gratuitous ARP): every one of them was accepted by the old holder.
    while not (vrrp_holders() == [other] and arp_entry_here() == other_mac) and time.time() < deadline:
        opened.append((time.time(), socket.create_connection((VIP, 80), timeout=5)))
        for _t, old in [o for o in opened if o[0] < time.time() - 6]:
            old.close()
        opened = [o for o in opened if o[0] >= time.time() - 6]
        time.sleep(0.1)
    moved_at = time.time()
    assert arp_entry_here() == other_mac, "this machine's ARP entry did not follow the address"
    statuses = [_ask(sock) for _t, sock in opened]
    out = handover.communicate(timeout=300)[0]
    assert handover.returncode == 0, out[-3000:]
    assert holder_is(other), "%s\n%s" % (holders(), why())
    record("connections_across_switch_over_handoff_%s" % str(handoff).lower(),
           {"opened_before_move": len(opened), "statuses": sorted(set(statuses)),
            "oldest_s": round(moved_at - opened[0][0], 2) if opened else None})
    assert opened, "no connection was opened before the address moved"
    if handoff:
        assert all(st.startswith("HTTP/1.1 200") for st in statuses), statuses
    else:
        assert "ConnectionResetError" in statuses, statuses


def test_planned_switch_over_by_the_runbook_loses_nothing():
    """Three switch-overs by the runbook's playbook, each under a load that covers all of it: 0 failed
    (the hand-off closes the mid-handshake race the test above makes certain)."""
    runbook = (PROJECT / "docs" / "runbooks" / "lb-switch-over.md").read_text()
    assert "playbooks/lb_handover.yml -e lb_handover_from=" in runbook
    totals = {"switch_overs": 0, "requests": 0, "failed": 0}
    for turn in range(3):
        active = both_up()
        other = [n for n in LBS if n != active][0]

        def handover(name=active):
            rc, out = run_playbook("lb_handover.yml", "-e", "lb_handover_from=%s" % name)
            assert rc == 0, out[-3000:] + why()
            assert re.search(r"drained after [0-9.]+s: 0 sessions", out), out[-3000:]

        summary = measured("planned_switch_over_%d" % (turn + 1), handover, after=3.0)
        assert summary["holder_after"] == [other]
        assert HOSTS[active].service("keepalived").is_running
        # the drain is over: no address left on lo, ARP answered again
        assert VIP not in HOSTS[active].check_output("ip -4 -o addr show dev lo")
        assert "seed_fleet_drain" not in HOSTS[active].check_output("nft list tables")
        # nothing in flight is cut: the old LB keeps the address on lo until its frontends are empty,
        # and the peer passes it the packets of its connections (lb-vip-handoff), so a client moved
        # by the gratuitous ARP between handshake and request is not reset: no reset, no error status.
        # A request slower than the load's 2 s time-out on a loaded machine (1 in 25,225 once) is
        # held to at most 1 in 5,000 here; 0 failed of any kind is the benchmark's goal.
        timeouts = summary["failed_by"].get("TimeoutError", 0)
        assert summary["failed"] == timeouts, summary
        assert timeouts <= summary["requests"] // 5000, summary
        assert "seed_fleet_handoff" not in HOSTS[other].check_output("nft list tables")
        totals["switch_overs"] += 1
        totals["requests"] += summary["requests"]
        totals["failed"] += summary["failed"]
    record("planned_switch_over", totals)


def test_journal_has_the_failover_events():
    text = "".join(HOSTS[n].check_output("journalctl -t seed-fleet-vrrp --no-pager -q") for n in LBS)
    assert re.search(r"VRRP INSTANCE demo is now MASTER", text)
    assert re.search(r"VRRP INSTANCE demo is now FAULT", text)
