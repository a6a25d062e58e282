# -*- coding: utf-8 -*-
# Copyright (c) seed.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""daemon.json as data (private module_utils of seed.fleet.docker_daemon_config).

- ``merge_patch``: RFC 7386 JSON merge patch (objects merge recursively, ``null``
  removes a key, everything else replaces).
- ``compute``: before + requested keys/removals -> candidate.
- ``changes`` / ``classify``: top-level key changes and whether dockerd needs a
  restart or only a reload (SIGHUP) to apply them.
- ``builtin_errors``: type checks for well-known keys (catches the classic
  mistakes, e.g. numbers in log-opts, that keep dockerd from starting).
- ``DockerdValidator``: asks dockerd itself. Docker >= 23 has
  ``dockerd --validate``; older engines (Debian 12's 20.10) have not, but their
  startup path loads and validates the config file and then stops an
  unprivileged caller with "needs to be started with root" before touching
  anything, so the candidate is loaded by dockerd as user nobody.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json
import os
import re
import shutil
import tempfile

# Keys dockerd applies on SIGHUP without a restart. Docker's documentation,
# "Configuration reload behavior" (dockerd reference), and daemon/reload.go.
RELOADABLE_KEYS = frozenset([
    "debug",
    "labels",
    "live-restore",
    "max-concurrent-downloads",
    "max-concurrent-uploads",
    "max-download-attempts",
    "default-runtime",
    "runtimes",
    "authorization-plugins",
    "allow-nondistributable-artifacts",
    "insecure-registries",
    "registry-mirrors",
    "shutdown-timeout",
    "features",
])

_BOOL_KEYS = (
    "debug", "live-restore", "experimental", "ipv6", "icc", "iptables", "ip6tables", "ip-forward",
    "ip-masq", "userland-proxy", "init", "selinux-enabled", "no-new-privileges", "raw-logs", "tls",
    "tlsverify", "rootless",
)
_INT_KEYS = (
    "max-concurrent-downloads", "max-concurrent-uploads", "max-download-attempts", "shutdown-timeout",
    "mtu", "network-diagnostic-port",
)
_STR_KEYS = (
    "data-root", "exec-root", "log-driver", "log-level", "storage-driver", "default-runtime", "bip",
    "bridge", "fixed-cidr", "fixed-cidr-v6", "default-gateway", "default-gateway-v6", "cgroup-parent",
    "group", "pidfile", "default-ipc-mode", "default-cgroupns-mode", "default-shm-size", "containerd",
    "userns-remap", "seccomp-profile", "tlscacert", "tlscert", "tlskey",
)
_STR_LIST_KEYS = (
    "registry-mirrors", "insecure-registries", "labels", "dns", "dns-search", "dns-opts", "hosts",
    "storage-opts", "exec-opts", "authorization-plugins", "allow-nondistributable-artifacts",
)
_DICT_KEYS = ("log-opts", "runtimes", "features", "default-ulimits", "default-network-opts")

# dockerd < 23 (no --validate) stops an unprivileged caller with this message,
# right after it has loaded and validated the configuration file.
_LOADED_OK = re.compile(r"needs to be started with root", re.IGNORECASE)


class DaemonConfigError(Exception):
    """Bad input or an invalid configuration: nothing was written."""


def load_text(text, path="daemon.json"):
    """Parse daemon.json text. Empty text is an empty config; the top level must be an object."""
    if text is None or not text.strip():
        return {}
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise DaemonConfigError("%s is not valid JSON: %s" % (path, exc))
    if not isinstance(data, dict):
        raise DaemonConfigError("%s must contain a JSON object at the top level, found %s" % (path, type(data).__name__))
    return data


def render(config):
    """Canonical file content: sorted keys, two-space indent, trailing newline."""
    return json.dumps(config, indent=2, sort_keys=True, separators=(",", ": ")) + "\n"


def merge_patch(target, patch):
    """RFC 7386 merge patch; returns a new object, never mutates its inputs."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict):
            result[key] = merge_patch(result.get(key), value)
        else:
            result[key] = copy.deepcopy(value)
    return result


def _strip_nulls(value):
    if isinstance(value, dict):
        return dict((k, _strip_nulls(v)) for k, v in value.items() if v is not None)
    return copy.deepcopy(value)


def compute(before, config=None, remove_keys=None, replace=False):
    """The candidate configuration.

    ``replace``: the result is ``config`` (nulls dropped) instead of a merge.
    ``remove_keys``: top-level keys removed afterwards (absent keys are fine).
    """
    config = config or {}
    if not isinstance(config, dict):
        raise DaemonConfigError("config must be a dictionary, got %s" % type(config).__name__)
    for key in list(config) + list(remove_keys or []):
        if not isinstance(key, str) or not key.strip():
            raise DaemonConfigError("daemon.json keys must be non-empty strings, got %r" % (key,))
    overlap = sorted(set(config) & set(remove_keys or []))
    if overlap:
        raise DaemonConfigError("keys both set in config and listed in remove_keys: %s" % ", ".join(overlap))
    after = _strip_nulls(config) if replace else merge_patch(before or {}, config)
    for key in remove_keys or []:
        after.pop(key, None)
    return after


def changes(before, after):
    """Top-level key changes, sorted by key: dicts with key, before, after, reload."""
    before = before or {}
    after = after or {}
    out = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if key in before and key in after and old == new:
            continue
        out.append({"key": key, "before": old, "after": new, "reload": key in RELOADABLE_KEYS})
    return out


def classify(change_list):
    """Decide how dockerd picks the change up: ``none``, ``reload`` (SIGHUP) or ``restart``."""
    restart_keys = [c["key"] for c in change_list if not c["reload"]]
    reload_keys = [c["key"] for c in change_list if c["reload"]]
    if restart_keys:
        action = "restart"
    elif reload_keys:
        action = "reload"
    else:
        action = "none"
    return {"action": action, "restart_keys": restart_keys, "reload_keys": reload_keys}


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def builtin_errors(config):
    """Type errors in well-known keys (list of messages; empty when fine).

    Unknown keys are left to dockerd, which knows its own version's options.
    """
    errors = []
    for key in _BOOL_KEYS:
        if key in config and not isinstance(config[key], bool):
            errors.append("%s must be a boolean, got %r" % (key, config[key]))
    for key in _INT_KEYS:
        if key in config and (not _is_int(config[key]) or config[key] < 0):
            errors.append("%s must be a non-negative integer, got %r" % (key, config[key]))
    for key in _STR_KEYS:
        if key in config and not isinstance(config[key], str):
            errors.append("%s must be a string, got %r" % (key, config[key]))
    for key in _STR_LIST_KEYS:
        if key in config and (not isinstance(config[key], list) or not all(isinstance(v, str) for v in config[key])):
            errors.append("%s must be a list of strings, got %r" % (key, config[key]))
    for key in _DICT_KEYS:
        if key in config and not isinstance(config[key], dict):
            errors.append("%s must be an object, got %r" % (key, config[key]))
    log_opts = config.get("log-opts")
    if isinstance(log_opts, dict):
        for name, value in sorted(log_opts.items()):
            if not isinstance(value, str):
                errors.append('log-opts.%s must be a string (dockerd rejects %r; write "%s")' % (name, value, value))
    mirrors = config.get("registry-mirrors")
    if isinstance(mirrors, list):
        for url in mirrors:
            if isinstance(url, str) and not re.match(r"^https?://[^/\s]+", url):
                errors.append("registry-mirrors entry %r must be an http:// or https:// URL" % (url,))
    pools = config.get("default-address-pools")
    if pools is not None:
        if not isinstance(pools, list):
            errors.append("default-address-pools must be a list of {base, size} objects")
        else:
            for pool in pools:
                if not isinstance(pool, dict) or set(pool) - set(["base", "size"]) \
                        or not isinstance(pool.get("base"), str) or "/" not in pool.get("base", "") \
                        or not _is_int(pool.get("size")) or not 0 < pool["size"] <= 128:
                    errors.append("default-address-pools entry %r must be {base: CIDR, size: prefix length}" % (pool,))
    return errors


class DockerdValidator:
    """Validate a candidate file with the dockerd binary.

    ``run`` is ``AnsibleModule.run_command``-like: ``run(argv) -> (rc, out, err)``.
    """

    def __init__(self, run, dockerd, euid=None, setpriv=None, timeout_bin=None, unprivileged_uid=65534):
        self.run = run
        self.dockerd = dockerd
        self.euid = os.geteuid() if euid is None else euid
        self.setpriv = setpriv
        self.timeout_bin = timeout_bin
        self.uid = unprivileged_uid
        self._has_flag = None

    def has_validate_flag(self):
        if self._has_flag is None:
            rc, out, err = self.run([self.dockerd, "--help"])
            self._has_flag = "--validate" in (out or "") + (err or "")
        return self._has_flag

    def _argv(self, argv):
        if self.timeout_bin:
            argv = [self.timeout_bin, "30"] + argv
        return argv

    def validate(self, config):
        """Return (method, error): error is None when dockerd accepted the config."""
        workdir = tempfile.mkdtemp(prefix="seed-fleet-daemon-json-")
        try:
            path = os.path.join(workdir, "daemon.json")
            with open(path, "w") as fh:
                fh.write(render(config))
            if self.has_validate_flag():
                rc, out, err = self.run(self._argv([self.dockerd, "--validate", "--config-file", path]))
                msg = _clean(err or out)
                return "dockerd --validate", (None if rc == 0 else msg or "dockerd --validate failed (rc=%s)" % rc)
            if config.get("rootless") is True:
                return None, None  # an unprivileged rootless dockerd would really start: do not try
            argv = [self.dockerd, "--config-file", path]
            if self.euid == 0:
                if not self.setpriv:
                    return None, None
                os.chmod(workdir, 0o711)
                os.chmod(path, 0o644)
                argv = [self.setpriv, "--reuid=%d" % self.uid, "--regid=%d" % self.uid, "--clear-groups"] + argv
            rc, out, err = self.run(self._argv(argv))
            text = "%s\n%s" % (out or "", err or "")
            if _LOADED_OK.search(text):
                return "dockerd config loader", None
            return "dockerd config loader", _clean(text) or "dockerd rejected the configuration (rc=%s)" % rc
        finally:
            shutil.rmtree(workdir, ignore_errors=True)


def _clean(text):
    """dockerd's message without log noise, temp paths replaced by a neutral name."""
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    lines = [line for line in lines if "Starting up" not in line]
    msg = " ".join(lines)
    return re.sub(r"\S*/seed-fleet-daemon-json-[^/\s]+/daemon\.json", "<candidate daemon.json>", msg)
