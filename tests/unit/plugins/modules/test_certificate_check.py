# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""seed.fleet.certificate_check as Ansible runs it: files or content, the message, no key in any output."""
from __future__ import annotations

import datetime
import json

import pytest

from ansible_collections.seed.fleet.plugins.modules import certificate_check
from ansible_collections.seed.fleet.tests.unit.plugins import fake_pki, module_run

NOW = datetime.datetime.now(datetime.timezone.utc)


def run_module(capsys, args):
    return module_run.run(certificate_check, capsys, args)


@pytest.fixture()
def files(tmp_path):
    def write(pair):
        (tmp_path / "c.pem").write_bytes(pair["cert"])
        (tmp_path / "k.pem").write_bytes(pair["key"])
        return {"certificate_path": str(tmp_path / "c.pem"), "private_key_path": str(tmp_path / "k.pem")}
    return write


def test_good_pair_from_files(capsys, files):
    rc, out = run_module(capsys, dict(files(fake_pki.pair(NOW, days_after=30)), name="x_cert"))
    assert rc == 0 and out["changed"] is False and out["days_left"] in (29, 30)


def test_mismatch_from_content_names_the_variable_and_hides_the_key(capsys):
    pair = fake_pki.pair(NOW, mismatch=True)
    rc, out = run_module(capsys, {"certificate": pair["cert"].decode(), "private_key": pair["key"].decode(),
                                  "name": "monitoring_server_web_tls_cert"})
    assert rc == 1 and out["failed"]
    assert out["msg"] == ("monitoring_server_web_tls_cert is refused before any change: "
                          "it does not match its private key."), out["msg"]
    body = pair["key"].decode().splitlines()[1]
    assert body not in json.dumps(out)


def test_expired_and_min_days(capsys, files):
    rc, out = run_module(capsys, dict(files(fake_pki.pair(NOW, days_before=10, days_after=-2)), name="c"))
    assert rc == 1 and "it expired" in out["msg"] and out["days_left"] < 0
    rc, out = run_module(capsys, dict(files(fake_pki.pair(NOW, days_after=3)), name="c", min_days_valid=7))
    assert rc == 1 and "fewer than the 7 asked for" in out["msg"]


@pytest.mark.parametrize("args", [
    {"certificate_path": "/nonexistent/c.pem", "private_key": "x"},
    {"certificate": "x"},
    {"certificate": "x", "certificate_path": "/c", "private_key": "k"},
    {"certificate": "x", "private_key": "k", "min_days_valid": -1},
])
def test_bad_input_fails_clearly(capsys, args):
    rc, out = run_module(capsys, args)
    assert rc == 1 and out["failed"] and out["msg"], out


def test_missing_file_names_its_path(capsys):
    rc, out = run_module(capsys, {"certificate_path": "/nonexistent/c.pem", "private_key": "not-shown-key-text", "name": "v"})
    assert "cannot read the certificate /nonexistent/c.pem" in out["msg"]
