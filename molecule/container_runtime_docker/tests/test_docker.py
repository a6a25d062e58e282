"""What an operator checks after seed.fleet.container_runtime installed Docker."""
import json

import pytest


def proof(host, name):
    return json.loads(host.file(f"/root/seed-proof/{name}.json").content_string)


def test_services_enabled_and_running(host):
    for name in ("docker", "containerd"):
        svc = host.service(name)
        assert svc.is_running and svc.is_enabled, name


def test_daemon_json_is_what_the_role_wrote(host):
    cfg = json.loads(host.file("/etc/docker/daemon.json").content_string)
    assert cfg["live-restore"] is True
    assert cfg["log-driver"] == "json-file"
    assert cfg["log-opts"] == {"max-size": "20m", "max-file": "3"}  # after the side effect's restart change
    assert cfg["registry-mirrors"] == ["http://127.0.0.1:5000"]
    assert cfg["default-address-pools"] == [{"base": "10.213.0.0/16", "size": 24}]
    assert host.file("/etc/docker/daemon.json").mode == 0o644


def test_live_daemon_uses_it(host):
    info = json.loads(host.check_output("docker info --format '{{json .}}'"))
    assert info["LiveRestoreEnabled"] is True
    assert info["LoggingDriver"] == "json-file"
    assert "http://127.0.0.1:5000/" in info["RegistryConfig"]["Mirrors"]


def test_a_real_container_runs(host):
    out = host.check_output("docker run --rm seed-busybox:1 /bin/busybox echo hello-from-container")
    assert out == "hello-from-container"


def test_published_port_answers_on_loopback(host):
    body = host.check_output("/bin/busybox wget -q -O - http://127.0.0.1:18080/index.html")
    assert body == "hello from seed.fleet"


def test_reload_kept_the_container_and_the_daemon(host):
    before, after = proof(host, "before"), proof(host, "after-reload")
    decided = proof(host, "reload-module")
    assert decided["action"] == "reload" and decided["restart_keys"] == []
    assert set(decided["reload_keys"]) == {"debug", "max-concurrent-downloads"}
    assert before["debug"] is False and after["debug"] is True  # applied live
    assert after["dockerd_pid"] == before["dockerd_pid"]  # SIGHUP, not a restart
    assert after["container"]["id"] == before["container"]["id"]
    assert after["container"]["started_at"] == before["container"]["started_at"]
    assert after["container"]["running"] is True


def test_restart_with_live_restore_kept_the_container(host):
    before, after = proof(host, "after-reload"), proof(host, "after-restart")
    decided = proof(host, "restart-module")
    assert decided["action"] == "restart" and decided["restart_keys"] == ["log-opts"]
    assert after["dockerd_pid"] != before["dockerd_pid"]  # dockerd really restarted
    assert after["container"]["id"] == before["container"]["id"]
    assert after["container"]["started_at"] == before["container"]["started_at"]
    assert after["container"]["running"] is True
    # and it still serves
    assert host.check_output("/bin/busybox wget -q -O - http://127.0.0.1:18080/") == "hello from seed.fleet"


def test_invalid_config_refused_and_live_file_untouched(host):
    result = proof(host, "invalid")
    assert result["failed"] is True
    assert "no-such-option" in result["msg"] and "dockerd rejected" in result["msg"]
    assert "no-such-option" not in host.file("/etc/docker/daemon.json").content_string


def test_docker_group_member_can_use_docker(host):
    assert "docker" in host.user("deploy").groups
    assert host.run("runuser -u deploy -- docker ps -q").rc == 0


def test_version_pinned_and_held(host):
    series = host.ansible.get_variables()["scenario_docker_series"][host.system_info.codename]
    assert host.package("docker.io").version.startswith(series + ".")
    assert "docker.io" in host.check_output("apt-mark showhold").split()


@pytest.mark.parametrize("cmd", ["python3 -c 'import docker'", "docker-compose version --short"])
def test_tooling_present(host, cmd):
    assert host.run(cmd).rc == 0


def test_forwarding_kept_on(host):
    assert not host.file("/etc/sysctl.d/90-container-runtime.conf").exists  # baseline owns the boot value
    assert host.check_output("cat /proc/sys/net/ipv4/ip_forward") == "1"


def test_upstream_source_in_check_mode_plans_pinned_packages_and_changes_nothing(host):
    plan = proof(host, "upstream-check")
    assert plan["check_mode"] is True
    assert plan["install"] == [
        "docker-ce=5:24.0.7*", "docker-ce-cli=5:24.0.7*",
        "containerd.io", "docker-buildx-plugin", "python3-docker", "docker-compose-plugin",
    ]
    assert plan["repo_changed"] is True and plan["packages_skipped"] is True
    assert plan["key_changed"] is True
    assert plan["daemon_json_changed"] is False
    assert not host.file("/etc/apt/sources.list.d/docker-upstream.sources").exists
    assert not host.file("/etc/apt/keyrings/docker-upstream.gpg").exists
    assert host.package("docker.io").is_installed and not host.package("docker-ce").is_installed


def test_dockerd_runs_containers_where_proc_sys_is_read_only(host):
    """This host is a container: /proc/sys is read-only, and Docker 26+ refuses to start a
    container when it cannot set IPv6 on its interface; the role tells dockerd to go on."""
    assert not host.run("test -w /proc/sys/net/ipv6/conf/all/disable_ipv6").rc == 0
    assert "DOCKER_ALLOW_IPV6_ON_IPV4_INTERFACE=1" in host.check_output("systemctl show -p Environment docker")
    assert host.check_output("docker inspect -f '{{.State.Running}}' seed-web") == "true"
