"""seed.fleet as users run it, on the hosts the installed seed.fleet.site built (converge).

1. What site.yml (from the tarball, run outside the repo) left: every host baselined
   and monitored, HAProxy on the LB, Docker on the app hosts, v1 live through the LB.
2. AWX's way: a private data dir laid out like the one AWX hands to ansible-runner
   (project/ with playbooks that import the collection's by FQCN, inventory/hosts as
   AWX writes it, env/extravars, env/envvars, env/settings, the collection from the
   tarball in requirements_collections/), run by ``ansible-runner run`` with HOME
   empty, stdin closed, no terminal and a cwd outside the repo: deploy v2, then roll
   back. Users see v2 then v1 through the LB; the job events hold the deploy's tasks,
   run from the installed copy.

The tests run in file order and build on each other (one deploy history).
"""
import os
from pathlib import Path

import pytest
import testinfra
import yaml

# tests/lib/shipping.py: on sys.path through the repo's pytest.ini (pythonpath), which pytest
# finds by walking up from this file whatever directory Molecule runs it from.
import shipping

# The inventory converge wrote and ran seed.fleet.site with.
INVENTORY = yaml.safe_load((Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "fleet" / "hosts.yml").read_text())
GROUPS = {g: sorted(v["hosts"]) for g, v in INVENTORY["all"]["children"].items()}
LB = testinfra.get_host("docker://" + GROUPS["lb"][0])
HOSTS = {name: testinfra.get_host("docker://" + name) for names in GROUPS.values() for name in names}

# An AWX project that uses the collection: its playbooks by FQCN, the collection
# from collections/requirements.yml (installed into requirements_collections/).
PROJECT = {
    "deploy.yml": "---\n- name: Deploy\n  ansible.builtin.import_playbook: seed.fleet.deploy\n",
    "rollback.yml": "---\n- name: Roll back\n  ansible.builtin.import_playbook: seed.fleet.rollback\n",
    "collections/requirements.yml": "---\ncollections:\n  - name: seed.fleet\n",
}


def through_the_lb(n=6):
    """What users get: n requests to the LB's frontend, a new connection each."""
    return [LB.run("curl -s -m 5 -o - -w ' %{http_code}' http://127.0.0.1/").stdout.strip() for _i in range(n)]


def assert_users_see(version, color):
    got = through_the_lb()
    assert all(f"version={version} color={color}" in g and g.endswith(" 200") for g in got), got


@pytest.fixture(scope="module")
def collection(tmp_path_factory):
    """The Galaxy tarball, installed offline (AWX's project update does this per project)."""
    work = tmp_path_factory.mktemp("collection")
    home = work / "home"
    home.mkdir()
    tarball = shipping.build_tarball(work / "build")
    return shipping.install_tarball(tarball, work / "collections", shipping.clean_env(home))


def did(job, action, changed=None):
    """The hosts on which a task of this module succeeded (and changed, if asked)."""
    return sorted({e["host"] for e in job.results(action=action)
                   if changed is None or bool(e["res"].get("changed")) == changed})


def awx_job(tmp_path_factory, collection, ident, playbook, extravars):
    """One AWX job: its own private data dir, its own empty HOME."""
    pdd = shipping.awx_private_data_dir(tmp_path_factory.mktemp(ident), project=PROJECT, inventory=INVENTORY,
                                        extravars=extravars, collection=collection)
    job = shipping.runner_job(pdd, ident, playbook)
    assert job.status == "successful" and job.rc == 0, job.status + "\n" + job.stdout[-4000:]
    # Ansible used the HOME it was given, the collection from requirements_collections.
    assert (pdd.parent / "home" / ".ansible").is_dir()
    paths = {e["event_data"].get("task_path", "") for e in job.events if e["event_data"].get("role") == "blue_green"}
    assert paths and all(p.startswith(str(pdd / "requirements_collections") + "/") for p in paths), sorted(paths)[:3]
    return job


@pytest.mark.parametrize("name", sorted(HOSTS))
def test_site_built_every_host(name):
    host = HOSTS[name]
    services = ["nftables", "prometheus-node-exporter", "chrony", "ssh"]
    services += ["haproxy"] if name in GROUPS["lb"] else ["docker"]
    for svc in services:
        assert host.service(svc).is_running, f"{svc} is not running on {name}"
    assert host.user("shippedadmin").exists
    assert "passwordauthentication no" in host.check_output("sshd -T").lower().splitlines()


def test_site_deployed_v1():
    assert_users_see("v1", "blue")


def test_awx_deploy_v2(tmp_path_factory, collection):
    job = awx_job(tmp_path_factory, collection, "deploy", "deploy.yml",
                  {"blue_green_app": "demo", "blue_green_version": "v2"})
    # The deploy's steps, as AWX shows them from the job events: the new color
    # started and health-gated on every app host, every LB switched.
    assert did(job, "community.docker.docker_container", changed=True) == GROUPS["app"]
    assert did(job, "seed.fleet.http_check") == GROUPS["app"]
    assert did(job, "seed.fleet.haproxy_server", changed=True) == GROUPS["lb"]
    assert not [e for e in job.results(event="runner_on_failed") if not e.get("ignore_errors")]
    assert_users_see("v2", "green")


def test_awx_rollback(tmp_path_factory, collection):
    job = awx_job(tmp_path_factory, collection, "rollback", "rollback.yml", {"blue_green_app": "demo"})
    assert did(job, "seed.fleet.haproxy_server", changed=True) == GROUPS["lb"]
    assert not did(job, "community.docker.docker_container", changed=True)  # warm: a switch, no redeploy
    assert not [e for e in job.results(event="runner_on_failed") if not e.get("ignore_errors")]
    assert_users_see("v1", "blue")
