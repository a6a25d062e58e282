"""Execution environment definitions: ansible-builder can use them.

* meta/execution-environment.yml names files that exist, and ``ansible-builder
  introspect`` finds seed.fleet's Python and system requirements through it;
* ``ansible-builder create`` on the v3 execution-environment.yml writes a complete
  build context (Containerfile, _build/ with the requirement files and scripts).
Building the image itself needs a registry base image and Galaxy (not here).
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = REPO / ".venv" / "bin"


def _bin(name: str) -> str:
    cand = VENV_BIN / name
    return str(cand) if cand.exists() else shutil.which(name) or name


def _lines(path: Path) -> list[str]:
    return [ln.split("#")[0].strip() for ln in path.read_text().splitlines() if ln.split("#")[0].strip()]


def test_collection_ee_metadata():
    meta = yaml.safe_load((REPO / "meta" / "execution-environment.yml").read_text())
    assert meta["version"] == 1
    for kind in ("python", "system"):
        path = meta["dependencies"][kind]
        assert not os.path.isabs(path)
        assert (REPO / path).is_file(), f"{kind}: {path} missing"
        assert _lines(REPO / path), f"{path} is empty"


def test_bindep_covers_both_families():
    for line in _lines(REPO / "meta" / "ee-bindep.txt"):
        assert re.search(r"\[.*platform:(dpkg|rpm)", line), f"bindep line without a platform selector: {line}"


def test_introspect_finds_our_requirements(tmp_path: Path):
    colls = tmp_path / "ansible_collections" / "seed" / "fleet"
    colls.parent.mkdir(parents=True)
    (colls).symlink_to(REPO)
    r = subprocess.run([_bin("ansible-builder"), "introspect", "--sanitize", str(tmp_path)],
                       capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60, check=False)
    assert r.returncode == 0, r.stderr
    data = yaml.safe_load(r.stdout.split("\n", 1)[1])
    py = " ".join(data.get("python") or [])
    sysdeps = " ".join(data.get("system") or [])
    for req in _lines(REPO / "meta" / "ee-requirements.txt"):
        assert req.split(">")[0].split("=")[0] in py, f"{req} not seen by introspect"
    assert "openssh" in sysdeps


def test_builder_create(tmp_path: Path):
    ee = yaml.safe_load((REPO / "execution-environment.yml").read_text())
    assert ee["version"] == 3
    ctx = tmp_path / "context"
    r = subprocess.run([_bin("ansible-builder"), "create", "-f", str(REPO / "execution-environment.yml"),
                        "-c", str(ctx), "--output-filename", "Containerfile"],
                       cwd=REPO, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120, check=False)
    assert r.returncode == 0, r.stdout + r.stderr
    containerfile = (ctx / "Containerfile").read_text()
    assert ee["images"]["base_image"]["name"] in containerfile
    assert "ansible-core==" in containerfile and "ansible-runner==" in containerfile
    build = ctx / "_build"
    for f in ("requirements.txt", "bindep.txt", "requirements.yml", "scripts/assemble", "scripts/introspect.py"):
        assert (build / f).is_file(), f"_build/{f} missing"
    galaxy = yaml.safe_load((build / "requirements.yml").read_text())
    assert "seed.fleet" in [c["name"] for c in galaxy["collections"]]
    assert set(_lines(REPO / "meta" / "ee-requirements.txt")) <= set(_lines(build / "requirements.txt"))
    assert set(_lines(REPO / "meta" / "ee-bindep.txt")) <= set(_lines(build / "bindep.txt"))
