"""playbooks/awx_configure.yml: the two workflows are wired the way their comments say.

"deploy with approval": deploy (the deploy job template) -> on success, an approval node with a
timeout -> on failure (denied, or no answer before the timeout) the rollback job template. The
timeout stays below blue_green_keep_previous_seconds, so that rollback is one switch back to the
warm color. Its survey is the deploy job template's (whose fields test_awx_surveys.py checks
against the roles).

"canary with approval": deploy (a canary that waits at an approval step) -> approval -> on success
the promote job template, on failure the abort job template (deploy.yml with
blue_green_canary_decision). The timeout stays below blue_green_canary_approval_timeout (where the
load balancers abort by themselves) and the step is one the default canary steps have.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
PLAYBOOK = REPO / "playbooks" / "awx_configure.yml"
BLUE_GREEN_DEFAULTS = REPO / "roles" / "blue_green" / "defaults" / "main.yml"
VAR = re.compile(r"^\{\{\s*(\w+)\s*\}\}$")


def _play() -> dict:
    return yaml.safe_load(PLAYBOOK.read_text())[0]


def _resolve(value, play_vars: dict):
    m = VAR.match(value.strip()) if isinstance(value, str) else None
    return _resolve(play_vars[m.group(1)], play_vars) if m and m.group(1) in play_vars else value


def _workflow(play: dict, name: str = "awx_workflow_deploy_approval") -> dict:
    tasks = [t["awx.awx.workflow_job_template"] for t in play["tasks"] if "awx.awx.workflow_job_template" in t]
    found = [t for t in tasks if t["name"] == "{{ %s }}" % name]
    assert len(found) == 1, "expected one awx.awx.workflow_job_template task named {{ %s }}" % name
    return found[0]


def _edges(nodes: list[dict]) -> set[tuple[str, str, str]]:
    return {(n["identifier"], kind[:-6], target["identifier"])
            for n in nodes for kind, targets in (n.get("related") or {}).items() for target in targets or []}


def _kinds(nodes: list[dict], pv: dict) -> dict[str, str]:
    """node -> what it runs: the playbook of a job template (with its decision, if any) or the node type."""
    templates = {t["name"]: t["playbook"] + "".join(" %s=%s" % kv for kv in (t.get("extra_vars") or {}).items())
                 for t in _resolve(pv["awx_job_templates"], pv)}
    kinds = {}
    for n in nodes:
        ujt = n["unified_job_template"]
        if ujt["type"] == "job_template":
            kinds[n["identifier"]] = templates.get(ujt["name"], "not a job template of awx_job_templates: " + ujt["name"])
        else:
            kinds[n["identifier"]] = ujt["type"]
    return kinds


def _timeouts(nodes: list[dict], pv: dict, limit_var: str, why: str) -> list[str]:
    """The approval nodes whose timeout is not > 0 (an answer is required) and below the role default limit_var."""
    limit = yaml.safe_load(BLUE_GREEN_DEFAULTS.read_text())[limit_var]
    out = []
    for n in nodes:
        ujt = n["unified_job_template"]
        if ujt["type"] == "workflow_approval":
            timeout = int(_resolve(ujt.get("timeout", 0), pv))
            if not 0 < timeout < limit:
                out.append(f"approval timeout {timeout}: must be > 0 (an answer is required) and below {limit_var} "
                           f"({limit}) {why}")
    return out


def check(play: dict) -> list[str]:
    """What is wrong with the workflow (empty when it is wired as documented)."""
    pv = play["vars"]
    wf = _workflow(play)
    nodes = wf["workflow_nodes"]
    by_id = {n["identifier"]: n for n in nodes}
    out = []
    if len(by_id) != len(nodes):
        out.append("node identifiers are not unique")
    kinds = _kinds(nodes, pv)
    dangling = [(a, k, b) for a, k, b in _edges(nodes) if b not in by_id]
    if dangling:
        out.append(f"edges to unknown nodes: {dangling}")
    named = {(kinds[a], k, kinds[b]) for a, k, b in _edges(nodes) if a in kinds and b in kinds}
    want = {("playbooks/deploy.yml", "success", "workflow_approval"),
            ("workflow_approval", "failure", "playbooks/rollback.yml")}
    if named != want:
        out.append(f"edges {sorted(named)} != {sorted(want)}")
    out += _timeouts(nodes, pv, "blue_green_keep_previous_seconds", "so that the rollback is warm")
    deploy_survey = next(t["survey"] for t in _resolve(pv["awx_job_templates"], pv) if t["playbook"] == "playbooks/deploy.yml")
    if wf.get("survey_spec") != deploy_survey or not wf.get("survey_enabled"):
        out.append("the workflow's survey is not the deploy job template's")
    return out


def test_workflow_is_wired_as_documented():
    problems = check(_play())
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("breakage, expect", [
    (lambda wf, pv: wf["workflow_nodes"][1]["related"].update(failure_nodes=[], success_nodes=[{"identifier": "rollback"}]),
     "edges"),
    (lambda wf, pv: pv.update(awx_approval_timeout=0), "approval timeout 0"),
    (lambda wf, pv: pv.update(awx_approval_timeout=3600), "approval timeout 3600"),
    (lambda wf, pv: wf["workflow_nodes"][2]["unified_job_template"].update(name="nope"), "not a job template"),
    (lambda wf, pv: wf["workflow_nodes"][0]["related"]["success_nodes"].append({"identifier": "ghost"}), "unknown nodes"),
    (lambda wf, pv: wf.update(survey_spec="{{ awx_survey_rollback }}"), "survey"),
])
def test_the_check_can_fail(breakage, expect):
    play = _play()
    breakage(_workflow(play), play["vars"])
    assert any(expect in p for p in check(play)), check(play)


ROLE_DEFAULTS = yaml.safe_load(BLUE_GREEN_DEFAULTS.read_text())


def check_canary(play: dict) -> list[str]:
    """What is wrong with the canary workflow (empty when it is wired as documented)."""
    pv = play["vars"]
    wf = _workflow(play, "awx_workflow_canary_approval")
    nodes = wf["workflow_nodes"]
    kinds = _kinds(nodes, pv)
    out = []
    named = {(kinds[a], k, kinds.get(b, "unknown node " + b)) for a, k, b in _edges(nodes) if a in kinds}
    want = {("playbooks/deploy.yml", "success", "workflow_approval"),
            ("workflow_approval", "success", "playbooks/deploy.yml blue_green_canary_decision=promote"),
            ("workflow_approval", "failure", "playbooks/deploy.yml blue_green_canary_decision=abort")}
    if named != want:
        out.append(f"edges {sorted(named)} != {sorted(want)}")
    out += _timeouts(nodes, pv, "blue_green_canary_approval_timeout", "or the load balancers abort before the approval node does")
    extra = {k: _resolve(v, pv) for k, v in (wf.get("extra_vars") or {}).items()}
    if extra.get("blue_green_strategy") != "canary":
        out.append("the workflow does not set blue_green_strategy canary")
    step = extra.get("blue_green_canary_approval_step")
    if step not in ROLE_DEFAULTS["blue_green_canary_steps"][:-1]:
        out.append(f"approval step {step!r} is not one of the default canary steps below 100")
    survey = _resolve(wf.get("survey_spec"), pv) or {}
    asked = {f["variable"] for f in survey.get("spec") or []}
    if not wf.get("survey_enabled") or "blue_green_version" not in asked or asked & set(extra):
        out.append("the survey must ask the version and leave the workflow's own variables alone: " + str(sorted(asked)))
    return out


def test_canary_workflow_is_wired_as_documented():
    problems = check_canary(_play())
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("breakage, expect", [
    (lambda wf, pv: wf["workflow_nodes"][1]["related"].update(failure_nodes=[{"identifier": "promote"}],
                                                              success_nodes=[{"identifier": "abort"}]), "edges"),
    (lambda wf, pv: pv.update(awx_canary_approval_timeout=3600), "approval timeout 3600"),
    (lambda wf, pv: pv.update(awx_canary_approval_step=30), "approval step 30"),
    (lambda wf, pv: wf["extra_vars"].pop("blue_green_strategy"), "blue_green_strategy"),
    (lambda wf, pv: pv["awx_job_templates"][3].update(extra_vars={"blue_green_canary_decision": "abort"}), "edges"),
    (lambda wf, pv: wf.update(survey_spec="{{ awx_survey_deploy }}"), "survey"),
])
def test_the_canary_check_can_fail(breakage, expect):
    play = _play()
    breakage(_workflow(play, "awx_workflow_canary_approval"), play["vars"])
    assert any(expect in p for p in check_canary(play)), check_canary(play)
