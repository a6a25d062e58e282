# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""seed.fleet.blue_green_canary_abort_commands: what the deadline timer of a waiting canary sends."""
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.seed.fleet.plugins.filter.blue_green_canary_abort_commands import (
    FilterModule, blue_green_canary_abort_commands)


def test_the_canary_goes_to_maint_first_then_every_weight_back():
    got = blue_green_canary_abort_commands(["app1_green", "app2_green"], "be_demo", ["app1_blue", "app2_blue"])
    assert got == ["set server be_demo/app1_green state maint", "set server be_demo/app2_green state maint",
                   "set weight be_demo/app1_green 100%", "set weight be_demo/app2_green 100%",
                   "set weight be_demo/app1_blue 100%", "set weight be_demo/app2_blue 100%"]


def test_without_a_live_color_only_the_canary_is_named():
    assert blue_green_canary_abort_commands(["a_green"], "be_x", []) == [
        "set server be_x/a_green state maint", "set weight be_x/a_green 100%"]


@pytest.mark.parametrize("canary, backend, live, msg", [
    ([], "be_demo", ["a_blue"], "the canary has no server"),
    (["a_green; shutdown sessions"], "be_demo", [], "HAProxy server names"),
    (["a_green"], "be demo", [], "backend must be an HAProxy name"),
    (["a_green"], None, [], "backend must be an HAProxy name"),
    (["a_green"], "be_demo", "a_blue", "live must be a list"),
    (["a_green"], "be_demo", ["a_green"], "cannot be in both colors: a_green"),
    ("a_green", "be_demo", [], "must be a list"),
])
def test_bad_input_is_a_clear_error(canary, backend, live, msg):
    with pytest.raises(AnsibleFilterError, match=msg):
        blue_green_canary_abort_commands(canary, backend, live)


def test_filter_is_registered():
    assert FilterModule().filters()["blue_green_canary_abort_commands"] is blue_green_canary_abort_commands
