# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Certificates and keys for the unit tests (made with the cryptography library, never written to disk here)."""
from __future__ import annotations

import datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID


def _key(use_rsa):
    return rsa.generate_private_key(65537, 2048) if use_rsa else ec.generate_private_key(ec.SECP256R1())


def pair(now, days_before=1, days_after=30, cn="test", mismatch=False, rsa=False, key_password=None):
    """{"cert", "key"} PEM bytes: a self-signed certificate valid from now-days_before to now+days_after."""
    key = _key(rsa)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=days_before))
            .not_valid_after(now + datetime.timedelta(days=days_after))
            .sign(key, hashes.SHA256()))
    shown = _key(rsa) if mismatch else key
    encryption = (serialization.BestAvailableEncryption(key_password) if key_password
                  else serialization.NoEncryption())
    return {
        "cert": cert.public_bytes(serialization.Encoding.PEM),
        "key": shown.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption),
    }
