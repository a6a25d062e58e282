"""Draw .cache/bench/cutover/timeline.png from load.csv and result.json (needs matplotlib)."""
import csv
import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

out = Path(sys.argv[1])
result = json.loads((out / "result.json").read_text())
rows = list(csv.reader((out / "load.csv").open()))
t0 = min(float(r[0]) for r in rows)
fig, (ax, ax2) = plt.subplots(2, 1, figsize=(16, 8), sharex=True, gridspec_kw={"height_ratios": [3, 1]})
for (mode, kind), color in {("ka", "fast"): "tab:blue", ("close", "fast"): "tab:orange",
                            ("ka", "slow"): "tab:gray", ("close", "slow"): "silver"}.items():
    pts = [(float(r[0]) - t0, float(r[1]) * 1000) for r in rows if r[2] == mode and r[3] == kind and r[4].startswith("2")]
    ax.scatter([p[0] for p in pts], [p[1] for p in pts], s=1, c=color, label=f"{mode}/{kind}", alpha=0.5)
bad = [(float(r[0]) - t0, max(float(r[1]) * 1000, 1)) for r in rows if not r[4].startswith("2")]
ax.scatter([b[0] for b in bad], [b[1] for b in bad], s=12, c="red", marker="x", label="failed")
ax.set_yscale("log")
ax.set_ylabel("latency (ms)")
styles = {"ours-deploy": ("green", "-"), "ours-rollback": ("purple", "-"), "diy-reload": ("red", "--"),
          "diy-restart": ("black", "--")}
seen = set()
for op in result["operations"]:
    color, style = styles[op["name"]]
    x = op.get("t_switch", op["t_start"]) - t0
    for a in (ax, ax2):
        a.axvline(x, color=color, linestyle=style, linewidth=1,
                  label=op["name"] if (a is ax and op["name"] not in seen) else None)
    seen.add(op["name"])
buckets = {}
for r in rows:
    if not r[4].startswith("2"):
        sec = int(float(r[0]) - t0)
        buckets[sec] = buckets.get(sec, 0) + 1
ax2.bar(list(buckets), list(buckets.values()), width=1, color="red")
ax2.set_ylabel("failed / s")
ax2.set_xlabel("seconds since load start")
ax.legend(loc="upper left", fontsize=7, ncol=4, markerscale=6)
ax.set_title("seed.fleet cutover benchmark: latency and failures; vertical lines = switch moments")
fig.tight_layout()
fig.savefig(out / "timeline.png", dpi=90)
print(f"[bench] wrote {out / 'timeline.png'}")
