# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""seed.fleet.ssh_key_admins: who keeps key-based admin access (the lockout guard's input)."""
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.seed.fleet.plugins.filter.ssh_key_admins import FilterModule, ssh_key_admins

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyForTestsOnly0000000000000000000000 ops@example"


@pytest.mark.parametrize(
    ("users", "allow_users", "allow_groups", "expected"),
    [
        ([], [], [], []),
        (None, [], [], []),
        ([{"name": "ops", "ssh_keys": [KEY]}], [], [], ["ops"]),
        ([{"name": "ops", "ssh_keys": KEY}], [], [], ["ops"]),
        ([{"name": "ops", "ssh_keys": []}], [], [], []),
        ([{"name": "ops", "ssh_keys": ["", "  ", "# no key"]}], [], [], []),
        ([{"name": "ops"}], [], [], []),
        ([{"name": "ops", "ssh_keys": [KEY], "state": "absent"}], [], [], []),
        ([{"name": "ops", "ssh_keys": [KEY], "sudo": False}], [], [], []),
        ([{"name": "ops", "ssh_keys": [KEY], "shell": "/usr/sbin/nologin"}], [], [], []),
        ([{"name": "ops", "ssh_keys": [KEY], "shell": "/bin/false"}], [], [], []),
        ([{"name": "root", "ssh_keys": [KEY]}], [], [], []),
        ([{"name": "ops", "ssh_keys": [KEY]}], ["alice"], [], []),
        ([{"name": "ops", "ssh_keys": [KEY]}], ["ops"], [], ["ops"]),
        ([{"name": "ops", "ssh_keys": [KEY]}], [], ["ssh-users"], []),
        ([{"name": "ops", "ssh_keys": [KEY], "groups": ["ssh-users"]}], [], ["ssh-users"], ["ops"]),
        ([{"name": "ops", "ssh_keys": [KEY]}], [], ["ops"], ["ops"]),
        (
            [{"name": "gone", "ssh_keys": [KEY], "state": "absent"}, {"name": "b", "ssh_keys": [KEY]}],
            [],
            [],
            ["b"],
        ),
    ],
)
def test_who_keeps_access(users, allow_users, allow_groups, expected):
    assert ssh_key_admins(users, allow_users=allow_users, allow_groups=allow_groups) == expected


@pytest.mark.parametrize("users", ["ops", {"name": "ops"}, [{"ssh_keys": [KEY]}], ["ops"]])
def test_bad_input(users):
    with pytest.raises(AnsibleFilterError):
        ssh_key_admins(users)


def test_registered():
    assert FilterModule().filters()["ssh_key_admins"] is ssh_key_admins
