# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""seed.fleet.audit_rules: rules as data become auditctl lines; a rule the kernel would refuse is an error."""
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.seed.fleet.plugins.filter.audit_rules import audit_rules

B64 = "Using x86_64 syscall table:\n0\tread\n159\tadjtimex\n175\tinit_module\n176\tdelete_module\n"
B32 = "Using i386 syscall table:\n124\tadjtimex\n128\tinit_module\n129\tdelete_module\n25\tstime\n"
TABLES = {"b64": B64, "b32": B32}


def test_a_watch_becomes_one_line_with_its_permissions_and_key():
    assert audit_rules([{"watch": "/etc/sudoers.d/", "perms": "wa", "key": "sudoers"}]) == [
        "-w /etc/sudoers.d -p wa -k sudoers"]


def test_a_watch_defaults_to_write_and_attribute_changes():
    assert audit_rules([{"watch": "/etc/passwd", "key": "identity"}]) == ["-w /etc/passwd -p wa -k identity"]


def test_a_syscall_rule_is_written_once_per_arch_in_order():
    assert audit_rules([{"syscalls": ["init_module", "delete_module"], "key": "modules"}], TABLES) == [
        "-a always,exit -F arch=b64 -S init_module -S delete_module -k modules",
        "-a always,exit -F arch=b32 -S init_module -S delete_module -k modules",
    ]


def test_arch_limits_the_lines():
    assert audit_rules([{"syscalls": ["stime"], "arch": ["b32"], "key": "time"}], TABLES) == [
        "-a always,exit -F arch=b32 -S stime -k time"]


def test_a_syscall_missing_from_an_arch_table_is_named():
    with pytest.raises(AnsibleFilterError, match=r"the kernel's b64 table has no syscall stime"):
        audit_rules([{"syscalls": ["adjtimex", "stime"], "key": "time"}], TABLES)


def test_without_tables_only_the_shape_is_checked():
    assert audit_rules([{"syscalls": ["no_such_call"], "arch": ["b64"], "key": "k"}]) == [
        "-a always,exit -F arch=b64 -S no_such_call -k k"]


def test_an_arch_the_host_has_no_table_for_is_an_error():
    with pytest.raises(AnsibleFilterError, match=r"no b32 syscall table"):
        audit_rules([{"syscalls": ["adjtimex"], "key": "time"}], {"b64": B64, "b32": "Unknown arch\n"})


@pytest.mark.parametrize("rule, message", [
    ({"watch": "etc/passwd", "key": "k"}, "absolute path"),
    ({"watch": "/etc/my file", "key": "k"}, "absolute path"),
    ({"watch": "/etc/../root", "key": "k"}, "absolute path"),
    ({"watch": "/etc/passwd", "perms": "wq", "key": "k"}, "perms must be"),
    ({"watch": "/etc/passwd", "perms": "ww", "key": "k"}, "perms must be"),
    ({"watch": "/etc/passwd", "perms": "", "key": "k"}, "perms must be"),
    ({"watch": "/etc/passwd"}, "key must be"),
    ({"watch": "/etc/passwd", "key": "x" * 32}, "key must be"),
    ({"watch": "/etc/passwd", "key": "a b"}, "key must be"),
    ({"watch": "/etc/passwd", "syscalls": ["mount"], "key": "k"}, "not watch and syscalls"),
    ({"key": "k"}, "not neither"),
    ({"watch": "/etc/passwd", "key": "k", "arch": ["b64"]}, "unknown keys arch"),
    ({"syscalls": [], "key": "k"}, "non-empty list"),
    ({"syscalls": "mount", "key": "k"}, "non-empty list"),
    ({"syscalls": ["Mount"], "key": "k"}, "non-empty list"),
    ({"syscalls": ["mount"], "arch": ["b16"], "key": "k"}, "arch must be"),
    ({"syscalls": ["mount"], "arch": ["b64", "b64"], "key": "k"}, "arch must be"),
    ({"syscalls": ["mount"], "key": "k", "perms": "wa"}, "unknown keys perms"),
])
def test_bad_rules_are_refused_with_the_rule_named(rule, message):
    with pytest.raises(AnsibleFilterError, match=message) as err:
        audit_rules([{"watch": "/etc/group", "key": "ok"}, rule])
    assert "audit rule 2" in str(err.value)


def test_rules_must_be_a_list_of_dicts():
    with pytest.raises(AnsibleFilterError, match="expected a list"):
        audit_rules({"watch": "/etc/passwd"})
    with pytest.raises(AnsibleFilterError, match="a rule is a dict"):
        audit_rules(["-w /etc/passwd"])
