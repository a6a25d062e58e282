"""Cutover benchmark: seed.fleet's blue-green flow vs the DIY reload/restart cutover.

Brings up its own fleet (containers seed-bench-lb/-app1/-app2 on network
seed-bench-net, LB frontend published on 127.0.0.1:18080 only), configures it
with seed.fleet.load_balancer + seed.fleet.container_runtime, deploys demo v1,
then runs a steady bounded load (load.py: keep-alive and Connection: close,
fast GET / and slow GET /slow?ms=2000) while it performs:
  ours:        N deploys and N rollbacks with playbooks/deploy.yml / rollback.yml
  diy-reload:  K cutovers "template haproxy.cfg, reload, remove old container"
  diy-restart: K cutovers, the same with `systemctl restart haproxy`
  ours-bad-release: B deploys of a release that passes the gate and turns bad after its
               first requests (APP_FAIL_AFTER_REQUESTS, issue #16): rolled back by the
               post-switch watch; what users paid = failed requests and their time span
  ours-canary / ours-canary-bad: C canary deploys (blue_green_strategy canary) of a good
               release (each followed by a rollback) and C of a release that turns bad after
               its first requests: failed requests, their share and time span, time to promote
It writes .cache/bench/cutover/{result.json,timeline.png,load.csv} and prints the JSON.

Usage: benchmarks/cutover/run.py [--deploys 5] [--diy 3] [--bad-releases 0] [--canaries 0] [--keep]
"""
from __future__ import annotations

import argparse
import bisect
import csv
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from load import MAX_SECONDS as LOAD_MAX_SECONDS  # benchmarks/cutover/load.py, beside this file

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
OUT = REPO / ".cache" / "bench" / "cutover"
INV = HERE / "inventory.yml"
STOP = Path("/tmp/seed-bench-stop")
PLOT_PY = REPO / ".cache" / "tools" / "bench" / "bin" / "python"


def env() -> dict:
    e = dict(os.environ)
    e.update(ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_FORCE_COLOR="0", ANSIBLE_PIPELINING="True",
             PATH=f"{REPO / '.venv' / 'bin'}:{e.get('PATH', '')}")
    return e


def say(msg: str) -> None:
    print(f"[bench] {time.strftime('%H:%M:%S')} {msg}", file=sys.stderr, flush=True)


def play(*args: str, check: bool = True) -> tuple[int, float, float]:
    cmd = [str(REPO / ".venv" / "bin" / "ansible-playbook"), *args]
    start = time.time()
    log = OUT / "ansible.log"
    with log.open("a") as fh:
        fh.write(f"\n### {' '.join(cmd)}\n")
        fh.flush()
        rc = subprocess.call(cmd, cwd=REPO, env=env(), stdout=fh, stderr=subprocess.STDOUT)
    end = time.time()
    if check and rc != 0:
        sys.exit(f"[bench] failed ({rc}): {' '.join(args)}; see {log}")
    return rc, start, end


def lb_state() -> dict:
    out = subprocess.run(["docker", "exec", "seed-bench-lb", "cat", "/var/lib/seed-fleet/demo/state.json"],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return round(values[min(len(values) - 1, max(0, int(-(-p * len(values) // 100)) - 1))] * 1000, 1)


def analyse(rows: list[dict], ops: list[dict], steady: tuple[float, float]) -> dict:
    def failed(r):
        return not 200 <= r["status"] < 300

    result: dict = {"total_requests": len(rows), "failed_requests": sum(map(failed, rows)), "approaches": {}}
    fast_quiet = {m: [r["lat"] for r in rows if r["kind"] == "fast" and r["mode"] == m
                      and steady[0] <= r["start"] < steady[1] and not failed(r)] for m in ("ka", "close")}
    result["steady_quiet_start"] = {m: {"requests": len(v), "p50_ms": pct(v, 50), "p99_ms": pct(v, 99)}
                                    for m, v in fast_quiet.items()}
    rows.sort(key=lambda r: r["start"])
    starts = [r["start"] for r in rows]
    for op in ops:  # switch moments and the old color's last answers
        win = rows[bisect.bisect_left(starts, op["t_start"]):bisect.bisect_right(starts, op["t_end"] + 2.5)]
        op["requests"] = win
        new = [r["start"] for r in win if r["version"] == op["to_version"]]
        old = [r for r in win if r["version"] == op["from_version"]]
        # User-visible switch: the first request answered by the new version.
        op["t_switch"] = min(new) if new else op["t_end"]
        # Switch call: when the Ansible switch task started (ours), else the same moment.
        op["t_call"] = op.get("switch_started") or op["t_switch"]
        last_old_start = max((r["start"] for r in old), default=None)
        op["cutover_overlap_s"] = round(max(0.0, last_old_start - op["t_switch"]), 3) if last_old_start else 0.0
        old_fast = [r["start"] + r["lat"] for r in old if r["kind"] == "fast"]
        op["call_to_last_old_fast_response_s"] = round(max(old_fast) - op["t_call"], 3) if old_fast else None
    # Steady = the same run, more than 3 s away from every switch (playbooks may be running).
    switches = sorted(o["t_switch"] for o in ops)

    def far_from_switches(t):
        i = bisect.bisect_left(switches, t)
        return all(abs(t - switches[j]) > 3 for j in (i - 1, i) if 0 <= j < len(switches))

    far = [r for r in rows if r["kind"] == "fast" and not failed(r) and steady[0] <= r["start"]
           and far_from_switches(r["start"])]
    result["steady"] = {m: {"requests": len(v), "p50_ms": pct(v, 50), "p99_ms": pct(v, 99)}
                        for m, v in ((m, [r["lat"] for r in far if r["mode"] == m]) for m in ("ka", "close"))}
    bad = [o for o in ops if o["name"] == "ours-bad-release"]
    if bad:
        # Every failed request from the playbook's start to 2.5 s after its end: the bad release's cost.
        spans = []
        for o in bad:
            failed_at = [r["start"] for r in o["requests"] if failed(r)]
            o["failed"] = len(failed_at)
            o["errors_span_s"] = round(max(failed_at) - min(failed_at), 3) if failed_at else 0.0
            o["served_by_bad_release"] = sum(1 for r in o["requests"] if r["version"] == o["to_version"])
            spans.append(o["errors_span_s"])
        result["bad_releases"] = {
            "operations": len(bad),
            "rolled_back": sum(1 for o in bad if o.get("result") == "rolled_back"),
            "requests": sum(len(o["requests"]) for o in bad),
            "served_by_bad_release": sum(o["served_by_bad_release"] for o in bad),
            "failed": sum(o["failed"] for o in bad),
            "errors": sorted({(str(r["status"]) + ":" + r["err"]) for o in bad for r in o["requests"] if failed(r)}),
            "errors_span_s_max": max(spans),
        }
    canaries = [o for o in ops if o["name"] in ("ours-canary", "ours-canary-bad")]
    if canaries:
        result["canaries"] = {}
        for name in ("ours-canary", "ours-canary-bad"):
            these = [o for o in canaries if o["name"] == name]
            if not these:
                continue
            for o in these:
                failed_at = [r["start"] for r in o["requests"] if failed(r)]
                o["failed"] = len(failed_at)
                o["errors_span_s"] = round(max(failed_at) - min(failed_at), 3) if failed_at else 0.0
                o["served_by_new"] = sum(1 for r in o["requests"] if r["version"] == o["to_version"])
            requests = sum(len(o["requests"]) for o in these)
            failed_n = sum(o["failed"] for o in these)
            result["canaries"][name] = {
                "operations": len(these),
                "results": sorted({str(o.get("result")) for o in these}),
                "requests": requests,
                "served_by_new": sum(o["served_by_new"] for o in these),
                "failed": failed_n,
                "failed_share": round(failed_n / requests, 6) if requests else None,
                "errors": sorted({(str(r["status"]) + ":" + r["err"]) for o in these for r in o["requests"] if failed(r)}),
                "errors_span_s_max": max(o["errors_span_s"] for o in these),
                "playbook_seconds_avg": round(sum(o["t_end"] - o["t_start"] for o in these) / len(these), 1),
            }
        good, worse = result["canaries"].get("ours-canary"), result["canaries"].get("ours-canary-bad")
        goals = result.setdefault("goals", {})
        if good:
            goals["canary_good_promoted_with_0_failed"] = good["results"] == ["success"] and good["failed"] == 0
        if worse:
            goals["canary_bad_aborted_with_le_1s_of_errors"] = (
                worse["results"] == ["rolled_back"] and worse["errors_span_s_max"] <= 1.0 and worse["served_by_new"] > 0)
    for name in ("ours-deploy", "ours-rollback", "diy-reload", "diy-restart"):
        these = [o for o in ops if o["name"] == name]
        if not these:
            continue
        entry: dict = {"operations": len(these), "modes": {}}
        for mode in ("ka", "close"):
            reqs = [r for o in these for r in o["requests"] if r["mode"] == mode]
            during = [r["lat"] for o in these for r in o["requests"] if r["mode"] == mode and r["kind"] == "fast"
                      and o["t_switch"] - 0.5 <= r["start"] <= o["t_switch"] + 2.0 and not failed(r)]
            entry["modes"]["keep-alive" if mode == "ka" else "close"] = {
                "requests": len(reqs),
                "failed": sum(map(failed, reqs)),
                "failed_slow": sum(1 for r in reqs if failed(r) and r["kind"] == "slow"),
                "slow_requests": sum(1 for r in reqs if r["kind"] == "slow"),
                "errors": sorted({(str(r["status"]) + ":" + r["err"]) for r in reqs if failed(r)}),
                "p50_fast_during_switch_ms": pct(during, 50),
                "p99_fast_during_switch_ms": pct(during, 99),
            }
        sw = [o["switch_seconds"] for o in these if o.get("switch_seconds") is not None]
        entry["switch_call_seconds_max"] = max(sw) if sw else None
        entry["cutover_overlap_s_max"] = max(o["cutover_overlap_s"] for o in these)
        lf = [o["call_to_last_old_fast_response_s"] for o in these if o["call_to_last_old_fast_response_s"] is not None]
        entry["call_to_last_old_fast_response_s_max"] = max(lf) if lf else None
        entry["playbook_seconds_avg"] = round(sum(o["t_end"] - o["t_start"] for o in these) / len(these), 1)
        result["approaches"][name] = entry
    ours = [result["approaches"].get(n) for n in ("ours-deploy", "ours-rollback")]
    if all(ours):
        result.setdefault("goals", {}).update({
            "zero_failed_ours": all(m["failed"] == 0 for a in ours for m in a["modes"].values()),
            "cutover_le_1s_as_users_see_it": all(a["cutover_overlap_s_max"] <= 1.0 for a in ours),
            "switch_call_le_1s": all((a["switch_call_seconds_max"] or 0) <= 1.0 for a in ours),
            "p99_during_le_2x_steady": all(
                (a["modes"][m]["p99_fast_during_switch_ms"] or 0) <= 2 * (result["steady"][k]["p99_ms"] or 0)
                for a in ours for m, k in (("keep-alive", "ka"), ("close", "close"))),
        })
    if bad:
        result.setdefault("goals", {})["bad_release_rolled_back_with_le_1s_of_errors"] = (
            result["bad_releases"]["rolled_back"] == len(bad) and result["bad_releases"]["errors_span_s_max"] <= 1.0
            and result["bad_releases"]["served_by_bad_release"] > 0)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--deploys", type=int, default=5, help="deploys and rollbacks with our flow (each)")
    parser.add_argument("--diy", type=int, default=3, help="DIY cutovers per variant (reload, restart)")
    parser.add_argument("--bad-releases", type=int, default=0,
                        help="deploys of a release that turns bad after its first requests (rolled back by the watch)")
    parser.add_argument("--fail-after", type=int, default=200, help="requests the bad release serves well (per instance)")
    parser.add_argument("--canaries", type=int, default=0,
                        help="canary deploys of a good release (each rolled back after) and of a bad one (each)")
    parser.add_argument("--canary-pause", type=int, default=10, help="seconds per canary step (5, 25, 50 %%)")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark fleet afterwards")
    parser.add_argument("--max-seconds", type=int, default=2400,
                        help="hard bound of the load (at most 4 h); no operation starts that might outlast it")
    parser.add_argument("--pause", type=float, default=0.01,
                        help="seconds between two requests of a fast worker (more: a lighter load, for a long soak)")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "ansible.log").write_text("")
    STOP.unlink(missing_ok=True)

    say("images and fleet")
    subprocess.run([sys.executable, str(REPO / "lab" / "images" / "build.py"), "demo-app"], check=True,
                   stdout=subprocess.DEVNULL)
    play(str(HERE / "up.yml"))
    play("-i", str(INV), str(HERE / "prepare.yml"))
    play("-i", str(INV), "playbooks/deploy.yml", "-e", "blue_green_version=v1")

    say("load starts")
    load = subprocess.Popen([sys.executable, str(HERE / "load.py"), "--out", str(OUT / "load.csv"),
                             "--duration", str(args.max_seconds), "--stop-file", str(STOP), "--pause", str(args.pause)])
    ops: list[dict] = []
    cut_short = []
    try:
        t_load = time.time()
        load_ends = t_load + min(args.max_seconds, LOAD_MAX_SECONDS)

        def room_for(name: str) -> bool:
            """Whether an operation can start and end under the load: twice the longest so far, 60 s at first."""
            longest = max((o["t_end"] - o["t_start"] for o in ops), default=30.0)
            if time.time() + 2 * longest + 10 < load_ends:
                return True
            say(f"the load ends in {load_ends - time.time():.0f} s: no more {name}")
            cut_short.append(name)
            return False

        time.sleep(12)
        steady = (t_load + 2, time.time())
        live = "v1"
        for i in range(args.deploys):
            if not room_for("deploy and rollback cycles"):
                break
            version = f"v{i + 2}"
            for name, pb, extra in (("ours-deploy", "playbooks/deploy.yml", ["-e", f"blue_green_version={version}"]),
                                    ("ours-rollback", "playbooks/rollback.yml", [])):
                say(f"{name} {version if name == 'ours-deploy' else live}")
                rc, t0, t1 = play("-i", str(INV), pb, *extra, check=False)
                last = lb_state()["history"][-1]
                ops.append({"name": name, "approach": "ours", "rc": rc, "t_start": t0, "t_end": t1,
                            "from_version": last.get("from_version"), "to_version": last.get("version"),
                            "switch_started": last.get("switch_started", t0), "switch_seconds": last.get("switch_seconds")})
                time.sleep(3)
        for i in range(args.bad_releases):
            version = f"bad{i + 1}"
            say(f"ours-bad-release {version} (fails after {args.fail_after} requests)")
            rc, t0, t1 = play("-i", str(INV), "playbooks/deploy.yml", "-e", f"blue_green_version={version}",
                              "-e", json.dumps({"blue_green_env": {"APP_FAIL_AFTER_REQUESTS": str(args.fail_after)}}),
                              check=False)
            last = lb_state()["history"][-1]
            ops.append({"name": "ours-bad-release", "approach": "ours", "rc": rc, "t_start": t0, "t_end": t1,
                        "from_version": live, "to_version": version, "result": last.get("result"),
                        "reason": last.get("reason"), "switch_seconds": last.get("switch_seconds")})
            time.sleep(3)
        for i in range(args.canaries):
            canary = ["-e", "blue_green_strategy=canary", "-e", f"blue_green_canary_pause={args.canary_pause}"]
            bad_env = ["-e", json.dumps({"blue_green_env": {"APP_FAIL_AFTER_REQUESTS": str(args.fail_after)}})]
            for name, version, extra in (("ours-canary", f"c{i + 1}", []), ("ours-canary-bad", f"cbad{i + 1}", bad_env)):
                say(f"{name} {version}")
                rc, t0, t1 = play("-i", str(INV), "playbooks/deploy.yml", "-e", f"blue_green_version={version}",
                                  *canary, *extra, check=False)
                last = lb_state()["history"][-1]
                ops.append({"name": name, "approach": "ours", "rc": rc, "t_start": t0, "t_end": t1,
                            "from_version": live, "to_version": version, "result": last.get("result"),
                            "reason": last.get("reason"), "switch_started": last.get("switch_started", t0),
                            "switch_seconds": last.get("switch_seconds")})
                time.sleep(3)
                if name == "ours-canary":
                    say(f"ours-rollback {version} -> {live}")
                    play("-i", str(INV), "playbooks/rollback.yml", check=False)
                    time.sleep(3)
        colors = ["green", "blue"]
        n = 0
        for mode in ("reload", "restart"):
            for _i in range(args.diy):
                n += 1
                to, frm = colors[(n - 1) % 2], colors[n % 2]
                version = f"d{n}"
                say(f"diy-{mode} {version} -> {to}")
                rc, t0, t1 = play("-i", str(INV), str(HERE / "diy.yml"), "-e", f"diy_to={to}", "-e", f"diy_from={frm}",
                                  "-e", f"diy_version={version}", "-e", f"diy_mode={mode}", check=False)
                ops.append({"name": f"diy-{mode}", "approach": "diy", "rc": rc, "t_start": t0, "t_end": t1,
                            "from_version": live, "to_version": version, "switch_seconds": None})
                live = version
                time.sleep(3)
    finally:
        STOP.touch()
        load.wait(timeout=60)
        STOP.unlink(missing_ok=True)

    rows = []
    with (OUT / "load.csv").open() as fh:
        for start, lat, mode, kind, status, version, err in csv.reader(fh):
            rows.append({"start": float(start), "lat": float(lat), "mode": mode, "kind": kind, "status": int(status),
                         "version": version, "err": err})
    result = analyse(rows, ops, steady)
    result["cycles"] = sum(1 for o in ops if o["name"] == "ours-rollback")
    result["cut_short"] = cut_short
    result["load_pause_s"] = args.pause
    result["operations"] = [{k: v for k, v in o.items() if k != "requests"} for o in ops]
    suite = os.environ.get("SEED_FLEET_SUITE") or "bookworm"
    result["suite"] = suite
    result["haproxy_version"] = subprocess.run(["docker", "exec", "seed-bench-lb", "haproxy", "-v"], capture_output=True,
                                               text=True, check=False).stdout.split("\n", 1)[0].strip()
    result["command"] = "%spython3 benchmarks/cutover/run.py --deploys %d --diy %d%s" % (
        "" if suite == "bookworm" else "SEED_FLEET_SUITE=%s " % suite, args.deploys, args.diy,
        " --bad-releases %d --fail-after %d" % (args.bad_releases, args.fail_after) if args.bad_releases else "") + (
        " --canaries %d --canary-pause %d --fail-after %d" % (args.canaries, args.canary_pause, args.fail_after)
        if args.canaries else "") + (
        " --max-seconds %d" % args.max_seconds if args.max_seconds != 2400 else "") + (
        " --pause %s" % args.pause if args.pause != 0.01 else "")
    (OUT / "result.json").write_text(json.dumps(result, indent=2))
    if PLOT_PY.exists():
        subprocess.call([str(PLOT_PY), str(HERE / "plot.py"), str(OUT)])
    else:
        say(f"no PNG: create {PLOT_PY.parent.parent} with matplotlib (see README)")
    if not args.keep:
        play(str(HERE / "up.yml"), "-e", "bench_state=absent", check=False)
    print(json.dumps({k: v for k, v in result.items() if k != "operations"}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
