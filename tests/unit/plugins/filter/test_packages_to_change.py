# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""seed.fleet.packages_to_change: which names an apt task still has to change."""
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.seed.fleet.plugins.filter.packages_to_change import packages_to_change

FOUND = {"chrony": "4.3-2", "nftables": None, "docker.io=20.10.*": "20.10.24+dfsg1-1", "docker.io=24.*": "20.10.24+dfsg1-1",
         "aide": "0.18.3-1"}


def test_present():
    assert packages_to_change(["chrony", "aide"], FOUND) == []
    assert packages_to_change(["chrony", "nftables", "unknown"], FOUND) == ["nftables", "unknown"]


def test_a_pinned_version_must_match():
    assert packages_to_change(["docker.io=20.10.*"], FOUND) == []
    assert packages_to_change(["docker.io=24.*"], FOUND) == ["docker.io=24.*"]
    assert packages_to_change(["chrony=4.3-2"], {"chrony=4.3-2": "4.3-2"}) == []
    assert packages_to_change(["chrony=4.3"], {"chrony=4.3": "4.3-2"}) == ["chrony=4.3"]


def test_absent():
    assert packages_to_change(["chrony", "nftables", "unknown"], FOUND, state="absent") == ["chrony"]
    assert packages_to_change([], FOUND, state="absent") == []


@pytest.mark.parametrize("args", [("chrony", FOUND), (["chrony"], None), (["chrony"], FOUND, "latest")])
def test_bad_input(args):
    with pytest.raises(AnsibleFilterError):
        packages_to_change(*args)
