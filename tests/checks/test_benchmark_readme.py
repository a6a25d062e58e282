"""The cutover benchmark's published numbers are the ones in its results file.

benchmarks/cutover/README.md (the results table, total requests, steady latencies, switch
times) and the "Zero-downtime, measured" table of the top-level README.md must match
benchmarks/cutover/results/result.json. A new run that commits result.json without the
READMEs (or the other way round) fails here: copy the numbers from the JSON.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
RESULT = REPO / "benchmarks" / "cutover" / "results" / "result.json"
# The same benchmark on Debian 13: its own section of benchmarks/cutover/README.md.
RESULT_TRIXIE = REPO / "benchmarks" / "cutover" / "results" / "trixie" / "result.json"
TRIXIE_HEADING = "## Results on Debian 13 (trixie)"
BENCH_README = REPO / "benchmarks" / "cutover" / "README.md"
TOP_README = REPO / "README.md"
BENCH_ROW = re.compile(
    r"^\| (?P<label>[^|]+?) \((?P<ops>\d+)\) \| (?P<mode>keep-alive|close) \| (?P<requests>[\d,]+) \| \**(?P<failed>\d+)\** "
    r"\| (?P<slow>\d+) / (?P<failed_slow>\d+) \| (?P<p50>[\d.]+) / (?P<p99>[\d.]+) \|$", re.M)
TOP_ROW = re.compile(r"^\| (?P<label>[^|]+?) ×(?P<ops>\d+) \| (?P<ka>[\d,]+) / \**(?P<ka_failed>\d+)\** "
                     r"\| (?P<close>[\d,]+) / \**(?P<close_failed>\d+)\** \|$", re.M)
LABELS = [("ours deploy", "ours-deploy"), ("ours rollback", "ours-rollback"), ("seed.fleet deploy", "ours-deploy"),
          ("seed.fleet rollback", "ours-rollback"), ("DIY reload", "diy-reload"), ("DIY:", "diy-reload"),
          ("DIY with `systemctl restart`", "diy-restart"), ("DIY restart", "diy-restart")]


def _approach(label: str) -> str:
    label = label.replace("*", "").strip()
    for prefix, name in LABELS:
        if label.startswith(prefix):
            return name
    raise AssertionError(f"unknown approach label {label!r}")


def _int(text: str) -> int:
    return int(text.replace(",", ""))


def _fmt(value: float, digits: int = 2) -> str:
    return f"{value:.{digits}f}"


def bench_problems(text: str, result: dict) -> list[str]:
    """Every published number of benchmarks/cutover/README.md that differs from result.json."""
    out = []
    ap = result["approaches"]
    rows = list(BENCH_ROW.finditer(text))
    seen = {(_approach(r["label"]), r["mode"]) for r in rows}
    wanted = {(name, mode) for name in ap for mode in ap[name]["modes"]}
    if seen != wanted:
        out.append(f"results table rows {sorted(seen)} != result.json {sorted(wanted)}")
    for r in rows:
        name, mode = _approach(r["label"]), r["mode"]
        if name not in ap or mode not in ap[name]["modes"]:
            continue
        got, entry = ap[name]["modes"][mode], ap[name]
        pairs = [("operations", int(r["ops"]), entry["operations"]), ("requests", _int(r["requests"]), got["requests"]),
                 ("failed", int(r["failed"]), got["failed"]), ("slow_requests", int(r["slow"]), got["slow_requests"]),
                 ("failed_slow", int(r["failed_slow"]), got["failed_slow"]),
                 ("p50_fast_during_switch_ms", float(r["p50"]), got["p50_fast_during_switch_ms"]),
                 ("p99_fast_during_switch_ms", float(r["p99"]), got["p99_fast_during_switch_ms"])]
        out += [f"{name} {mode} {field}: README {a} != result.json {b}" for field, a, b in pairs if a != b]
    total = re.search(r"([\d,]+) requests", text)
    if not total or _int(total.group(1)) != result["total_requests"]:
        out.append(f"total requests: README {total and total.group(1)} != result.json {result['total_requests']}")
    steady, quiet = result["steady"], result["steady_quiet_start"]
    sentence = (f"keep-alive {steady['ka']['p50_ms']} / {steady['ka']['p99_ms']} ms, close {steady['close']['p50_ms']} / "
                f"{steady['close']['p99_ms']} ms (quiet first 12 s: {quiet['ka']['p50_ms']} / {quiet['ka']['p99_ms']} and "
                f"{quiet['close']['p50_ms']} / {quiet['close']['p99_ms']} ms)")
    if sentence not in " ".join(text.split()):
        out.append(f"steady latencies: README lacks {sentence!r}")
    for name, word in (("ours-deploy", "deploys"), ("ours-rollback", "rollbacks")):
        sw = [o["switch_seconds"] for o in result["operations"] if o["name"] == name and o.get("switch_seconds") is not None]
        span = f"{_fmt(min(sw))}–{_fmt(max(sw))} s for {word}"
        if span not in " ".join(text.split()):
            out.append(f"switch times: README lacks {span!r}")
    return out


def top_problems(text: str, result: dict) -> list[str]:
    """The top-level README's benchmark table and headline numbers against result.json."""
    section = text.split("## Zero-downtime, measured", 1)[-1].split("\n## ", 1)[0]
    ap, out = result["approaches"], []
    rows = list(TOP_ROW.finditer(section))
    if {_approach(r["label"]) for r in rows} != set(ap):
        out.append(f"README.md table rows {[r['label'] for r in rows]} != result.json {sorted(ap)}")
    for r in rows:
        name = _approach(r["label"])
        if name not in ap:
            continue
        modes = ap[name]["modes"]
        pairs = [("operations", int(r["ops"]), ap[name]["operations"]),
                 ("keep-alive requests", _int(r["ka"]), modes["keep-alive"]["requests"]),
                 ("keep-alive failed", int(r["ka_failed"]), modes["keep-alive"]["failed"]),
                 ("close requests", _int(r["close"]), modes["close"]["requests"]),
                 ("close failed", int(r["close_failed"]), modes["close"]["failed"])]
        out += [f"README.md {name} {field}: {a} != result.json {b}" for field, a, b in pairs if a != b]
    flat = " ".join(section.split())
    ours = [ap["ours-deploy"], ap["ours-rollback"]]
    steady = result["steady"]
    needed = [
        f"{result['total_requests']:,} requests",
        f"at most {_fmt(ours[0]['call_to_last_old_fast_response_s_max'])} s (deploys) and "
        f"{_fmt(ours[1]['call_to_last_old_fast_response_s_max'])} s (rollbacks)",
        f"({ours[0]['modes']['keep-alive']['p99_fast_during_switch_ms']} ms vs {steady['ka']['p99_ms']} ms keep-alive, "
        f"{ours[0]['modes']['close']['p99_fast_during_switch_ms']} ms vs {steady['close']['p99_ms']} ms close)",
        f"({sum(m['failed_slow'] for a in ours for m in a['modes'].values())} of "
        f"{sum(m['slow_requests'] for a in ours for m in a['modes'].values())} failed)",
    ]
    out += [f"README.md lacks {n!r}" for n in needed if n not in flat]
    return out


@pytest.fixture(scope="module")
def result() -> dict:
    return json.loads(RESULT.read_text())


def test_benchmark_readme_matches_result(result):
    problems = bench_problems(BENCH_README.read_text().split(TRIXIE_HEADING, 1)[0], result)
    assert not problems, "benchmarks/cutover/README.md vs results/result.json:\n  " + "\n  ".join(problems)


def test_trixie_section_matches_trixie_result():
    text = BENCH_README.read_text()
    assert TRIXIE_HEADING in text
    trixie = json.loads(RESULT_TRIXIE.read_text())
    assert trixie["suite"] == "trixie" and "3.0." in trixie["haproxy_version"]
    problems = bench_problems(text.split(TRIXIE_HEADING, 1)[1].split("\n## ", 1)[0], trixie)
    assert not problems, "benchmarks/cutover/README.md (Debian 13) vs results/trixie/result.json:\n  " + "\n  ".join(problems)


def test_top_readme_matches_result(result):
    problems = top_problems(TOP_README.read_text(), result)
    assert not problems, "README.md (Zero-downtime, measured) vs benchmarks/cutover/results/result.json:\n  " + "\n  ".join(problems)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("| 70,138 | **0** |", "| 87,666 | **0** |"),
        ("| 96 | 70 / 37 |", "| 147 | 70 / 37 |"),
        ("1.6 / 18.0 |", "4.8 / 63.2 |"),
        ("272,540 requests", "310,068 requests"),
        ("0.19–0.37 s for deploys", "0.73–1.65 s for deploys"),
    ],
)
def test_drift_is_caught(result, old, new):
    """The check can fail: each planted stale number is reported."""
    text = BENCH_README.read_text().split(TRIXIE_HEADING, 1)[0]
    assert old in text
    assert not bench_problems(text, result)
    assert bench_problems(text.replace(old, new, 1), result)


def test_trixie_drift_is_caught():
    """The Debian 13 section is checked too: a stale number there is reported."""
    trixie = json.loads(RESULT_TRIXIE.read_text())
    section = BENCH_README.read_text().split(TRIXIE_HEADING, 1)[1]
    assert not bench_problems(section, trixie)
    assert "| 95,235 | **0** |" in section
    assert bench_problems(section.replace("| 95,235 | **0** |", "| 95,235 | **3** |", 1), trixie)


def test_top_drift_is_caught(result):
    text = TOP_README.read_text()
    assert "70,138 / **0**" in text
    assert top_problems(text.replace("70,138 / **0**", "87,666 / **0**", 1), result)


BAD_HEADING = "## A release that turns bad after the switch (issue 16)"
RESULT_BAD = REPO / "benchmarks" / "cutover" / "results" / "bad-release" / "result.json"
BAD_ROW = re.compile(r"^\| (?P<version>bad\d+) \| (?P<served>\d+) \| (?P<failed>\d+) \| (?P<span>[\d.]+) \|$", re.M)


def bad_release_problems(text: str, top: str, result: dict) -> list[str]:
    """The bad-release section of benchmarks/cutover/README.md and the top README's sentence against the JSON."""
    section = text.split(BAD_HEADING, 1)[-1].split("\n## ", 1)[0]
    ops = [o for o in result["operations"] if o["name"] == "ours-bad-release"]
    rows = [(r["version"], int(r["served"]), int(r["failed"]), r["span"]) for r in BAD_ROW.finditer(section)]
    want = [(o["to_version"], o["served_by_bad_release"], o["failed"], f"{o['errors_span_s']:.3f}") for o in ops]
    out = [f"rows {rows} != result.json {want}"] if rows != want else []
    b = result["bad_releases"]
    flat, top_flat = " ".join(section.split()), " ".join(top.split("## Zero-downtime, measured", 1)[-1].split("\n## ", 1)[0].split())
    for text_, where, needed in (
            (flat, "benchmarks/cutover/README.md", [f"{b['rolled_back']} of {b['operations']} rolled back",
                                                    f"{b['failed']} of {b['requests']:,} requests",
                                                    f"at most **{b['errors_span_s_max']:.3f} s**",
                                                    f"{result['total_requests']:,} requests", result["command"]]),
            (top_flat, "README.md", [f"{b['rolled_back']} of {b['operations']} rolled back",
                                     f"{b['failed']} of {b['requests']:,} requests",
                                     f"at most {b['errors_span_s_max']:.3f} s"])):
        out += [f"{where} lacks {n!r}" for n in needed if n not in text_]
    return out


def test_bad_release_section_matches_its_result():
    result = json.loads(RESULT_BAD.read_text())
    assert result["goals"] == {"bad_release_rolled_back_with_le_1s_of_errors": True}
    problems = bad_release_problems(BENCH_README.read_text(), TOP_README.read_text(), result)
    assert not problems, "bad-release numbers vs results/bad-release/result.json:\n  " + "\n  ".join(problems)


def test_bad_release_drift_is_caught():
    result = json.loads(RESULT_BAD.read_text())
    text = BENCH_README.read_text()
    row = next(BAD_ROW.finditer(text.split(BAD_HEADING, 1)[1]))
    drifted = text.replace(row.group(0), row.group(0).replace(f"| {row['failed']} |", f"| {int(row['failed']) + 1} |"))
    assert bad_release_problems(drifted, TOP_README.read_text(), result)


SOAK_HEADING = "## Soak: deploy and rollback cycles under load (issue 16)"
RESULT_SOAK = REPO / "benchmarks" / "cutover" / "results" / "soak" / "result.json"
SOAK_ROW = re.compile(r"^\| (?P<what>deploys|rollbacks) \| (?P<ops>\d+) \| (?P<ka>[\d,]+) / \**(?P<ka_failed>\d+)\** "
                      r"\| (?P<close>[\d,]+) / \**(?P<close_failed>\d+)\** \| (?P<slow>[\d,]+) / (?P<slow_failed>\d+) "
                      r"\| (?P<switch>[\d.]+) \|$", re.M)


def soak_problems(text: str, top: str, result: dict) -> list[str]:
    """The soak section of benchmarks/cutover/README.md and the top README's sentence against its JSON."""
    section = text.split(SOAK_HEADING, 1)[-1].split("\n## ", 1)[0]
    ap, out = result["approaches"], []
    rows = {r["what"]: r for r in SOAK_ROW.finditer(section)}
    if sorted(rows) != ["deploys", "rollbacks"]:
        out.append(f"soak table rows {sorted(rows)} != ['deploys', 'rollbacks']")
    for what, name in (("deploys", "ours-deploy"), ("rollbacks", "ours-rollback")):
        if what not in rows:
            continue
        r, entry = rows[what], ap[name]
        ka, close = entry["modes"]["keep-alive"], entry["modes"]["close"]
        pairs = [("operations", int(r["ops"]), entry["operations"]),
                 ("keep-alive requests", _int(r["ka"]), ka["requests"]), ("keep-alive failed", int(r["ka_failed"]), ka["failed"]),
                 ("close requests", _int(r["close"]), close["requests"]), ("close failed", int(r["close_failed"]), close["failed"]),
                 ("slow requests", _int(r["slow"]), ka["slow_requests"] + close["slow_requests"]),
                 ("slow failed", int(r["slow_failed"]), ka["failed_slow"] + close["failed_slow"]),
                 ("switch seconds max", r["switch"], _fmt(entry["switch_call_seconds_max"]))]
        out += [f"soak {what} {field}: README {a} != result.json {b}" for field, a, b in pairs if a != b]
    failed = sum(m["failed"] for name in ("ours-deploy", "ours-rollback") for m in ap[name]["modes"].values())
    flat = " ".join(section.split())
    top_flat = " ".join(top.split("## Zero-downtime, measured", 1)[-1].split("\n## ", 1)[0].split())
    sentence = f"{result['cycles']} deploy + rollback cycles"
    for text_, where, needed in (
            (flat, "benchmarks/cutover/README.md", [sentence, f"{result['total_requests']:,} requests",
                                                    f"{failed} failed", result["command"]]),
            (top_flat, "README.md", [sentence, f"{result['total_requests']:,} requests", f"{failed} failed"])):
        out += [f"{where} lacks {n!r}" for n in needed if n not in text_]
    return out


def test_soak_section_matches_its_result():
    result = json.loads(RESULT_SOAK.read_text())
    assert result["cycles"] >= 1 and result["approaches"]["ours-rollback"]["operations"] == result["cycles"]
    # issue 16: at least 100 deploy + rollback cycles, every request answered, every playbook successful
    assert result["cycles"] >= 100 and result["failed_requests"] == 0 and not result["cut_short"], \
        (result["cycles"], result["failed_requests"], result["cut_short"])
    assert {o["rc"] for o in result["operations"]} == {0}
    problems = soak_problems(BENCH_README.read_text(), TOP_README.read_text(), result)
    assert not problems, "soak numbers vs results/soak/result.json:\n  " + "\n  ".join(problems)


def test_soak_drift_is_caught():
    result = json.loads(RESULT_SOAK.read_text())
    text, top = BENCH_README.read_text(), TOP_README.read_text()
    row = next(SOAK_ROW.finditer(text.split(SOAK_HEADING, 1)[1]))
    drifted = text.replace(row.group(0), row.group(0).replace(f"| {row['ops']} |", f"| {int(row['ops']) + 1} |", 1))
    assert soak_problems(drifted, top, result)
    sentence = f"{result['cycles']} deploy + rollback cycles"
    assert soak_problems(text, top.replace(sentence, f"{result['cycles'] + 5} deploy + rollback cycles"), result)
