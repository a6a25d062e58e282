"""Scenarios, the lab, the benchmarks and CI name our images by suite, never `:latest` (issue #15).

lab/images/build.py tags seed-fleet/<image>:<suite> (demo-app: seed-fleet/demo-app:bookworm,
the one suite it is built on); a `:latest` or untagged host image would silently take
whatever was built last. The demo app's repository name alone (blue_green_image) and its
deployed versions (:v1, :v2) are the blue-green role's business and stay as they are.
"""
from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PLACES = ["molecule", "inventories", "benchmarks", "lab", ".github", "playbooks", "tests/lib", "Makefile", ".ci"]
REF = re.compile(r"seed-fleet/(?P<image>debian|systemd|node|demo-app)(?P<tag>:[\w.{}$ -]+)?(?=[\s\"'`)|,]|$)")
SUITE_TAG = re.compile(r":(bookworm|trixie|\{\{.*\}\}|\$\{\{.*\}\}|\$\{?\w+\}?|\{suite\}|<suite>)")


def files():
    for place in PLACES:
        path = REPO / place
        found = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
        for p in found:
            if p.suffix in {".tar", ".png", ".json"} or "/results/" in str(p):
                continue
            yield p


def test_no_latest_or_untagged_image_reference():
    bad = []
    for path in files():
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue
        for number, line in enumerate(text.splitlines(), 1):
            for match in REF.finditer(line):
                tag = match.group("tag") or ""
                if tag == ":latest" or (match.group("image") != "demo-app" and not SUITE_TAG.match(tag)):
                    bad.append(f"{path.relative_to(REPO)}:{number}: {match.group(0)}")
    assert not bad, "\n".join(bad)
