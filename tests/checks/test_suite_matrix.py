"""`make test` covers both Debian suites with every kind of host and every host role (issue #15).

tests/run_all.py runs the multi-host scenarios (MIXED) once on a mixed fleet and the
others on each suite; lab/hosts/start.yml puts host i of a mixed fleet on suite i mod 2.
This check plays that plan out from the scenarios' molecule.yml and requires that each
kind of host (lab/hosts/kinds.yml) and each single-host role of a fleet (the load
balancer, the monitoring server) runs on both suites somewhere, and that no scenario is
left out or run twice on the same suite.
"""
from __future__ import annotations

import importlib.util
from collections import Counter
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
SUITES = ["bookworm", "trixie"]


def _run_all():
    spec = importlib.util.spec_from_file_location("run_all", REPO / "tests" / "run_all.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _scenarios(run_all) -> list[str]:
    """Every scenario `make test` runs (whatever SCENARIOS says in this shell)."""
    return sorted(p.parent.name for p in (REPO / "molecule").glob("*/molecule.yml") if p.parent.name not in run_all.OPT_IN)


def _platforms(scenario: str) -> list[dict]:
    return yaml.safe_load((REPO / "molecule" / scenario / "molecule.yml").read_text())["platforms"]


def _plan() -> list[tuple[str, dict, str]]:
    """(scenario, platform, suite) for every host `make test` starts."""
    run_all = _run_all()
    out = []
    for suites, scenario in run_all.jobs_for(_scenarios(run_all), SUITES):
        order = suites.split(",")
        for i, platform in enumerate(_platforms(scenario)):
            out.append((scenario, platform, platform.get("suite", order[i % len(order)])))
    return out


def test_every_scenario_runs_on_both_suites_once():
    run_all = _run_all()
    jobs = run_all.jobs_for(_scenarios(run_all), SUITES)
    per_scenario = Counter()
    for suites, scenario in jobs:
        per_scenario.update((scenario, suite) for suite in suites.split(","))
    assert {s for _suite, s in jobs} == set(_scenarios(run_all))
    assert set(per_scenario.values()) == {1}, per_scenario
    assert all(len(suites.split(",")) == 2 for suites, s in jobs if s in run_all.MIXED)
    assert all(len(_platforms(s)) >= 2 for s in run_all.MIXED)


def test_every_kind_of_host_runs_on_both_suites():
    kinds = yaml.safe_load((REPO / "lab" / "hosts" / "kinds.yml").read_text())["seed_fleet_host_kinds"]
    seen = {kind: {suite for _s, p, suite in _plan() if p.get("kind") == kind} for kind in kinds}
    assert seen == {kind: set(SUITES) for kind in kinds}


def test_the_single_lb_and_monitoring_server_of_the_fleets_run_on_both_suites():
    # Host names say their role in every scenario: <scenario>-lb*, <scenario>-mon*/-server.
    def suites(*tokens):
        return {suite for _s, p, suite in _plan() if any(t in p["name"].split("-", 1)[1] for t in tokens)}
    assert suites("lb") == set(SUITES)
    assert suites("mon", "server") == set(SUITES)
    assert suites("app") == set(SUITES)


def test_one_suite_asked_for_runs_every_scenario_on_it():
    run_all = _run_all()
    assert run_all.jobs_for(_scenarios(run_all), ["trixie"]) == [("trixie", s) for s in _scenarios(run_all)]
