# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The judgement behind seed.fleet.certificate_check, on certificates made here."""
from __future__ import annotations

import datetime

import pytest

from ansible_collections.seed.fleet.plugins.module_utils import _certificate
from ansible_collections.seed.fleet.tests.unit.plugins import fake_pki

NOW = datetime.datetime(2026, 6, 1, 12, 0, tzinfo=datetime.timezone.utc)


def judge(pair, now=NOW, min_days=0):
    return _certificate.judge(pair["cert"], pair["key"], now, min_days)


def test_a_good_pair_passes_with_its_facts():
    facts, problem = judge(fake_pki.pair(NOW, days_before=5, days_after=30, cn="mon1.example.com"))
    assert problem is None
    assert facts["subject"] == "CN=mon1.example.com" and facts["days_left"] == 30
    assert facts["not_after"] == "2026-07-01T12:00:00Z"


@pytest.mark.parametrize(("kwargs", "now", "min_days", "words"), [
    ({"mismatch": True}, NOW, 0, "does not match its private key"),
    ({"days_after": -1}, NOW, 0, "not valid now: it expired 2026-05-31T12:00:00Z"),
    ({"days_before": -2}, NOW, 0, "not valid now: not before 2026-06-03T12:00:00Z"),
    ({"days_after": 5}, NOW, 7, "in 5 days (fewer than the 7 asked for)"),
    ({"rsa": True, "mismatch": True}, NOW, 0, "does not match"),
])
def test_refusals(kwargs, now, min_days, words):
    problem = judge(fake_pki.pair(NOW, **kwargs), now, min_days)[1]
    assert problem is not None and words in problem, problem


def test_expiry_edge_is_refused_at_the_second():
    pair = fake_pki.pair(NOW, days_after=1)
    assert judge(pair, NOW + datetime.timedelta(days=1) - datetime.timedelta(seconds=1))[1] is None
    assert "expired" in judge(pair, NOW + datetime.timedelta(days=1))[1]


def test_garbage_is_refused_without_quoting_the_key():
    pair = fake_pki.pair(NOW)
    facts, problem = _certificate.judge(b"not a cert", pair["key"], NOW)
    assert facts == {} and "not a PEM certificate" in problem
    secret = b"-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWtleS1ieXRlcw==\n-----END PRIVATE KEY-----\n"  # pragma: allowlist secret
    problem = _certificate.judge(pair["cert"], secret, NOW)[1]
    assert "not an unencrypted PEM key" in problem and "c2VjcmV0" not in problem


def test_an_encrypted_key_is_refused():
    pair = fake_pki.pair(NOW, key_password=b"pw")
    problem = judge(pair)[1]
    assert "not an unencrypted PEM key" in problem
