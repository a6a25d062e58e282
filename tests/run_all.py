"""Run every check seed.fleet has and print a summary: ``make test``.

Stages: yamllint, ansible-lint, ansible-test sanity, unit tests (pytest),
mutation check (tests/mutation),
argument-spec checks, then ``molecule test`` for every scenario under molecule/.
Each stage's output goes to .cache/test-logs/<stage>.log; a failing stage has
its tail printed. Exit status is non-zero when any stage fails.

Environment:
  STAGES=lint,sanity,...   run only these stages (names as in the summary)
  SCENARIOS=a,b            run only these Molecule scenarios
  MOLECULE_JOBS=N          scenarios run N at a time (default 2)
"""
from __future__ import annotations

import concurrent.futures
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
VENV_BIN = REPO / ".venv" / "bin"
LOGS = REPO / ".cache" / "test-logs"
_PRINT = threading.Lock()


def say(text: str) -> None:
    """Print whole lines even when scenarios run in parallel."""
    with _PRINT:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()


def env() -> dict[str, str]:
    e = dict(os.environ)
    e["PATH"] = f"{VENV_BIN}:{e.get('PATH', '')}"
    e["ANSIBLE_CONFIG"] = str(REPO / "ansible.cfg")
    e["PYTHONPATH"] = str(REPO / ".cache" / "collections")
    e.setdefault("ANSIBLE_FORCE_COLOR", "0")
    e.setdefault("PY_COLORS", "0")
    e.setdefault("NO_COLOR", "1")
    return e


# Rough wall time of the long scenarios on the 2-core machine: they start first so
# that the parallel slots finish together (longest-processing-time-first).
EXPECTED_SECONDS = {"blue_green": 600, "lb_ha": 600, "baseline": 470, "shipped": 360}


def scenarios() -> list[str]:
    found = sorted((p.parent.name for p in (REPO / "molecule").glob("*/molecule.yml")),
                   key=lambda name: (-EXPECTED_SECONDS.get(name, 0), name))
    wanted = [s for s in os.environ.get("SCENARIOS", "").split(",") if s]
    if wanted:
        missing = set(wanted) - set(found)
        if missing:
            sys.exit(f"unknown scenario(s): {', '.join(sorted(missing))}")
        return wanted
    return found


def stages() -> list[tuple[str, list[str]]]:
    py = str(VENV_BIN / "python")
    out = [
        ("yamllint", [str(VENV_BIN / "yamllint"), "--strict", "."]),
        ("ansible-lint", [str(VENV_BIN / "ansible-lint"), "--offline", "-q"]),
        ("sanity", ["bash", "tests/sanity/run.sh"]),
        ("units", [py, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/unit"]),
        # Small deliberate bugs in plugins/ that the unit tests must catch.
        ("mutation", [py, "tests/mutation/run.py"]),
    ]
    for extra in sorted((REPO / "tests" / "checks").glob("test_*.py")) if (REPO / "tests" / "checks").is_dir() else []:
        out.append((f"check:{extra.stem[5:]}", [py, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(extra.relative_to(REPO))]))
    return out


def run_stage(name: str, cmd: list[str], cwd: Path = REPO) -> tuple[str, int, float]:
    LOGS.mkdir(parents=True, exist_ok=True)
    log = LOGS / f"{name.replace(':', '-').replace('/', '-')}.log"
    say(f"==> {name}: {' '.join(cmd)}")
    started = time.monotonic()
    with log.open("w") as fh:
        rc = subprocess.call(cmd, cwd=cwd, env=env(), stdout=fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    took = time.monotonic() - started
    status = "ok" if rc == 0 else f"FAILED (rc={rc})"
    lines = log.read_text(errors="replace").splitlines() if rc != 0 else []
    say(f"<== {name}: {status} in {took:.0f} s (log: {log.relative_to(REPO)})"
        + "".join(f"\n    | {line}" for line in lines[-80:]))
    return name, rc, took


def main() -> int:
    only = [s for s in os.environ.get("STAGES", "").split(",") if s]
    results: list[tuple[str, int, float]] = []
    started = time.monotonic()
    for name, cmd in stages():
        if only and name not in only and name.split(":", maxsplit=1)[0] not in only:
            continue
        results.append(run_stage(name, cmd))
    if not only or "molecule" in only:
        jobs = int(os.environ.get("MOLECULE_JOBS", "2"))
        names = scenarios()
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            futures = [
                pool.submit(run_stage, f"molecule:{s}", [str(VENV_BIN / "molecule"), "test", "-s", s])
                for s in names
            ]
            results.extend(f.result() for f in futures)
    total = time.monotonic() - started
    failed = [r for r in results if r[1] != 0]
    print("\n==== seed.fleet test summary ====")
    for name, rc, took in results:
        print(f"  {'PASS' if rc == 0 else 'FAIL'}  {name:<40} {took:6.0f} s")
    print(f"  total wall time: {total:.0f} s")
    print(f"{len(results) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed or not results else 0


if __name__ == "__main__":
    sys.exit(main())
