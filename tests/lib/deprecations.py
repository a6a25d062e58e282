"""Find the ansible-core deprecation warnings that OUR code causes, in Ansible output.

ansible-core (2.19+) prints a deprecation as a block::

    [DEPRECATION WARNING]: Conditionals should not be surrounded by templating delimiters ...

    Origin: /work/seed.fleet/roles/x/tasks/main.yml:12:9

    12   when: "{{ x }}"
               ^ column 9

    This feature will be removed from ansible-core version 2.23.

A block is *ours* when it points at a file of this repository (roles/, playbooks/,
plugins/, molecule/, inventories/, tests/ — by absolute path, through the
.cache/collections link, or as seed.fleet's collection path) or names seed.fleet as
the deprecator. Deprecations raised by dependencies (community.*, ansible-core itself
about its own internals, molecule's generated files) are not ours and are only counted.

Usage: python tests/lib/deprecations.py LOG... -> prints ours, exits 1 if any.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
START = re.compile(r"\[DEPRECATION WARNING\]:")
# Lines that end a block: the next message or a callback line.
STOP = re.compile(r"^\s*(\[(WARNING|DEPRECATION WARNING|ERROR)\]|TASK \[|PLAY \[|PLAY RECAP|RUNNING HANDLER|"
                  r"(ok|changed|skipping|fatal|failed|included): |INFO |WARNING |ERROR |==> |<== )")
OUR_DIRS = ("roles", "playbooks", "plugins", "molecule", "inventories", "tests")


def _ours_patterns(repo: Path) -> list[re.Pattern[str]]:
    roots = {str(repo), str(repo.resolve())}
    pats = [re.compile(re.escape(r) + r"/(" + "|".join(OUR_DIRS) + r")/") for r in roots]
    pats.append(re.compile(r"ansible_collections/seed/fleet/"))
    pats.append(re.compile(r"\bseed\.fleet\b"))
    return pats


def blocks(text: str) -> list[str]:
    """Every deprecation block in text (the warning line plus what belongs to it)."""
    lines = text.splitlines()
    out: list[str] = []
    i = 0
    while i < len(lines):
        m = START.search(lines[i])
        if not m:
            i += 1
            continue
        block = [lines[i][m.start():]]
        j = i + 1
        while j < len(lines) and j - i <= 40 and not STOP.search(lines[j]) and not START.search(lines[j]):
            block.append(lines[j])
            j += 1
        out.append("\n".join(block).rstrip())
        i = j
    return out


def ours(text: str, repo: Path = REPO) -> list[str]:
    pats = _ours_patterns(repo)
    return [b for b in blocks(text) if any(p.search(b) for p in pats)]


def main(argv: list[str]) -> int:
    found = 0
    total = 0
    for name in argv:
        text = Path(name).read_text(errors="replace")
        total += len(blocks(text))
        for b in ours(text):
            found += 1
            print(f"--- {name}\n{b}\n")
    print(f"{total} deprecation warning(s) in {len(argv)} log(s), {found} caused by seed.fleet's own files")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
