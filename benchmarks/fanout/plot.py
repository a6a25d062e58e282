"""Draw the fan-out benchmark's PNG from its result.json (needs matplotlib: see README).

Left: T(N)/T(smallest N) per run against the number of app hosts N (the dotted line is
linear growth: hosts(N)/hosts(smallest)). Right: CPU-seconds per host (controller + targets).

Usage: plot.py RESULT_JSON OUT_PNG
"""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

result = json.loads(open(sys.argv[1], encoding="utf-8").read())
summary = result["summary"]
fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.8))
styles = {"site-cold": ("tab:blue", "o"), "site-warm": ("tab:green", "s"), "deploy": ("tab:purple", "^")}
for name, (color, marker) in styles.items():
    rows = [r for r in summary.get(name, []) if r.get("t_ratio") is not None]
    if not rows:
        continue
    n = [r["apps"] for r in rows]
    left.plot(n, [r["t_ratio"] for r in rows], marker=marker, color=color, label=name)
    right.plot(n, [r["cpu_s_per_host"] for r in rows], marker=marker, color=color, label=name)
rows = summary.get("site-cold", [])
if rows:
    left.plot([r["apps"] for r in rows], [r["hosts"] / rows[0]["hosts"] for r in rows], ":", color="gray",
              label="hosts(N) / hosts(base)")
base = summary.get("ratio_base_apps")
left.set_xlabel("app hosts N (fleet = N + lb1 + mon1)")
left.set_ylabel(f"T(N) / T({base})")
left.set_title("wall time relative to the smallest fleet")
right.set_xlabel("app hosts N")
right.set_ylabel("CPU-s per host (controller + targets)")
right.set_title("CPU per host per run")
right.set_ylim(bottom=0)
for ax in (left, right):
    ax.set_xticks(sorted({r["apps"] for rows in summary.values() if isinstance(rows, list) for r in rows}))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
label = "smoke run, " if "smoke" in (result.get("note") or "").lower() else ""
fig.suptitle(f"seed.fleet fan-out ({label}{result['suite']}, forks {result['forks']}, "
             f"{result['machine']['cpus']} cores, started {result['started']})", fontsize=10)
fig.tight_layout()
fig.savefig(sys.argv[2], dpi=90)
print(f"[fanout] wrote {sys.argv[2]}", file=sys.stderr)
