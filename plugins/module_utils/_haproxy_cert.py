# -*- coding: utf-8 -*-
# Copyright (c) seed.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A TLS certificate HAProxy serves, replaced without a reload through the runtime API.

``set ssl cert <file> <<`` (the new PEM: chain and key) opens a transaction, ``commit ssl cert
<file>`` swaps it in for new handshakes, and the file is written after the commit so the next
start loads the same certificate. Connections and handshakes in flight keep the old one.
A certificate file HAProxy has not loaded (a new app) cannot be swapped in: the file is written
and the caller reloads HAProxy.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import hashlib
import os
import re

from ansible_collections.seed.fleet.plugins.module_utils._haproxy_runtime import RuntimeAPIError

_CERT_RE = re.compile(r"-----BEGIN CERTIFICATE-----\s*(.*?)\s*-----END CERTIFICATE-----", re.S)
_KEY_RE = re.compile(r"-----BEGIN (?:RSA |EC |ENCRYPTED )?PRIVATE KEY-----")
_FINGERPRINT_RE = re.compile(r"^SHA1 FingerPrint:\s*([0-9A-Fa-f:]+)\s*$", re.M)


class CertError(Exception):
    """Bad input, or HAProxy refused the new certificate (nothing was changed)."""


def normalized(content):
    """The PEM as it is written and sent: LF line ends, no empty lines, one final newline."""
    lines = [line.rstrip() for line in content.replace("\r\n", "\n").split("\n")]
    return "\n".join(line for line in lines if line) + "\n"


def fingerprint(content):
    """SHA-1 of the first certificate's DER, upper-case hex (what ``show ssl cert <file>`` prints).

    Raises CertError when the PEM holds no certificate or no private key."""
    found = _CERT_RE.search(content or "")
    if not found:
        raise CertError("content holds no PEM certificate (-----BEGIN CERTIFICATE-----)")
    if not _KEY_RE.search(content):
        raise CertError("content holds no PEM private key: HAProxy needs the chain and the key in one file")
    if "ENCRYPTED PRIVATE KEY" in content:
        raise CertError("the private key is encrypted: HAProxy cannot load it without a passphrase")
    try:
        der = base64.b64decode("".join(found.group(1).split()), validate=True)
    except (ValueError, TypeError):
        raise CertError("the first certificate's PEM is not valid base64")
    return hashlib.sha1(der).hexdigest().upper()  # nosec - HAProxy's fingerprint, not a security check


def loaded_files(client):
    """Certificate files HAProxy has loaded (``show ssl cert``), without an open transaction's mark."""
    reply = client.execute("show ssl cert")
    files = []
    for line in reply.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            files.append(line.lstrip("*"))
    return files


def loaded_fingerprint(client, path):
    """The SHA-1 fingerprint of the certificate HAProxy serves from path, or None when it cannot say."""
    found = _FINGERPRINT_RE.search(client.execute("show ssl cert %s" % path))
    return found.group(1).replace(":", "").upper() if found else None


def _read(path):
    try:
        with open(path, "r") as handle:
            return handle.read()
    except (IOError, OSError):
        return None


def write(path, content, mode=0o600):
    """Replace path at once (a temporary file renamed over it), owner root by default of the run."""
    tmp = "%s.seed-fleet.%d.tmp" % (path, os.getpid())
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(content)
        os.chmod(tmp, mode)
        os.rename(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def sync(client, path, content, mode=0o600, check_mode=False):
    """Make HAProxy serve content for path and the file hold it. Returns a result dict:

    changed, file_changed, runtime (committed | unchanged | not loaded | not running), needs_reload,
    fingerprint. Raises CertError when HAProxy refuses the certificate (the file is left as it was)."""
    content = normalized(content)
    new_fp = fingerprint(content)
    file_changed = _read(path) != content
    result = {"changed": False, "file_changed": file_changed, "runtime": "not running", "needs_reload": False,
              "fingerprint": new_fp}
    try:
        files = loaded_files(client)
    except RuntimeAPIError:
        files = None  # HAProxy is not running: the file is all there is
    commit = False
    if files is not None:
        if path not in files:
            result["runtime"] = "not loaded"
            result["needs_reload"] = True
        else:
            commit = file_changed or loaded_fingerprint(client, path) != new_fp
            result["runtime"] = "committed" if commit else "unchanged"
    result["changed"] = file_changed or commit
    if check_mode:
        return result
    if commit:
        reply = client.execute_payload("set ssl cert %s" % path, content)
        if "Transaction created" not in reply and "Transaction updated" not in reply:
            _abort(client, path)
            raise CertError("HAProxy refused the new certificate for %s: %s" % (path, reply.strip()))
        reply = client.execute("commit ssl cert %s" % path)
        if "Success!" not in reply:
            _abort(client, path)
            raise CertError("HAProxy refused the new certificate for %s at its commit: %s" % (path, reply.strip()))
    if file_changed:
        write(path, content, mode)
    return result


def _abort(client, path):
    try:
        client.execute("abort ssl cert %s" % path)
    except RuntimeAPIError:
        pass
