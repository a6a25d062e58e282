"""Two apps, one load balancer (issue 17): what one app's users see while the other app is
deployed, rolled back, and while the load balancer's certificate is rotated.

Needs the lab (`make lab`: apps demo and api from the catalogue, both over HTTPS on lb1,
published on 127.0.0.1:8443). A bounded load (at most --seconds, at most --max-requests,
--workers threads) sends GET / to https://api.lab.test:8443/ on 127.0.0.1, a new TLS
connection per request (SNI and Host api.lab.test, checked against the lab CA), and
records each answer's status, app and version. Meanwhile, in order:
  1. `lab.sh deploy <version> demo` and `lab.sh rollback demo` (the other app);
  2. a new certificate for the apps (same key, signed by the lab CA: .lab/tls/apps.pem),
     rolled out with `site.yml --tags load_balancer` (seed.fleet.haproxy_cert: runtime API,
     no reload); the HAProxy worker's PID before and after says whether it reloaded.
Prints JSON (also .cache/bench/app_isolation/result.json): requests, failed (errors or
non-200), answers from another app, api versions seen, per phase.

Usage: .venv/bin/python benchmarks/app_isolation/run.py [--version i1] [--seconds 900] [--workers 2]
Sends traffic to 127.0.0.1 only.
"""
from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import os
import socket
import ssl
import subprocess
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TLS = REPO / ".lab" / "tls"
OUT = REPO / ".cache" / "bench" / "app_isolation"
HOST = "api.lab.test"


class Load:
    """GET / over a new TLS connection each time, until stopped, --seconds or --max-requests."""

    def __init__(self, seconds: float, max_requests: int, workers: int):
        self.end, self.left, self.stopped = time.monotonic() + seconds, max_requests, threading.Event()
        self.lock, self.rows = threading.Lock(), []
        self.ctx = ssl.create_default_context(cafile=str(TLS / "ca.crt"))
        self.threads = [threading.Thread(target=self._run, daemon=True) for _worker in range(workers)]

    def _one(self) -> tuple:
        raw = socket.create_connection(("127.0.0.1", 8443), timeout=5)
        conn = http.client.HTTPSConnection(HOST, 8443, timeout=5, context=self.ctx)
        conn.sock = self.ctx.wrap_socket(raw, server_hostname=HOST)
        cert = hashlib.sha1(conn.sock.getpeercert(binary_form=True)).hexdigest()[:12]
        try:
            conn.request("GET", "/", headers={"Host": HOST, "Connection": "close"})
            resp = conn.getresponse()
            body = resp.read().decode(errors="replace")
            fields = dict(part.split("=", 1) for part in body.split() if "=" in part)
            return resp.status, fields.get("app", "-"), fields.get("version", "-"), cert
        finally:
            conn.close()

    def _run(self) -> None:
        while not self.stopped.is_set() and time.monotonic() < self.end:
            with self.lock:
                if self.left <= 0:
                    return
                self.left -= 1
            t = time.time()
            try:
                row = (t,) + self._one()
            except (OSError, ssl.SSLError, http.client.HTTPException) as exc:
                row = (t, "ERR:" + type(exc).__name__, "-", "-", "-")
            with self.lock:
                self.rows.append(row)
            time.sleep(0.01)

    def start(self) -> "Load":
        for thread in self.threads:
            thread.start()
        return self

    def stop(self) -> list:
        self.stopped.set()
        for thread in self.threads:
            thread.join(10)
        return list(self.rows)


def lab(*args: str) -> float:
    t = time.time()
    subprocess.run(["bash", "lab/lab.sh", *args], cwd=REPO, check=True, stdout=subprocess.DEVNULL,
                   env=dict(os.environ, ANSIBLE_FORCE_COLOR="0", PATH="%s:%s" % (REPO / ".venv" / "bin", os.environ["PATH"])))
    return t


def haproxy_workers() -> list:
    main = subprocess.run(["docker", "exec", "seed-lab-lb1", "systemctl", "show", "-p", "MainPID", "--value", "haproxy"],
                          capture_output=True, text=True, check=True).stdout.strip()
    return subprocess.run(["docker", "exec", "seed-lab-lb1", "pgrep", "-P", main], capture_output=True, text=True,
                          check=False).stdout.split()


def reissue() -> None:
    """A new certificate for the apps' key (new serial), signed by the lab CA."""
    names = "subjectAltName=DNS:lab.test,DNS:api.lab.test,DNS:localhost"
    subprocess.run(["openssl", "x509", "-req", "-in", str(TLS / "apps.csr"), "-CA", str(TLS / "ca.crt"),
                    "-CAkey", str(TLS / "ca.key"), "-CAcreateserial", "-days", "90", "-out", str(TLS / "apps.crt"),
                    "-extfile", "/dev/stdin"], input=names + "\nextendedKeyUsage=serverAuth\n", text=True,
                   check=True, capture_output=True)
    (TLS / "apps.pem").write_text((TLS / "apps.crt").read_text() + (TLS / "apps.key").read_text())


def summary(rows: list, t0: float, t1: float) -> dict:
    part = [r for r in rows if t0 <= r[0] < t1]
    return {"requests": len(part),
            "failed": sum(1 for r in part if r[1] != 200),
            "other_app": sum(1 for r in part if r[1] == 200 and r[2] != "api"),
            "api_versions": sorted({r[3] for r in part if r[2] == "api"}),
            "certificates_seen": sorted({r[4] for r in part if r[4] != "-"}),
            "errors": sorted({str(r[1]) for r in part if r[1] != 200})[:5],
            "seconds": round(t1 - t0, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", default="i1", help="version of demo to deploy (then rolled back)")
    parser.add_argument("--seconds", type=float, default=900, help="the load stops after this at the latest")
    parser.add_argument("--max-requests", type=int, default=200000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    t_start = time.time()
    load = Load(args.seconds, args.max_requests, args.workers).start()
    time.sleep(3)
    t_deploy = lab("deploy", args.version, "demo")
    t_rollback = lab("rollback", "demo")
    t_cert = time.time()
    workers_before = haproxy_workers()
    reissue()
    subprocess.run([str(REPO / ".venv" / "bin" / "ansible-playbook"), "-i", "inventories/lab", "playbooks/site.yml",
                    "--tags", "load_balancer"], cwd=REPO, check=True, stdout=subprocess.DEVNULL,
                   env=dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg")))
    time.sleep(3)
    workers_after = haproxy_workers()
    t_end = time.time()
    rows = load.stop()
    result = {
        "deploy_of_demo": summary(rows, t_deploy, t_rollback),
        "rollback_of_demo": summary(rows, t_rollback, t_cert),
        "certificate_rotation": dict(summary(rows, t_cert, t_end), haproxy_reloaded=workers_before != workers_after),
        "whole_run": summary(rows, t_start, t_end),
        "workers": args.workers,
        "suite": subprocess.run(["docker", "exec", "seed-lab-lb1", "sh", "-c", ". /etc/os-release; echo $VERSION_CODENAME"],
                                capture_output=True, text=True, check=False).stdout.strip(),
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "result.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
