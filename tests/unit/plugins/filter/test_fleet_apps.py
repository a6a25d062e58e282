# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""seed.fleet.fleet_apps: one app catalogue, checked on every call, read by the load balancer and by
blue-green deploys."""
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.seed.fleet.plugins.filter.fleet_apps import KEYS, FilterModule, fleet_apps


def app(name="web", **kw):
    entry = {"name": name, "image": "registry.test/%s" % name, "blue_port": 8081, "green_port": 8082}
    entry.update(kw)
    return entry


WEB = app(hosts=["www.example.test"], paths=["/"], health_path="/ready", balance="leastconn", preview_port=9001,
          preview_bind_address="127.0.0.1", tls={"port": 8443, "certificate": "PEM"}, env={"MODE": "prod"},
          container_port=3000, frontend_port=8080, backend_group="web", version="1.4.2")
API = app("api", hosts=["api.example.test"], blue_port=8083, green_port=8084)


def fails(catalogue, *parts, **kw):
    """The filter refuses the catalogue with a message holding every part."""
    with pytest.raises(AnsibleFilterError) as err:
        fleet_apps(catalogue, kw.get("view", "names"), kw.get("name"))
    msg = str(err.value)
    assert msg.startswith("fleet_apps: ")
    for part in parts:
        assert part in msg, msg
    return msg


def test_names_in_catalogue_order():
    assert fleet_apps([API, WEB], "names") == ["api", "web"]
    assert fleet_apps([], "names") == []


def test_load_balancer_view_keeps_the_lb_keys_set_and_drops_the_others():
    got = fleet_apps([WEB, API], "load_balancer")
    assert [a["name"] for a in got] == ["web", "api"]
    assert "image" not in got[0] and "env" not in got[0] and "container_port" not in got[0] and "version" not in got[0]
    assert got[0] == dict((k, v) for k, v in WEB.items() if k not in ("image", "env", "container_port", "version"))
    # only the keys the entry sets: no defaults filled in, null kept
    assert got[1] == {"name": "api", "hosts": ["api.example.test"], "blue_port": 8083, "green_port": 8084}
    assert fleet_apps([app(frontend_port=None)], "load_balancer") == [
        {"name": "web", "frontend_port": None, "blue_port": 8081, "green_port": 8082}]


def test_blue_green_view_of_a_full_entry():
    assert fleet_apps([API, WEB], "blue_green", "web") == {
        "name": "web", "image": "registry.test/web", "version": "1.4.2", "ports": {"blue": 8081, "green": 8082}, "health_path": "/ready",
        "app_group": "web", "preview_url": "http://127.0.0.1:9001/ready", "env": {"MODE": "prod"},
        "container_port": 3000, "haproxy_backend": "be_web"}


def test_blue_green_view_defaults():
    assert fleet_apps([API], "blue_green", "api") == {
        "name": "api", "image": "registry.test/api", "version": "", "ports": {"blue": 8083, "green": 8084}, "health_path": "/healthz",
        "app_group": "app", "preview_url": "", "env": {}, "container_port": 8080, "haproxy_backend": "be_api"}
    assert fleet_apps([app(preview_port=9000)], "blue_green", "web")["preview_url"] == "http://127.0.0.1:9000/healthz"


def test_blue_green_view_of_an_empty_catalogue_is_empty():
    assert fleet_apps([], "blue_green", "web") == {}


def test_blue_green_view_of_an_unknown_app_lists_the_names():
    msg = fails([WEB, API], view="blue_green", name="shop")
    assert msg == "fleet_apps: app 'shop' is not in the catalogue (fleet_apps): web, api"


def test_view_and_name_are_checked():
    fails([WEB], "load_balancer, blue_green, names", "'lb'", view="lb")
    fails([WEB], "blue_green needs the name", view="blue_green")


def test_every_view_checks_the_whole_catalogue():
    for view in ("names", "load_balancer", "blue_green"):
        fails([API, app("api")], "app api is in the catalogue twice (entries 1 and 2)", view=view, name="api")


@pytest.mark.parametrize("catalogue, parts", [
    ({"name": "web"}, ["must be a list of dicts", "dict"]),
    ([WEB, "api"], ["entry 2", "'api'"]),
])
def test_not_a_list_of_dicts(catalogue, parts):
    fails(catalogue, *parts)


def test_unknown_keys_are_listed_with_the_allowed_ones():
    msg = fails([WEB, app("api", imgae="x", Port=1)], "app api has unknown keys Port, imgae", "allowed: " + ", ".join(KEYS))
    assert "container_port" in msg and "preview_bind_address" in msg
    fails([{"imgae": "x"}], "entry 1 has unknown keys imgae")


@pytest.mark.parametrize("name, parts", [
    (None, ["entry 2 has no name"]),
    ("Web", ["entry 2", "'Web'", "^[a-z0-9][a-z0-9_-]*$"]),
    ("-web", ["'-web'"]),
    ("web\n", ["'web\\n'"]),
    ("", ["entry 2", "''"]),
    (8081, ["entry 2", "8081"]),
])
def test_bad_names(name, parts):
    bad = app()
    bad["name"] = name
    fails([API, bad], *parts)


@pytest.mark.parametrize("change, parts", [
    ({"image": ""}, ["app web needs an image", "''"]),
    ({"image": None}, ["app web needs an image", "None"]),
    ({"blue_port": None}, ["app web has no blue_port"]),
    ({"green_port": "8082"}, ["app web: green_port", "'8082'"]),
    ({"blue_port": 70000}, ["app web: blue_port", "70000"]),
    ({"blue_port": True}, ["app web: blue_port", "True"]),
    ({"preview_port": 0}, ["app web: preview_port", "0"]),
    ({"frontend_port": "80"}, ["app web: frontend_port", "'80'"]),
    ({"container_port": 8080.0}, ["app web: container_port", "8080.0"]),
    ({"tls": {"port": 0, "certificate": "PEM"}}, ["app web: tls.port", "0"]),
    ({"green_port": 8081}, ["app web: blue_port and green_port are both 8081"]),
    ({"hosts": "www.example.test"}, ["app web: hosts must be a list, got a str"]),
    ({"paths": ["api"]}, ["app web: paths", "starting with /", "'api'"]),
    ({"health_path": "healthz"}, ["app web: health_path", "'healthz'"]),
    ({"tls": "PEM"}, ["app web: tls must be a dict, got a str"]),
    ({"env": ["A=1"]}, ["app web: env must be a dict, got a list"]),
])
def test_bad_entries(change, parts):
    fails([API, app(**change)], *parts)


def test_secrets_stay_out_of_the_messages():
    msg = fails([app(tls="-----BEGIN CERTIFICATE----- secret")], "tls must be a dict")
    assert "secret" not in msg


def test_nullable_keys():
    assert fleet_apps([app(frontend_port=None, preview_port=None, tls=None)], "names") == ["web"]


def test_app_hosts_port_clash_in_one_group():
    fails([WEB, API, app("shop", blue_port=8084, green_port=8085)],
          "apps api and shop both claim port 8084 on the hosts of group app")
    fails([app(), app("api", green_port=8081, blue_port=8090, hosts=["api.test"])],
          "apps web and api both claim port 8081 on the hosts of group app")


def test_other_backend_groups_may_reuse_the_ports():
    catalogue = [app(hosts=["www.test"]), app("api", hosts=["api.test"], backend_group="api")]
    assert fleet_apps(catalogue, "names") == ["web", "api"]


@pytest.mark.parametrize("catalogue, msg", [
    ([app(preview_port=9000), app("api", blue_port=1, green_port=2, hosts=["a.test"], preview_port=9000)],
     "preview_port 9000 of app web is also the preview_port of app api on the load balancer"),
    ([app(hosts=["w.test"]), app("api", blue_port=1, green_port=2, preview_port=80)],
     "preview_port 80 of app api is also the frontend_port of app web on the load balancer"),
    ([app(tls={"certificate": "PEM"}, preview_port=443)],
     "preview_port 443 of app web is also the tls port of app web on the load balancer"),
    ([app(frontend_port=443, hosts=["w.test"]), app("api", blue_port=1, green_port=2, hosts=["a.test"], tls={"certificate": "PEM"})],
     "frontend_port 443 of app web is also the tls port of app api on the load balancer"),
])
def test_load_balancer_port_clash(catalogue, msg):
    fails(catalogue, msg)


def test_preview_clashes_come_before_a_frontend_on_a_tls_port():
    fails([app(frontend_port=443, hosts=["w.test"]),
           app("api", blue_port=1, green_port=2, hosts=["a.test"], tls={"certificate": "PEM"}, preview_port=80)],
          "preview_port 80 of app api is also the frontend_port of app api on the load balancer")


@pytest.mark.parametrize("catalogue, msg", [
    ([app(), app("api", blue_port=1, green_port=2)],
     "apps web and api both catch every request (neither has hosts or paths) on port 80"),
    ([app(tls={"certificate": "PEM"}, frontend_port=None, hosts=["www.example.test"]),
      app("api", blue_port=1, green_port=2, hosts=["api.test", "WWW.Example.Test"], tls={"port": 443, "certificate": "PEM"})],
     "apps web and api both claim host www.example.test on port 443"),
    ([app(hosts=["w.test"], paths=["/api", "/v1"]), app("api", blue_port=1, green_port=2, hosts=["w.test"], paths=["/v1"])],
     "apps web and api both claim host w.test on port 80"),
    ([app(paths=["/api"]), app("api", blue_port=1, green_port=2, paths=["/api"])],
     "apps web and api both claim path /api on port 80"),
])
def test_routing_clash(catalogue, msg):
    fails(catalogue, msg)


@pytest.mark.parametrize("catalogue", [
    # same port, different hosts
    [app(hosts=["www.example.test"]), app("api", blue_port=1, green_port=2, hosts=["api.example.test"])],
    # one app with hosts, one catch-all (the default of the port)
    [app(hosts=["www.example.test"]), app("api", blue_port=1, green_port=2)],
    # same host, different paths
    [app(hosts=["w.test"], paths=["/api"]), app("api", blue_port=1, green_port=2, hosts=["w.test"], paths=["/shop"])],
    # same host, one app under a path, the other for the rest of the host (HAProxy routes host+path first)
    [app(hosts=["w.test"], paths=["/api"]), app("api", blue_port=1, green_port=2, hosts=["w.test"])],
    # both catch-all, different ports
    [app(), app("api", blue_port=1, green_port=2, frontend_port=8080)],
    # catch-all on plain HTTP and on TLS only
    [app(), app("api", blue_port=1, green_port=2, frontend_port=None, tls={"certificate": "PEM"})],
])
def test_valid_shared_ports(catalogue):
    assert fleet_apps(catalogue, "names") == ["web", "api"]
    assert len(fleet_apps(catalogue, "load_balancer")) == 2


def test_filter_is_registered():
    assert FilterModule().filters()["fleet_apps"] is fleet_apps


def test_probes_view_one_per_listening_port_with_the_route():
    assert fleet_apps([WEB, API], "probes") == [
        {"app": "web", "module": "app_web_http", "scheme": "http", "port": 8080, "path": "/", "host": "www.example.test"},
        {"app": "web", "module": "app_web_https", "scheme": "https", "port": 8443, "path": "/", "host": "www.example.test"},
        {"app": "api", "module": "app_api_http", "scheme": "http", "port": 80, "path": "/", "host": "api.example.test"},
    ]


def test_probes_view_of_tls_only_and_path_routed_apps():
    got = fleet_apps([app(frontend_port=None, hosts=["w.test"], paths=["/shop", "/cart"], tls={"certificate": "PEM"})],
                     "probes")
    assert got == [{"app": "web", "module": "app_web_https", "scheme": "https", "port": 443, "path": "/shop",
                    "host": "w.test"}]
    assert fleet_apps([app()], "probes") == [
        {"app": "web", "module": "app_web_http", "scheme": "http", "port": 80, "path": "/", "host": ""}]
    assert fleet_apps([], "probes") == []


def test_probes_view_skips_a_plain_port_that_only_redirects():
    got = fleet_apps([app(hosts=["w.test"], tls={"certificate": "PEM", "redirect": True})], "probes")
    assert [(p["scheme"], p["port"]) for p in got] == [("https", 443)]


def test_app_ports_view_per_host_group():
    both = [app(), API]
    assert fleet_apps(both, "app_ports", "app") == [
        {"port": 8081, "proto": "tcp", "comment": "web blue color"},
        {"port": 8082, "proto": "tcp", "comment": "web green color"},
        {"port": 8083, "proto": "tcp", "comment": "api blue color"},
        {"port": 8084, "proto": "tcp", "comment": "api green color"}]
    assert [r["port"] for r in fleet_apps([WEB, API], "app_ports", "web")] == [8081, 8082]
    assert len(fleet_apps([WEB, API], "app_ports")) == 4
    assert fleet_apps([], "app_ports", "app") == []
