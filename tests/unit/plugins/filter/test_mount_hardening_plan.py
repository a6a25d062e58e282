# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""seed.fleet.mount_hardening_plan: nodev/nosuid/noexec where a path is a mount of its own on a host that owns it."""
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.seed.fleet.plugins.filter.mount_hardening_plan import mount_hardening_plan

HARD = ["nodev", "nosuid", "noexec"]
WANTED = {"/tmp": HARD, "/dev/shm": HARD, "/var/tmp": HARD}
# A Debian 13 VM: /tmp is systemd's tmpfs, /var/tmp is on /.
MOUNTS = """\
/dev/vda1 / ext4 rw,relatime,errors=remount-ro 0 0
proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0
tmpfs /dev/shm tmpfs rw,nosuid,nodev,inode64 0 0
tmpfs /tmp tmpfs rw,nosuid,nodev,exec,size=1632632k,nr_inodes=1048576,inode64 0 0
"""


def test_separate_mounts_keep_their_options_and_gain_the_wanted_ones():
    plan = mount_hardening_plan(MOUNTS, WANTED)
    assert plan["apply"] == [
        {"path": "/dev/shm", "src": "tmpfs", "fstype": "tmpfs", "opts": "inode64,nodev,noexec,nosuid,rw"},
        # exec (the opposite of noexec) goes; size and inode limits stay.
        {"path": "/tmp", "src": "tmpfs", "fstype": "tmpfs",
         "opts": "inode64,nodev,noexec,nosuid,nr_inodes=1048576,rw,size=1632632k"},
    ]


def test_the_options_come_out_the_same_whatever_order_the_kernel_lists_them_in():
    remounted = ("tmpfs /tmp tmpfs rw,relatime,nodev,noexec,nosuid 0 0\n"
                 "tmpfs /var/tmp tmpfs nosuid,rw,nodev,relatime 0 0\n")
    plan = mount_hardening_plan(remounted, {"/tmp": HARD, "/var/tmp": HARD})["apply"]
    assert plan[0]["opts"] == plan[1]["opts"] == "nodev,noexec,nosuid,relatime,rw"


def test_a_path_that_is_no_mount_of_its_own_is_left_alone_with_the_reason():
    plan = mount_hardening_plan(MOUNTS, WANTED)
    assert plan["skipped"] == {"/var/tmp": "not a mount of its own (it is part of the file system above it)"}
    assert plan["note"] == "/var/tmp left alone: not a mount of its own (it is part of the file system above it)"
    assert mount_hardening_plan(MOUNTS, {"/tmp": HARD})["note"] == ""


def test_a_mount_that_has_them_already_plans_the_same_options_again():
    hardened = "tmpfs /dev/shm tmpfs rw,nosuid,nodev,noexec,inode64 0 0\n"
    assert mount_hardening_plan(hardened, {"/dev/shm": HARD})["apply"][0]["opts"] == "inode64,nodev,noexec,nosuid,rw"


def test_defaults_is_dropped_it_would_bring_dev_suid_exec_back():
    mounts = "/dev/vdb1 /tmp ext4 defaults 0 0\n"
    assert mount_hardening_plan(mounts, {"/tmp/": ["noexec"]})["apply"] == [
        {"path": "/tmp/", "src": "/dev/vdb1", "fstype": "ext4", "opts": "noexec"}]


def test_in_a_container_nothing_is_planned():
    plan = mount_hardening_plan(MOUNTS, WANTED, in_container=True)
    assert plan["apply"] == []
    assert set(plan["skipped"].values()) == {"in a container its mounts are the runtime's"} and len(plan["skipped"]) == 3


@pytest.mark.parametrize("wanted, message", [
    ({"tmp": HARD}, "not an absolute path"),
    ({"/tmp": ["ro"]}, "takes a list of nodev, noexec, nosuid"),
    ({"/tmp": []}, "takes a list of"),
    ({"/tmp": "noexec"}, "takes a list of"),
    (["/tmp"], "wanted must be"),
])
def test_bad_input_is_refused(wanted, message):
    with pytest.raises(AnsibleFilterError, match=message):
        mount_hardening_plan(MOUNTS, wanted)


def test_mounts_must_be_the_text_of_proc_mounts():
    with pytest.raises(AnsibleFilterError, match="expected the text of /proc/self/mounts"):
        mount_hardening_plan([{"mount": "/tmp"}], WANTED)


def test_the_top_mount_of_a_path_counts_and_escaped_names_are_read():
    stacked = ("/dev/vdb1 /tmp ext4 rw 0 0\ntmpfs /tmp tmpfs rw,exec 0 0\n"
               "/dev/vdc1 /srv/my\\040data ext4 rw 0 0\n")
    plan = mount_hardening_plan(stacked, {"/tmp": ["noexec"], "/srv/my": ["nodev"]})
    assert plan["apply"] == [{"path": "/tmp", "src": "tmpfs", "fstype": "tmpfs", "opts": "noexec,rw"}]
    assert "/srv/my" in plan["skipped"]  # "/srv/my data" is another mount
