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
          "diy-restart": ("black", "--"), "ours-bad-release": ("darkorange", ":"), "ours-canary": ("teal", "-."),
          "ours-canary-bad": ("brown", ":")}
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

# Bad releases, close up: answers per 20 ms from 1 s before the switch to 3 s after it, by version.
bad_ops = [op for op in result["operations"] if op["name"] == "ours-bad-release"]
if bad_ops:
    fig, axes = plt.subplots(len(bad_ops), 1, figsize=(12, 2.2 * len(bad_ops)), sharex=True, squeeze=False)
    for ax, op in zip([a[0] for a in axes], bad_ops):
        t_switch = op.get("t_switch", op["t_start"])
        kinds = {"old version": ([], "tab:blue"), "bad release (200)": ([], "darkorange"), "failed": ([], "red")}
        for r in rows:
            x = float(r[0]) - t_switch
            if -1.0 <= x <= 3.0:
                key = "failed" if not r[4].startswith("2") else (
                    "bad release (200)" if r[5] == op["to_version"] else "old version")
                kinds[key][0].append(x)
        bins = [i * 0.02 - 1.0 for i in range(201)]
        for label, (xs, color) in kinds.items():
            ax.hist(xs, bins=bins, color=color, alpha=0.7, label=label)
        ax.axvline(0, color="black", linewidth=0.8)
        ax.set_ylabel("answers / 20 ms", fontsize=7)
        ax.set_title("%s: %d failed over %.3f s" % (op["to_version"], op.get("failed", 0), op.get("errors_span_s", 0)),
                     fontsize=8, loc="left")
    axes[0][0].legend(fontsize=7, loc="upper right")
    axes[-1][0].set_xlabel("seconds since the first answer of the bad release")
    fig.suptitle("A release that turns bad after the switch: the watch (armed before the switch) falls back", fontsize=9)
    fig.tight_layout()
    fig.savefig(out / "bad-release.png", dpi=90)
    print(f"[bench] wrote {out / 'bad-release.png'}")
