"""Every role's public variables: defaults/main.yml and meta/argument_specs.yml agree;
inventory variables that name a role are options that role declares.

Generic over roles/*: a role added or changed by anyone is checked the same way.
For the ``main`` entry point the set of keys must be identical and each default
value must equal the spec's ``default``; every option of every entry point needs a
type and a description, and a default must be one of its ``choices``.
"""
from __future__ import annotations

import functools
import re
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
ROLES = sorted(p for p in (REPO / "roles").iterdir() if p.is_dir() and not p.name.startswith("."))
_MISSING = object()


def _load(path: Path):
    if not path.is_file():
        return None
    return yaml.safe_load(path.read_text()) or {}


def _specs(role: Path) -> dict:
    for name in ("argument_specs.yml", "argument_specs.yaml"):
        data = _load(role / "meta" / name)
        if data is not None:
            return data.get("argument_specs") or {}
    data = _load(role / "meta" / "main.yml") or {}
    return data.get("argument_specs") or {}


def _defaults(role: Path) -> dict | None:
    for name in ("main.yml", "main.yaml"):
        data = _load(role / "defaults" / name)
        if data is not None:
            return data
    return None


def _walk_options(options: dict, where: str):
    for name, spec in (options or {}).items():
        yield f"{where}.{name}", name, spec or {}
        if (spec or {}).get("options"):
            yield from _walk_options(spec["options"], f"{where}.{name}")


def _same(a, b) -> bool:
    # YAML gives ints for 0644-less numbers, floats, bools, lists, dicts: plain equality,
    # but never let True == 1 or 1 == 1.0 pass as "the same default".
    if type(a) is not type(b) and not (isinstance(a, str) and isinstance(b, str)):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b


def test_roles_exist():
    assert ROLES, "no roles under roles/"


@pytest.mark.parametrize("role", ROLES, ids=[r.name for r in ROLES])
def test_defaults_match_main_spec(role: Path):
    defaults = _defaults(role)
    specs = _specs(role)
    if defaults is None and not specs:
        pytest.skip(f"{role.name}: no defaults and no argument_specs (internal role)")
    assert specs, f"{role.name}: has defaults/main.yml but no meta/argument_specs.yml"
    assert "main" in specs, f"{role.name}: argument_specs has no 'main' entry point"
    options = specs["main"].get("options") or {}
    defaults = defaults or {}
    problems = []
    only_defaults = sorted(set(defaults) - set(options))
    only_specs = sorted(k for k, v in options.items() if k not in defaults and "default" in (v or {}))
    if only_defaults:
        problems.append(f"in defaults/main.yml but not in argument_specs: {only_defaults}")
    if only_specs:
        problems.append(f"spec has a default but defaults/main.yml lacks: {only_specs}")
    for key in sorted(set(defaults) & set(options)):
        spec = options[key] or {}
        if "default" not in spec:
            problems.append(f"{key}: defaults/main.yml sets {defaults[key]!r} but the spec has no default")
        elif not _same(defaults[key], spec["default"]):
            problems.append(f"{key}: defaults/main.yml {defaults[key]!r} != spec default {spec['default']!r}")
    assert not problems, f"role {role.name}:\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("role", ROLES, ids=[r.name for r in ROLES])
def test_spec_options_are_complete(role: Path):
    specs = _specs(role)
    if not specs:
        pytest.skip(f"{role.name}: no argument_specs")
    problems = []
    for entry, spec in specs.items():
        if not (spec or {}).get("short_description"):
            problems.append(f"entry point {entry}: no short_description")
        for where, name, opt in _walk_options((spec or {}).get("options") or {}, entry):
            if "type" not in opt:
                problems.append(f"{where}: no type")
            if not opt.get("description"):
                problems.append(f"{where}: no description")
            templated = isinstance(opt.get("default"), str) and "{{" in opt["default"]  # known when the role runs
            if opt.get("choices") is not None and opt.get("default") is not None and not templated:
                default = opt["default"]
                values = default if isinstance(default, list) else [default]
                bad = [v for v in values if v not in opt["choices"]]
                if bad:
                    problems.append(f"{where}: default {bad} not in choices {opt['choices']}")
            if opt.get("required") and "default" in opt:
                problems.append(f"{where}: required and has a default")
    assert not problems, f"role {role.name}:\n  " + "\n  ".join(problems)


def test_checker_catches_drift():
    """The comparison itself can fail: a planted mismatch is reported."""
    assert not _same(True, 1)
    assert not _same("1", 1)
    assert not _same([1, 2], [2, 1])
    assert _same({"a": [1, "x"]}, {"a": [1, "x"]})


class _VaultLoader(yaml.SafeLoader):
    pass


_VaultLoader.add_constructor("!vault", lambda loader, node: "<vaulted>")
# Inventory variables fixed by the cross-role contracts rather than by a role's options:
# baseline merges every baseline_firewall_allow_*; the LB reads each app host's
# load_balancer_backend_address from hostvars.
PATTERN_VARS = (re.compile(r"^baseline_firewall_allow_[a-z0-9_]+$"), re.compile(r"^load_balancer_backend_address$"))


@functools.lru_cache(maxsize=1)
def _all_options() -> dict[str, dict[str, dict]]:
    out: dict[str, dict[str, dict]] = {}
    for role in ROLES:
        opts: dict = {}
        for entry in (_specs(role) or {}).values():
            opts.update((entry or {}).get("options") or {})
        out[role.name] = opts
    return out


def _sub_problems(where: str, value, spec: dict) -> list[str]:
    sub = spec.get("options")
    if not sub:
        return []
    items = value if isinstance(value, list) else [value]
    problems = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            continue
        for k, v in item.items():
            if k not in sub:
                problems.append(f"{where}[{i}].{k}: not a sub-option ({sorted(sub)})")
            else:
                problems += _sub_problems(f"{where}[{i}].{k}", v, sub[k] or {})
    return problems


INVENTORY_FILES = sorted(p for inv in ("example", "lab") for d in ("group_vars", "host_vars")
                         for p in (REPO / "inventories" / inv / d).rglob("*.y*ml") if p.is_file())


@pytest.mark.parametrize("path", INVENTORY_FILES, ids=[str(p.relative_to(REPO)) for p in INVENTORY_FILES])
def test_inventory_variables_are_role_options(path: Path):
    """A role-prefixed inventory variable must be an option the role declares (typos, renamed vars)."""
    data = yaml.load(path.read_text(), Loader=_VaultLoader) or {}
    options = _all_options()
    problems = []
    for key, value in data.items():
        owner = max((r for r in options if key.startswith(r + "_")), key=len, default=None)
        if owner is None or any(p.match(key) for p in PATTERN_VARS):
            continue
        if not options[owner]:
            continue  # role without argument specs yet
        if key not in options[owner]:
            problems.append(f"{key}: not an option of roles/{owner}/meta/argument_specs.yml")
        else:
            problems += _sub_problems(key, value, options[owner][key] or {})
    assert not problems, "\n".join(problems)
