"""`make test`'s summary says where each scenario's time went (tests/run_all.py where_time_went):
seconds per Molecule phase from the stamped phase lines of its log, then its slowest tests from
pytest's durations report. The suite's 45-minute budget is planned from these lines."""
from __future__ import annotations

from test_suite_matrix import _run_all  # tests/checks: loads tests/run_all.py as a module


# What a scenario's log holds: run_stage's stamps on Molecule's phase lines, other output between.
LOG = """\
INFO     [blue_green > destroy] Executing  [+0 s]
PLAY [Destroy] ****
INFO     [blue_green > destroy] Executed: Successful  [+4 s]
INFO     [blue_green > create] Executing  [+4 s]
INFO     [blue_green > create] Executed: Successful  [+30 s]
INFO     [blue_green > prepare] Executing  [+30 s]
INFO     [blue_green > prepare] Executed: Successful  [+230 s]
INFO     [blue_green > converge] Executing  [+230 s]
INFO     [blue_green > converge] Executed: Successful  [+330 s]
INFO     [blue_green > idempotence] Executing  [+330 s]
INFO     [blue_green > idempotence] Executed: Successful  [+390 s]
INFO     [blue_green > verify] Executing  [+390 s]
INFO     Executing Testinfra tests found in /repo/molecule/blue_green/tests/...
============================= slowest 15 durations =============================
61.20s call     molecule/blue_green/tests/test_blue_green.py::test_deploy_v2_moves_traffic_and_keeps_v1_warm
5.01s setup    molecule/blue_green/tests/test_blue_green.py::test_v1_is_live_through_the_lb
130.52s call     molecule/blue_green/tests/test_blue_green.py::test_canary_good_release_takes_its_share_step_by_step
44.00s call     molecule/blue_green/tests/test_blue_green.py::test_unhealthy_version_is_blocked[x::y]
2.00s call     molecule/blue_green/tests/test_blue_green.py::test_v1_is_live_through_the_lb
======================== 44 passed in 1800.00s (0:30:00) ========================
INFO     [blue_green > verify] Executed: Successful  [+2190 s]
INFO     [blue_green > destroy] Executing  [+2190 s]
INFO     [blue_green > destroy] Executed: Successful  [+2196 s]
"""


def test_phases_and_slowest_tests():
    report = _run_all().where_time_went(LOG)
    assert report == ("phases: destroy 10, create 26, prepare 200, converge 100, idempotence 60, verify 1800 s; "
                      "slowest tests: test_canary_good_release_takes_its_share_step_by_step 131 s, "
                      "test_deploy_v2_moves_traffic_and_keeps_v1_warm 61 s, test_unhealthy_version_is_blocked[x::y] 44 s")


def test_a_phase_that_never_ended_counts_to_the_last_stamp():
    cut = LOG.split("INFO     [blue_green > idempotence] Executed", maxsplit=1)[0]
    assert _run_all().where_time_went(cut) == "phases: destroy 4, create 26, prepare 200, converge 100, idempotence 0 s"
    failed = cut + "CRITICAL Idempotence test failed\nINFO     [blue_green > destroy] Executing  [+395 s]\n"
    assert _run_all().where_time_went(failed) == "phases: destroy 4, create 26, prepare 200, converge 100, idempotence 65 s"


def test_a_log_without_stamps_says_nothing():
    assert _run_all().where_time_went("INFO     [x > converge] Executing\nsome output\n") == ""
    assert _run_all().where_time_went("") == ""
