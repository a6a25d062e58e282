# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Render each role README's variable tables from its meta/argument_specs.yml, and the top
README's table of filters from the filters' own docs.

meta/argument_specs.yml is the one source of every role variable's docs. This script
rewrites the part of roles/<role>/README.md between the markers

    <!-- BEGIN argument_specs -->
    <!-- END argument_specs -->

with one table per entry point (name, type, default, choices, description; sub-options
as ``parent[].child`` rows). Each filter plugin's DOCUMENTATION (name, short_description) is
the one source of its line in README.md, between ``<!-- BEGIN filters -->`` and
``<!-- END filters -->``. Everything outside the markers is left alone.

usage:
  python tools/render_role_docs.py            rewrite the READMEs (``make docs``)
  python tools/render_role_docs.py --check    exit 1 and show a diff when a README is stale

tests/checks/test_role_docs.py runs the check.
"""
from __future__ import annotations

import argparse
import ast
import difflib
import json
import re
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
BEGIN = "<!-- BEGIN argument_specs -->"
END = "<!-- END argument_specs -->"
FIX = "python tools/render_role_docs.py (or: make docs)"
NOTE = ("<!-- Generated from meta/argument_specs.yml by tools/render_role_docs.py: edit the spec, "
        "then run `make docs`. -->")
FILTERS_BEGIN = "<!-- BEGIN filters -->"
FILTERS_END = "<!-- END filters -->"
FILTERS_NOTE = ("<!-- Generated from each filter's DOCUMENTATION (short_description) by tools/render_role_docs.py: "
                "edit the plugin, then run `make docs`. -->")

# Ansible's documentation markup, as Markdown.
_MARKUP = [
    (re.compile(r"\bL\(([^)]*?),\s*([^)]*?)\)"), r"[\1](\2)"),
    (re.compile(r"\bU\(([^)]*?)\)"), r"<\1>"),
    (re.compile(r"\bI\(([^)]*?)\)"), r"*\1*"),
    (re.compile(r"\bB\(([^)]*?)\)"), r"**\1**"),
    (re.compile(r"\b[CMOVEPR]\(([^)]*?)\)"), r"`\1`"),
]


class DocsError(Exception):
    """A README or spec the renderer cannot work with."""


def markdown(text: str) -> str:
    """Ansible markup to Markdown, one line, safe inside a table cell."""
    for pattern, repl in _MARKUP:
        text = pattern.sub(repl, text)
    return " ".join(text.split()).replace("|", "\\|")


def describe(description) -> str:
    if isinstance(description, list):
        description = " ".join(str(d) for d in description)
    return markdown(str(description or ""))


def type_of(spec: dict) -> str:
    kind = spec.get("type", "str")
    if kind == "list" and spec.get("elements"):
        return f"list of {spec['elements']}"
    return str(kind)


def literal(value) -> str:
    """A value as a code span: strings JSON-quoted, the rest as JSON (true, [], {})."""
    text = json.dumps(value, sort_keys=False, ensure_ascii=False)
    return "`" + text.replace("|", "\\|") + "`"


def default_of(spec: dict) -> str:
    if spec.get("required"):
        return "*required*"
    if "default" not in spec:
        return ""
    return literal(spec["default"])


def rows(options: dict, prefix: str = "") -> list[dict]:
    """One row per option, sub-options right after their parent (``parent[].child``)."""
    out = []
    for name, spec in (options or {}).items():
        spec = spec or {}
        full = f"{prefix}{name}"
        out.append({
            "name": f"`{full}`",
            "type": type_of(spec),
            "default": default_of(spec),
            "choices": ", ".join(literal(c) for c in spec.get("choices") or []),
            "description": describe(spec.get("description")) + (" Secret: not logged." if spec.get("no_log") else ""),
        })
        if spec.get("options"):
            sub = f"{full}[]." if spec.get("type") == "list" else f"{full}."
            out.extend(rows(spec["options"], sub))
    return out


def render_entry_point(role: str, entry: str, spec: dict, main: dict | None = None) -> str:
    """One entry point: a table of its options. Options of another entry point that are the
    same as ``main``'s (same spec, e.g. a YAML alias) are named, not repeated."""
    lines = [f"### Entry point `{entry}`", ""]
    short = spec.get("short_description")
    if short:
        lines += [markdown(str(short)), ""]
    options = dict(spec.get("options") or {})
    if entry != "main":
        lines += [f"`ansible.builtin.include_role: {{name: seed.fleet.{role}, tasks_from: {entry}}}`", ""]
        same = [name for name, opt in options.items() if main and name in main and main[name] == opt]
        if same:
            lines += ["Takes these options of `main`, with the same type, default and description: "
                      + ", ".join(f"`{name}`" for name in same) + ".", ""]
            options = {name: opt for name, opt in options.items() if name not in same}
    table = rows(options)
    if not table:
        return "\n".join(lines if entry != "main" or spec.get("options") else lines + ["No variables.", ""])
    with_choices = any(r["choices"] for r in table)
    cols = ["name", "type", "default"] + (["choices"] if with_choices else []) + ["description"]
    heads = {"name": "Variable", "type": "Type", "default": "Default", "choices": "Choices", "description": "Description"}
    lines.append("| " + " | ".join(heads[c] for c in cols) + " |")
    lines.append("|" + "---|" * len(cols))
    for row in table:
        lines.append("| " + " | ".join(row[c] for c in cols) + " |")
    lines.append("")
    return "\n".join(lines)


def load_specs(role_dir: Path) -> dict:
    path = role_dir / "meta" / "argument_specs.yml"
    if not path.is_file():
        return {}
    return (yaml.safe_load(path.read_text()) or {}).get("argument_specs") or {}


def render_block(role_dir: Path) -> str:
    specs = load_specs(role_dir)
    entries = sorted(specs, key=lambda e: (e != "main", e))
    main = (specs.get("main") or {}).get("options") or {}
    parts = [render_entry_point(role_dir.name, e, specs[e] or {}, main) for e in entries]
    return "\n".join([BEGIN, NOTE, ""] + parts + [END])


def render_readme(text: str, block: str, where: str = "README.md", begin: str = BEGIN, end: str = END) -> str:
    """``text`` with the part between the markers (markers included) replaced by ``block``."""
    if text.count(begin) != 1 or text.count(end) != 1 or text.index(begin) > text.index(end):
        raise DocsError(f"{where}: needs exactly one {begin} line followed by one {end} line")
    head, rest = text.split(begin, 1)
    _old, tail = rest.split(end, 1)
    return head + block + tail


def plugin_docs(directory: Path) -> list[tuple[str, str]]:
    """(name, short_description) from the DOCUMENTATION of every plugin in ``directory``, by name."""
    out = []
    for path in sorted(directory.glob("*.py")):
        if path.name.startswith("_"):
            continue
        doc = next((node.value.value for node in ast.parse(path.read_text()).body
                    if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
                    and any(getattr(t, "id", None) == "DOCUMENTATION" for t in node.targets)), None)
        spec = yaml.safe_load(doc) if doc else None
        if not isinstance(spec, dict) or not spec.get("name") or not spec.get("short_description"):
            raise DocsError(f"{path.relative_to(path.parents[2])}: DOCUMENTATION needs a name and a short_description")
        out.append((str(spec["name"]), markdown(str(spec["short_description"]))))
    return sorted(out)


def render_filters(repo: Path = REPO) -> str:
    lines = [FILTERS_BEGIN, FILTERS_NOTE, "", "| Filter | What it gives |", "|---|---|"]
    lines += [f"| `seed.fleet.{name}` | {short} |" for name, short in plugin_docs(repo / "plugins" / "filter")]
    return "\n".join(lines + [FILTERS_END])


def roles(repo: Path = REPO) -> list[Path]:
    return sorted(p for p in (repo / "roles").iterdir()
                  if p.is_dir() and not p.name.startswith((".", "_")) and load_specs(p))


def stale(repo: Path = REPO) -> dict[str, tuple[str, str]]:
    """{README path: (current text, rendered text)} for every README that differs."""
    out = {}
    for role_dir in roles(repo):
        readme = role_dir / "README.md"
        where = str(readme.relative_to(repo))
        if not readme.is_file():
            raise DocsError(f"{where}: missing")
        current = readme.read_text()
        wanted = render_readme(current, render_block(role_dir), where)
        if wanted != current:
            out[where] = (current, wanted)
    readme = repo / "README.md"
    current = readme.read_text()
    wanted = render_readme(current, render_filters(repo), "README.md", FILTERS_BEGIN, FILTERS_END)
    if wanted != current:
        out["README.md"] = (current, wanted)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--check", action="store_true", help="report stale READMEs, change nothing")
    parser.add_argument("--repo", type=Path, default=REPO, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    try:
        changes = stale(args.repo)
    except DocsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for where, (current, wanted) in sorted(changes.items()):
        if args.check:
            sys.stdout.writelines(difflib.unified_diff(current.splitlines(True), wanted.splitlines(True),
                                                       f"{where} (committed)", f"{where} (rendered)"))
        else:
            (args.repo / where).write_text(wanted)
            print(f"rendered {where}")
    if args.check and changes:
        print(f"\n{len(changes)} README(s) out of step with meta/argument_specs.yml or the filters' docs; fix: {FIX}",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
