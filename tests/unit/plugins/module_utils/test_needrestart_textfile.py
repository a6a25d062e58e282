# -*- coding: utf-8 -*-
"""roles/baseline/files/seed_fleet_needrestart_textfile.py: needrestart's batch output as textfile metrics."""
from __future__ import absolute_import, division, print_function

import importlib.util
import os
import stat
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[4]
SCRIPT = ROOT / "roles" / "baseline" / "files" / "seed_fleet_needrestart_textfile.py"

BATCH = """NEEDRESTART-VER: 3.6
NEEDRESTART-KCUR: 6.1.0-28-amd64
NEEDRESTART-KEXP: 6.1.0-30-amd64
NEEDRESTART-KSTA: 3
NEEDRESTART-SVC: ssh.service
NEEDRESTART-SVC: cron.service
NEEDRESTART-SVC: ssh.service
NEEDRESTART-SESS: alice @ session #4
"""


@pytest.fixture(scope="module")
def nr():
    spec = importlib.util.spec_from_file_location("seed_fleet_needrestart_textfile", str(SCRIPT))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _samples(text):
    return dict(line.rsplit(" ", 1) for line in text.splitlines() if line and not line.startswith("#"))


def test_services_and_kernel_status_are_read(nr):
    assert nr.parse(BATCH) == {"services": ["cron.service", "ssh.service"], "kernel_status": 3}


def test_a_container_has_no_kernel_line_and_nothing_to_restart(nr):
    assert nr.parse("NEEDRESTART-VER: 3.6\n") == {"services": [], "kernel_status": None}


def test_render_counts_and_names_each_service(nr):
    samples = _samples(nr.render(nr.parse(BATCH), 1700000000.7))
    assert samples["seed_fleet_needrestart_services"] == "2"
    assert samples['seed_fleet_needrestart_service{unit="ssh.service"}'] == "1"
    assert samples['seed_fleet_needrestart_service{unit="cron.service"}'] == "1"
    assert samples["seed_fleet_needrestart_kernel_status"] == "3"
    assert samples["seed_fleet_needrestart_last_run_timestamp_seconds"] == "1700000000"
    assert samples["seed_fleet_needrestart_success"] == "1"


def test_no_kernel_metric_when_needrestart_skipped_the_kernel(nr):
    assert "kernel_status" not in nr.render(nr.parse("NEEDRESTART-VER: 3.6\n"), 0)


def test_a_failed_run_says_so_and_claims_nothing(nr):
    samples = _samples(nr.render(nr.parse(""), 5, success=False))
    assert samples == {"seed_fleet_needrestart_success": "0", "seed_fleet_needrestart_last_run_timestamp_seconds": "5"}


def test_label_values_are_escaped(nr):
    text = nr.render({"services": ['we"ird\\unit'], "kernel_status": None}, 0)
    assert 'unit="we\\"ird\\\\unit"' in text


def _fake_needrestart(tmp_path, body, rc=0):
    fake = tmp_path / "fake-needrestart"
    fake.write_text("#!%s\nimport sys\nsys.stdout.write(%r)\nsys.exit(%d)\n" % (sys.executable, body, rc))
    fake.chmod(0o755)
    return str(fake)


def test_main_writes_the_file_atomically_and_readable(nr, tmp_path, capsys):
    out = tmp_path / "textfile"
    assert nr.main(["--dir", str(out), "--command", _fake_needrestart(tmp_path, BATCH)]) == 0
    prom = out / nr.FILENAME
    assert _samples(prom.read_text())["seed_fleet_needrestart_services"] == "2"
    assert stat.S_IMODE(os.stat(prom).st_mode) == 0o644
    assert sorted(os.listdir(out)) == [nr.FILENAME]  # no temporary file left
    assert "2 service(s) to restart: cron.service, ssh.service" in capsys.readouterr().out


def test_main_reports_a_failed_needrestart(nr, tmp_path):
    assert nr.main(["--dir", str(tmp_path), "--command", _fake_needrestart(tmp_path, "", rc=2)]) == 1
    assert _samples((tmp_path / nr.FILENAME).read_text())["seed_fleet_needrestart_success"] == "0"


def test_main_reports_a_missing_needrestart(nr, tmp_path):
    assert nr.main(["--dir", str(tmp_path), "--command", str(tmp_path / "absent")]) == 1
    assert _samples((tmp_path / nr.FILENAME).read_text())["seed_fleet_needrestart_success"] == "0"
