# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""seed.fleet.sha512_crypt: SHA-512 crypt that is the same on every ansible-core."""
from __future__ import annotations

import hashlib

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.seed.fleet.plugins.filter.sha512_crypt import FilterModule, derive_salt, sha512_crypt

# Inputs from Ulrich Drepper's specification ("Unix crypt using SHA-256 and SHA-512"); the expected
# strings are what glibc's crypt(3) returns for them (Python 3.11 crypt module, Debian 12).
SPEC = [
    ("Hello world!", "saltstring", 5000,
     "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1"),
    ("Hello world!", "saltstringsaltst", 10000,
     "$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/"
     "y3RnOaw5v."),
    ("This is just a test", "toolongsaltstri", 5000,
     "$6$toolongsaltstri$/y/LP9xcsSK6uq5OujBHItAAdZVUV7Ounphsnr.fUWIIBatvYnkzcJ4Zf1wyUBevxaaPg5hhLVklri7jGEMwg/"),
    ("we have a short salt string but not a short password", "roundstoolow", 1000,
     "$6$rounds=1000$roundstoolow$yjTuW7RnC.d35QcVTFIb6uvh/7IQ1.GFtFN3i/.jwmeWEhzjf4uD/OPCb4jRl6atJGYhLst8IyR6YAtTrriMU1"),
    ("a short string", "asaltof16chars..", 123456,
     "$6$rounds=123456$asaltof16chars..$BtCwjqMJGx5hrJhZywWvt0RLE8uZ4oPwcelCjmw2kSYu.Ec6ycULevoBK25fs2xXgMNrCzIMVcgEJ"
     "AstJeonj1"),
]


@pytest.mark.parametrize(("password", "salt", "rounds", "expected"), SPEC)
def test_specification_vectors(password, salt, rounds, expected):
    assert sha512_crypt(password, salt=salt, rounds=rounds) == expected


def test_salt_seed_is_the_documented_sha256_prefix():
    assert derive_salt("lb1admin") == hashlib.sha256(b"lb1admin").hexdigest()[:16] == "a26ce94af2c1cdd4"


def test_same_hash_as_ansible_core_2_19_rendered():
    """The load_balancer role's hash for host lb1, user admin, password 'secret', as ansible-core 2.19
    (passlib) wrote it with password_hash('sha512', sha256('lb1admin')[:16], rounds=5000): hosts set
    up by 2.19 see no change."""
    assert sha512_crypt("secret", salt_seed="lb1admin") == (
        "$6$a26ce94af2c1cdd4$ZhB2.dEKzsPlwoA.X/rZiflCiCeBi0wh0/wW7fV3ri5OZXXGy.0Sg0zuV/Nzk1UCCx1x841dnItGC3Mpo0wWv/")


def test_deterministic_and_salt_dependent():
    one = sha512_crypt("pw", salt_seed="lb1admin")
    assert one == sha512_crypt("pw", salt_seed="lb1admin")
    assert one != sha512_crypt("pw", salt_seed="lb2admin")
    assert one != sha512_crypt("pw2", salt_seed="lb1admin")


def test_non_ascii_password():
    out = sha512_crypt("pässwörd €", salt="abc")
    assert out.startswith("$6$abc$") and len(out.split("$")[-1]) == 86


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "exactly one of salt_seed and salt"),
        ({"salt_seed": "a", "salt": "b"}, "exactly one of salt_seed and salt"),
        ({"salt_seed": ""}, "salt_seed must not be empty"),
        ({"salt": "x" * 17}, "1 to 16 characters"),
        ({"salt": "bad$salt"}, "1 to 16 characters"),
        ({"salt": ""}, "1 to 16 characters"),
        ({"salt": "ok", "rounds": 999}, "between 1000 and 999999999"),
        ({"salt": "ok", "rounds": "many"}, "rounds must be an integer"),
        ({"salt": "ok", "rounds": True}, "rounds must be an integer"),
    ],
)
def test_bad_input(kwargs, message):
    with pytest.raises(AnsibleFilterError, match=message):
        sha512_crypt("pw", **kwargs)


def test_undefined_password():
    with pytest.raises(AnsibleFilterError, match="undefined"):
        sha512_crypt(None, salt="ok")


def test_registered():
    assert FilterModule().filters()["sha512_crypt"] is sha512_crypt
