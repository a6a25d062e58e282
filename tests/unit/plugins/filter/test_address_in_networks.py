# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""seed.fleet.address_in_networks: the SSH-sources lockout check."""
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.seed.fleet.plugins.filter.address_in_networks import FilterModule, address_in_networks


@pytest.mark.parametrize(
    ("address", "networks", "expected"),
    [
        ("10.20.0.7", [], True),
        ("10.20.0.7", ["10.20.0.0/24"], True),
        ("10.20.1.7", ["10.20.0.0/24"], False),
        ("10.20.1.7", ["10.20.0.0/24", "10.20.1.7"], True),
        (" 10.20.0.7 ", ["10.20.0.9/24"], True),
        ("::ffff:10.20.0.7", ["10.20.0.0/24"], True),
        ("fd00::1", ["fd00::/8"], True),
        ("fd00::1", ["10.0.0.0/8"], False),
        ("10.0.0.1", ["fd00::/8"], False),
    ],
)
def test_membership(address, networks, expected):
    assert address_in_networks(address, networks) is expected


@pytest.mark.parametrize(
    ("address", "networks", "message"),
    [
        ("nope", ["10.0.0.0/8"], "is not an IP address"),
        ("10.0.0.1", "10.0.0.0/8", "must be a list"),
        ("10.0.0.1", ["10.0.0.0/33"], "is not a network"),
    ],
)
def test_bad_input(address, networks, message):
    with pytest.raises(AnsibleFilterError) as err:
        address_in_networks(address, networks)
    assert message in str(err.value)


def test_registered():
    assert FilterModule().filters()["address_in_networks"] is address_in_networks
