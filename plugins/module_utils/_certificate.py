# -*- coding: utf-8 -*-
# Copyright (c) seed.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Judge a TLS certificate and its private key before anything uses them (private module_utils).

``judge(cert_pem, key_pem, now, min_days)`` returns ``(facts, problem)``: facts about the
certificate (subject, validity, days left) and the first reason to refuse it, or None:
not PEM, the key does not match the certificate, not valid yet, expired, or fewer than
``min_days`` days left. Needs the ``cryptography`` library (python3-cryptography).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    HAS_CRYPTOGRAPHY = True
except ImportError:  # pragma: no cover - reported by the module
    HAS_CRYPTOGRAPHY = False


def _utc(cert, name):
    """not_valid_before/after as an aware UTC datetime (cryptography < 42 has only the naive ones)."""
    aware = getattr(cert, name + "_utc", None)
    if aware is not None:
        return aware
    return getattr(cert, name).replace(tzinfo=datetime.timezone.utc)


def _public_der(public_key):
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def judge(cert_pem, key_pem, now, min_days=0):
    """Return (facts, problem) for a PEM certificate and PEM private key at ``now`` (aware UTC)."""
    try:
        cert = x509.load_pem_x509_certificate(cert_pem)
    except ValueError as exc:
        return {}, "it is not a PEM certificate (%s)" % exc
    not_before, not_after = _utc(cert, "not_valid_before"), _utc(cert, "not_valid_after")
    days_left = int((not_after - now).total_seconds() // 86400)
    facts = {
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "not_before": not_before.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "not_after": not_after.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "days_left": days_left,
    }
    try:
        key = serialization.load_pem_private_key(key_pem, password=None)
    except (ValueError, TypeError) as exc:
        # the library's text can quote the key's bytes: only the kind of error is told
        return facts, "its private key is not an unencrypted PEM key (%s)" % type(exc).__name__
    if _public_der(key.public_key()) != _public_der(cert.public_key()):
        return facts, "it does not match its private key"
    if now < not_before:
        return facts, "it is not valid now: not before %s" % facts["not_before"]
    if now >= not_after:
        return facts, "it is not valid now: it expired %s" % facts["not_after"]
    if days_left < min_days:
        return facts, "it expires %s, in %d days (fewer than the %d asked for)" % (facts["not_after"], days_left, min_days)
    return facts, None


USAGES = {"clientAuth": "CLIENT_AUTH", "serverAuth": "SERVER_AUTH"}


def _san_strings(cert):
    """The certificate's subject alternative names as "DNS:name" and "IP:address" strings."""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    return (["DNS:%s" % n for n in san.get_values_for_type(x509.DNSName)]
            + ["IP:%s" % a for a in san.get_values_for_type(x509.IPAddress)])


def _is_ca(cert):
    try:
        return cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        return False


def reissue_reason(cert_pem, public_key_pem, ca_pem, common_name, subject_alt_name, extended_key_usage, is_ca,
                   now, min_days=0):
    """Why a certificate our own CA issued (or a CA certificate signed by itself) must be issued again, or
    None when it still fits.

    It fits when it is PEM, carries the key's public key (``public_key_pem``, read on the host), names
    ``common_name`` and exactly the ``subject_alt_name`` strings ("DNS:name", "IP:address"), allows each
    of ``extended_key_usage`` (clientAuth, serverAuth), is a CA certificate exactly when ``is_ca``, was
    signed by ``ca_pem`` (the certificate itself for a CA that signs itself) and has ``min_days`` days left.
    """
    if not cert_pem:
        return "there is no certificate yet"
    try:
        cert = x509.load_pem_x509_certificate(cert_pem)
    except ValueError:
        return "the certificate is not PEM"
    try:
        public_key = serialization.load_pem_public_key(public_key_pem)
    except (ValueError, TypeError):
        return "the key's public half could not be read (no key yet?)"
    if _public_der(public_key) != _public_der(cert.public_key()):
        return "the certificate is not for the key"
    names = [a.value for a in cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)]
    if names != [common_name]:
        return "the certificate names %s, not %s" % (names, common_name)
    san = _san_strings(cert)
    if sorted(san) != sorted(subject_alt_name):
        return "the certificate's alternative names are %s, not %s" % (sorted(san), sorted(subject_alt_name))
    try:
        usages = list(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)
    except x509.ExtensionNotFound:
        usages = []
    for usage in extended_key_usage:
        if getattr(x509.ExtendedKeyUsageOID, USAGES[usage]) not in usages:
            return "the certificate does not allow %s" % usage
    if _is_ca(cert) != bool(is_ca):
        return "the certificate %s a CA certificate" % ("is not" if is_ca else "is")
    try:
        ca = x509.load_pem_x509_certificate(ca_pem)
        cert.verify_directly_issued_by(ca)
    # InvalidSignature, ValueError and TypeError alike mean: not this CA's
    except Exception as exc:  # pylint: disable=broad-except
        return "the certificate was not issued by the CA (%s)" % type(exc).__name__
    days_left = int((_utc(cert, "not_valid_after") - now).total_seconds() // 86400)
    if now < _utc(cert, "not_valid_before") or days_left < min_days:
        return "the certificate has %d days left (fewer than %d) or is not valid yet" % (days_left, min_days)
    return None
