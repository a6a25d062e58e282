"""Closed unless opened, seen from the network: nmap from three places against every fleet host.

The expected open ports are docs/security.md's exposure table (TABLE below, same rows),
limited to the ports something listens on at the target: a port open that the table does
not give to that source fails the test, and so does a table port that is closed.
A host scanning itself is left out: traffic to its own address goes over loopback, which
baseline accepts.
"""
import hashlib
import re
import subprocess
import threading
import time
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor

import pytest
from conftest import APP, FLEET, GROUPS, LB, MON, OUTSIDER, SCENARIO, host, playbook

ANY = "any"
# docs/security.md, "Exposure table (defaults)": port -> who may connect (groups) per target role.
TABLE = {
    LB: {22: ANY, 80: ANY, 8405: {"monitoring"}, 9100: {"monitoring"}},
    APP: {22: ANY, 9100: {"monitoring"}, 8081: {"lb"}, 8082: {"lb"}},
    MON: {22: ANY, 9100: {"monitoring"}, 9090: {"monitoring"}, 9093: {"monitoring"}, 9115: {"monitoring"},
          19532: {"fleet"}},
}
SOURCES = [OUTSIDER, MON, LB]
PAIRS = [(s, t) for s in SOURCES for t in FLEET if s != t]


def listening(target):
    """TCP ports with a listener on the target (any address but loopback), plus Docker-published ports."""
    h = host(target)
    ports = set()
    for line in h.check_output("ss -Htln").splitlines():
        local = line.split()[3]
        addr, port = local.rsplit(":", 1)
        if addr.startswith("127.") or addr in ("[::1]",) or addr.startswith("[::ffff:127."):
            continue
        ports.add(int(port))
    if target == APP:
        out = h.run("docker ps --format '{{.Ports}}'").stdout
        ports |= {int(p) for p in re.findall(r":(\d+)->", out)}
    return ports


def expected(source, target):
    allowed = {p for p, who in TABLE[target].items() if who == ANY or GROUPS[source] & who}
    return allowed & listening(target)


def scan(source, target_addr):
    """Every TCP port (1-65535), connect scan: open ports as nmap sees them from source."""
    out = subprocess.run(
        ["docker", "exec", source, "nmap", "-sT", "-Pn", "-n", "-p", "1-65535", "-T4", "--min-rate", "4000",
         "--max-retries", "1", "--host-timeout", "300s", "-oX", "-", target_addr],
        capture_output=True, text=True, check=True, timeout=400).stdout
    root = ET.fromstring(out)
    ports = root.findall(".//port")
    opened = {int(p.get("portid")) for p in ports if p.find("state").get("state") == "open"}
    return opened


@pytest.fixture(scope="module")
def scans(addresses):
    """All (source, target) scans, in waves (see waves): two hosts connect-scanning each other at once
    can meet in a TCP simultaneous open. A's SYN from its source port a to B's port b crosses B's SYN
    from b to A's port a; both stacks call the connection established, and each nmap counts the other's
    source port as open (seen in make test: mon -> lb 53270 and lb -> mon 35684 in the same run)."""
    return in_waves(PAIRS, lambda pair: scan(pair[0], addresses[pair[1]]))


@pytest.mark.parametrize(("source", "target"), PAIRS)
def test_open_ports_are_the_table(source, target, scans):
    got = scans[(source, target)]
    want = expected(source, target)
    assert got == want, (
        "%s -> %s: open %s, table says %s (extra: %s, missing: %s)"
        % (source, target, sorted(got), sorted(want), sorted(got - want), sorted(want - got)))


def udp_scan(source, target_addr):
    """Every UDP port; returns nmap's counts per state. No answer = open|filtered (dropped);
    an ICMP port-unreachable = closed (the packet reached the host's stack); a reply = open."""
    out = subprocess.run(
        ["docker", "exec", source, "nmap", "-sU", "-Pn", "-n", "-p", "1-65535", "--min-rate", "5000",
         "--max-retries", "0", "--host-timeout", "120s", "-oX", "-", target_addr],
        capture_output=True, text=True, check=True, timeout=200).stdout
    root = ET.fromstring(out)
    counts = {}
    for extra in root.findall(".//extraports"):
        counts[extra.get("state")] = counts.get(extra.get("state"), 0) + int(extra.get("count"))
    for port in root.findall(".//port"):
        state = port.find("state").get("state")
        counts[state] = counts.get(state, 0) + 1
    return counts


def waves(pairs):
    """The pairs in waves that never hold a pair and its reverse. Two hosts scanning each other over UDP
    see each other's probes as answers: A's probe from its scan source port a to B's scan source port b
    opens a conntrack entry on A; B's later probe from b to A's port a is then the "reply" A's firewall lets
    in. At once, A's nmap counts port b of B as open (seen: mon -> lb, 1 of 65,535); in the next wave, A's
    stack answers port-unreachable and B's nmap counts port a of A as closed (seen: lb -> mon). So a wave
    starts only when the entries of the one before have expired (udp_scans)."""
    first, second = [], []
    for pair in pairs:
        (second if pair[::-1] in first else first).append(pair)
    return [wave for wave in (first, second) if wave]


def in_waves(pairs, job, gap=0):
    """job(pair) for every pair, the pairs of a wave in parallel, the waves one after another with
    gap seconds between them (a wave never holds a pair and its reverse)."""
    found = {}
    for number, wave in enumerate(waves(pairs)):
        if number and gap:
            time.sleep(gap)
        with ThreadPoolExecutor(max_workers=len(wave)) as pool:
            futures = {pair: pool.submit(job, pair) for pair in wave}
            found.update({pair: f.result() for pair, f in futures.items()})
    return found


@pytest.fixture(scope="module")
def udp_scans(addresses):
    """The same pairs over UDP, plus a control: the monitoring host scanning the outsider (no firewall)."""
    pairs = PAIRS + [(MON, OUTSIDER)]
    # an unanswered UDP flow's conntrack entry lives this long (30 s by default)
    expiry = host(MON).run("cat /proc/sys/net/netfilter/nf_conntrack_udp_timeout").stdout.strip()
    return in_waves(pairs, lambda pair: udp_scan(pair[0], addresses[pair[1]]), gap=int(expiry or 30) + 3)


def test_waves_never_hold_a_pair_and_its_reverse():
    pairs = PAIRS + [(MON, OUTSIDER)]
    assert (MON, LB) in pairs and (LB, MON) in pairs  # the case that made this necessary
    grouped = waves(pairs)
    assert sorted(p for wave in grouped for p in wave) == sorted(pairs)
    assert all(pair[::-1] not in wave for wave in grouped for pair in wave)


def test_udp_is_dropped_on_every_port(udp_scans):
    """The table opens no UDP port: from every source, every one of the 65535 ports of every fleet
    host stays silent (dropped), none answers and none sends a port-unreachable back."""
    # the control: without a firewall the same scan sees closed ports, so silence means dropped
    assert udp_scans[(MON, OUTSIDER)].get("closed", 0) > 0, udp_scans[(MON, OUTSIDER)]
    for (source, target), counts in udp_scans.items():
        if target == OUTSIDER:
            continue
        assert counts.get("open|filtered", 0) == 65535, (source, target, counts)


def test_the_outsider_reaches_only_public_ports(scans):
    """The summary an operator wants: from an address no inventory names, only SSH and the app's frontend."""
    reach = {t: scans[(OUTSIDER, t)] for t in FLEET}
    assert reach[LB] - {22} == {80}, reach
    assert reach[APP] - {22} == set(), reach
    assert reach[MON] - {22} == set(), reach


@pytest.mark.parametrize("bad", ["10.20.0.0/33", "no-such-host.invalid"])
def test_bad_sources_fail_before_any_firewall_change(bad):
    app = host(APP)
    before = hashlib.sha256(app.check_output("nft -s list ruleset; cat /etc/nftables.d/*.nft").encode()).hexdigest()
    rc, out = playbook(SCENARIO / "tests" / "agent_firewall.yml", "-e", '{"monitoring_agent_firewall_sources": ["%s"]}' % bad)
    assert rc != 0, out[-2000:]
    assert "monitoring_agent_firewall_sources[0]" in out and bad in out, out[-2000:]
    after = hashlib.sha256(app.check_output("nft -s list ruleset; cat /etc/nftables.d/*.nft").encode()).hexdigest()
    assert before == after


def test_scans_meet_no_reverse_scan_in_flight():
    """in_waves, the runner of both scans: while a pair's job runs, its reverse's does not."""
    running, seen = set(), []
    lock = threading.Lock()

    def job(pair):
        with lock:
            running.add(pair)
            seen.append(pair[::-1] in running)
        time.sleep(0.05)
        with lock:
            running.discard(pair)
        return pair

    found = in_waves(PAIRS + [(MON, OUTSIDER)], job)
    assert sorted(found) == sorted(PAIRS + [(MON, OUTSIDER)])
    assert not any(seen)
