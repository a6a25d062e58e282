"""What an operator checks after seed.fleet.container_runtime installed containerd or Podman."""
import json

import pytest

testinfra_hosts = ["ansible://all"]


def engine(host):
    return host.ansible.get_variables()["container_runtime_engine"]


def only(host, name):
    if engine(host) != name:
        pytest.skip(f"{name} host only")


# --- containerd -------------------------------------------------------------------

def test_containerd_enabled_and_running(host):
    only(host, "containerd")
    svc = host.service("containerd")
    assert svc.is_running and svc.is_enabled


def test_containerd_effective_config_has_systemd_cgroup_for_cri(host):
    only(host, "containerd")
    # The effective config (file merged over containerd's defaults), read the way containerd reads it.
    code = (
        "import json,sys,tomllib; d=tomllib.loads(sys.stdin.read()); c=d['plugins']['io.containerd.grpc.v1.cri'];"
        "print(json.dumps({'version': d['version'], 'systemd': c['containerd']['runtimes']['runc']['options']['SystemdCgroup'],"
        "'runtime_type': c['containerd']['runtimes']['runc']['runtime_type'], 'sandbox': c['sandbox_image']}))"
    )
    got = json.loads(host.check_output(f"containerd config dump | python3 -c \"{code}\""))
    assert got == {"version": 2, "systemd": True, "runtime_type": "io.containerd.runc.v2", "sandbox": "registry.k8s.io/pause:3.9"}
    assert "cri" in host.check_output("ctr plugins ls | awk '$2==\"cri\" && $4==\"ok\"'")


def test_containerd_runs_a_container(host):
    only(host, "containerd")
    out = host.check_output("ctr run --rm --rootfs /opt/seed-busybox/rootfs seed-echo /bin/busybox echo hello-from-containerd")
    assert out == "hello-from-containerd"


# --- Podman ------------------------------------------------------------------------

def test_podman_storage_and_registries(host):
    only(host, "podman")
    info = json.loads(host.check_output("podman info --format json"))
    assert info["store"]["graphDriverName"] == "overlay"
    assert info["store"]["graphRoot"] == "/var/lib/containers/storage"
    assert info["registries"]["search"] == ["docker.io"]
    mirrors = info["registries"]["docker.io"]["Mirrors"]
    assert mirrors == [{"Location": "127.0.0.1:5000", "Insecure": True, "PullFromMirror": ""}]
    # the runtime the inventory chose (container_runtime_podman_runtime)
    assert info["host"]["ociRuntime"]["name"] == "runc"


def test_podman_runs_a_container(host):
    only(host, "podman")
    host.check_output("podman image exists localhost/seed-busybox:1 || podman import -q /opt/seed-busybox/rootfs.tar localhost/seed-busybox:1")
    out = host.check_output("podman run --rm --network none localhost/seed-busybox:1 /bin/busybox echo hello-from-podman")
    assert out == "hello-from-podman"


def test_podman_container_serves_on_loopback(host):
    only(host, "podman")
    host.check_output("podman image exists localhost/seed-busybox:1 || podman import -q /opt/seed-busybox/rootfs.tar localhost/seed-busybox:1")
    host.check_output("podman rm -f -t 0 seed-web >/dev/null 2>&1; podman run -d --name seed-web --network host "
                      "localhost/seed-busybox:1 /bin/busybox httpd -f -p 127.0.0.1:18081 -h /www")
    try:
        body = host.check_output("for i in $(seq 1 20); do /bin/busybox wget -q -O - http://127.0.0.1:18081/ && exit 0; sleep 0.2; done; exit 1")
        assert body == "hello from seed.fleet"
    finally:
        host.run("podman rm -f -t 0 seed-web")


def test_podman_socket_left_off_by_default(host):
    only(host, "podman")
    assert not host.service("podman.socket").is_enabled


# --- both ----------------------------------------------------------------------------

def test_forwarding_kept_on(host):
    assert not host.file("/etc/sysctl.d/90-container-runtime.conf").exists  # baseline owns the boot value
    assert host.check_output("cat /proc/sys/net/ipv4/ip_forward") == "1"


def test_docker_not_installed_by_accident(host):
    if engine(host) == "docker":
        pytest.skip("docker host")
    assert not host.service("docker").is_running
