"""What an operator checks after seed.fleet.baseline ran."""


def test_timezone_is_live(host):
    assert host.file("/etc/localtime").linked_to.endswith("Europe/Berlin")
    assert host.check_output("date +%Z") in ("CET", "CEST")


def test_journal_is_persistent(host):
    assert host.file("/var/log/journal").is_directory
    conf = host.check_output("systemd-analyze cat-config systemd/journald.conf")
    assert "Storage=persistent" in conf
    # journald really writes there (not only a config file on disk).
    host.run_test("logger -t seed-fleet-test persistent-journal-check")
    out = host.check_output("journalctl --flush; journalctl -D /var/log/journal -t seed-fleet-test --no-pager -q")
    assert "persistent-journal-check" in out
