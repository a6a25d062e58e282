"""Mutation check: small deliberate bugs in module_utils must each make a unit test fail.

Each file under tests/mutation/mutants/*.json is a list of mutants:

    {"id": "drop-read-back", "file": "plugins/module_utils/_haproxy_runtime.py",
     "find": "exact text, found exactly once", "replace": "the bug",
     "tests": ["tests/unit/plugins/module_utils/test_haproxy_runtime.py"]}

The tracked tree is copied once to a temporary ansible_collections/seed/fleet; each
mutant is applied to the copy (never to the work tree), its tests run there, and
the file is restored. A mutant that no test catches ("survived"), or whose `find`
text is missing or ambiguous ("stale"), fails the run. Prints a JSON summary.

Usage: python tests/mutation/run.py [mutant-file-stem ...]   (MUTATION_JOBS=N copies side by side, default 4)
"""
from __future__ import annotations

import concurrent.futures
import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MUTANTS = REPO / "tests" / "mutation" / "mutants"


def copy_tree(dest: Path) -> None:
    files = subprocess.run(["git", "-C", str(REPO), "ls-files", "-co", "--exclude-standard", "-z"],
                           check=True, capture_output=True).stdout.split(b"\0")
    for raw in filter(None, files):
        rel = raw.decode()
        src = REPO / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)


def load(stems: list[str]) -> list[dict]:
    out = []
    for path in sorted(MUTANTS.glob("*.json")):
        if stems and path.stem not in stems:
            continue
        for m in json.loads(path.read_text()):
            m["set"] = path.stem
            out.append(m)
    return out


def run_one(root: Path, coll: Path, m: dict) -> dict:
    target = coll / m["file"]
    original = target.read_text()
    count = original.count(m["find"])
    result = {"set": m["set"], "id": m["id"], "file": m["file"]}
    if count != 1:
        result.update(outcome="stale", detail=f"'find' text occurs {count} times")
        return result
    target.write_text(original.replace(m["find"], m["replace"]))
    env = dict(os.environ, PYTHONPATH=str(root), PYTHONDONTWRITEBYTECODE="1")
    started = time.monotonic()
    try:
        proc = subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider",
                               "-o", "addopts=", *m["tests"]],
                              cwd=coll, env=env, capture_output=True, text=True, timeout=300, check=False)
        caught = proc.returncode != 0
        tail = [ln for ln in proc.stdout.splitlines() if ln.startswith("FAILED")][:1]
    except subprocess.TimeoutExpired:
        caught, tail = True, ["timed out (counted as caught)"]
    finally:
        target.write_text(original)
    result.update(outcome="caught" if caught else "survived", seconds=round(time.monotonic() - started, 1),
                  by=tail[0] if tail else "")
    return result


def main(argv: list[str]) -> int:
    mutants = load(argv)
    if not mutants:
        print(json.dumps({"error": "no mutants found"}))
        return 1
    # Most of a mutant's test time is waiting on sockets and deadlines, not CPU: a few
    # copies of the tree let mutants run side by side, each in a copy of its own.
    jobs = max(1, int(os.environ.get("MUTATION_JOBS", "4")))
    with tempfile.TemporaryDirectory(prefix="seed-fleet-mutation.") as tmp:
        free = queue.Queue()
        for n in range(min(jobs, len(mutants))):
            root = Path(tmp) / str(n)
            coll = root / "ansible_collections" / "seed" / "fleet"
            copy_tree(coll)
            free.put((root, coll))

        def run_in_a_free_copy(m: dict) -> dict:
            root, coll = free.get()
            try:
                return run_one(root, coll, m)
            finally:
                free.put((root, coll))

        with concurrent.futures.ThreadPoolExecutor(max_workers=free.qsize()) as pool:
            results = list(pool.map(run_in_a_free_copy, mutants))
    for r in results:
        print(f"{r['outcome']:>8}  {r['set']}:{r['id']}  {r.get('by') or r.get('detail', '')}", file=sys.stderr)
    summary = {
        "mutants": len(results),
        "caught": sum(r["outcome"] == "caught" for r in results),
        "survived": [f"{r['set']}:{r['id']}" for r in results if r["outcome"] == "survived"],
        "stale": [f"{r['set']}:{r['id']}" for r in results if r["outcome"] == "stale"],
        "results": results,
    }
    print(json.dumps(summary, indent=2))
    return 0 if not summary["survived"] and not summary["stale"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
