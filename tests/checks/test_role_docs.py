"""Role READMEs: the variable tables are meta/argument_specs.yml, rendered.

Each roles/<role>/README.md carries its variables between ``<!-- BEGIN argument_specs -->``
and ``<!-- END argument_specs -->``, rendered by tools/render_role_docs.py. A spec changed
without re-rendering (or a table edited by hand) fails here with the diff and the command
that fixes it: ``make docs``.
"""
from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TOOL = REPO / "tools" / "render_role_docs.py"
_SPEC = importlib.util.spec_from_file_location("render_role_docs", TOOL)
docs = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(docs)
ROLES = docs.roles(REPO)


def test_every_role_is_rendered():
    assert {r.name for r in ROLES} == {p.name for p in (REPO / "roles").iterdir() if (p / "meta" / "argument_specs.yml").is_file()}


@pytest.mark.parametrize("role", ROLES, ids=[r.name for r in ROLES])
def test_readme_matches_argument_specs(role: Path):
    readme = role / "README.md"
    current = readme.read_text()
    wanted = docs.render_readme(current, docs.render_block(role), str(readme.relative_to(REPO)))
    if current != wanted:
        diff = "".join(docs.difflib.unified_diff(current.splitlines(True), wanted.splitlines(True),
                                                 "README.md (committed)", "README.md (from argument_specs)", n=1))
        pytest.fail(f"roles/{role.name}/README.md is out of step with meta/argument_specs.yml; "
                    f"run: {docs.FIX}\n{diff[:4000]}")


@pytest.mark.parametrize("role", ROLES, ids=[r.name for r in ROLES])
def test_every_option_is_in_the_readme(role: Path):
    """Belt and braces: each option name (sub-options as parent[].child) shows up in the README."""
    text = (role / "README.md").read_text()
    main = (docs.load_specs(role).get("main") or {}).get("options") or {}
    for entry, spec in docs.load_specs(role).items():
        for row in docs.rows((spec or {}).get("options") or {}):
            name = row["name"]
            assert name in text, f"roles/{role.name}/README.md: {entry} option {name} missing; run: {docs.FIX}"
    assert all(f"`{name}`" in text for name in main)


def test_check_mode_reports_drift(tmp_path: Path):
    """The check can fail: a README with a hand-edited row is reported with the fix command."""
    role = tmp_path / "roles" / "demo"
    (role / "meta").mkdir(parents=True)
    (role / "meta" / "argument_specs.yml").write_text(
        "argument_specs:\n  main:\n    short_description: Demo.\n    options:\n"
        "      demo_port:\n        type: int\n        default: 80\n        description: Port.\n")
    (role / "README.md").write_text(f"# demo\n\n{docs.BEGIN}\n{docs.END}\n")
    (tmp_path / "plugins" / "filter").mkdir(parents=True)
    (tmp_path / "plugins" / "filter" / "demo_filter.py").write_text(
        'DOCUMENTATION = """\nname: demo_filter\nshort_description: Say C(hello)\n"""\n')
    (tmp_path / "README.md").write_text(f"# top\n\n{docs.FILTERS_BEGIN}\n{docs.FILTERS_END}\n")
    cmd = [sys.executable, str(TOOL), "--repo", str(tmp_path)]
    assert subprocess.run(cmd + ["--check"], capture_output=True, text=True, check=False).returncode == 1
    assert subprocess.run(cmd, capture_output=True, text=True, check=False).returncode == 0
    assert "| `demo_port` | int | `80` | Port. |" in (role / "README.md").read_text()
    assert "| `seed.fleet.demo_filter` | Say `hello` |" in (tmp_path / "README.md").read_text()
    assert subprocess.run(cmd + ["--check"], capture_output=True, text=True, check=False).returncode == 0
    (role / "README.md").write_text((role / "README.md").read_text().replace("`80`", "`8080`"))
    drift = subprocess.run(cmd + ["--check"], capture_output=True, text=True, check=False)
    assert drift.returncode == 1 and "make docs" in drift.stderr and "+| `demo_port` | int | `80`" in drift.stdout


def test_markers_are_required():
    with pytest.raises(docs.DocsError):
        docs.render_readme("# no markers\n", "x", "README.md")


def test_readme_lists_every_filter_as_its_docs_say():
    """README.md's filter table is each filter's DOCUMENTATION (name, short_description), rendered."""
    current = (REPO / "README.md").read_text()
    wanted = docs.render_readme(current, docs.render_filters(REPO), "README.md", docs.FILTERS_BEGIN, docs.FILTERS_END)
    assert current == wanted, f"README.md's filter table is out of step with plugins/filter; run: {docs.FIX}"
    names = sorted(p.stem for p in (REPO / "plugins" / "filter").glob("*.py") if not p.stem.startswith("_"))
    assert [n for n, _short in docs.plugin_docs(REPO / "plugins" / "filter")] == names
    # the check can fail: a filter left out of the table is reported
    row = next(line for line in current.splitlines() if line.startswith("| `seed.fleet.serial_batches` |"))
    assert docs.render_readme(current.replace(row + "\n", ""), docs.render_filters(REPO), "README.md",
                              docs.FILTERS_BEGIN, docs.FILTERS_END) != current.replace(row + "\n", "")


def test_a_filter_without_docs_is_refused(tmp_path: Path):
    (tmp_path / "plugins" / "filter").mkdir(parents=True)
    (tmp_path / "plugins" / "filter" / "bare.py").write_text("def bare(x):\n    return x\n")
    with pytest.raises(docs.DocsError, match="bare.py: DOCUMENTATION needs a name and a short_description"):
        docs.plugin_docs(tmp_path / "plugins" / "filter")


@pytest.mark.parametrize("head, names", [
    ("| Module | What it does |", lambda: {p.stem for p in (REPO / "plugins" / "modules").glob("*.py") if not p.stem.startswith("_")}),
    ("| Role | What it does |", lambda: {r.name for r in ROLES}),
], ids=["modules", "roles"])
def test_readme_tables_name_every_module_and_role(head, names):
    """README.md's module and role tables (written by hand: what each is for) name every one, and no other."""
    table = (REPO / "README.md").read_text().split(head, 1)[1].split("\n\n", 1)[0]
    listed, wanted = set(re.findall(r"^\| `seed\.fleet\.(\w+)` \|", table, re.M)), names()
    assert listed == wanted, {"not in README.md": sorted(wanted - listed), "no such one": sorted(listed - wanted)}


@pytest.mark.parametrize("role", [r for r in ROLES if "## Task map" in (r / "README.md").read_text()], ids=lambda r: r.name)
def test_task_map_names_every_task_file(role: Path):
    """A role README's task map names each of its task files (a new file is placed in a phase)."""
    section = (role / "README.md").read_text().split("## Task map", 1)[1].split("\n## ", 1)[0]
    missing = sorted(p.name for p in (role / "tasks").glob("*.yml") if f"`{p.name}`" not in section)
    assert not missing, f"roles/{role.name}/README.md task map lacks {missing}"
