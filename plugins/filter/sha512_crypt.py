# -*- coding: utf-8 -*-
# Copyright (c) seed.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
name: sha512_crypt
short_description: SHA-512 crypt (C($6$)) password hash with a deterministic salt, the same on every ansible-core
version_added: 0.2.0
description:
  - Hashes O(_input) with SHA-512 crypt (the C($6$) scheme of glibc's C(crypt(3)), as read by HAProxy's
    C(userlist ... password), C(/etc/shadow) and C(htpasswd)). Pure Python, so the result depends on
    neither passlib, the C(crypt) module nor the ansible-core version.
  - C(ansible.builtin.password_hash) is not stable across cores for a given salt. ansible-core 2.21 with
    libxcrypt turns the salt string into other salt characters, so upgrading the controller
    re-rendered every hash once (and reloaded the daemons using them). This filter uses the salt as given.
  - "The salt: either O(salt) verbatim, or derived from O(salt_seed) as the first 16 hexadecimal characters
    of SHA-256(O(salt_seed)) (UTF-8). For a seed of C(inventory_hostname ~ user) that is the salt the
    load_balancer role always used, so hashes made by ansible-core 2.19 stay byte for byte the same."
  - With a fixed salt the hash is a pure function of the password, salt and rounds, so runs are idempotent.
author:
  - seed.fleet maintainers
options:
  _input:
    description: The password.
    type: str
    required: true
  salt_seed:
    description:
      - Any string (for example C(inventory_hostname ~ user)); the salt is C(sha256(salt_seed)[:16]) in hex.
      - Exactly one of O(salt_seed) and O(salt).
    type: str
  salt:
    description:
      - The salt itself, 1 to 16 characters from C([./0-9A-Za-z]).
      - Exactly one of O(salt_seed) and O(salt).
    type: str
  rounds:
    description:
      - Rounds, 1000 to 999999999. The default 5000 is written without a C(rounds=) field, as C(crypt(3)) does.
    type: int
    default: 5000
"""

EXAMPLES = r"""
- name: HAProxy userlist line with a per-host stable hash
  ansible.builtin.debug:
    msg: "user admin password {{ stats_password | seed.fleet.sha512_crypt(salt_seed=inventory_hostname ~ 'admin') }}"

- name: A known salt
  ansible.builtin.debug:
    msg: "{{ 'Hello world!' | seed.fleet.sha512_crypt(salt='saltstring') }}"
    # -> $6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1
"""

RETURN = r"""
_value:
  description: The hash, C($6$<salt>$<86 characters>) or C($6$rounds=<n>$<salt>$<86 characters>).
  type: str
"""

import hashlib
import re

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_bytes, to_text

_ALPHABET = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_SALT_RE = re.compile(r"^[./0-9A-Za-z]{1,16}$")
_ROUNDS_DEFAULT = 5000
# Byte order of the final base-64 encoding (Drepper, "Unix crypt using SHA-256 and SHA-512", step 22).
_PERMUTATION = (
    (0, 21, 42), (22, 43, 1), (44, 2, 23), (3, 24, 45), (25, 46, 4), (47, 5, 26), (6, 27, 48),
    (28, 49, 7), (50, 8, 29), (9, 30, 51), (31, 52, 10), (53, 11, 32), (12, 33, 54), (34, 55, 13),
    (56, 14, 35), (15, 36, 57), (37, 58, 16), (59, 17, 38), (18, 39, 60), (40, 61, 19), (62, 20, 41),
)


def _b64(value, count):
    out = []
    for dummy in range(count):
        out.append(_ALPHABET[value & 0x3F])
        value >>= 6
    return "".join(out)


def _repeat(digest, length):
    return (digest * (length // len(digest) + 1))[:length]


def _sha512_crypt(password, salt, rounds):
    """Drepper's SHA-512 crypt; password and salt are bytes."""
    digest_b = hashlib.sha512(password + salt + password).digest()
    ctx = hashlib.sha512(password + salt + _repeat(digest_b, len(password)))
    length = len(password)
    while length:
        ctx.update(digest_b if length & 1 else password)
        length >>= 1
    digest_a = ctx.digest()
    p_bytes = _repeat(hashlib.sha512(password * len(password)).digest(), len(password))
    s_bytes = _repeat(hashlib.sha512(salt * (16 + digest_a[0])).digest(), len(salt))
    current = digest_a
    for i in range(rounds):
        ctx = hashlib.sha512(p_bytes if i & 1 else current)
        if i % 3:
            ctx.update(s_bytes)
        if i % 7:
            ctx.update(p_bytes)
        ctx.update(current if i & 1 else p_bytes)
        current = ctx.digest()
    encoded = "".join(_b64((current[a] << 16) | (current[b] << 8) | current[c], 4) for a, b, c in _PERMUTATION)
    return encoded + _b64(current[63], 2)


def derive_salt(salt_seed):
    """The documented salt for a seed: the first 16 hex characters of SHA-256(seed)."""
    return hashlib.sha256(to_bytes(salt_seed, errors="surrogate_or_strict")).hexdigest()[:16]


def sha512_crypt(password, salt_seed=None, salt=None, rounds=_ROUNDS_DEFAULT):
    """SHA-512 crypt of password with a salt given or derived from salt_seed."""
    if password is None:
        raise AnsibleFilterError("sha512_crypt: the password is undefined (None)")
    if (salt_seed is None) == (salt is None):
        raise AnsibleFilterError("sha512_crypt: give exactly one of salt_seed and salt")
    if salt is None:
        if not to_text(salt_seed):
            raise AnsibleFilterError("sha512_crypt: salt_seed must not be empty")
        salt = derive_salt(salt_seed)
    salt = to_text(salt)
    if not _SALT_RE.match(salt):
        raise AnsibleFilterError("sha512_crypt: salt must be 1 to 16 characters of [./0-9A-Za-z], got %r" % (salt,))
    if isinstance(rounds, bool):
        raise AnsibleFilterError("sha512_crypt: rounds must be an integer, got %r" % (rounds,))
    try:
        rounds = int(rounds)
    except (TypeError, ValueError):
        raise AnsibleFilterError("sha512_crypt: rounds must be an integer, got %r" % (rounds,))
    if not 1000 <= rounds <= 999999999:
        raise AnsibleFilterError("sha512_crypt: rounds must be between 1000 and 999999999, got %d" % rounds)
    checksum = _sha512_crypt(to_bytes(password, errors="surrogate_or_strict"), to_bytes(salt), rounds)
    prefix = "$6$" if rounds == _ROUNDS_DEFAULT else "$6$rounds=%d$" % rounds
    return "%s%s$%s" % (prefix, salt, checksum)


class FilterModule(object):
    def filters(self):
        return {"sha512_crypt": sha512_crypt}
