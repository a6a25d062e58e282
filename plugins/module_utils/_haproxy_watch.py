# -*- coding: utf-8 -*-
# Copyright (c) seed.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Watch servers of an HAProxy backend after a switch and fall back at the first breach
(private module_utils of seed.fleet.haproxy_watch).

A bad release that passed the health gate shows itself in HAProxy before anywhere else:
5xx answers, connection or response errors and failed checks on the new servers'
counters, and the servers marked DOWN by their health checks. ``watch()`` reads ``show stat`` every
``interval`` seconds for ``seconds`` and, on the first sample that breaches a limit,
puts the fallback servers (the colour the switch drained) back to ready and the watched
servers into maint, in the same process, before it returns: the time from the breach to
the fall-back is one poll interval plus two runtime commands, not an Ansible round trip.

With ``wait_switch`` the watch is armed before the switch (blue_green starts it as an async
task): it takes its baseline, waits for the watched servers to turn ready and starts the
window then, so the first bad answer after the switch is seen within one interval instead of
after the Ansible task that would otherwise start the watch.

A canary step watches a share of the traffic: ``max_error_ratio`` judges the errors against the
requests the watched servers got, and ``min_requests`` asks for enough of them to judge at all. Too
few by the end of the window is its own verdict, never a pass: the watch holds for up to
``hold_seconds`` more while traffic comes, then falls back like at a breach.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math
import time

from ansible_collections.seed.fleet.plugins.module_utils._haproxy_runtime import (
    PlanError,
    RuntimeAPIError,
    RuntimeClient,
    check_name,
    parse_stat,
)

# Per-server counters that mean a user got an error from (or because of) that server, and
# health checks that failed while the server was up (the check sees a bad release too).
ERROR_COUNTERS = ("hrsp_5xx", "eresp", "econ", "chkfail")
MIN_INTERVAL = 0.05
# How often the watch looks for the switch it waits for (wait_switch): cheap, and the window starts with it.
SWITCH_POLL = 0.05
MAX_SECONDS = 3600


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def sample(client, backend):
    """name -> {"status": str, "errors": int} for every server of the backend."""
    reply = client.execute("show stat %s 4 -1" % backend)
    if not reply.startswith("# pxname"):
        raise RuntimeAPIError("show stat %s: %s" % (backend, reply.strip()[:200] or "empty reply"))
    out = {}
    for row in parse_stat(reply):
        if row.get("pxname") == backend and row.get("svname") not in ("FRONTEND", "BACKEND"):
            out[row["svname"]] = {"status": row.get("status") or "",
                                  "errors": sum(_int(row.get(c)) for c in ERROR_COUNTERS),
                                  "requests": _int(row.get("stot"))}
    return out


def is_down(status):
    """Not serving: DOWN (also 'DOWN 1/2', checks passing again but not yet up), MAINT of any kind, NOLB.
    'UP 1/3' (checks failing, not yet down), UP, DRAIN and 'no check' still serve."""
    return status.split(" ", 1)[0] in ("DOWN", "MAINT", "NOLB")


def validate(params):
    """The request as numbers and names, or PlanError naming what is wrong."""
    check_name("backend", params["backend"])
    servers = list(params.get("servers") or [])
    fallback = list(params.get("fallback") or [])
    if not servers:
        raise PlanError("servers must name at least one server to watch")
    for name in servers + fallback:
        check_name("server", name)
    both = sorted(set(servers) & set(fallback))
    if both:
        raise PlanError("a server cannot be watched and be the fallback: %s" % ", ".join(both))
    seconds, interval = float(params["seconds"]), float(params["interval"])
    if not math.isfinite(seconds) or not 0 <= seconds <= MAX_SECONDS:
        raise PlanError("seconds must be between 0 and %d, got %s" % (MAX_SECONDS, params["seconds"]))
    if not math.isfinite(interval) or not MIN_INTERVAL <= interval <= 60:
        raise PlanError("interval must be between %s and 60 seconds, got %s" % (MIN_INTERVAL, params["interval"]))
    if params["max_errors"] < 0 or params["max_down"] < 0:
        raise PlanError("max_errors and max_down must be 0 or more")
    wait_switch = float(params.get("wait_switch") or 0)
    if not math.isfinite(wait_switch) or not 0 <= wait_switch <= MAX_SECONDS:
        raise PlanError("wait_switch must be between 0 and %d, got %s" % (MAX_SECONDS, params.get("wait_switch")))
    ratio = params.get("max_error_ratio")
    if ratio is not None and (not math.isfinite(float(ratio)) or not 0 <= float(ratio) <= 1):
        raise PlanError("max_error_ratio must be between 0 and 1, got %s" % ratio)
    if (params.get("min_requests") or 0) < 0:
        raise PlanError("min_requests must be 0 or more")
    hold = float(params.get("hold_seconds") or 0)
    if not math.isfinite(hold) or not 0 <= hold <= MAX_SECONDS:
        raise PlanError("hold_seconds must be between 0 and %d, got %s" % (MAX_SECONDS, params.get("hold_seconds")))
    return servers, fallback, seconds, interval, wait_switch


def serving(states, names):
    """The servers of ``names`` that the runtime API does not hold in maint (ready or drain)."""
    return [s for s in names if states[s]["state"] != "maint"]


def wait_for_switch(client, backend, servers, timeout, clock, sleep):
    """Wait until every watched server is ready (the switch happened): None, or why the watch stops.

    A watched server put into maint meanwhile means the caller gave the switch up (its rescue took
    the new color out): ("abandoned", reason). No switch within ``timeout``: ("timeout", reason).
    """
    deadline = clock() + timeout
    while True:
        states = client.servers(backend)
        if all(states[s]["state"] == "ready" for s in servers):
            return None
        quit_ = [s for s in servers if states[s]["state"] == "maint"]
        if quit_:
            return "abandoned", "the switch was given up (%s in maint before it happened)" % ", ".join(quit_)
        if clock() >= deadline:
            waiting = ["%s %s" % (s, states[s]["state"]) for s in servers if states[s]["state"] != "ready"]
            return "timeout", "no switch within %s s (%s)" % (timeout, ", ".join(waiting))
        sleep(SWITCH_POLL)


def verdict(first, now, servers, limits):
    """(reason or None, errors and requests since the first sample, watched servers down) for one sample.

    ``limits``: max_errors, max_down and, optionally, max_error_ratio (errors per request, judged once
    the watched servers had a request).
    """
    errors = sum(max(0, now[s]["errors"] - first[s]["errors"]) for s in servers)
    requests = sum(max(0, now[s]["requests"] - first[s]["requests"]) for s in servers)
    down = [s for s in servers if is_down(now[s]["status"])]
    ratio = limits.get("max_error_ratio")
    if errors > limits["max_errors"]:
        return ("%d error(s) on the watched servers (5xx, response, connection errors, failed checks; max %d)"
                % (errors, limits["max_errors"])), errors, requests, down
    if ratio is not None and requests and float(errors) / requests > float(ratio):
        return ("%d error(s) in %d request(s) on the watched servers (%.1f %%; max %.1f %%)"
                % (errors, requests, 100.0 * errors / requests, 100.0 * float(ratio))), errors, requests, down
    if len(down) > limits["max_down"]:
        return ("%d watched server(s) not serving (%s; max %d)"
                % (len(down), ", ".join("%s %s" % (s, now[s]["status"]) for s in down), limits["max_down"])), \
            errors, requests, down
    return None, errors, requests, down


def watch(params, check_mode=False, client=None, clock=time.monotonic, sleep=time.sleep):
    """Run the watch; returns (ok, result) in the shape the module exits with."""
    backend = params["backend"]
    result = {"changed": False, "backend": backend, "breached": False, "reverted": False, "commands": [],
              "errors": 0, "requests": 0, "insufficient": False, "down": [], "samples": 0, "watched_seconds": 0.0}
    try:
        servers, fallback, seconds, interval, wait_switch = validate(params)
        client = client or RuntimeClient(params["socket"], params["timeout"])
        # The baseline: errors the watched servers had before this sample are not theirs to answer for.
        first = sample(client, backend)
        missing = [s for s in servers + fallback if s not in first]
        if missing:
            raise PlanError("not a server of backend %s: %s" % (backend, ", ".join(missing)))
        result["fallback"] = serving(client.servers(backend), fallback)
        result["samples"] = 1
        result["switched"] = not wait_switch
        if check_mode:
            return True, result
        if wait_switch:
            stop = wait_for_switch(client, backend, servers, wait_switch, clock, sleep)
            if stop:
                result["msg"] = stop[1]
                return stop[0] == "abandoned", result
            result["switched"] = True
        start = clock()
        now = first
        limits = {"max_errors": params["max_errors"], "max_down": params["max_down"],
                  "max_error_ratio": params.get("max_error_ratio")}
        wanted = params.get("min_requests") or 0
        # The window, then (too few requests to judge) up to hold_seconds more while traffic comes.
        held = seconds + float(params.get("hold_seconds") or 0)
        reason, errors, requests, down = verdict(first, now, servers, limits)
        while reason is None:
            elapsed = clock() - start
            end = seconds if elapsed < seconds or requests >= wanted else held
            if elapsed >= end:
                break
            sleep(min(interval, end - elapsed))
            now = sample(client, backend)
            result["samples"] += 1
            reason, errors, requests, down = verdict(first, now, servers, limits)
        result.update(errors=errors, requests=requests, down=down, watched_seconds=round(clock() - start, 3))
        if reason is None and requests < wanted:
            result["insufficient"] = True
            reason = "not enough traffic to judge: %d of %d request(s) in %.1f s" % (
                requests, wanted, result["watched_seconds"])
        if reason is None:
            return True, result
        result.update(breached=True, reason=reason)
        # Fall back to the fallback servers that serve now: the drained ones (what the switch did to the
        # old colour) go ready; one in maint stays there (it was out before the switch).
        states = client.servers(backend)
        back = serving(states, fallback)
        result["fallback"] = back
        if back:
            # The old colour first (never a moment with fewer servers ready), then the new one out.
            commands = (["set server %s/%s state ready" % (backend, s) for s in back if states[s]["state"] == "drain"]
                        + ["set server %s/%s state maint" % (backend, s) for s in servers])
            for command in commands:
                client.command(command)
                result["commands"].append(command)
            result.update(changed=True, reverted=True)
        result["msg"] = "%s after %.1f s of %s s%s" % (
            reason, result["watched_seconds"], params["seconds"],
            ": fell back to %s" % ", ".join(back) if back else ": no server to fall back to")
        return False, result
    except (PlanError, RuntimeAPIError) as exc:
        result["msg"] = str(exc)
        return False, result
