"""playbooks/awx_configure.yml: valid awx.awx calls, and surveys that match the roles.

* every awx.awx task (and the play's module_defaults) uses only options that the
  installed awx.awx module documents;
* every survey is well formed (AWX survey_spec), variables unique;
* every survey field is either an option of a role's meta/argument_specs.yml with the
  same type, choices, default and required-ness, or a ``*_hosts`` host pattern that
  the job template's playbook really uses in a ``hosts:`` line;
* every ``*_hosts`` variable of a job template's playbook is offered by its survey;
* every required option (no default) of a role that a job template's playbook runs
  is asked by the survey or set by the playbook.

Generic over roles/*: fields of a role that is not written yet are skipped (reported),
and checked as soon as the role exists.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
PLAYBOOK = REPO / "playbooks" / "awx_configure.yml"
VENV_BIN = REPO / ".venv" / "bin"
SURVEY_TYPES = {
    "text": {"str", "path", "raw"},
    "textarea": {"str", "raw"},
    "password": {"str", "raw"},
    "integer": {"int"},
    "float": {"float"},
    "multiplechoice": {"str", "bool", "int", "raw"},
    "multiselect": {"list"},
}
HOSTS_VAR = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*_hosts)\b")
JINJA_NAME = re.compile(r"^\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}$")


def _bin(name: str) -> str:
    cand = VENV_BIN / name
    return str(cand) if cand.exists() else name


def _play() -> dict:
    plays = yaml.safe_load(PLAYBOOK.read_text())
    assert isinstance(plays, list) and len(plays) == 1, "awx_configure.yml: expected one play"
    return plays[0]


def _resolve(value, play_vars: dict):
    """Resolve a bare "{{ name }}" reference to a play var (surveys are kept in vars)."""
    if isinstance(value, str):
        m = JINJA_NAME.match(value.strip())
        if m and m.group(1) in play_vars:
            return _resolve(play_vars[m.group(1)], play_vars)
    return value


def _example_catalogue() -> list:
    main = yaml.safe_load((REPO / "inventories" / "example" / "group_vars" / "all" / "main.yml").read_text()) or {}
    return main.get("fleet_apps") or []


def _render(value, play_vars: dict):
    """A survey value the playbook templates (the app questions offer the catalogue's names), as it
    renders with the example inventory's catalogue; other values as they are."""
    m = re.match(r"^\{\{(.*)\}\}$", value.strip(), re.S) if isinstance(value, str) else None
    if not m:
        return value
    import importlib.util  # pylint: disable=import-outside-toplevel

    import jinja2  # pylint: disable=import-outside-toplevel
    spec = importlib.util.spec_from_file_location("fleet_apps", REPO / "plugins" / "filter" / "fleet_apps.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    env = jinja2.Environment()
    env.filters["seed.fleet.fleet_apps"] = mod.fleet_apps
    context = {"fleet_apps": _example_catalogue()}
    for name, text in play_vars.items():
        if isinstance(text, str) and re.search(r"\b%s\b" % name, m.group(1)):
            context[name] = _render(text, play_vars)
    return env.compile_expression(m.group(1))(**context)


def _templates() -> list[dict]:
    play = _play()
    play_vars = play.get("vars") or {}
    out = []
    for task in play.get("tasks") or []:
        args = task.get("awx.awx.job_template")
        if args is None:
            continue
        items = _resolve(task.get("loop"), play_vars) if "loop" in task else [None]
        for item in items:
            def res(v, item=item):
                if isinstance(v, str) and item is not None:
                    m = re.match(r"^\{\{\s*item\.(\w+)\s*\}\}$", v.strip())
                    if m:
                        return _resolve(item[m.group(1)], play_vars)
                return _resolve(v, play_vars)
            out.append({k: res(v) for k, v in args.items()})
    for template in out:
        for field in (template.get("survey_spec") or {}).get("spec") or []:
            for key in ("choices", "default"):
                if key in field:
                    field[key] = _render(field[key], play_vars)
    return out


TEMPLATES = _templates() if PLAYBOOK.is_file() else []


def _role_specs() -> dict[str, dict]:
    """role name -> {option name -> spec}, options of every entry point (main wins)."""
    specs: dict[str, dict] = {}
    for role in sorted((REPO / "roles").iterdir()):
        f = role / "meta" / "argument_specs.yml"
        if not f.is_file():
            continue
        try:
            entries = (yaml.safe_load(f.read_text()) or {}).get("argument_specs") or {}
        except yaml.YAMLError as exc:
            BROKEN_SPECS[role.name] = str(exc)
            continue
        opts: dict = {}
        for entry in sorted(entries, key=lambda e: e == "main"):
            opts.update((entries[entry] or {}).get("options") or {})
            ROLE_ENTRIES[(role.name, entry)] = (entries[entry] or {}).get("options") or {}
        specs[role.name] = opts
    return specs


BROKEN_SPECS: dict[str, str] = {}
ROLE_ENTRIES: dict[tuple[str, str], dict] = {}
ROLE_SPECS = _role_specs()
ROLE_NAMES = sorted(p.name for p in (REPO / "roles").iterdir() if p.is_dir())


def _choices(field: dict) -> list[str] | None:
    c = field.get("choices")
    if c is None:
        return None
    if isinstance(c, str):
        c = [x for x in c.split("\n") if x]
    return [str(x) for x in c]


def _fields():
    for t in TEMPLATES:
        for field in (t.get("survey_spec") or {}).get("spec") or []:
            yield pytest.param(t, field, id=f"{t['name']}:{field.get('variable')}")


def test_role_specs_parse():
    assert not BROKEN_SPECS, "\n".join(f"roles/{r}/meta/argument_specs.yml: {e}" for r, e in BROKEN_SPECS.items())


def test_awx_configure_exists_and_has_templates():
    assert PLAYBOOK.is_file()
    names = sorted(t["name"] for t in TEMPLATES)
    assert any("site" in n for n in names) and any("deploy" in n for n in names) and any("rollback" in n for n in names), names


def test_syntax_check():
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"))
    r = subprocess.run([_bin("ansible-playbook"), "--syntax-check", str(PLAYBOOK)], cwd=REPO, env=env,
                       capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120, check=False)
    assert r.returncode == 0, r.stdout + r.stderr


def test_module_options_are_documented():
    play = _play()
    used: dict[str, set] = {}
    for task in play.get("tasks") or []:
        for key, args in task.items():
            if key.startswith("awx.awx."):
                used.setdefault(key, set()).update(args or {})
    defaults = (play.get("module_defaults") or {}).get("group/awx.awx.controller") or {}
    r = subprocess.run([_bin("ansible-doc"), "-j", *sorted(used)], cwd=REPO, capture_output=True, text=True,
                       stdin=subprocess.DEVNULL, timeout=120, check=False)
    assert r.returncode == 0, r.stderr
    docs = json.loads(r.stdout)
    problems = []
    for module, keys in sorted(used.items()):
        options = docs[module]["doc"]["options"]
        known = set(options) | {a for o in options.values() for a in o.get("aliases") or []}
        problems += [f"{module}: unknown option {k}" for k in sorted(keys - known)]
        problems += [f"{module}: module_defaults option {k} unknown" for k in sorted(set(defaults) - known)]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("template", TEMPLATES, ids=[t["name"] for t in TEMPLATES])
def test_survey_is_well_formed(template):
    assert template.get("survey_enabled") is True, "survey_enabled must be true"
    survey = template.get("survey_spec")
    assert isinstance(survey, dict) and survey.get("name") and "description" in survey, survey
    spec = survey.get("spec")
    assert isinstance(spec, list) and spec, "survey has no fields"
    variables = [f.get("variable") for f in spec]
    assert len(variables) == len(set(variables)), f"duplicate survey variables: {variables}"
    for f in spec:
        assert f.get("question_name"), f
        assert re.match(r"^[a-z_][a-z0-9_]*$", f.get("variable") or ""), f
        assert f.get("type") in SURVEY_TYPES, f
        assert isinstance(f.get("required"), bool), f"{f['variable']}: required must be a bool"
        if f["type"] in ("multiplechoice", "multiselect"):
            assert _choices(f), f"{f['variable']}: {f['type']} without choices"
        if f.get("default") not in (None, "") and _choices(f):
            defaults = str(f["default"]).split("\n") if f["type"] == "multiselect" else [str(f["default"])]
            assert set(defaults) <= set(_choices(f)), f"{f['variable']}: default not in choices"


def _same_default(field: dict, spec: dict) -> bool:
    d, s = spec.get("default"), field.get("default")
    if spec.get("type") == "bool":
        return str(s).lower() == str(d).lower()
    if spec.get("type") == "list":
        return sorted(str(s).split("\n")) == sorted(str(x) for x in d or [])
    if spec.get("type") in ("int", "float", "raw"):
        # A text survey answer reaches a raw option as a string ("0" for 0).
        return str(s) == str(d)
    return s == d


def _spec_for(variable: str):
    for role, opts in ROLE_SPECS.items():
        if variable in opts:
            return role, opts[variable] or {}
    return None, None


def _field_problems(field: dict, spec: dict) -> list[str]:
    problems = []
    stype = spec.get("type", "str")
    if stype not in SURVEY_TYPES[field["type"]]:
        problems.append(f"survey type {field['type']} cannot carry a {stype} option")
    if spec.get("required") and not field["required"]:
        problems.append("required in the argument spec but optional in the survey")
    if spec.get("choices") is not None:
        if _choices(field) is None or sorted(_choices(field)) != sorted(str(c) for c in spec["choices"]):
            problems.append(f"choices {_choices(field)} != spec choices {spec['choices']}")
    elif stype == "bool":
        if field["type"] != "multiplechoice" or sorted(_choices(field) or []) != ["false", "true"]:
            problems.append("a bool option is a multiplechoice of true/false")
    if field.get("default") not in (None, "") and "default" in spec and not _same_default(field, spec):
        problems.append(f"default {field['default']!r} != spec default {spec['default']!r}")
    if field.get("default") in (None, "") and spec.get("default") not in (None, "", []) and not field["required"]:
        problems.append(f"spec default {spec['default']!r} is not shown as the survey default")
    return problems


@pytest.mark.parametrize(("template", "field"), list(_fields()))
def test_survey_field_matches_argument_spec(template, field):
    variable = field["variable"]
    role, spec = _spec_for(variable)
    if spec is None:
        if variable.endswith("_hosts"):
            playbook = REPO / template["playbook"]
            if not playbook.is_file():
                pytest.skip(f"{template['playbook']} not written yet")
            used = set(HOSTS_VAR.findall(playbook.read_text()))
            assert variable in used, f"{variable} is not a hosts: pattern of {template['playbook']} (it has {sorted(used)})"
            assert field["type"] == "text", f"{variable}: a host pattern is a text field"
            return
        owner = max((r for r in ROLE_NAMES if variable.startswith(r + "_")), key=len, default=None)
        if owner is not None and owner not in ROLE_SPECS:
            pytest.skip(f"{variable}: roles/{owner} has no meta/argument_specs.yml yet; checked once it has")
        if owner is None and "_" in variable and not variable.startswith(("seed_fleet_", "ansible_", "awx_")):
            pytest.skip(f"{variable}: its role (roles/{variable.rsplit('_', 1)[0]}?) is not written yet; checked once it exists")
        pytest.fail(f"{variable}: not an option of {'roles/' + owner + '/meta/argument_specs.yml' if owner else 'any role'}")
    problems = _field_problems(field, spec)
    assert not problems, f"{template['name']}:{variable} vs roles/{role}/meta/argument_specs.yml:\n  " + "\n  ".join(problems)


def _short(name: str) -> str:
    return name.split(".")[-1] if name.startswith("seed.fleet.") else name


def _entries_of(playbook: Path) -> set[tuple[str, str]]:
    """(role, entry point) pairs a playbook runs: roles: lists and include/import_role tasks."""
    found: set[tuple[str, str]] = set()

    def tasks(items):
        for t in items or []:
            if not isinstance(t, dict):
                continue
            for key in ("ansible.builtin.include_role", "ansible.builtin.import_role", "include_role", "import_role"):
                if isinstance(t.get(key), dict):
                    found.add((_short(t[key].get("name", "")), t[key].get("tasks_from", "main")))
            for key in ("block", "rescue", "always"):
                tasks(t.get(key))

    for play in yaml.safe_load(playbook.read_text()) or []:
        if not isinstance(play, dict):
            continue
        for r in play.get("roles") or []:
            found.add((_short(r if isinstance(r, str) else r.get("role") or r.get("name", "")), "main"))
        for key in ("pre_tasks", "tasks", "post_tasks", "handlers"):
            tasks(play.get(key))
    return {e for e in found if e in ROLE_ENTRIES}


@pytest.mark.parametrize("template", TEMPLATES, ids=[t["name"] for t in TEMPLATES])
def test_survey_covers_playbook(template):
    playbook = REPO / template["playbook"]
    if not playbook.is_file():
        pytest.skip(f"{template['playbook']} not written yet (the survey is checked field by field)")
    text = playbook.read_text()
    asked = {f["variable"] for f in template["survey_spec"]["spec"]}
    problems = [f"{v}: a hosts: pattern of the playbook that the survey does not offer"
                for v in sorted(set(HOSTS_VAR.findall(text)) - asked)]
    for role, entry in sorted(_entries_of(playbook)):
        for name, spec in ROLE_ENTRIES[(role, entry)].items():
            if (spec or {}).get("required") and name not in asked and not re.search(rf"\b{name}\s*:", text):
                problems.append(f"{name}: required by seed.fleet.{role} ({entry}), neither asked nor set by {template['playbook']}")
    assert not problems, f"{template['name']}:\n  " + "\n  ".join(problems)


@pytest.mark.parametrize(("field", "spec", "expect"), [
    ({"type": "text", "required": False, "default": "Etc/UTC"}, {"type": "str", "default": "Etc/UTC"}, []),
    ({"type": "text", "required": False, "default": "UTC"}, {"type": "str", "default": "Etc/UTC"}, ["default"]),
    ({"type": "text", "required": False}, {"type": "str", "required": True}, ["required"]),
    ({"type": "integer", "required": False, "default": 5}, {"type": "str", "default": "5"}, ["survey type", "default"]),
    ({"type": "text", "required": False, "default": "true"}, {"type": "bool", "default": True}, ["survey type", "bool"]),
    ({"type": "multiplechoice", "required": False, "default": "false", "choices": ["true", "false"]},
     {"type": "bool", "default": False}, []),
    ({"type": "multiplechoice", "required": False, "default": "a", "choices": ["a"]},
     {"type": "str", "default": "a", "choices": ["a", "b"]}, ["choices"]),
])
def test_field_checker_can_fail(field, spec, expect):
    problems = _field_problems(field, spec)
    assert len(problems) == len(expect) and all(e in p for e, p in zip(expect, problems)), problems
