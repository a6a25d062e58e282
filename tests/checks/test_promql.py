"""Every PromQL expression seed.fleet ships parses, and the alert rules pass their unit tests.

Sources: the alert rules (roles/*/files/rules/*.yml) and the Grafana dashboards
(roles/*/files/dashboards/*.json: panel targets, annotation queries). Each
expression is checked by Debian's ``promtool`` (the same 2.42 the roles deploy):
Grafana variables are substituted, the expression becomes a recording rule, and
``promtool check rules`` parses it. The rule unit tests
(roles/*/files/tests/*.yml) run with ``promtool test rules``.

promtool: taken from PATH, else copied once from the ``seed-fleet/node`` image
(built by ``make images``; no container runs) into .cache/bin/.

With SEED_FLEET_PROMETHEUS_URL set (the lab: http://127.0.0.1:9090), every
dashboard expression whose metrics exist on that Prometheus must also return
data, and every expression must be accepted by its query API.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
CACHE_BIN = REPO / ".cache" / "bin"
IMAGE = os.environ.get("SEED_FLEET_NODE_IMAGE", "seed-fleet/node:" + os.environ.get("SEED_FLEET_SUITE", "bookworm"))
RULE_FILES = sorted(REPO.glob("roles/*/files/rules/*.yml"))
RULE_TESTS = sorted(REPO.glob("roles/*/files/tests/*.yml"))
DASHBOARDS = sorted(REPO.glob("roles/*/files/dashboards/*.json"))
# Grafana's built-in interval variables get a plausible value; any other variable
# (multi-value, used in =~ matchers) becomes ".*".
GRAFANA_BUILTINS = {"__rate_interval": "5m", "__interval": "1m", "__range": "1h", "__interval_ms": "60000"}
GRAFANA_VAR = re.compile(r"\$(?:\{([A-Za-z_]\w*)(?::\w+)?\}|([A-Za-z_]\w*))")
METRIC_PREFIXES = ("node_", "haproxy_", "probe_", "seed_fleet_", "prometheus_", "alertmanager_", "up")


def _collect() -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for path in RULE_FILES:
        for group in (yaml.safe_load(path.read_text()) or {}).get("groups", []):
            for rule in group.get("rules", []):
                name = rule.get("alert") or rule.get("record")
                found.append((f"{path.relative_to(REPO)}:{name}", rule["expr"]))
    for path in DASHBOARDS:
        board = json.loads(path.read_text())

        def panels(items):
            for p in items:
                yield p
                yield from panels(p.get("panels", []))

        for p in panels(board.get("panels", [])):
            for t in p.get("targets", []):
                if t.get("expr"):
                    found.append((f"{path.name}:{p.get('title')}:{t.get('refId')}", t["expr"]))
        for a in board.get("annotations", {}).get("list", []):
            if a.get("expr"):
                found.append((f"{path.name}:annotation:{a.get('name')}", a["expr"]))
    return found


EXPRESSIONS = _collect()


def grafana_to_promql(expr: str) -> str:
    return GRAFANA_VAR.sub(lambda m: GRAFANA_BUILTINS.get(m.group(1) or m.group(2), ".*"), expr)


@pytest.fixture(scope="session")
def promtool() -> str:
    on_path = shutil.which("promtool")
    if on_path:
        return on_path
    cached = CACHE_BIN / "promtool"
    if not cached.exists():
        if not shutil.which("docker"):
            pytest.fail("promtool is not on PATH and docker is not available to copy it from " + IMAGE)
        CACHE_BIN.mkdir(parents=True, exist_ok=True)
        name = f"monitoring-promtool-{uuid.uuid4().hex[:8]}"
        created = subprocess.run(["docker", "create", "--name", name, IMAGE, "true"], capture_output=True, text=True, check=False)
        if created.returncode != 0:
            pytest.fail(f"cannot create a container from {IMAGE} to copy promtool (run `make images`): {created.stderr.strip()}")
        try:
            tmp = cached.with_suffix(".part")
            subprocess.run(["docker", "cp", f"{name}:/usr/bin/promtool", str(tmp)], check=True, capture_output=True)
            tmp.rename(cached)
        finally:
            subprocess.run(["docker", "rm", "-f", name], capture_output=True, check=False)
    return str(cached)


def _run(cmd: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


def _check_expr(promtool: str, expr: str, tmp_path: Path) -> subprocess.CompletedProcess:
    rules = tmp_path / "expr.rules.yml"
    rules.write_text(yaml.safe_dump({"groups": [{"name": "check", "rules": [{"record": "seed_fleet:check", "expr": expr}]}]}))
    return _run([promtool, "check", "rules", str(rules)])


def test_sources_found():
    assert RULE_FILES, "no alert rule files under roles/*/files/rules/"
    assert DASHBOARDS, "no dashboards under roles/*/files/dashboards/"
    assert RULE_TESTS, "no promtool rule unit tests under roles/*/files/tests/"
    assert len(EXPRESSIONS) >= 20


@pytest.mark.parametrize("where,expr", EXPRESSIONS, ids=[where for where, _expr in EXPRESSIONS])
def test_expression_parses(promtool, tmp_path, where, expr):
    result = _check_expr(promtool, grafana_to_promql(expr), tmp_path)
    assert result.returncode == 0, f"{where}: {expr}\n{result.stdout}{result.stderr}"


@pytest.mark.parametrize("bad", ["sum by (instance (up)", "rate(up)", 'up{job="node"'])
def test_checker_rejects_broken_promql(promtool, tmp_path, bad):
    assert _check_expr(promtool, bad, tmp_path).returncode != 0


def test_grafana_variables_are_substituted():
    out = grafana_to_promql('sum(rate(x{instance=~"$instance", j=~"${job}"}[$__rate_interval])) and label_replace(y, "c", "$1", "s", "(.*)")')
    assert out == 'sum(rate(x{instance=~".*", j=~".*"}[5m])) and label_replace(y, "c", "$1", "s", "(.*)")'


@pytest.mark.parametrize("path", RULE_FILES, ids=[p.name for p in RULE_FILES])
def test_rule_file_checks(promtool, path):
    result = _run([promtool, "check", "rules", str(path)])
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("path", RULE_TESTS, ids=[p.name for p in RULE_TESTS])
def test_rule_unit_tests_pass(promtool, path):
    result = _run([promtool, "test", "rules", path.name], cwd=path.parent)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_has_a_unit_test():
    alerts = {r["alert"] for p in RULE_FILES for g in yaml.safe_load(p.read_text())["groups"] for r in g["rules"] if "alert" in r}
    tested = set()
    for p in RULE_TESTS:
        for t in yaml.safe_load(p.read_text()).get("tests", []):
            tested |= {a["alertname"] for a in t.get("alert_rule_test", []) if a.get("exp_alerts")}
    assert alerts - tested == set(), f"alerts without a firing unit test: {sorted(alerts - tested)}"


# --- optional: against a live Prometheus (the lab) ---------------------------------

LIVE = os.environ.get("SEED_FLEET_PROMETHEUS_URL", "").rstrip("/")


def _live(path: str, **params) -> dict:
    url = f"{LIVE}{path}" + (f"?{urllib.parse.urlencode(params)}" if params else "")
    with urllib.request.urlopen(url, timeout=10) as resp:  # noqa: S310 - URL from the operator (the lab, 127.0.0.1)
        return json.load(resp)


@pytest.fixture(scope="session")
def live_metric_names() -> set[str]:
    if not LIVE:
        pytest.skip("SEED_FLEET_PROMETHEUS_URL not set (e.g. http://127.0.0.1:9090 with the lab up)")
    return set(_live("/api/v1/label/__name__/values")["data"])


@pytest.mark.parametrize("where,expr", EXPRESSIONS, ids=[where for where, _expr in EXPRESSIONS])
def test_expression_returns_data_in_lab(live_metric_names, where, expr):
    query = grafana_to_promql(expr)
    data = _live("/api/v1/query", query=query)
    assert data["status"] == "success", f"{where}: {data}"
    if ".json:" not in where or ":annotation:" in where:
        # Alert rules and annotations mark events: accepted is enough (they
        # normally return nothing, e.g. no deploy in the last minutes).
        return
    metrics = {tok for tok in re.findall(r"[A-Za-z_:][A-Za-z0-9_:]*", query) if tok.startswith(METRIC_PREFIXES) and "_" in tok or tok == "up"}
    missing = metrics - live_metric_names
    if missing:
        pytest.skip(f"metrics not in this Prometheus: {sorted(missing)}")
    for job in set(re.findall(r'job="([^"]+)"', query)):
        if not _live("/api/v1/query", query=f'up{{job="{job}"}}')["data"]["result"]:
            pytest.skip(f"job {job} has no targets in this Prometheus")
    assert data["data"]["result"], f"{where}: no data for {query}"
