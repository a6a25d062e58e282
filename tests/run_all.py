"""Run every check seed.fleet has and print a summary: ``make test``.

Stages: yamllint, ansible-lint, ansible-test sanity and unit tests (pytest) on
the newest core (.venv) and the oldest supported core (.cache/venv-oldest), named
``sanity:<core>`` / ``units:<core>`` (e.g. sanity:2.21, sanity:2.19), mutation check
(tests/mutation), checks (tests/checks), then ``molecule test`` for every scenario
under molecule/ on the newest core, and ``molecule-deprecations``: the scenarios' logs
must hold no deprecation warning caused by our files (tests/lib/deprecations.py). docs/ansible-cores.md says which Python runs which core.
Each stage's output goes to .cache/test-logs/<stage>.log; a failing stage has
its tail printed. Exit status is non-zero when any stage fails.

Environment:
  STAGES=lint,sanity,...   run only these stages (names as in the summary)
  SCENARIOS=a,b            run only these Molecule scenarios
  SEED_FLEET_SUITES=a,b    the Debian suites (default bookworm; `make test` passes both):
                           with one suite every scenario runs on it (stage molecule:<suite>:<scenario>);
                           with both, the scenarios in MIXED run once on a fleet of both suites
                           (stage molecule:<first>+<second>:<scenario>) and the others on each suite
  MOLECULE_JOBS=N          scenarios run N at a time (default 2); one scenario never
                           runs on two suites at once (its container names are global)
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
VENV_BIN = REPO / ".venv" / "bin"
OLDEST_BIN = REPO / ".cache" / "venv-oldest" / "bin"
LOGS = REPO / ".cache" / "test-logs"
_PRINT = threading.Lock()


def log_of(stage: str) -> Path:
    """.cache/test-logs/<stage>.log, the stage's name made a file name."""
    return LOGS / f"{stage.replace(':', '-').replace('/', '-')}.log"


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
    # Lines reach the log as they are printed, so the phase stamps (stamped()) are true.
    e.setdefault("PYTHONUNBUFFERED", "1")
    # Deprecations stay visible in every log (check:deprecations fails on those our code causes).
    e.setdefault("ANSIBLE_DEPRECATION_WARNINGS", "true")
    return e


# Rough wall time of each scenario on the 2-core machine beside another one (a full run's
# summary): the long ones start first so
# that the parallel slots finish together (longest-processing-time-first).
EXPECTED_SECONDS = {"ssh": 2554, "blue_green": 1824, "security": 1468, "baseline": 844, "lb_ha": 480,
                    "monitoring": 199, "container_runtime_docker": 96, "load_balancer": 108,
                    "container_runtime_containerd_podman": 49}
# Scenarios that run only when named (SCENARIOS=name): none today; `make molecule
# SCENARIO=<name>` runs one.
OPT_IN: set[str] = set()
# Scenarios whose fleet has several hosts running the same roles: with both suites asked
# for, each runs ONCE on a mixed fleet (host i on suite i mod 2, lab/hosts/start.yml), not
# once per suite, and every role still lands on both suites (the suite order alternates
# between these scenarios, so the single LB/monitoring server of one is on bookworm and of
# the next on trixie). One converged fleet per scenario instead of two is how `make test`
# keeps both suites within 45 minutes. The other scenarios have one host per role (one
# docker host whose tests pin the suite's docker.io series, one LB, one containerd and one
# Podman host): they run on each suite.
MIXED = ("baseline", "blue_green", "lb_ha", "monitoring", "security", "ssh")


def scenarios() -> list[str]:
    found = sorted((p.parent.name for p in (REPO / "molecule").glob("*/molecule.yml")),
                   key=lambda name: (-EXPECTED_SECONDS.get(name, 0), name))
    wanted = [s for s in os.environ.get("SCENARIOS", "").split(",") if s]
    if wanted:
        missing = set(wanted) - set(found)
        if missing:
            sys.exit(f"unknown scenario(s): {', '.join(sorted(missing))}")
        return wanted
    return [name for name in found if name not in OPT_IN]


SUITES = ("bookworm", "trixie")


def suites() -> list[str]:
    wanted = [s for s in os.environ.get("SEED_FLEET_SUITES", "bookworm").replace(",", " ").split() if s]
    unknown = set(wanted) - set(SUITES)
    if unknown:
        sys.exit(f"unknown suite(s): {', '.join(sorted(unknown))} (supported: {', '.join(SUITES)})")
    return list(dict.fromkeys(wanted))


def jobs_for(names: list[str], wanted: list[str]) -> list[tuple[str, str]]:
    """(suites, scenario) jobs in ``names`` order: each scenario on each suite, or, with
    several suites, the MIXED ones once on a fleet of all of them ("bookworm,trixie"), the
    suite order flipped from one MIXED scenario to the next (in name order)."""
    if len(wanted) < 2:
        return [(suite, name) for name in names for suite in wanted]
    flip = {name: i % 2 == 1 for i, name in enumerate(sorted(MIXED))}
    jobs = []
    for name in names:
        if name in MIXED:
            jobs.append((",".join(wanted[::-1] if flip[name] else wanted), name))
        else:
            jobs.extend((suite, name) for suite in wanted)
    return jobs


def label(suites: str) -> str:
    """'bookworm' or 'trixie+bookworm': a stage's and a log's name for a job's suites."""
    return suites.replace(",", "+")


def run_scenarios(jobs: list[tuple[str, str]], workers: int) -> list[tuple[str, int, float]]:
    """Run (suites, scenario) jobs ``workers`` at a time, in the given order, never the
    same scenario twice at once: a free worker takes the first job whose scenario is idle."""
    pending = list(jobs)
    busy: set[str] = set()
    results: list[tuple[str, int, float]] = []
    cond = threading.Condition()

    def worker() -> None:
        while True:
            with cond:
                while True:
                    job = next((j for j in pending if j[1] not in busy), None)
                    if job or not pending:
                        break
                    cond.wait()
                if not job:
                    return
                pending.remove(job)
                busy.add(job[1])
            suite, scenario = job
            cmd = ["env", f"SEED_FLEET_SUITE={suite}", str(VENV_BIN / "molecule"), "test", "-s", scenario]
            stage = f"molecule:{label(suite)}:{scenario}"
            result = (stage, 1, 0.0)
            try:
                result = run_stage(stage, cmd)
            finally:
                with cond:
                    results.append(result)
                    busy.discard(scenario)
                    cond.notify_all()

    threads = [threading.Thread(target=worker) for _slot in range(max(1, workers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def core_pin(requirements: str) -> str:
    """'2.21' for the ansible-core==2.21.5 pinned in requirements/<file>."""
    for line in (REPO / "requirements" / requirements).read_text().splitlines():
        if line.startswith("ansible-core=="):
            return ".".join(line.split("==", 1)[1].split(".")[:2])
    sys.exit(f"requirements/{requirements}: no ansible-core==X.Y.Z pin")


def cores() -> list[tuple[str, Path]]:
    """(label, venv bin) for the newest core, then the oldest supported one."""
    return [(core_pin("controller.txt"), VENV_BIN), (core_pin("oldest.txt"), OLDEST_BIN)]


def stages() -> list[tuple[str, list[str]]]:
    py = str(VENV_BIN / "python")
    out = [
        ("yamllint", [str(VENV_BIN / "yamllint"), "--strict", "."]),
        ("ansible-lint", [str(VENV_BIN / "ansible-lint"), "--offline", "-q"]),
    ]
    for label, bin_dir in cores():
        out.append((f"sanity:{label}", ["env", f"SANITY_VENV={bin_dir.parent}", "bash", "tests/sanity/run.sh"]))
    for label, bin_dir in cores():
        out.append((f"units:{label}", [str(bin_dir / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider",
                                       "tests/unit"]))
    out += [
        # Small deliberate bugs in plugins/ that the unit tests must catch.
        ("mutation", [py, "tests/mutation/run.py"]),
    ]
    for extra in sorted((REPO / "tests" / "checks").glob("test_*.py")) if (REPO / "tests" / "checks").is_dir() else []:
        out.append((f"check:{extra.stem[5:]}", [py, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(extra.relative_to(REPO))]))
    return out


def stamped(line: str, elapsed: float) -> str:
    """Molecule's phase lines ("INFO     [ssh > converge] Executing") carry the seconds since
    the stage began, so that a log shows where a scenario's time went."""
    if line.startswith("INFO") and "] Execut" in line:
        return f"{line.rstrip()}  [+{elapsed:.0f} s]\n"
    return line


# The static stages (lint, sanity, units, mutation, checks) run beside the scenarios and end
# long before them: at a lower priority they take the cores the scenarios leave idle instead of
# slowing the scenarios, whose lane is the run's wall time. The unit tests are the exception:
# some time a fake server's answers, and at nice 10 beside two scenarios a 0.2 s answer took
# over 1 s (CI of stop 32); they run a few minutes at normal priority.
STATIC_NICE = 10
UNNICED = ("units",)


def nice_for(name: str) -> int:
    return 0 if name.split(":", maxsplit=1)[0] in UNNICED else STATIC_NICE


# Each stage's CPU seconds on this machine's controller side (run_stage): with both cores busy for the whole
# run, every CPU second a stage spends is wall time some other stage waits for.
CPU_SECONDS: dict[str, float] = {}


def run_stage(name: str, cmd: list[str], cwd: Path = REPO, nice: int = 0) -> tuple[str, int, float]:
    LOGS.mkdir(parents=True, exist_ok=True)
    if nice:
        cmd = ["nice", "-n", str(nice), *cmd]
    log = log_of(name)
    say(f"==> {name}: {' '.join(cmd)}")
    started = time.monotonic()
    with log.open("w") as fh, subprocess.Popen(cmd, cwd=cwd, env=env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                               stdin=subprocess.DEVNULL, text=True, errors="replace") as proc:
        for line in proc.stdout:
            fh.write(stamped(line, time.monotonic() - started))
        # wait4, not wait: the stage's own CPU time (its process and the descendants it waited for, such as
        # ansible-playbook's workers; not the containers' processes, which belong to the engine).
        _pid, status, usage = os.wait4(proc.pid, 0)
        rc = proc.returncode = os.waitstatus_to_exitcode(status)
    took = time.monotonic() - started
    CPU_SECONDS[name] = usage.ru_utime + usage.ru_stime
    status = "ok" if rc == 0 else f"FAILED (rc={rc})"
    lines = log.read_text(errors="replace").splitlines() if rc != 0 else []
    say(f"<== {name}: {status} in {took:.0f} s (log: {log.relative_to(REPO)})"
        + "".join(f"\n    | {line}" for line in lines[-80:]))
    return name, rc, took


# A stamped phase line: "INFO     [ssh > converge] Executing  [+123 s]" (or "Executed: Successful").
PHASE = re.compile(r"^\w+\s+\[[^\]>]*>\s*(?P<phase>[\w-]+)\]\s+Execut(?:ing|(?P<end>ed)).*\[\+(?P<t>\d+) s\]\s*$")
# A line of pytest's --durations report (molecule's verifier passes durations: 15).
DURATION = re.compile(r"^(?P<s>\d+(?:\.\d+)?)s\s+call\s+(?:[^\s:]+::)?(?P<test>\S+)\s*$")


def where_time_went(text: str, slowest: int = 3) -> str:
    """One line for a scenario's log: seconds per Molecule phase (a phase that runs twice, such as
    destroy, is added up; one that never ended counts to the last stamp), then its slowest tests.
    Empty when the log has no stamped phase."""
    spent: dict[str, int] = {}
    phase, began, last = None, 0, 0
    tests = []
    for line in text.splitlines():
        found = PHASE.match(line)
        if found:
            last = int(found["t"])
            if phase:
                spent[phase] = spent.get(phase, 0) + last - began
            phase, began = (None, 0) if found["end"] else (found["phase"], last)
            continue
        found = DURATION.match(line.strip())
        if found:
            tests.append((float(found["s"]), found["test"]))
    if phase:
        spent[phase] = spent.get(phase, 0) + last - began
    if not spent:
        return ""
    out = "phases: " + ", ".join(f"{name} {seconds}" for name, seconds in spent.items()) + " s"
    top = sorted(tests, reverse=True)[:slowest]
    if top:
        out += "; slowest tests: " + ", ".join(f"{test} {seconds:.0f} s" for seconds, test in top)
    return out


WHY = re.compile(r"^(E |FAILED |fatal: |ERROR|CRITICAL|Traceback|\S+Error: |AssertionError)")


def why_failed(name: str, most: int = 25) -> list[str]:
    """The lines of a failed stage's log that say why (pytest E/FAILED lines, Ansible fatal/ERROR), last
    ones first kept: repeated at the end of the run, where a CI page that shows only the tail shows them."""
    log = log_of(name)
    if not log.exists():
        return ["(no log)"]
    lines = [line.strip()[:300] for line in log.read_text(errors="replace").splitlines() if WHY.match(line.strip())]
    return lines[-most:] or log.read_text(errors="replace").splitlines()[-most:]


def main() -> int:
    only = [s for s in os.environ.get("STAGES", "").split(",") if s]
    results: list[tuple[str, int, float]] = []
    started = time.monotonic()
    static = [(name, cmd) for name, cmd in stages()
              if not only or name in only or name.split(":", maxsplit=1)[0] in only]
    static_results: list[tuple[str, int, float]] = []
    # The static stages (one process each, about one core) run one after another beside
    # the Molecule slots, not before them: the machine's second core is not left idle.
    lane = threading.Thread(target=lambda: static_results.extend(run_stage(name, cmd, nice=nice_for(name)) for name, cmd in static))
    lane.start()
    if not only or "molecule" in only:
        workers = int(os.environ.get("MOLECULE_JOBS", "2"))
        names = scenarios()
        # Longest first, each on every suite (or once on a mixed fleet): the slots finish together.
        jobs = jobs_for(names, suites())
        results.extend(run_scenarios(jobs, workers))
        # Deprecations that our roles/playbooks trigger on real hosts (newest core): fail.
        logs = sorted(str(log_of(f"molecule:{label(suite)}:{name}")) for suite, name in jobs
                      if log_of(f"molecule:{label(suite)}:{name}").exists())
        if logs:
            cmd = [str(VENV_BIN / "python"), "tests/lib/deprecations.py", *logs]
            results.append(run_stage("molecule-deprecations", cmd))
    lane.join()
    results = static_results + results
    total = time.monotonic() - started
    failed = [r for r in results if r[1] != 0]
    print("\n==== seed.fleet test summary ====")
    for name, rc, took in results:
        print(f"  {'PASS' if rc == 0 else 'FAIL'}  {name:<40} {took:6.0f} s  (CPU {CPU_SECONDS.get(name, 0):5.0f} s)")
        # Where a scenario's time went: the lever for the suite's time budget.
        log = log_of(name)
        report = where_time_went(log.read_text(errors="replace")) if name.startswith("molecule:") and log.exists() else ""
        if report:
            print(f"        {report}")
    print(f"  total wall time: {total:.0f} s, CPU of the stages: {sum(CPU_SECONDS.values()):.0f} s")
    for name, _rc, _took in failed:
        print(f"---- why {name} failed (from its log) ----")
        print("\n".join(f"  {line}" for line in why_failed(name)))
    print(f"{len(results) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed or not results else 0


if __name__ == "__main__":
    sys.exit(main())
