# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""seed.fleet.baseline_module_blacklist_problem: a blacklist never takes away a module the host uses."""
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.seed.fleet.plugins.filter.baseline_module_blacklist_problem import (
    baseline_module_blacklist_problem as problem,
)

PROC_MODULES = "overlay 151552 12 - Live 0x0000000000000000\nsctp 434176 2 - Live 0x0000000000000000\n"


def test_a_plain_blacklist_passes():
    assert problem(["dccp", "usb-storage", "cramfs"], ["nf_tables"], "") == ""


def test_a_needed_module_is_refused_with_the_way_out():
    msg = problem(["dccp", "overlay", "br_netfilter"], ["overlay", "br_netfilter", "nf_tables"], "")
    assert msg.startswith("refusing to blacklist overlay, br_netfilter: this host needs it")
    assert "baseline_kernel_modules_allow" in msg


def test_dash_and_underscore_are_the_same_module():
    assert "usb-storage" in problem(["usb-storage"], ["usb_storage"], "")
    assert "br-netfilter" in problem(["br-netfilter"], [], "br_netfilter 1 0 - Live 0x0\n")


def test_a_loaded_module_is_refused():
    msg = problem(["dccp", "sctp"], [], PROC_MODULES)
    assert msg.startswith("refusing to blacklist sctp: loaded now")


def test_not_a_module_name():
    assert "not kernel module names: 'a b'" in problem(["a b"], [], "")
    assert "not kernel module names: '../x'" in problem(["../x"], [], "")


@pytest.mark.parametrize("bad", ["dccp", {"a": 1}, 3])
def test_the_blacklist_must_be_a_list(bad):
    with pytest.raises(AnsibleFilterError, match="must be a list"):
        problem(bad, [], "")
