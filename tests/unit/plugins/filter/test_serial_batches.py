# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""seed.fleet.serial_batches: blue_green_serial's batches, with the serial keyword's semantics."""
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.seed.fleet.plugins.filter.serial_batches import FilterModule, serial_batches

HOSTS = ["h1", "h2", "h3", "h4", "h5", "h6", "h7"]


@pytest.mark.parametrize(
    ("serial", "expected"),
    [
        (0, [HOSTS]),
        ("0", [HOSTS]),
        ("100%", [HOSTS]),
        ([], [HOSTS]),
        (50, [HOSTS]),
        (1, [[h] for h in HOSTS]),
        (3, [HOSTS[0:3], HOSTS[3:6], HOSTS[6:]]),
        ("3", [HOSTS[0:3], HOSTS[3:6], HOSTS[6:]]),
        ("30%", [HOSTS[0:2], HOSTS[2:4], HOSTS[4:6], HOSTS[6:]]),  # 7 * 30% = 2.1 -> 2
        ("10%", [[h] for h in HOSTS]),  # rounds down to 0 -> at least one host
        ([1, "50%"], [HOSTS[0:1], HOSTS[1:4], HOSTS[4:7]]),
        ([1, 2, 10], [HOSTS[0:1], HOSTS[1:3], HOSTS[3:]]),
        (2.0, [HOSTS[0:2], HOSTS[2:4], HOSTS[4:6], HOSTS[6:]]),
    ],
)
def test_batches(serial, expected):
    assert serial_batches(HOSTS, serial) == expected


def test_batches_cover_every_host_once_in_order():
    for serial in (1, 2, 3, "25%", "33%", [1, "20%"], [2, 5]):
        batches = serial_batches(HOSTS, serial)
        assert [h for b in batches for h in b] == HOSTS
        assert all(batches)


def test_no_hosts():
    assert serial_batches([], 2) == []


@pytest.mark.parametrize(
    ("hosts", "serial", "message"),
    [
        (HOSTS, -1, "whole numbers >= 0"),
        (HOSTS, "150%", "above 100%"),
        (HOSTS, "two", "neither a number"),
        (HOSTS, True, "numbers or percentages"),
        (HOSTS, 1.5, "whole numbers"),
        (HOSTS, [1, 0], "only works alone"),
        ("h1,h2", 1, "must be a list"),
    ],
)
def test_bad_input(hosts, serial, message):
    with pytest.raises(AnsibleFilterError) as err:
        serial_batches(hosts, serial)
    assert message in str(err.value)


def test_registered():
    assert FilterModule().filters()["serial_batches"] is serial_batches
