"""The fan-out benchmark's README tables are its results files, number for number.

Every ``benchmarks/fanout/results/<name>.json`` has a section in benchmarks/fanout/README.md
whose heading names ``results/<name>.json``, with the table ``expected_table`` renders from
that JSON (a failure prints the table to paste); a table without its JSON, or a README
with a placeholder, fails too. Static: reads files only.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BENCH = REPO / "benchmarks" / "fanout"
README = BENCH / "README.md"
RESULTS = sorted((BENCH / "results").glob("*.json"))
HEADER = ("| N app hosts | hosts | run | T (s) | T(N)/T({base}) | CPU-s per host | controller / targets CPU-s "
          "| tasks / module runs per host | changed |\n|---|---|---|---|---|---|---|---|---|")


def expected_table(result: dict) -> str:
    rows = [HEADER.format(base=result["summary"]["ratio_base_apps"])]
    for size in result["sizes"]:
        for name in ("site-cold", "site-warm", "deploy"):
            run = size["runs"].get(name)
            if not run:
                continue
            ratio = next(r["t_ratio"] for r in result["summary"][name] if r["apps"] == size["apps"])
            mean = run["per_host"]["mean_per_host"]
            rows.append(f"| {size['apps']} | {size['hosts']} | {name} | {run['wall_s']} | {ratio:.2f} | "
                        f"{run['cpu_s_per_host']} | {run['controller_cpu_s']} / {run['target_cpu_s']} | "
                        f"{mean['tasks']} / {mean['module_runs']} | {run['changed']} |")
    return "\n".join(rows)


def sections(text: str) -> dict[str, str]:
    """results/<name>.json -> the text of the README section whose heading names it."""
    out = {}
    for match in re.finditer(r"^#{2,4} .*?results/([\w.-]+)\.json.*$", text, re.M):
        rest = text[match.end():]
        nxt = re.search(r"^#{2,4} ", rest, re.M)
        out[match.group(1)] = rest[:nxt.start()] if nxt else rest
    return out


def test_no_placeholder():
    text = README.read_text()
    assert not re.search(r"PLACEHOLDER|\bTODO\b|\bTBD\b|\bXXX\b", text), "benchmarks/fanout/README.md has a placeholder"


@pytest.mark.parametrize("path", RESULTS, ids=[p.stem for p in RESULTS])
def test_readme_table_is_the_results_file(path: Path):
    result = json.loads(path.read_text())
    found = sections(README.read_text())
    assert path.stem in found, f"benchmarks/fanout/README.md has no section naming results/{path.name}"
    table = expected_table(result)
    assert table in found[path.stem], f"the table under results/{path.name} differs from the JSON; it is:\n{table}"


def test_every_readme_section_has_its_results_file():
    names = {p.stem for p in RESULTS}
    missing = set(sections(README.read_text())) - names
    assert not missing, f"README sections name results files that do not exist: {sorted(missing)}"
