# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""seed.fleet.haproxy_watch against the fake HAProxy runtime API, with a fake clock."""
from __future__ import annotations

import json
import os
import shutil
import tempfile

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.seed.fleet.plugins.module_utils import _haproxy_watch as hw
from ansible_collections.seed.fleet.plugins.modules import haproxy_watch
from ansible_collections.seed.fleet.tests.unit.plugins.fake_haproxy import FDRAIN, FMAINT, Clock, FakeHAProxy

BACKENDS = {"be_demo": [("app1_blue", "127.0.0.1", 8081), ("app1_green", "127.0.0.1", 8082),
                        ("app2_blue", "127.0.0.2", 8081), ("app2_green", "127.0.0.2", 8082)]}
GREEN, BLUE = ["app1_green", "app2_green"], ["app1_blue", "app2_blue"]


@pytest.fixture()
def lb():
    """be_demo just switched to green: green ready, blue in drain."""
    tmp = tempfile.mkdtemp(prefix="hap", dir="/tmp")
    proxy = FakeHAProxy(BACKENDS).start(unix_path=os.path.join(tmp, "admin.sock"))
    for name in BLUE:
        proxy.server("be_demo", name).admin = FDRAIN
    yield proxy
    proxy.stop()
    shutil.rmtree(tmp, ignore_errors=True)


def params(lb, **kw):
    out = dict(socket=lb.unix_path, timeout=5.0, backend="be_demo", servers=GREEN, fallback=BLUE,
               seconds=10.0, interval=0.25, max_errors=0, max_down=0)
    out.update(kw)
    return out


def states(lb):
    return {name: info["admin"] & (FMAINT | FDRAIN) for name, info in lb.state("be_demo").items()}


def test_a_quiet_window_passes_and_sends_nothing(lb):
    clock = Clock()
    ok, out = hw.watch(params(lb), clock=clock, sleep=clock.sleep)
    assert ok and not out["breached"] and not out["changed"] and lb.writes == []
    assert out["samples"] == 41 and out["watched_seconds"] == 10.0 and out["fallback"] == BLUE
    assert max(clock.slept) <= 0.25


def test_the_first_5xx_falls_back_within_one_interval(lb):
    def bad_answer():
        lb.server("be_demo", "app2_green").hrsp_5xx += 1
    clock = Clock([(3.1, bad_answer)])
    ok, out = hw.watch(params(lb), clock=clock, sleep=clock.sleep)
    assert not ok and out["breached"] and out["reverted"] and out["changed"]
    assert 3.1 <= out["watched_seconds"] <= 3.1 + 0.25
    assert out["errors"] == 1 and "1 error(s)" in out["reason"] and "fell back to app1_blue, app2_blue" in out["msg"]
    # The old color ready first, then the new one out.
    assert lb.writes == ["set server be_demo/app1_blue state ready", "set server be_demo/app2_blue state ready",
                         "set server be_demo/app1_green state maint", "set server be_demo/app2_green state maint"]
    assert states(lb) == {"app1_blue": 0, "app2_blue": 0, "app1_green": FMAINT, "app2_green": FMAINT}


def test_errors_before_the_watch_do_not_count(lb):
    lb.server("be_demo", "app1_green").hrsp_5xx = 7
    lb.server("be_demo", "app1_blue").hrsp_5xx = 9
    clock = Clock()
    ok, out = hw.watch(params(lb, seconds=1.0), clock=clock, sleep=clock.sleep)
    assert ok and out["errors"] == 0


def test_errors_within_the_limit_pass(lb):
    def bad_answers():
        lb.server("be_demo", "app1_green").hrsp_5xx += 2
    clock = Clock([(1.0, bad_answers)])
    ok, out = hw.watch(params(lb, max_errors=2), clock=clock, sleep=clock.sleep)
    assert ok and out["errors"] == 2 and lb.writes == []


def test_errors_of_the_old_color_are_not_the_new_ones(lb):
    def old_errors():
        lb.server("be_demo", "app1_blue").hrsp_5xx += 5
    clock = Clock([(1.0, old_errors)])
    ok, out = hw.watch(params(lb), clock=clock, sleep=clock.sleep)
    assert ok and out["errors"] == 0


def test_a_server_going_down_is_a_breach_beyond_max_down(lb):
    def one_down():
        lb.server("be_demo", "app1_green").up = False

    def both_down():
        lb.server("be_demo", "app2_green").up = False
    clock = Clock([(2.0, one_down), (5.0, both_down)])
    ok, out = hw.watch(params(lb, max_down=1), clock=clock, sleep=clock.sleep)
    assert not ok and 5.0 <= out["watched_seconds"] <= 5.25
    assert out["down"] == GREEN and "2 watched server(s) not serving (app1_green DOWN, app2_green DOWN; max 1)" in out["reason"]


def test_one_down_within_max_down_is_reported(lb):
    lb.server("be_demo", "app2_green").up = False
    clock = Clock()
    ok, out = hw.watch(params(lb, max_down=1), clock=clock, sleep=clock.sleep)
    assert ok and out["down"] == ["app2_green"] and lb.writes == []


def test_a_fallback_server_in_maint_stays_there(lb):
    lb.server("be_demo", "app2_blue").admin = FMAINT
    lb.server("be_demo", "app1_green").hrsp_5xx = 0

    def bad():
        lb.server("be_demo", "app1_green").hrsp_5xx += 1
    clock = Clock([(0.5, bad)])
    ok, out = hw.watch(params(lb), clock=clock, sleep=clock.sleep)
    assert not ok and out["fallback"] == ["app1_blue"]
    assert lb.writes[0] == "set server be_demo/app1_blue state ready"
    assert "set server be_demo/app2_blue state ready" not in lb.writes


def test_without_fallback_a_breach_only_fails(lb):
    lb.server("be_demo", "app1_green").up = False
    clock = Clock()
    ok, out = hw.watch(params(lb, fallback=[]), clock=clock, sleep=clock.sleep)
    assert not ok and not out["reverted"] and lb.writes == [] and "no server to fall back to" in out["msg"]
    assert out["samples"] == 1  # breached at the first sample


def test_check_mode_reads_once_and_sends_nothing(lb):
    lb.server("be_demo", "app1_green").up = False
    clock = Clock()
    ok, out = hw.watch(params(lb), check_mode=True, clock=clock, sleep=clock.sleep)
    assert ok and out["samples"] == 1 and clock.slept == [] and lb.writes == [] and out["fallback"] == BLUE


def before_switch(lb):
    """be_demo before the switch: blue ready (live), green in drain (checked, no traffic)."""
    for name in BLUE:
        lb.server("be_demo", name).admin = 0
    for name in GREEN:
        lb.server("be_demo", name).admin = FDRAIN


def switch(lb):
    """What the one-write switch does: green ready first, then blue drained."""
    def go():
        for name in GREEN:
            lb.server("be_demo", name).admin = 0
        for name in BLUE:
            lb.server("be_demo", name).admin = FDRAIN
    return go


def test_armed_before_the_switch_the_window_starts_with_it(lb):
    before_switch(lb)
    lb.server("be_demo", "app1_green").hrsp_5xx = 3  # before the baseline: not the release's doing

    def bad_answer():
        lb.server("be_demo", "app1_green").hrsp_5xx += 1
    clock = Clock([(1.2, switch(lb)), (1.25, bad_answer)])
    ok, out = hw.watch(params(lb, wait_switch=30.0), clock=clock, sleep=clock.sleep)
    assert not ok and out["switched"] and out["breached"] and out["errors"] == 1
    # Seen within one interval of the bad answer, counted from the switch (1.2 s).
    assert out["watched_seconds"] <= 0.05 + 0.25
    assert out["fallback"] == BLUE and "fell back to app1_blue, app2_blue" in out["msg"]
    assert lb.writes == ["set server be_demo/app1_blue state ready", "set server be_demo/app2_blue state ready",
                         "set server be_demo/app1_green state maint", "set server be_demo/app2_green state maint"]
    # While waiting it looked often (the window must not start late) and sent nothing.
    assert max(clock.slept[:20]) <= hw.SWITCH_POLL


def test_armed_watch_passes_a_quiet_window_after_the_switch(lb):
    before_switch(lb)
    clock = Clock([(2.0, switch(lb))])
    ok, out = hw.watch(params(lb, wait_switch=30.0, seconds=5.0), clock=clock, sleep=clock.sleep)
    assert ok and out["switched"] and not out["breached"] and lb.writes == []
    assert out["watched_seconds"] == 5.0 and clock.now >= 7.0


def test_armed_watch_stops_quietly_when_the_switch_is_given_up(lb):
    before_switch(lb)

    def rescue():
        for name in GREEN:
            lb.server("be_demo", name).admin = FMAINT
    clock = Clock([(0.7, rescue)])
    ok, out = hw.watch(params(lb, wait_switch=30.0), clock=clock, sleep=clock.sleep)
    assert ok and not out["switched"] and not out["breached"] and lb.writes == []
    assert "switch was given up (app1_green, app2_green in maint" in out["msg"] and clock.now < 1.0


def test_armed_watch_fails_when_no_switch_comes(lb):
    before_switch(lb)
    clock = Clock()
    ok, out = hw.watch(params(lb, wait_switch=2.0), clock=clock, sleep=clock.sleep)
    assert not ok and not out["switched"] and lb.writes == []
    assert "no switch within 2.0 s (app1_green drain, app2_green drain)" in out["msg"]


def test_armed_watch_in_check_mode_does_not_wait(lb):
    before_switch(lb)
    clock = Clock()
    ok, out = hw.watch(params(lb, wait_switch=30.0), check_mode=True, clock=clock, sleep=clock.sleep)
    assert ok and clock.slept == [] and out["fallback"] == BLUE and lb.writes == []


@pytest.mark.parametrize("kw, message", [
    ({"servers": []}, "at least one server"),
    ({"servers": ["app1_green"], "fallback": ["app1_green"]}, "watched and be the fallback: app1_green"),
    ({"servers": ["app9_green"]}, "not a server of backend be_demo: app9_green"),
    ({"fallback": ["app1_blue", "nope"]}, "not a server of backend be_demo: nope"),
    ({"servers": ["a b"]}, "server"),
    ({"backend": "be_nope"}, "No such proxy"),
    ({"seconds": -1.0}, "seconds must be between 0 and 3600"),
    ({"seconds": float("nan")}, "seconds must be between"),
    ({"interval": 0.0}, "interval must be between 0.05 and 60"),
    ({"max_errors": -1}, "max_errors and max_down must be 0 or more"),
    ({"wait_switch": -1.0}, "wait_switch must be between 0 and 3600"),
    ({"wait_switch": float("inf")}, "wait_switch must be between"),
    ({"max_error_ratio": 1.5}, "max_error_ratio must be between 0 and 1"),
    ({"max_error_ratio": -0.1}, "max_error_ratio must be between 0 and 1"),
    ({"min_requests": -1}, "min_requests must be 0 or more"),
    ({"hold_seconds": -1.0}, "hold_seconds must be between 0 and 3600"),
])
def test_bad_input_sends_nothing(lb, kw, message):
    ok, out = hw.watch(params(lb, **kw), clock=Clock(), sleep=Clock().sleep)
    assert not ok and message in out["msg"] and lb.writes == []


def test_no_socket_is_a_clear_error(lb):
    ok, out = hw.watch(params(lb, socket="/nonexistent/admin.sock"), clock=Clock(), sleep=Clock().sleep)
    assert not ok and "does not exist" in out["msg"]


@pytest.mark.parametrize("status, down", [("UP", False), ("UP 1/3", False), ("DRAIN", False), ("no check", False),
                                          ("DOWN", True), ("DOWN 1/2", True), ("MAINT", True),
                                          ("MAINT (via be/x)", True), ("NOLB", True)])
def test_what_counts_as_not_serving(status, down):
    assert hw.is_down(status) is down


def run(capsys, check=False, **args):
    args["_ansible_check_mode"] = check
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exc:
            haproxy_watch.main()
    return exc.value.code, json.loads(capsys.readouterr().out)


def test_module_end_to_end(capsys, lb):
    rc, out = run(capsys, socket=lb.unix_path, backend="be_demo", servers=GREEN, fallback=BLUE, seconds=0.3,
                  interval=0.1)
    assert rc == 0 and out["changed"] is False and out["samples"] >= 3
    lb.server("be_demo", "app1_green").up = False
    rc, out = run(capsys, socket=lb.unix_path, backend="be_demo", servers=GREEN, fallback=BLUE, seconds=5, interval=0.1)
    assert rc == 1 and out["failed"] and out["reverted"] and out["changed"] and out["watched_seconds"] < 0.5


# --- a canary step: both colors ready, the watched one gets a share -------------------------------

@pytest.fixture()
def canary(lb):
    """be_demo in a canary step: green and blue both ready (blue holds most of the weight)."""
    for name in BLUE:
        lb.server("be_demo", name).admin = 0
    return lb


def traffic(lb, green=0, green_5xx=0):
    def go():
        for name in GREEN:
            lb.server("be_demo", name).stot += green
            lb.server("be_demo", name).hrsp_5xx += green_5xx
    return go


def test_a_canary_within_its_error_ratio_passes(canary):
    clock = Clock([(1.0, traffic(canary, green=100)), (2.0, traffic(canary, green=100, green_5xx=1))])
    ok, out = hw.watch(params(canary, seconds=5.0, max_errors=10, max_error_ratio=0.01, min_requests=50),
                       clock=clock, sleep=clock.sleep)
    assert ok, out
    assert out["requests"] == 400 and out["errors"] == 2 and canary.writes == []


def test_a_canary_over_its_error_ratio_falls_back_at_once(canary):
    clock = Clock([(1.0, traffic(canary, green=10)), (2.0, traffic(canary, green=5, green_5xx=1))])
    ok, out = hw.watch(params(canary, seconds=30.0, max_errors=10, max_error_ratio=0.01, min_requests=50),
                       clock=clock, sleep=clock.sleep)
    assert not ok and out["breached"] and out["reverted"]
    assert 2.0 <= out["watched_seconds"] <= 2.25
    assert "2 error(s) in 30 request(s) on the watched servers (6.7 %; max 1.0 %)" in out["reason"]
    # the old color was ready already: only the canary goes out
    assert canary.writes == ["set server be_demo/app1_green state maint", "set server be_demo/app2_green state maint"]


def test_too_little_traffic_is_never_a_pass(canary):
    clock = Clock([(1.0, traffic(canary, green=5))])
    ok, out = hw.watch(params(canary, seconds=5.0, max_error_ratio=0.01, min_requests=50),
                       clock=clock, sleep=clock.sleep)
    assert not ok and out["insufficient"] and out["reverted"]
    assert out["watched_seconds"] == 5.0
    assert "not enough traffic to judge: 10 of 50 request(s) in 5.0 s" in out["reason"]
    assert canary.writes == ["set server be_demo/app1_green state maint", "set server be_demo/app2_green state maint"]


def test_a_hold_waits_for_traffic_then_passes(canary):
    clock = Clock([(1.0, traffic(canary, green=5)), (12.0, traffic(canary, green=30))])
    ok, out = hw.watch(params(canary, seconds=5.0, max_error_ratio=0.01, min_requests=50, hold_seconds=60.0),
                       clock=clock, sleep=clock.sleep)
    assert ok and not out["insufficient"], out
    # held past the window until the requests came, not to the end of the hold
    assert 12.0 <= out["watched_seconds"] <= 12.25 and out["requests"] == 70


def test_a_hold_that_gets_no_traffic_falls_back_at_its_end(canary):
    clock = Clock([(1.0, traffic(canary, green=5))])
    ok, out = hw.watch(params(canary, seconds=5.0, max_error_ratio=0.01, min_requests=50, hold_seconds=20.0),
                       clock=clock, sleep=clock.sleep)
    assert not ok and out["insufficient"] and out["watched_seconds"] == 25.0


def test_module_takes_the_canary_options(capsys, canary):
    rc, out = run(capsys, socket=canary.unix_path, backend="be_demo", servers=GREEN, fallback=BLUE, seconds=0.3,
                  interval=0.1, min_requests=1)
    assert rc == 1 and out["insufficient"] and "not enough traffic to judge: 0 of 1" in out["msg"]
