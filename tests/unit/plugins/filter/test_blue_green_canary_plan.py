# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""seed.fleet.blue_green_canary_plan: a canary's steps as HAProxy weights, and the steps it refuses."""
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.seed.fleet.plugins.filter.blue_green_canary_plan import FilterModule, blue_green_canary_plan


def test_default_steps_two_and_two():
    plan = blue_green_canary_plan([5, 25, 50, 100], 2, 2)
    assert [s["percent"] for s in plan] == [5, 25, 50]  # 100 is the switch itself
    assert plan[0] == {"percent": 5, "new_weight": 13, "old_weight": 256, "share": 4.8, "approval": False}
    assert plan[2] == {"percent": 50, "new_weight": 256, "old_weight": 256, "share": 50.0, "approval": False}


def test_the_plan_ends_at_the_approval_step_and_goes_on_after_it():
    waits = blue_green_canary_plan([5, 25, 50, 100], 2, 2, approval=25)
    assert [(s["percent"], s["approval"]) for s in waits] == [(5, False), (25, True)]
    goes_on = blue_green_canary_plan([5, 25, 50, 100], 2, 2, after=25)
    assert [(s["percent"], s["approval"]) for s in goes_on] == [(50, False)]
    assert goes_on[0] == blue_green_canary_plan([5, 25, 50, 100], 2, 2)[2]  # the same weights as without a wait
    assert blue_green_canary_plan([5, 25, 50, 100], 2, 2, approval="50", after="5")[-1]["approval"] is True
    assert blue_green_canary_plan([5, 25, 50, 100], 2, 2, after=50) == []  # only the switch is left


@pytest.mark.parametrize(("steps", "new", "old"), [
    ([1, 5, 10, 25, 50, 75, 90, 99, 100], 2, 2), ([5, 25, 50, 100], 1, 3), ([10, 100], 5, 1), ([33, 100], 3, 7),
    (["20", 100], 12, 12),
])
def test_every_share_is_close_to_the_step_and_weights_are_in_range(steps, new, old):
    for step in blue_green_canary_plan(steps, new, old):
        assert 1 <= step["new_weight"] <= 256 and 1 <= step["old_weight"] <= 256
        # what roundrobin gives with these weights, within one point of what was asked
        got = 100.0 * new * step["new_weight"] / (new * step["new_weight"] + old * step["old_weight"])
        assert abs(got - step["percent"]) <= 1.0 and round(got, 1) == step["share"], step


def test_nothing_to_split_on_a_first_deploy():
    assert blue_green_canary_plan([5, 25, 100], 2, 0) == []


def test_only_the_switch():
    assert blue_green_canary_plan([100], 2, 2) == []


@pytest.mark.parametrize(("steps", "new", "old", "message"), [
    ([], 2, 2, "non-empty list"),
    ("5,25,100", 2, 2, "non-empty list"),
    ([5, 25, 50], 2, 2, "the last step must be 100"),
    ([25, 5, 100], 2, 2, "the steps must increase, got 5 after 25"),
    ([5, 5, 100], 2, 2, "the steps must increase"),
    ([0, 100], 2, 2, "whole percentage in 1..100, got 0"),
    ([5, 150], 2, 2, "whole percentage in 1..100, got 150"),
    ([2.5, 100], 2, 2, "whole percentage in 1..100, got 2.5"),
    ([True, 100], 2, 2, "whole percentage"),
    ([5, 100], 0, 2, "new_servers must be at least 1"),
    ([5, 100], 2, -1, "old_servers must be at least 0"),
    ([5, 100], "two", 2, "new_servers must be a whole number"),
])
def test_bad_steps_are_refused(steps, new, old, message):
    with pytest.raises(AnsibleFilterError) as err:
        blue_green_canary_plan(steps, new, old)
    assert message in str(err.value)


@pytest.mark.parametrize(("approval", "after", "message"), [
    (100, 0, "the approval step must be 0 or one of the steps below 100 (5, 25, 50), got 100"),
    (30, 0, "the approval step must be 0 or one of the steps below 100"),
    (-5, 0, "the approval step must be at least 0"),
    (0, 7, "the step to go on after must be 0 or one of the steps below 100"),
    (25, 25, "the approval step (25) must come after the step to go on after (25)"),
    (5, 25, "must come after"),
])
def test_a_bad_approval_step_is_refused(approval, after, message):
    with pytest.raises(AnsibleFilterError) as err:
        blue_green_canary_plan([5, 25, 50, 100], 2, 2, approval=approval, after=after)
    assert message in str(err.value)


def test_filter_is_registered():
    assert FilterModule().filters()["blue_green_canary_plan"] is blue_green_canary_plan
