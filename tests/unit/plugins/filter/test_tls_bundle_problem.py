"""seed.fleet.tls_bundle_problem: the load balancer's check of an app's certificate bundle."""
from __future__ import annotations

import datetime

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.seed.fleet.plugins.filter.tls_bundle_problem import tls_bundle_problem
from ansible_collections.seed.fleet.tests.unit.plugins import fake_pki

NOW = datetime.datetime.now(datetime.timezone.utc)


def bundle(**kwargs):
    pair = fake_pki.pair(NOW, **kwargs)
    return pair["cert"].decode() + pair["key"].decode()


def test_a_good_bundle_has_no_problem():
    assert tls_bundle_problem(bundle()) == ""


def test_the_key_first_is_fine_too():
    pair = fake_pki.pair(NOW)
    assert tls_bundle_problem(pair["key"].decode() + pair["cert"].decode()) == ""


@pytest.mark.parametrize("kwargs, min_days, words", [
    ({"mismatch": True}, 0, "it does not match its private key"),
    ({"days_after": -1}, 0, "it is not valid now: it expired"),
    ({"days_before": -2}, 0, "it is not valid now: not before"),
    ({"days_after": 5}, 10, "fewer than the 10 asked for"),
])
def test_refusals(kwargs, min_days, words):
    assert words in tls_bundle_problem(bundle(**kwargs), min_days)


def test_missing_parts():
    pair = fake_pki.pair(NOW)
    assert tls_bundle_problem(pair["key"].decode()) == "it holds no PEM certificate"
    assert "holds no PEM private key" in tls_bundle_problem(pair["cert"].decode())


def test_an_encrypted_key_never_quoted():
    pair = fake_pki.pair(NOW, key_password=b"pw")
    problem = tls_bundle_problem(pair["cert"].decode() + pair["key"].decode())
    assert problem.startswith("its private key is encrypted")
    assert "BEGIN" not in problem


def test_not_text_is_an_error():
    with pytest.raises(AnsibleFilterError, match="expected the PEM text"):
        tls_bundle_problem(None)
