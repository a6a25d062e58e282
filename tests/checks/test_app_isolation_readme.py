"""benchmarks/app_isolation/README.md shows the numbers of its results file (issue 17).

Each phase's row (requests, failed, answers from another app, certificates served, reload)
must be the one in benchmarks/app_isolation/results/lab.json: a new run that commits the
JSON without the README (or the other way round) fails here.
"""
from __future__ import annotations

import json
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HERE = REPO / "benchmarks" / "app_isolation"
PHASES = {"deploy_of_demo": "deploy of demo", "rollback_of_demo": "rollback of demo",
          "certificate_rotation": "certificate rotation", "whole_run": "whole run"}


def row(label: str, phase: dict) -> str:
    reloaded = {True: "yes", False: "no"}.get(phase.get("haproxy_reloaded"), "-")
    return "| %s | %.1f | %d | **%d** | %d | %s | %d | %s |" % (
        label, phase["seconds"], phase["requests"], phase["failed"], phase["other_app"],
        ", ".join(phase["api_versions"]), len(phase["certificates_seen"]), reloaded)


def test_readme_rows_are_the_results():
    result = json.loads((HERE / "results" / "lab.json").read_text())
    readme = (HERE / "README.md").read_text()
    for key, label in PHASES.items():
        assert row(label, result[key]) in readme, row(label, result[key])


def test_the_published_run_lost_nothing():
    result = json.loads((HERE / "results" / "lab.json").read_text())
    assert all(result[key]["failed"] == 0 and result[key]["other_app"] == 0 for key in PHASES)
    assert len(result["certificate_rotation"]["certificates_seen"]) == 2
    assert result["certificate_rotation"]["haproxy_reloaded"] is False
