"""Bounded HTTP load against a floating address, with a timeline, for failover measurements.

Used by molecule/lb_ha (which asserts the goals) and benchmarks/failover/run.py (which
prints JSON). Every request is a new connection (Connection: close) so that each one
meets the address wherever it is at that moment; the load is bounded by `seconds`,
`workers` and a pause between requests.
"""
from __future__ import annotations

import http.client
import threading
import time
from collections import Counter


class Load:
    """`workers` threads send GET `path` to `host`:`port` for `seconds` seconds."""

    def __init__(self, host: str, port: int = 80, seconds: float = 10.0, workers: int = 8,
                 timeout: float = 2.0, pause: float = 0.005, path: str = "/"):
        assert seconds <= 120 and workers <= 32, "bounded load only"
        self.host, self.port, self.seconds, self.workers = host, port, seconds, workers
        self.timeout, self.pause, self.path = timeout, pause, path
        self.events: list[tuple[float, float, bool, str]] = []  # (start, end, ok, detail)
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self.started = 0.0
        self.end = 0.0

    def _worker(self) -> None:
        while time.time() < self.end:
            t0 = time.time()
            ok, detail = False, ""
            try:
                conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
                conn.request("GET", self.path, headers={"Connection": "close"})
                resp = conn.getresponse()
                body = resp.read()
                conn.close()
                ok = resp.status == 200
                detail = "%d %s" % (resp.status, body.decode(errors="replace").strip()[:80])
            except Exception as exc:  # noqa: BLE001 - every failure counts, whatever it is
                detail = type(exc).__name__
            with self._lock:
                self.events.append((t0, time.time(), ok, detail))
            time.sleep(self.pause)

    def start(self) -> "Load":
        self.started = time.time()
        self.end = self.started + self.seconds
        self._threads = [threading.Thread(target=self._worker, daemon=True)
                         for _i in range(self.workers)]
        for thread in self._threads:
            thread.start()
        return self

    def stop(self, after: float = 0.0) -> "Load":
        """End the load `after` seconds from now (never later than its bound), then wait for it."""
        self.end = min(self.end, time.time() + after)
        return self.wait()

    def wait(self) -> "Load":
        for thread in self._threads:
            thread.join(self.seconds + self.timeout + 5)
        return self

    def summary(self, fault_at: float | None = None) -> dict:
        """Totals, failed requests, the failure window and the longest stretch without a success.

        A request fails on an error, a timeout or a status other than 200.
        """
        events = sorted(self.events)
        ok = [e for e in events if e[2]]
        failed = [e for e in events if not e[2]]
        ends = sorted(e[1] for e in ok)
        gap, gap_from = 0.0, None
        for a, b in zip(ends, ends[1:]):
            if b - a > gap:
                gap, gap_from = b - a, a
        out = {
            "requests": len(events),
            "ok": len(ok),
            "failed": len(failed),
            # from the start of the first failed request to the start of the last one
            "failed_window_s": round(failed[-1][0] - failed[0][0], 3) if failed else 0.0,
            "longest_without_success_s": round(gap, 3),
            "errors": sorted(set(e[3] for e in failed))[:5],
            # failed requests by kind: the exception's name or the HTTP status
            "failed_by": dict(Counter(e[3].split(" ", 1)[0] for e in failed)),
            "bodies": sorted(set(e[3].split(" ", 1)[1].split(" host=")[0] for e in ok if " " in e[3]))[:5],
        }
        if fault_at is not None and ok:
            after = [e[1] for e in ok if e[0] >= fault_at]
            first_fail_after = [e[0] for e in failed if e[1] >= fault_at]
            # recovery: from the fault to the first answer of a request started after the last failed one
            last_fail = failed[-1][0] if failed else fault_at
            recovered = [e[1] for e in ok if e[0] >= last_fail]
            out["recovery_s"] = round((recovered[0] if recovered else float("nan")) - fault_at, 3) if failed else 0.0
            # outage: what clients saw, from the start of the first failed request after the fault to
            # that first answer (recovery_s also counts the time the fault command took to bite)
            out["outage_s"] = (round((recovered[0] if recovered else float("nan")) - first_fail_after[0], 3)
                               if first_fail_after else 0.0)
            out["ok_after_fault"] = len(after)
            out["first_failure_after_fault_s"] = round(first_fail_after[0] - fault_at, 3) if first_fail_after else None
        return out
