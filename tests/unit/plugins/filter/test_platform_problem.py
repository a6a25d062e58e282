# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""seed.fleet.platform_problem: the one list of supported releases, asked by every role first."""
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.seed.fleet.plugins.filter.platform_problem import FilterModule, platform_problem


def facts(dist, major, version=None, release=""):
    return {"distribution": dist, "distribution_major_version": major, "distribution_version": version or major,
            "distribution_release": release, "os_family": "Debian"}


@pytest.mark.parametrize("host", [facts("Debian", "12", "12.11", "bookworm"), facts("Debian", "13", "13.8", "trixie")])
def test_supported_releases_say_nothing(host):
    assert platform_problem(host, "baseline") == ""


@pytest.mark.parametrize("host, named", [
    (facts("Debian", "11", "11.11", "bullseye"), "Debian 11.11 (bullseye)"),
    (facts("Debian", "14", "14", "forky"), "Debian 14 (forky)"),
    (facts("Ubuntu", "24", "24.04", "noble"), "Ubuntu 24.04 (noble)"),
    (facts("RedHat", "9", "9.4", "Plow"), "RedHat 9.4 (Plow)"),
])
def test_other_releases_are_named_with_the_supported_list(host, named):
    msg = platform_problem(host, "load_balancer")
    assert msg.startswith("seed.fleet.load_balancer supports Debian 12 (bookworm), Debian 13 (trixie);")
    assert named in msg and "Nothing was changed" in msg


def test_missing_facts_say_what_to_gather():
    assert "gather at least the 'min' subset" in platform_problem({}, "blue_green")


def test_not_facts_is_an_error():
    with pytest.raises(AnsibleFilterError, match="expected ansible_facts"):
        platform_problem(["Debian"], "baseline")


def test_registered():
    assert FilterModule().filters()["platform_problem"] is platform_problem
