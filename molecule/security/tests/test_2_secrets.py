"""No secret at rest or in output: the blue_green_env value and the stats password.

A deploy of v2 at -vvv (same secret env as converge's v1): its whole output, every file
written on any fleet host since prepare (the marker), and every journal (the hosts' own
and the central one on the monitoring host) must not contain the secrets.
Left out on purpose: Docker's own store (/var/lib/docker, /var/lib/containerd, and the OCI
runtime specs under /run/containerd, /run/docker) holds the
container's environment, which is where the app reads it (docs/security.md, "Secrets").
"""
import pytest
from conftest import FLEET, LB, PROJECT, SECRET_ENV, SECRET_STATS, host, playbook, recap, state

SECRETS = [SECRET_ENV, SECRET_STATS]
OUTPUT = {}


def test_deploy_output_at_vvv_holds_no_secret():
    rc, out = playbook(PROJECT / "playbooks" / "deploy.yml", "-vvv", "-e", "blue_green_version=v2")
    OUTPUT["deploy"] = out
    assert rc == 0, out[-3000:]
    assert recap(out)[LB]["failed"] == 0
    for secret in SECRETS:
        assert secret not in out, "secret found in the -vvv output of the deploy"
    # The run did carry the secret: the container has it (names kept, value passed).
    env = host("security-app").check_output("docker inspect -f '{{json .Config.Env}}' demo-green")
    assert SECRET_ENV in env


def test_state_keeps_names_and_a_hash_only():
    st = state()
    assert st["live"]["version"] == "v2"
    assert st["live"]["env_keys"] == ["DB_PASSWORD"]
    assert len(st["live"]["env_sha256"]) == 64
    assert "env" not in st["live"] and "env" not in (st["previous"] or {})


def test_state_files_are_root_only():
    lb = host(LB)
    f = lb.file("/var/lib/seed-fleet/demo/state.json")
    assert (f.user, f.group, f.mode) == ("root", "root", 0o600)
    d = lb.file("/var/lib/seed-fleet/demo")
    assert (d.user, d.mode) == ("root", 0o700)


# Pruned: kernel and device trees, Docker's store (see the module docstring).
FIND = ("find / \\( -path /proc -o -path /sys -o -path /dev -o -path /var/lib/docker -o -path /var/lib/containerd "
        "-o -path /run/containerd -o -path /run/docker "
        "\\) -prune -o -type f -newer /opt/security-marker -print0")


@pytest.mark.parametrize("name", FLEET)
@pytest.mark.parametrize("secret", SECRETS)
def test_no_file_written_since_prepare_holds_a_secret(name, secret):
    h = host(name)
    count = int(h.check_output(FIND + " | xargs -0 -r ls -1d 2>/dev/null | wc -l"))
    assert count > 50, "the marker should precede what the roles wrote (%d files)" % count
    hits = h.run(FIND + " | xargs -0 -r grep -l -a -F -- '%s'" % secret)
    assert hits.stdout.strip() == "", "%s on %s: %s" % ("secret", name, hits.stdout)


@pytest.mark.parametrize("name", FLEET)
@pytest.mark.parametrize("secret", SECRETS)
def test_no_journal_holds_a_secret(name, secret):
    """The hosts' journals (modules log their arguments there unless no_log) and journal-remote's."""
    h = host(name)
    n = h.run("journalctl -m -o export --no-pager 2>/dev/null | grep -a -c -F -- '%s'" % secret)
    assert n.stdout.strip() in ("0", ""), "%s: %s journal entries hold the secret" % (name, n.stdout.strip())
