"""baseline_profile: one table (roles/baseline/vars/main.yml _baseline_profiles) decides the
default of every part's switch and the values strict tightens; the role README's parts table
says the same, and every part and every tightened value is wired to a default."""
from __future__ import annotations

import re
from pathlib import Path

import yaml

ROLE = Path(__file__).resolve().parents[2] / "roles" / "baseline"
PROFILES = yaml.safe_load((ROLE / "vars" / "main.yml").read_text())["_baseline_profiles"]
DEFAULTS = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
SPECS = yaml.safe_load((ROLE / "meta" / "argument_specs.yml").read_text())["argument_specs"]["main"]["options"]


def readme_rows() -> dict[str, dict[str, str]]:
    lines = (ROLE / "README.md").read_text().splitlines()
    head = lines.index("| part | switch | minimal | standard | strict | tag | what |")
    rows = {}
    for line in lines[head + 2:]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip("|").split(" | ")]
        rows[cells[0].replace(" ", "_")] = dict(zip(("minimal", "standard", "strict"), cells[2:5]))
    return rows


def test_profiles_are_the_specs_choices_and_standard_is_the_default():
    assert sorted(PROFILES) == sorted(SPECS["baseline_profile"]["choices"])
    assert DEFAULTS["baseline_profile"] == SPECS["baseline_profile"]["default"] == "standard"


def test_standard_and_strict_run_every_part_minimal_a_subset():
    switches = {m.group(1) for m in (re.fullmatch(r"baseline_(\w+)_enabled", k) for k in DEFAULTS) if m}
    assert set(PROFILES["standard"]["parts"]) == set(PROFILES["strict"]["parts"]) == switches
    assert set(PROFILES["minimal"]["parts"]) < switches
    # Whatever else is off, minimal keeps a host reachable and patched.
    assert {"users", "ssh", "firewall", "upgrades"} <= set(PROFILES["minimal"]["parts"])


def test_every_switch_defaults_from_the_parts_and_the_parts_from_the_profile():
    assert DEFAULTS["baseline_parts"] == SPECS["baseline_parts"]["default"] == "{{ _baseline_profile.parts }}"
    assert SPECS["baseline_parts"]["choices"] == PROFILES["standard"]["parts"]
    for part in PROFILES["standard"]["parts"]:
        assert DEFAULTS[f"baseline_{part}_enabled"] == "{{ '%s' in baseline_parts }}" % part


def test_every_value_strict_tightens_is_a_default_that_reads_it():
    tightened = {k for k in PROFILES["strict"] if k != "parts"}
    assert tightened
    for key in tightened:
        (var,) = [v for v, d in DEFAULTS.items() if isinstance(d, str) and f"_baseline_profile.{key} " in d]
        assert var == f"baseline_{key}", var
    # Only strict sets values; the others take the defaults.
    assert all(set(PROFILES[p]) == {"parts"} for p in ("minimal", "standard"))


def test_readme_table_matches_the_profiles():
    rows = readme_rows()
    assert set(rows) == set(PROFILES["standard"]["parts"]) | {"report"}
    for part, marks in rows.items():
        for profile, mark in marks.items():
            expected = "always" if part == "report" else ("on" if part in PROFILES[profile]["parts"] else "off")
            assert mark.split(",")[0] == expected, (part, profile, mark)
    assert "`deny` 3" in rows["accounts"]["strict"] and "`minlen` 16" in rows["accounts"]["strict"]
    assert PROFILES["strict"]["faillock_deny"] == 3 and PROFILES["strict"]["pwquality_minlen"] == 16
    assert "drops logged" in rows["firewall"]["strict"] and PROFILES["strict"]["firewall_log_dropped"] is True
