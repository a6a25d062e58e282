"""The Galaxy artifact: build it, let galaxy-importer judge it, install it, use it.

1. ``ansible-galaxy collection build`` of the tracked (and new, not ignored) files gives
   seed-fleet-<version>.tar.gz without test/CI/lab material (galaxy.yml build_ignore).
2. galaxy-importer (what Galaxy runs on upload) imports the tarball with no error.
   It pins attrs<24 while our venv pins attrs 26, so it lives in its own venv,
   .cache/tools/galaxy-importer, built once from requirements/constraints.txt (+ attrs
   23.2.0) and reused while the pins do not change.
3. The tarball installs (offline, dependencies from the pinned ``ansible`` package) into
   an empty collections path, and Ansible run from a directory outside the repo finds
   that copy and only that copy; the inventories ship with it.
4. ansible-doc renders every module, filter and role of the installed copy.

Build, install and the user-like environment come from tests/lib/shipping.py. The
installed ``seed.fleet.site`` running for real against hosts over SSH (and idempotent) is
the Molecule scenario molecule/ssh (tests/lib/ssh_fleet.py).
"""
from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from shipping import GALAXY, build_tarball, clean_env, install_tarball, tool  # tests/lib, via pytest.ini

REPO = Path(__file__).resolve().parents[2]

CONSTRAINTS = REPO / "requirements" / "constraints.txt"
IMPORTER_VENV = REPO / ".cache" / "tools" / "galaxy-importer"
# galaxy-importer 0.4.44 requires attrs<24; everything else comes from our pins.
IMPORTER_OVERRIDES = {"attrs": "23.2.0"}
# Must never reach Galaxy users.
FORBIDDEN = re.compile(r"^(\.venv|\.cache|\.lab|\.git|\.github|molecule|tests|lab|tools|benchmarks|requirements)(/|$)")


def _run(cmd, cwd, env, timeout=180):
    return subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=timeout, check=False)


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("galaxy")


@pytest.fixture(scope="module")
def tarball(work: Path) -> Path:
    return build_tarball(work)


def test_tarball_content(tarball: Path):
    with tarfile.open(tarball) as tf:
        names = [n[2:] if n.startswith("./") else n for n in tf.getnames()]
    assert "MANIFEST.json" in names and "FILES.json" in names
    leaked = sorted(n for n in names if FORBIDDEN.match(n))
    assert not leaked, f"build_ignore misses: {leaked[:20]}"
    for needed in ("README.md", "meta/runtime.yml", "playbooks/site.yml", "meta/execution-environment.yml"):
        assert needed in names, f"{needed} missing from the tarball"
    for role in (REPO / "roles").iterdir():
        if (role / "tasks").is_dir():
            assert f"roles/{role.name}/tasks/main.yml" in names, role.name


def test_every_role_has_a_readme(tarball: Path):
    """galaxy-importer stops at the first role without README.md without naming it; name them all."""
    with tarfile.open(tarball) as tf:
        names = {n[2:] if n.startswith("./") else n for n in tf.getnames()}
    roles = sorted({n.split("/")[1] for n in names if n.startswith("roles/") and n.count("/") >= 2})
    missing = [r for r in roles if f"roles/{r}/README.md" not in names]
    assert not missing, f"roles without README.md (Galaxy refuses the import): {missing}"


def _importer_python() -> Path:
    """A venv with galaxy-importer, rebuilt when the pins change."""
    pins = [ln for ln in CONSTRAINTS.read_text().splitlines()
            if ln.strip() and not ln.startswith("#") and ln.split("==")[0].lower() not in IMPORTER_OVERRIDES]
    pins += [f"{k}=={v}" for k, v in IMPORTER_OVERRIDES.items()]
    wanted = [p for p in pins if p.lower().startswith("galaxy-importer==")]
    assert wanted, "requirements/constraints.txt: pin galaxy-importer==X.Y.Z"
    digest = hashlib.sha256("\n".join(pins).encode()).hexdigest()
    py = IMPORTER_VENV / "bin" / "python"
    stamp = IMPORTER_VENV / ".pins-sha256"
    if py.exists() and stamp.is_file() and stamp.read_text() == digest:
        return py
    shutil.rmtree(IMPORTER_VENV, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(IMPORTER_VENV)], check=True)
    constraints = IMPORTER_VENV / "constraints.txt"
    constraints.write_text("\n".join(pins) + "\n")
    r = subprocess.run([str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                        "-c", str(constraints), wanted[0].split("==")[0]],
                       capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=600, check=False)
    assert r.returncode == 0, f"installing galaxy-importer failed:\n{r.stdout}\n{r.stderr}"
    stamp.write_text(digest)
    return py


def test_galaxy_importer(tarball: Path, work: Path):
    py = _importer_python()
    cfg = work / "galaxy-importer.cfg"
    # Offline and fast: ansible-test needs containers/network (make test runs sanity
    # itself); the importer's ansible-lint pass only ever yields warnings and doubles
    # the time, and make test runs the same ansible-lint as its own stage; ansible-doc
    # renders every plugin (a failure there is an import error).
    cfg.write_text(
        "[galaxy-importer]\n"
        "run_ansible_doc = True\n"
        "run_ansible_lint = False\n"
        "offline_ansible_lint = True\n"
        "run_ansible_test = False\n"
        "ansible_test_local_image = False\n"
        "check_required_tags = False\n"
        "check_changelog = True\n"
        "run_flake8 = False\n"
        f"tmp_root_dir = {work}\n"
        f"ansible_local_tmp = {work}/ansible-tmp\n"
    )
    env = clean_env(work)
    env["GALAXY_IMPORTER_CONFIG"] = str(cfg)
    r = _run([py, "-m", "galaxy_importer.main", tarball], cwd=work, env=env, timeout=300)
    out = r.stdout + r.stderr
    print(out)
    errors = [ln for ln in out.splitlines() if re.search(r"\bERROR\b", ln)]
    if r.returncode != 0 or errors:
        pytest.fail(f"galaxy-importer rc={r.returncode}:\n" + "\n".join(errors or out.splitlines()[-30:]))
    assert "Importer processing completed successfully" in out, out[-2000:]
    warnings = [ln for ln in out.splitlines() if "WARNING" in ln]
    if warnings:
        print(f"galaxy-importer warnings ({len(warnings)}):\n" + "\n".join(warnings))


@pytest.fixture(scope="module")
def installed(tarball: Path, work: Path) -> tuple[Path, dict]:
    """The tarball installed offline into an empty collections path; (collection dir, env)."""
    outside = work / "user"
    outside.mkdir()
    colls = outside / "collections"
    env = clean_env(outside, ANSIBLE_COLLECTIONS_PATH=str(colls))
    return install_tarball(tarball, colls, env), env


def test_install_and_use_outside_repo(installed):
    path, env = installed
    outside = Path(env["HOME"])
    fq = f"{GALAXY['namespace']}.{GALAXY['name']}"
    r = _run([tool("ansible-galaxy"), "collection", "list", fq, "--format", "json"], cwd=outside, env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    found = {p: c[fq]["version"] for p, c in json.loads(r.stdout).items() if fq in c}
    assert found == {str(path.parents[1]): GALAXY["version"]}, found
    for inv in ("lab", "example"):
        assert (path / "inventories" / inv / "hosts.yml").is_file(), f"inventories/{inv} is not shipped"


def _our_warnings(stderr: str) -> list[str]:
    """[WARNING] lines, except ansible-core 2.21's about its own internal collection
    (ansible/_internal/ansible_collections/ansible/_protomatter has no MANIFEST.json)."""
    return [ln for ln in stderr.splitlines() if "[WARNING]" in ln and "/ansible/_internal/" not in ln]


def test_docs_render_from_installed(installed):
    """ansible-doc renders every module, filter and role of the installed collection."""
    path, env = installed
    fq = f"{GALAXY['namespace']}.{GALAXY['name']}"
    kinds = {
        "module": sorted(p.stem for p in (path / "plugins" / "modules").glob("[!_]*.py")),
        "filter": [],
        "role": sorted(p.name for p in (path / "roles").iterdir() if (p / "meta" / "argument_specs.yml").is_file()),
    }
    r = _run([tool("ansible-doc"), "-t", "filter", "-l", fq], cwd=Path(env["HOME"]), env=env)
    assert r.returncode == 0, r.stderr
    kinds["filter"] = sorted(ln.split()[0].split(".")[-1] for ln in r.stdout.splitlines() if ln.startswith(fq + "."))
    problems = []
    for kind, names in kinds.items():
        if not names:
            continue
        r = _run([tool("ansible-doc"), "-t", kind, *[f"{fq}.{n}" for n in names]], cwd=Path(env["HOME"]), env=env)
        if r.returncode == 0 and not _our_warnings(r.stderr) and all(f"{fq}.{n}" in r.stdout for n in names):
            continue
        for name in names:  # say which one
            r = _run([tool("ansible-doc"), "-t", kind, f"{fq}.{name}"], cwd=Path(env["HOME"]), env=env)
            if r.returncode != 0 or _our_warnings(r.stderr) or not r.stdout.strip():
                problems.append(f"ansible-doc -t {kind} {fq}.{name}: rc={r.returncode} {r.stderr.strip()[:300]}")
    assert kinds["module"] and kinds["role"]
    assert not problems, "\n".join(problems)
