# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""seed.fleet.cert_reissue_reason against certificates a small CA issues, as the journal upload's are."""
from __future__ import annotations

import datetime
import ipaddress
import subprocess

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ansible_collections.seed.fleet.plugins.filter.cert_reissue_reason import cert_reissue_reason

NOW = datetime.datetime.now(datetime.timezone.utc)


def _name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def ca(cn="client CA"):
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(_name(cn)).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(NOW - datetime.timedelta(days=1))
            .not_valid_after(NOW + datetime.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    return key, cert


def pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def public_pem(key):
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def issue(ca_pair, host_key, cn="app1", dns=("app1",), eku=(ExtendedKeyUsageOID.CLIENT_AUTH,), days=825, before=1,
          ips=(), is_ca=False):
    ca_key, ca_cert = ca_pair
    builder = (x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(ca_cert.subject)
               .public_key(host_key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(NOW - datetime.timedelta(days=before))
               .not_valid_after(NOW + datetime.timedelta(days=days)))
    if dns or ips:
        builder = builder.add_extension(x509.SubjectAlternativeName(
            [x509.DNSName(d) for d in dns] + [x509.IPAddress(ipaddress.ip_address(a)) for a in ips]), critical=False)
    if is_ca:
        builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
    if eku:
        builder = builder.add_extension(x509.ExtendedKeyUsage(list(eku)), critical=False)
    return pem(builder.sign(ca_key, hashes.SHA256()))


@pytest.fixture(scope="module")
def world():
    return dict(ca=ca(), other_ca=ca("other"), key=ec.generate_private_key(ec.SECP256R1()),
                other_key=ec.generate_private_key(ec.SECP256R1()))


def reason(world, cert, key=None, **kw):
    args = dict(common_name="app1", subject_alt_name=["DNS:app1"], extended_key_usage=["clientAuth"])
    args.update(kw)
    return cert_reissue_reason(cert, public_pem(key or world["key"]), pem(world["ca"][1]), **args)


def test_a_fitting_certificate(world):
    assert reason(world, issue(world["ca"], world["key"])) == ""


@pytest.mark.parametrize("change, expected", [
    (dict(cn="app2"), "names"),
    (dict(dns=("app1", "app1.example")), "alternative names"),
    (dict(dns=()), "alternative names"),
    (dict(ips=("10.0.0.1",)), "alternative names"),
    (dict(is_ca=True), "is a CA"),
    (dict(eku=(ExtendedKeyUsageOID.SERVER_AUTH,)), "does not allow clientAuth"),
    (dict(eku=()), "does not allow clientAuth"),
    (dict(days=10), "days left"),
    (dict(days=-1, before=30), "days left"),
    (dict(before=-2), "not valid yet"),
])
def test_what_makes_it_unfit(world, change, expected):
    assert expected in reason(world, issue(world["ca"], world["key"], **change))


def test_another_key_or_ca(world):
    cert = issue(world["ca"], world["key"])
    assert "not for the key" in reason(world, cert, key=world["other_key"])
    assert "not issued by the CA" in reason(world, issue(world["other_ca"], world["key"]))


def test_nothing_yet(world):
    assert reason(world, "") == "there is no certificate yet"
    assert "not PEM" in reason(world, "garbage")
    assert "public half" in cert_reissue_reason(issue(world["ca"], world["key"]), "", pem(world["ca"][1]),
                                                common_name="app1", subject_alt_name=["DNS:app1"])


def test_min_days_and_client_auth_are_options(world):
    cert = issue(world["ca"], world["key"], days=10, eku=())
    assert reason(world, cert, min_days=5, extended_key_usage=[]) == ""


def test_the_public_half_as_openssl_prints_it(world, tmp_path):
    keyfile = tmp_path / "client.key"
    keyfile.write_bytes(world["key"].private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                   serialization.NoEncryption()))
    printed = subprocess.run(["openssl", "pkey", "-pubout", "-in", str(keyfile)], check=True,
                             capture_output=True, text=True).stdout
    assert cert_reissue_reason(issue(world["ca"], world["key"]), printed, pem(world["ca"][1]),
                               common_name="app1", subject_alt_name=["DNS:app1"], extended_key_usage=["clientAuth"]) == ""


def test_a_server_certificate_with_addresses(world):
    cert = issue(world["ca"], world["key"], cn="mon1", dns=("mon1", "localhost"), ips=("127.0.0.1", "fd00::1"),
                 eku=(ExtendedKeyUsageOID.SERVER_AUTH,))
    sans = ["DNS:mon1", "DNS:localhost", "IP:127.0.0.1", "IP:fd00:0:0:0::1"]
    assert reason(world, cert, common_name="mon1", subject_alt_name=sans, extended_key_usage=["serverAuth"]) == ""
    assert "alternative names" in reason(world, cert, common_name="mon1", subject_alt_name=sans[:3],
                                         extended_key_usage=["serverAuth"])


def test_a_ca_that_signs_itself(world):
    ca_key, ca_cert = world["ca"]
    assert cert_reissue_reason(pem(ca_cert), public_pem(ca_key), pem(ca_cert), common_name="client CA",
                               is_ca=True) == ""
    other_key, other_cert = world["other_ca"]
    assert "not issued by the CA" in cert_reissue_reason(pem(ca_cert), public_pem(ca_key), pem(other_cert),
                                                         common_name="client CA", is_ca=True)
    assert "is not a CA" in reason(world, issue(world["ca"], world["key"]), is_ca=True)


@pytest.mark.parametrize("kw", [dict(subject_alt_name=["app1"]), dict(subject_alt_name=["IP:not-an-address"]),
                                dict(extended_key_usage=["codeSigning"])])
def test_bad_arguments(world, kw):
    from ansible.errors import AnsibleFilterError
    args = dict(common_name="app1")
    args.update(kw)
    with pytest.raises(AnsibleFilterError):
        cert_reissue_reason("", "", "", **args)
