"""The GitHub Actions pipeline keeps its shape: lint → sanity (every ansible-core from
meta/runtime.yml's requires_ansible minimum to the newest pinned one)
→ unit → molecule (every scenario, in parallel) → build → release on tags with
antsibull-changelog and a Galaxy token from secrets; security beside lint.
actionlint itself runs in the workflow's lint job (and was run on it when written).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
WF = yaml.safe_load((REPO / ".github" / "workflows" / "ci.yml").read_text())
JOBS = WF["jobs"]


def _needs(job: str) -> set[str]:
    n = JOBS[job].get("needs") or []
    return {n} if isinstance(n, str) else set(n)


def _steps_text(job: str) -> str:
    return "\n".join(str(s.get("run", "")) + str(s.get("uses", "")) for s in JOBS[job].get("steps", []))


def _upstream(job: str) -> set[str]:
    seen: set[str] = set()
    todo = list(_needs(job))
    while todo:
        j = todo.pop()
        if j not in seen:
            seen.add(j)
            todo += list(_needs(j))
    return seen


def test_triggers():
    on = WF.get("on") or WF.get(True)
    assert "pull_request" in on and "push" in on
    assert any(t.startswith("v") for t in on["push"].get("tags", [])), "release needs tag pushes"


def test_stage_order():
    assert "lint" in _needs("sanity")
    assert "sanity" in _upstream("unit")
    assert "unit" in _upstream("molecule")
    assert "molecule" in _upstream("build")
    assert {"build", "security"} <= _upstream("release")


def _minor(version: str) -> tuple[int, int]:
    major, minor = version.split(".")[:2]
    return int(major), int(minor)


def test_sanity_matrix():
    """Every core from requires_ansible's minimum to the newest pinned one (requirements/controller.txt)."""
    versions = sorted((i["ansible"] for i in JOBS["sanity"]["strategy"]["matrix"]["include"]), key=_minor)
    runtime = yaml.safe_load((REPO / "meta" / "runtime.yml").read_text())
    oldest = _minor(runtime["requires_ansible"].lstrip(">="))
    newest = next(_minor(ln.split("==")[1]) for ln in (REPO / "requirements" / "controller.txt").read_text().splitlines()
                  if ln.startswith("ansible-core=="))
    assert versions == [f"{oldest[0]}.{m}" for m in range(oldest[1], newest[1] + 1)]
    assert "ansible-test sanity" in _steps_text("sanity")


def test_molecule_matrix_covers_every_scenario():
    matrix = JOBS["molecule"]["strategy"]
    assert matrix.get("fail-fast") is False
    assert "fromJSON(needs.discover.outputs.scenarios)" in str(matrix["matrix"]["scenario"])
    assert matrix["matrix"]["suite"] == ["bookworm", "trixie"], "suite x scenario"
    assert "actions/cache" in _steps_text("molecule")


def test_discover_step_lists_the_scenarios(tmp_path: Path):
    """Run the discover job's script here: it must name exactly molecule/*/molecule.yml."""
    if not shutil.which("jq"):
        pytest.skip("jq not installed")
    script = next(s["run"] for s in JOBS["discover"]["steps"] if s.get("id") == "list")
    out = tmp_path / "out"
    r = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=REPO, env=dict(os.environ, GITHUB_OUTPUT=str(out)),
                       capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=30, check=False)
    assert r.returncode == 0, r.stderr
    listed = json.loads(out.read_text().strip().split("=", 1)[1])
    assert listed == sorted(p.parent.name for p in (REPO / "molecule").glob("*/molecule.yml"))


def test_caching():
    for job in ("lint", "unit", "molecule", "build"):
        setup = [s for s in JOBS[job]["steps"] if str(s.get("uses", "")).startswith("actions/setup-python")]
        assert setup and setup[0]["with"].get("cache") == "pip", f"{job}: pip cache"


def test_security_stage():
    text = _steps_text("security")
    for needle in ("test_secrets_scan.py", "ansible-lint", "pip-audit"):
        assert needle in text, needle


def test_release():
    job = JOBS["release"]
    assert "refs/tags/v" in job["if"]
    text = _steps_text("release")
    assert "antsibull-changelog release" in text
    assert "ansible-galaxy collection publish" in text
    env = {k: v for s in job["steps"] for k, v in (s.get("env") or {}).items()}
    assert any("secrets." in str(v) for v in env.values()), "Galaxy token must come from a secret"
    assert job.get("permissions", {}).get("contents") == "write"
