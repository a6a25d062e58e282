# -*- coding: utf-8 -*-
"""seed.fleet.baseline_aged_accounts: which accounts get password aging."""
from __future__ import absolute_import, division, print_function

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.seed.fleet.plugins.filter.baseline_aged_accounts import baseline_aged_accounts

PASSWD = {
    "root": ["x", "0", "0", "root", "/root", "/bin/bash"],
    "daemon": ["x", "1", "1", "daemon", "/usr/sbin", "/usr/sbin/nologin"],
    "nobody": ["x", "65534", "65534", "nobody", "/nonexistent", "/usr/sbin/nologin"],
    "alice": ["x", "1000", "1000", "", "/home/alice", "/bin/bash"],
    "admin": ["x", "1001", "1001", "", "/home/admin", "/bin/bash"],
    "locked": ["x", "1002", "1002", "", "/home/locked", "/bin/bash"],
    "starred": ["x", "1003", "1003", "", "/home/starred", "/bin/bash"],
    "empty": ["x", "1004", "1004", "", "/home/empty", "/bin/bash"],
    "deploy": ["x", "1005", "1005", "", "/home/deploy", "/bin/bash"],
}
SHADOW = {
    "root": ["$y$j9T$abc", "19000", "0", "99999", "7", "", "", ""],
    "daemon": ["*", "19000", "0", "99999", "7", "", "", ""],
    "nobody": ["$y$j9T$nobody", "19000", "0", "99999", "7", "", "", ""],
    "alice": ["$y$j9T$alice", "19000", "0", "99999", "7", "", "", ""],
    "admin": ["$y$j9T$admin", "19000", "0", "99999", "7", "", "", ""],
    "locked": ["!$y$j9T$locked", "19000", "0", "99999", "7", "", "", ""],
    "starred": ["*", "19000", "0", "99999", "7", "", "", ""],
    "empty": ["", "19000", "0", "99999", "7", "", "", ""],
    "deploy": ["$6$salt$hash", "19000", "0", "99999", "7", "", "", ""],
}


def test_humans_with_a_usable_password_less_the_exempt():
    assert baseline_aged_accounts(PASSWD, SHADOW, exempt=["admin", "deploy"]) == ["alice"]


def test_without_exemptions_every_human_with_a_password():
    assert baseline_aged_accounts(PASSWD, SHADOW) == ["admin", "alice", "deploy"]


def test_system_accounts_root_and_nobody_are_never_aged():
    out = baseline_aged_accounts(PASSWD, SHADOW)
    assert not {"root", "daemon", "nobody"} & set(out)


def test_uid_min_moves_the_line():
    assert "alice" not in baseline_aged_accounts(PASSWD, SHADOW, uid_min=1001)


def test_an_account_missing_from_shadow_is_not_aged():
    assert baseline_aged_accounts(PASSWD, {"alice": SHADOW["alice"]}) == ["alice"]


@pytest.mark.parametrize("bad", [None, [], "alice"])
def test_not_getent_dicts_are_refused(bad):
    with pytest.raises(AnsibleFilterError, match="expected getent passwd and shadow"):
        baseline_aged_accounts(bad, SHADOW)


def test_a_passwd_entry_without_uid_is_refused():
    with pytest.raises(AnsibleFilterError, match="no numeric UID"):
        baseline_aged_accounts({"x": ["x"]}, SHADOW)
