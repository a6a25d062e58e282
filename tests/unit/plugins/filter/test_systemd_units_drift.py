# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""seed.fleet.systemd_units_drift: one systemctl probe decides which units still need systemd_service."""
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.seed.fleet.plugins.filter.systemd_units_drift import FilterModule, systemd_units_drift


def block(load="loaded", file_state="enabled", active="active", reload_="no"):
    # systemctl show prints the properties in its own order, not the order asked.
    return "NeedDaemonReload=%s\nLoadState=%s\nActiveState=%s\nUnitFileState=%s\n" % (reload_, load, active, file_state)


def probe(*blocks):
    return "\n".join(blocks)


def test_settled_units_need_nothing():
    out = probe(block(), block(file_state="static"), block(file_state="enabled-runtime"))
    assert systemd_units_drift(out, ["ssh", "apt-daily.timer", "nftables"]) == {"converge": [], "daemon_reload": [],
                                                                                "running_disabled": []}


@pytest.mark.parametrize("props, reload_, running_disabled", [
    (dict(file_state="disabled"), False, True),  # started by hand: Debian 13 can lose it when it is enabled
    (dict(file_state="disabled", active="inactive"), False, False),
    (dict(active="inactive"), False, False),
    (dict(active="failed"), False, False),
    (dict(active="activating"), False, False),
    (dict(file_state="masked"), False, True),
    (dict(file_state="indirect"), False, True),
    (dict(file_state="alias"), False, True),
    (dict(file_state="generated"), False, True),
    (dict(reload_="yes"), True, False),
    (dict(load="not-found", file_state="", active="inactive"), True, False),
])
def test_anything_short_of_enabled_running_and_loaded_goes_to_the_module(props, reload_, running_disabled):
    out = probe(block(), block(**props), block())
    assert systemd_units_drift(out, ["a", "b", "c"]) == {"converge": ["b"], "daemon_reload": ["b"] if reload_ else [],
                                                         "running_disabled": ["b"] if running_disabled else []}


def test_names_and_order_are_the_callers():
    out = probe(block(active="inactive"), block(), block(reload_="yes"))
    expected = {"converge": ["ssh", "nftables"], "daemon_reload": ["nftables"], "running_disabled": []}
    assert systemd_units_drift(out, ["ssh", "chrony", "nftables"]) == expected


@pytest.mark.parametrize("out", ["", None, probe(block()), probe(block(), block(), block()), "garbage"])
def test_output_without_one_block_per_unit_leaves_every_unit_to_the_module(out):
    assert systemd_units_drift(out, ["ssh", "nftables"]) == {"converge": ["ssh", "nftables"], "daemon_reload": [],
                                                             "running_disabled": []}


def test_blank_lines_around_blocks_are_ignored():
    out = "\n\n" + block() + "\n\n\n" + block(active="inactive") + "\n\n"
    assert systemd_units_drift(out, ["a", "b"]) == {"converge": ["b"], "daemon_reload": [], "running_disabled": []}


@pytest.mark.parametrize("stdout, units, match", [
    (["x"], ["ssh"], "expected the probe's stdout"),
    ("", "ssh", "units must be a list"),
    ("", ["ssh", ""], "units must be a list"),
    ("", [1], "units must be a list"),
])
def test_bad_input_is_an_error(stdout, units, match):
    with pytest.raises(AnsibleFilterError, match=match):
        systemd_units_drift(stdout, units)


def test_registered():
    assert FilterModule().filters()["systemd_units_drift"] is systemd_units_drift
