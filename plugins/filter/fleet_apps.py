# -*- coding: utf-8 -*-
# Copyright (c) seed.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
name: fleet_apps
short_description: The app catalogue, checked, as the load balancer or a blue-green deploy needs it
version_added: 0.4.0
description:
  - Ops define their apps once, in C(fleet_apps) (a list of dicts); C(seed.fleet.load_balancer) and C(seed.fleet.blue_green)
    read it through this filter. Every call checks the whole catalogue first, whatever the O(view), and fails with an error
    (starting with C(fleet_apps:)) naming the app(s) and the value of the first problem found.
  - "Checked in this order: a list of dicts; no unknown keys; a C(name) matching C(^[a-z0-9][a-z0-9_-]*$), unique in the
    catalogue; an C(image), a C(blue_port) and a C(green_port) that differ, every port an integer 1..65535, the other keys of
    the right type; no two apps of one C(backend_group) sharing a blue or green port; no C(preview_port) that is another port
    of the load balancer (a preview, a C(frontend_port) or a TLS port) and no C(frontend_port) that is also a TLS port; no two
    apps on one listening port whose routes overlap."
  - Routes overlap when neither app has C(hosts) and both catch every path or share a path, or when they share a host name
    (case-insensitive) and both have no C(paths) or they share a path. Apps with different hosts, or an app with C(hosts) and
    a catch-all app (the default of the port), or one host's path prefix and the rest of that host, share a port fine.
  - V(load_balancer) - the entries for C(load_balancer_apps), each with the load balancer's keys it sets, in order.
  - V(blue_green) - the settings of the app O(name) for C(seed.fleet.blue_green); V({}) for an empty catalogue.
  - V(names) - the app names, in catalogue order.
  - V(app_ports) - the blue and green ports of the apps of host group O(name) (of every app when unset) as firewall
    allow rules (C(port), C(proto), C(comment)) for C(seed.fleet.baseline); add the C(sources) that may reach them
    (the load balancers).
  - V(probes) - what a blackbox exporter probes on each load balancer, per app - its plain HTTP port (unless it only
    redirects to HTTPS, C(tls.redirect)) and its TLS port,
    with the first of its C(hosts) as Host header and TLS server name and the first of its C(paths) (else C(/)) as path,
    so that each probe reaches that app through the load balancer's routing.
positional: view, name
author:
  - seed.fleet maintainers
options:
  _input:
    description:
      - The catalogue (C(fleet_apps)), a dict per app.
      - Keys of C(load_balancer_apps) (see the C(seed.fleet.load_balancer) role) - C(name), C(frontend_port) (default 80,
        null for none), C(hosts), C(paths), C(health_path), C(backend_group) (default C(app)), C(blue_port), C(green_port),
        C(balance), C(tls) (port 443 unless C(tls.port)), C(preview_port), C(preview_bind_address) - plus C(image), C(version) (the version
        C(playbooks/site.yml) deploys first; a deploy names its own), C(env) (dict, default C({})) and C(container_port)
        (default 8080).
      - Required - C(name), C(image), C(blue_port), C(green_port).
    type: list
    elements: dict
    required: true
  view:
    description: What to return.
    type: str
    required: true
    choices: [load_balancer, blue_green, names, probes, app_ports]
  name:
    description: The app (O(view=blue_green), required there); the host group (O(view=app_ports), all groups when
      unset).
    type: str
"""

EXAMPLES = r"""
- name: The apps behind the load balancer
  ansible.builtin.set_fact:
    load_balancer_apps: "{{ fleet_apps | seed.fleet.fleet_apps('load_balancer') }}"

- name: The blue-green settings of one app (an empty dict without a catalogue)
  ansible.builtin.set_fact:
    __app: "{{ fleet_apps | default([]) | seed.fleet.fleet_apps('blue_green', 'web') }}"
"""

RETURN = r"""
_value:
  description:
    - V(load_balancer) - a list of dicts.
    - V(names) - a list of strings.
    - V(app_ports) - a list of dicts with C(port), C(proto) (V(tcp)) and C(comment).
    - V(probes) - a list of dicts with C(app), C(module) (C(app_<name>_http) or C(app_<name>_https)), C(scheme),
      C(port), C(path) and C(host) (empty for a catch-all app).
    - V(blue_green) - a dict with C(name), C(image), C(version) (empty when unset), C(ports) (C(blue) and C(green)), C(health_path) (default C(/healthz)),
      C(app_group) (the C(backend_group)), C(preview_url) (C(http://127.0.0.1:<preview_port><health_path>), empty without
      a C(preview_port)), C(env), C(container_port) and C(haproxy_backend) (C(be_<name>)).
  type: raw
"""

import re

from ansible.errors import AnsibleFilterError

LB_KEYS = ("name", "frontend_port", "hosts", "paths", "health_path", "backend_group", "blue_port", "green_port",
           "balance", "tls", "preview_port", "preview_bind_address")
KEYS = LB_KEYS + ("image", "version", "env", "container_port")
VIEWS = ("load_balancer", "blue_green", "names", "probes", "app_ports")
NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")
PORTS = ("blue_port", "green_port", "frontend_port", "preview_port", "container_port")
TYPES = {"hosts": list, "paths": list, "health_path": str, "backend_group": str, "balance": str, "tls": dict,
         "preview_bind_address": str, "env": dict, "version": str}
NULLABLE = ("frontend_port", "preview_port", "tls")  # null = no plain HTTP port, no preview, no TLS


def _fail(msg, *args):
    raise AnsibleFilterError("fleet_apps: " + msg % args)


def _is_port(value):
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 65536


def _set(app, key):
    return key in app and not (app[key] is None and key in NULLABLE)


def _listeners(app):
    """(port, what) the app takes on the load balancer."""
    out = []
    if app.get("frontend_port", 80) is not None:
        out.append((app.get("frontend_port", 80), "frontend_port"))
    if app.get("tls"):
        out.append((app["tls"].get("port", 443), "tls port"))
    if app.get("preview_port") is not None:
        out.append((app["preview_port"], "preview_port"))
    return out


def _route_ports(app):
    return {port for port, what in _listeners(app) if what != "preview_port"}


def _check_app(app):
    name = app["name"]
    if not isinstance(app.get("image"), str) or not app["image"].strip():
        _fail("app %s needs an image (a non-empty string), got %r", name, app.get("image"))
    for key in ("blue_port", "green_port"):
        if app.get(key) is None:
            _fail("app %s has no %s", name, key)
    for key in PORTS:
        if _set(app, key) and not _is_port(app[key]):
            _fail("app %s: %s must be an integer 1..65535, got %r", name, key, app[key])
    for key, kind in TYPES.items():
        if _set(app, key) and not isinstance(app[key], kind):  # no value: tls and env may hold secrets
            _fail("app %s: %s must be a %s, got a %s", name, key, kind.__name__, type(app[key]).__name__)
    if app.get("tls") and "port" in app["tls"] and not _is_port(app["tls"]["port"]):
        _fail("app %s: tls.port must be an integer 1..65535, got %r", name, app["tls"]["port"])
    if app["blue_port"] == app["green_port"]:
        _fail("app %s: blue_port and green_port are both %d", name, app["blue_port"])
    for key in ("hosts", "paths"):
        bad = [v for v in app.get(key) or [] if not isinstance(v, str) or not v or (key == "paths" and not v.startswith("/"))]
        if bad:
            _fail("app %s: %s must be non-empty strings%s, got %r", name, key, " starting with /" if key == "paths" else "", bad[0])
    if not app.get("health_path", "/").startswith("/"):
        _fail("app %s: health_path must start with /, got %r", name, app["health_path"])


def _route_clash(a, b):
    """How the routes of two apps on one port overlap, or None."""
    hosts_a, hosts_b = [{host.lower() for host in app.get("hosts") or []} for app in (a, b)]
    paths_a, paths_b = [set(app.get("paths") or []) for app in (a, b)]
    shared_paths = sorted(paths_a & paths_b)
    if not hosts_a and not hosts_b:
        if not paths_a and not paths_b:
            return "catch every request (neither has hosts or paths)"
        return "claim path %s" % shared_paths[0] if shared_paths else None
    shared_hosts = sorted(hosts_a & hosts_b)
    if shared_hosts and ((not paths_a and not paths_b) or shared_paths):
        return "claim host %s" % shared_hosts[0]
    return None


def _probes(app):
    common = {"app": app["name"], "host": (app.get("hosts") or [""])[0], "path": (app.get("paths") or ["/"])[0]}
    out = []
    redirected = bool(app.get("tls") and app["tls"].get("redirect"))  # its plain port only sends users to HTTPS
    if app.get("frontend_port", 80) is not None and not redirected:
        out.append(dict(common, module="app_%s_http" % app["name"], scheme="http", port=app.get("frontend_port", 80)))
    if app.get("tls"):
        out.append(dict(common, module="app_%s_https" % app["name"], scheme="https", port=app["tls"].get("port", 443)))
    return out


def check(catalogue):
    """Fail on the first problem of the catalogue."""
    if not isinstance(catalogue, list):
        _fail("the catalogue must be a list of dicts, got a %s", type(catalogue).__name__)
    for i, app in enumerate(catalogue, 1):
        if not isinstance(app, dict):
            _fail("entry %d of the catalogue must be a dict, got %r", i, app)
    for i, app in enumerate(catalogue, 1):
        unknown = sorted(str(key) for key in app if key not in KEYS)
        if unknown:
            label = "app %s" % app["name"] if isinstance(app.get("name"), str) and app["name"] else "entry %d" % i
            _fail("%s has unknown keys %s (allowed: %s)", label, ", ".join(unknown), ", ".join(KEYS))
    seen = {}
    for i, app in enumerate(catalogue, 1):
        name = app.get("name")
        if name is None:
            _fail("entry %d has no name", i)
        if not isinstance(name, str) or not NAME.fullmatch(name):
            _fail("entry %d: name must match ^%s$ (it names containers and HAProxy backends), got %r", i, NAME.pattern, name)
        if name in seen:
            _fail("app %s is in the catalogue twice (entries %d and %d)", name, seen[name], i)
        seen[name] = i
    for app in catalogue:
        _check_app(app)
    pairs = [(a, b) for i, a in enumerate(catalogue) for b in catalogue[i + 1:]]
    for a, b in pairs:
        group = a.get("backend_group", "app")
        shared = {a["blue_port"], a["green_port"]} & {b["blue_port"], b["green_port"]}
        if group == b.get("backend_group", "app") and shared:
            _fail("apps %s and %s both claim port %d on the hosts of group %s", a["name"], b["name"], min(shared), group)
    claims = [(port, what, app["name"]) for app in catalogue for port, what in _listeners(app)]
    for port, what, name in sorted(claims, key=lambda claim: claim[1] != "preview_port"):  # previews first
        for port2, what2, name2 in claims:
            if port == port2 and (what, name) != (what2, name2) and \
                    (what == "preview_port" or {what, what2} == {"frontend_port", "tls port"}):
                _fail("%s %d of app %s is also the %s of app %s on the load balancer", what, port, name, what2, name2)
    for a, b in pairs:
        ports = _route_ports(a) & _route_ports(b)
        clash = _route_clash(a, b) if ports else None
        if clash:
            _fail("apps %s and %s both %s on port %d", a["name"], b["name"], clash, min(ports))


def fleet_apps(catalogue, view, name=None):
    """The checked catalogue as ``view`` needs it."""
    if view not in VIEWS:
        _fail("view must be one of %s, not %r", ", ".join(VIEWS), view)
    if view == "blue_green" and not isinstance(name, str):
        _fail("view blue_green needs the name of an app, got %r", name)
    check(catalogue)
    if view == "names":
        return [app["name"] for app in catalogue]
    if view == "app_ports":
        return [{"port": app["%s_port" % color], "proto": "tcp", "comment": "%s %s color" % (app["name"], color)}
                for app in catalogue if name is None or app.get("backend_group", "app") == name
                for color in ("blue", "green")]
    if view == "probes":
        return [probe for app in catalogue for probe in _probes(app)]
    if view == "load_balancer":
        return [{key: app[key] for key in LB_KEYS if key in app} for app in catalogue]
    if not catalogue:
        return {}
    apps = {app["name"]: app for app in catalogue}
    if name not in apps:
        _fail("app %r is not in the catalogue (fleet_apps): %s", name, ", ".join(app["name"] for app in catalogue))
    app = apps[name]
    health_path = app.get("health_path", "/healthz")
    return {
        "name": name,
        "image": app["image"],
        "version": app.get("version", ""),
        "ports": {"blue": app["blue_port"], "green": app["green_port"]},
        "health_path": health_path,
        "app_group": app.get("backend_group", "app"),
        "preview_url": "http://127.0.0.1:%d%s" % (app["preview_port"], health_path) if app.get("preview_port") else "",
        "env": dict(app.get("env") or {}),
        "container_port": app.get("container_port", 8080),
        "haproxy_backend": "be_" + name,
    }


class FilterModule(object):
    def filters(self):
        return {"fleet_apps": fleet_apps}
