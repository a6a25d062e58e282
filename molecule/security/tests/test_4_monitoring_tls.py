"""Prometheus and Alertmanager behind TLS + basic auth, with real clients (curl on the
monitoring host against 127.0.0.1, and Prometheus itself): no credentials -> 401, wrong
password -> 401, plain HTTP or an untrusted CA -> refused, correct -> 200; Prometheus
scrapes itself and Alertmanager over HTTPS. A certificate that does not match its key, or
that expired, is refused before anything is written or reloaded.
"""
import datetime
import json
import time

import pytest
from conftest import MON, SCENARIO, host, playbook

CA = "/etc/prometheus/web/ca.crt"
CREDS = "prometheus:sec-web-Rt63Kx8w"  # pragma: allowlist secret (molecule.yml)
PORTS = {"prometheus": 9090, "alertmanager": 9093}


def status(h, url, extra=""):
    return h.run("curl -s -o /dev/null -w '%%{http_code}' -m 5 %s '%s'" % (extra, url))


@pytest.mark.parametrize("name", sorted(PORTS))
def test_refuses_without_credentials(name):
    h = host(MON)
    url = "https://127.0.0.1:%d/-/healthy" % PORTS[name]
    assert status(h, url, "--cacert %s" % CA).stdout == "401"
    assert status(h, url, "--cacert %s -u prometheus:wrong" % CA).stdout == "401"
    assert status(h, url, "--cacert %s -u '%s'" % (CA, CREDS)).stdout == "200"


@pytest.mark.parametrize("name", sorted(PORTS))
def test_refuses_plain_http_and_untrusted_ca(name):
    h = host(MON)
    plain = status(h, "http://127.0.0.1:%d/-/healthy" % PORTS[name], "-u '%s'" % CREDS)
    assert plain.stdout != "200"
    untrusted = status(h, "https://127.0.0.1:%d/-/healthy" % PORTS[name], "-u '%s'" % CREDS)
    assert untrusted.rc == 60, untrusted  # curl: peer certificate cannot be authenticated


def test_prometheus_scrapes_itself_and_alertmanager_over_https():
    h = host(MON)
    deadline = time.monotonic() + 90
    while True:
        out = h.check_output("curl -s --cacert %s -u '%s' https://127.0.0.1:9090/api/v1/targets" % (CA, CREDS))
        active = json.loads(out)["data"]["activeTargets"]
        jobs = {t["labels"]["job"]: t for t in active if t["labels"]["job"] in PORTS}
        if set(jobs) == set(PORTS) and all(t["health"] == "up" for t in jobs.values()) or time.monotonic() > deadline:
            break
        time.sleep(3)
    assert {j: (t["health"], t["scrapeUrl"][:8]) for j, t in jobs.items()} == {
        "prometheus": ("up", "https://"), "alertmanager": ("up", "https://")}
    ams = json.loads(h.check_output("curl -s --cacert %s -u '%s' https://127.0.0.1:9090/api/v1/alertmanagers" % (CA, CREDS)))
    assert [a["url"][:8] for a in ams["data"]["activeAlertmanagers"]] == ["https://"]


def _pem_pair(expired=False, mismatch=False):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(1).not_valid_before(now - datetime.timedelta(days=10))
          .not_valid_after(now + datetime.timedelta(days=10))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True).sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    other = ec.generate_private_key(ec.SECP256R1())
    not_after = now - datetime.timedelta(days=1) if expired else now + datetime.timedelta(days=10)
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, MON)]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(2)
            .not_valid_before(now - datetime.timedelta(days=5)).not_valid_after(not_after)
            .sign(ca_key, hashes.SHA256()))

    def pem_key(k):
        return k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                               serialization.NoEncryption()).decode()
    return {
        "monitoring_server_web_tls_cert": cert.public_bytes(serialization.Encoding.PEM).decode(),
        "monitoring_server_web_tls_key": pem_key(other if mismatch else key),
        "monitoring_server_web_tls_ca": ca.public_bytes(serialization.Encoding.PEM).decode(),
    }


@pytest.mark.parametrize(("case", "message"), [("mismatch", "does not match"), ("expired", "is not valid now")])
def test_bad_certificate_is_refused_before_any_change(case, message, tmp_path):
    h = host(MON)
    before = h.check_output("sha256sum /etc/prometheus/web/* | sort; systemctl show -p MainPID prometheus prometheus-alertmanager")
    extra = tmp_path / "certs.json"
    extra.write_text(json.dumps(_pem_pair(expired=case == "expired", mismatch=case == "mismatch")))
    rc, out = playbook(SCENARIO / "tests" / "mon_web_tls.yml", "--tags", "monitoring_server_web_tls", "-e", "@%s" % extra)
    assert rc != 0, out[-2000:]
    assert "monitoring_server_web_tls_cert is refused before any change" in out and message in out, out[-2000:]
    after = h.check_output("sha256sum /etc/prometheus/web/* | sort; systemctl show -p MainPID prometheus prometheus-alertmanager")
    assert before == after


def test_journal_receiver_trusting_everyone_is_refused_before_any_change():
    h = host(MON)
    probe = ("sha256sum /etc/stunnel/seed-fleet-journal-remote.conf /etc/systemd/system/systemd-journal-remote.*.d/*; "
             "systemctl show -p MainPID stunnel@seed-fleet-journal-remote")
    before = h.check_output(probe)
    rc, out = playbook(SCENARIO / "tests" / "mon_web_tls.yml", "--tags", "monitoring_server_journal_remote",
                       "-e", "monitoring_server_journal_remote_trusted_cert_file=all")
    assert rc != 0, out[-2000:]
    assert "monitoring_server_journal_remote_trusted_cert_file=all would accept a log upload from anyone" in out, out[-2000:]
    assert h.check_output(probe) == before


@pytest.mark.parametrize(("case", "message"), [("mismatch", "does not match"), ("expired", "is not valid now")])
def test_bad_receiver_certificate_file_is_refused_before_any_change(case, message):
    """The journal receiver's certificate given as files on the host: checked before stunnel is touched."""
    h = host(MON)
    pair = _pem_pair(expired=case == "expired", mismatch=case == "mismatch")
    for name, var in (("server.crt", "monitoring_server_web_tls_cert"), ("server.key", "monitoring_server_web_tls_key")):
        h.check_output("install -d -m 0700 /root/bad-pair && cat > /root/bad-pair/%s <<'PEM'\n%sPEM" % (name, pair[var]))
    probe = ("sha256sum /etc/stunnel/seed-fleet-journal-remote.conf; "
             "systemctl show -p MainPID stunnel@seed-fleet-journal-remote")
    before = h.check_output(probe)
    rc, out = playbook(SCENARIO / "tests" / "mon_web_tls.yml", "--tags", "monitoring_server_journal_remote",
                       "-e", "monitoring_server_journal_remote_cert_file=/root/bad-pair/server.crt",
                       "-e", "monitoring_server_journal_remote_key_file=/root/bad-pair/server.key")
    h.check_output("rm -rf /root/bad-pair")
    assert rc != 0, out[-2000:]
    assert "monitoring_server_journal_remote_cert_file is refused before any change" in out and message in out, out[-2000:]
    assert "BEGIN PRIVATE KEY" not in out
    assert h.check_output(probe) == before
