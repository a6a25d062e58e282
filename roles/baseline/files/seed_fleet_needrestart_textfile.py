# -*- coding: utf-8 -*-
# Copyright (c) seed.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What needrestart finds, as metrics for node_exporter's textfile collector.

Installed by seed.fleet.baseline and run by seed-fleet-needrestart.service (its timer, and
apt's post-invoke hook). Runs `needrestart -b -r l` (batch output, list only: it never
restarts anything) and writes <dir>/seed_fleet_needrestart.prom atomically:

  seed_fleet_needrestart_services            services running outdated binaries or libraries
  seed_fleet_needrestart_service{unit=...}   1 for each of them
  seed_fleet_needrestart_kernel_status       needrestart's NEEDRESTART-KSTA (0 unknown, 1 current,
                                             2 ABI-compatible upgrade pending, 3 version upgrade pending);
                                             absent where needrestart skips the kernel (a container)
  seed_fleet_needrestart_last_run_timestamp_seconds
  seed_fleet_needrestart_success             0 when needrestart failed (the other values are then absent)
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

FILENAME = "seed_fleet_needrestart.prom"


def parse(output):
    """needrestart -b output -> {"services": [...], "kernel_status": int or None}."""
    services, kernel = [], None
    for line in output.splitlines():
        key, sep, value = line.partition(":")
        if not sep:
            continue
        key, value = key.strip(), value.strip()
        if key == "NEEDRESTART-SVC" and value:
            services.append(value)
        elif key == "NEEDRESTART-KSTA":
            try:
                kernel = int(value)
            except ValueError:
                kernel = None
    return {"services": sorted(set(services)), "kernel_status": kernel}


def _label(value):
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def render(found, now, success=True):
    """The textfile, Prometheus text format."""
    lines = [
        "# HELP seed_fleet_needrestart_success 1 when needrestart ran, 0 when it failed.",
        "# TYPE seed_fleet_needrestart_success gauge",
        "seed_fleet_needrestart_success %d" % (1 if success else 0),
        "# HELP seed_fleet_needrestart_last_run_timestamp_seconds When needrestart last ran.",
        "# TYPE seed_fleet_needrestart_last_run_timestamp_seconds gauge",
        "seed_fleet_needrestart_last_run_timestamp_seconds %d" % int(now),
    ]
    if not success:
        return "\n".join(lines) + "\n"
    lines += [
        "# HELP seed_fleet_needrestart_services Services running outdated binaries or libraries (restart them).",
        "# TYPE seed_fleet_needrestart_services gauge",
        "seed_fleet_needrestart_services %d" % len(found["services"]),
        "# HELP seed_fleet_needrestart_service A service that needs a restart.",
        "# TYPE seed_fleet_needrestart_service gauge",
    ]
    lines += ['seed_fleet_needrestart_service{unit="%s"} 1' % _label(unit) for unit in found["services"]]
    if found["kernel_status"] is not None:
        lines += [
            "# HELP seed_fleet_needrestart_kernel_status 0 unknown, 1 current, 2 ABI-compatible upgrade pending, "
            "3 version upgrade pending.",
            "# TYPE seed_fleet_needrestart_kernel_status gauge",
            "seed_fleet_needrestart_kernel_status %d" % found["kernel_status"],
        ]
    return "\n".join(lines) + "\n"


def write_atomically(directory, text):
    """Write <directory>/FILENAME through a temporary file: node_exporter never reads half a file."""
    fd, tmp = tempfile.mkstemp(prefix=".%s." % FILENAME, dir=directory)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, os.path.join(directory, FILENAME))
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", required=True, help="node_exporter's textfile directory")
    parser.add_argument("--command", default="needrestart -b -r l", help="the needrestart command line")
    args = parser.parse_args(argv)
    os.makedirs(args.dir, mode=0o755, exist_ok=True)
    try:
        proc = subprocess.run(args.command.split(), capture_output=True, text=True, timeout=300, check=False)
        success = proc.returncode == 0
        output = proc.stdout
    except (OSError, subprocess.TimeoutExpired) as exc:
        success, output = False, ""
        sys.stderr.write("needrestart did not run: %s\n" % exc)
    found = parse(output)
    write_atomically(args.dir, render(found, time.time(), success))
    print("needrestart: %s; %d service(s) to restart%s" % (
        "ran" if success else "FAILED", len(found["services"]),
        (": " + ", ".join(found["services"])) if found["services"] else ""))
    return 0 if success else 1


if __name__ == "__main__":
    sys.exit(main())
