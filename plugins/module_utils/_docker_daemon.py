# -*- coding: utf-8 -*-
# Copyright (c) seed.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""daemon.json as data: the whole flow of seed.fleet.docker_daemon_config.

PRIVATE to this collection: no compatibility promise outside seed.fleet.

The module is docs + argspec + ``run_module(module)``; the flow lives here in named
steps, each a method of ``DaemonConfigRun`` (``check_params`` -> ``read_current`` ->
``plan`` -> ``validate`` -> ``apply``). Every input is checked and every read done
before the first write, so a failure leaves the live file, its mode and its
directory as they were.

Pure helpers, unit-tested on their own:

- ``merge_patch``: RFC 7386 JSON merge patch (objects merge recursively, ``null``
  removes a key, everything else replaces).
- ``compute``: before + requested keys/removals -> candidate.
- ``changes`` / ``classify``: top-level key changes and whether dockerd needs a
  restart or only a reload (SIGHUP) to apply them.
- ``builtin_errors``: type checks for well-known keys plus the value checks
  dockerd's configuration loader does not do (``bip``, CIDRs, addresses, log level).
- ``DockerdValidator``: asks dockerd itself. Docker >= 23 has
  ``dockerd --validate``; older engines (Debian 12's 20.10) have not, but their
  startup path loads and validates the config file and then stops an
  unprivileged caller with "needs to be started with root" before touching
  anything, so the candidate is loaded by dockerd as user nobody. Both run the
  same code (``loadDaemonCliConfig``: JSON, unknown keys, types, conflicts and
  ``config.Validate``); neither checks what only the daemon's start uses (the
  log driver and its options, storage driver, ``bip``, address pools, paths).
- ``discover_log_drivers``: the log drivers the running daemon offers
  (``docker info``), to check ``log-driver`` where that is possible.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import ipaddress
import json
import os
import re
import shutil
import tempfile

from ansible.module_utils.common.text.converters import to_native, to_text

ARGUMENT_SPEC = dict(
    path=dict(type="path", default="/etc/docker/daemon.json"),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    config=dict(type="dict", default={}),
    replace=dict(type="bool", default=False),
    remove_keys=dict(type="list", elements="str", default=[], no_log=False),
    remove_if_empty=dict(type="bool", default=False),
    validate=dict(type="str", choices=["auto", "dockerd", "builtin", "none"], default="auto"),
    dockerd_path=dict(type="path"),
    backup=dict(type="bool", default=False),
    mode=dict(type="raw", default="0644"),
)

# A daemon.json is a few kilobytes; anything past this is a mistake (or a wrong path),
# and reading or writing it whole would only hide that.
MAX_BYTES = 1024 * 1024

# Keys dockerd applies on SIGHUP without a restart: Docker's documentation,
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

# The reload applies most of those only `if conf.IsValueSet(key)`: a key removed
# from the file keeps its old value live until dockerd restarts. These few are reset
# to their default on every reload (daemon/reload.go: "We always reset" for the
# download/upload limits; features "allow ... to be entirely unset"), so removing
# them is a reload too.
RESET_ON_RELOAD = frozenset([
    "max-concurrent-downloads",
    "max-concurrent-uploads",
    "max-download-attempts",
    "features",
])

# Keys only dockerd's start examines (neither --validate nor the loader does): a bad
# value passes every check here and stops dockerd at its next start. Reported in
# ``not_validated`` when the candidate has them. log-driver leaves this list when the
# running daemon's log drivers were discovered.
START_ONLY_KEYS = (
    "log-driver", "log-opts", "storage-driver", "storage-opts", "data-root", "exec-root",
    "default-address-pools", "userns-remap", "seccomp-profile", "containerd",
)

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

_GO_INT_MAX = 2 ** 63 - 1  # dockerd's integer options are Go ints (64-bit)
_LOG_LEVELS = ("trace", "debug", "info", "warn", "warning", "error", "fatal", "panic")

# dockerd < 23 (no --validate) stops an unprivileged caller with this message,
# right after it has loaded and validated the configuration file.
_LOADED_OK = re.compile(r"needs to be started with root", re.IGNORECASE)
_SYMBOLIC_MODE = re.compile(r"^[ugoa]*([-+=][rwxXstugo]*)+$")


class DaemonConfigError(Exception):
    """Bad input, an unusable file or an invalid configuration: nothing was written."""

    def __init__(self, msg, **details):
        super(DaemonConfigError, self).__init__(msg)
        self.details = details


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


def decode(raw, path="daemon.json"):
    """File bytes -> text; dockerd reads UTF-8 only, so anything else is an error naming the path."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DaemonConfigError("%s is not UTF-8 text (byte 0x%02x at offset %d); dockerd reads daemon.json as UTF-8"
                                % (path, bytearray(raw[exc.start:exc.start + 1])[0], exc.start))


def render(config):
    """Canonical file content: sorted keys, two-space indent, trailing newline; strict JSON."""
    try:
        text = json.dumps(config, indent=2, sort_keys=True, separators=(",", ": "), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise DaemonConfigError("config cannot be written as JSON: %s" % exc)
    return text + "\n"


def parse_mode(mode):
    """Check O(mode) the way AnsibleModule will apply it, before anything is written."""
    if mode is None:
        return None
    if isinstance(mode, bool) or not isinstance(mode, (int, str)):
        raise DaemonConfigError("mode must be an octal string such as '0644' or a symbolic mode, got %r" % (mode,))
    if isinstance(mode, int):
        value = mode
    elif re.match(r"^\s*0?o?[0-7]+\s*$", mode):
        value = int(mode.strip().replace("o", ""), 8)
    elif all(_SYMBOLIC_MODE.match(part) for part in mode.split(",")):
        return mode
    else:
        raise DaemonConfigError("mode must be an octal string such as '0644' or a symbolic mode, got %r" % (mode,))
    if not 0 <= value <= 0o7777:
        raise DaemonConfigError("mode %r is out of range: only permission bits (up to 07777) are allowed" % (mode,))
    return mode


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


def applies_on_reload(key, after):
    """Whether SIGHUP makes the running daemon match ``after`` for ``key``.

    A reloadable key that stays in the file is applied; one removed from it only when
    the reload resets it (RESET_ON_RELOAD), otherwise the old value stays live.
    """
    return key in RELOADABLE_KEYS and (key in after or key in RESET_ON_RELOAD)


def changes(before, after):
    """Top-level key changes, sorted by key: dicts with key, before, after, reload."""
    before = before or {}
    after = after or {}
    out = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if key in before and key in after and old == new:
            continue
        out.append({"key": key, "before": old, "after": new, "reload": applies_on_reload(key, after)})
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


def _address_errors(config):
    """Addresses and networks: what dockerd's loader lets through and its start refuses."""
    errors = []
    bip = config.get("bip")
    if isinstance(bip, str):
        try:
            iface = ipaddress.IPv4Interface(to_text(bip))
            if "/" not in bip or iface.network.prefixlen > 30 \
                    or iface.ip in (iface.network.network_address, iface.network.broadcast_address):
                raise ValueError("not a host address in a network")
        except ValueError:
            errors.append("bip must be the bridge's IPv4 address with its prefix length, a host address of the network "
                          "(for example 172.17.0.1/16), got %r" % (bip,))
    for key, family in (("fixed-cidr", ipaddress.IPv4Network), ("fixed-cidr-v6", ipaddress.IPv6Network)):
        value = config.get(key)
        if isinstance(value, str):
            try:
                if "/" not in value:
                    raise ValueError("no prefix length")
                family(to_text(value), strict=False)
            except ValueError:
                errors.append("%s must be an %s CIDR, got %r" % (key, "IPv4" if family is ipaddress.IPv4Network else "IPv6", value))
    for key, family in (("default-gateway", ipaddress.IPv4Address), ("default-gateway-v6", ipaddress.IPv6Address)):
        value = config.get(key)
        if isinstance(value, str):
            try:
                family(to_text(value))
            except ValueError:
                errors.append("%s must be an %s address, got %r" % (key, "IPv4" if family is ipaddress.IPv4Address else "IPv6", value))
    dns = config.get("dns")
    if isinstance(dns, list):
        for server in dns:
            try:
                ipaddress.ip_address(to_text(server))
            except ValueError:
                errors.append("dns entry %r must be an IP address" % (server,))
    return errors


def _pool_ok(pool):
    if not isinstance(pool, dict) or set(pool) - set(["base", "size"]):
        return False
    base, size = pool.get("base"), pool.get("size")
    if not isinstance(base, str) or "/" not in base or not _is_int(size):
        return False
    try:
        network = ipaddress.ip_network(to_text(base), strict=False)
    except ValueError:
        return False
    return network.prefixlen <= size <= network.max_prefixlen


def builtin_errors(config):
    """Errors in well-known keys (list of messages; empty when fine).

    Types of well-known keys, plus the values dockerd only examines when it starts
    (``bip``, CIDRs, gateways, address pools) and the ones it would refuse anyway
    (log level, DNS servers), so ``validate=builtin`` catches them too. Unknown keys
    are left to dockerd, which knows its own version's options.
    """
    errors = []
    for key in _BOOL_KEYS:
        if key in config and not isinstance(config[key], bool):
            errors.append("%s must be a boolean, got %r" % (key, config[key]))
    for key in _INT_KEYS:
        if key in config and (not _is_int(config[key]) or not 0 <= config[key] <= _GO_INT_MAX):
            errors.append("%s must be a non-negative integer (at most %d), got %r" % (key, _GO_INT_MAX, config[key]))
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
    level = config.get("log-level")
    if isinstance(level, str) and level.lower() not in _LOG_LEVELS:
        errors.append("log-level must be one of %s, got %r" % (", ".join(_LOG_LEVELS), level))
    driver = config.get("log-driver")
    if isinstance(driver, str) and (not driver.strip() or driver != driver.strip()):
        errors.append("log-driver must be a driver name, got %r" % (driver,))
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
                if not _pool_ok(pool):
                    errors.append("default-address-pools entry %r must be {base: CIDR, size: prefix length "
                                  "no shorter than the base's}" % (pool,))
    return errors + _address_errors(config)


def discover_log_drivers(run, docker):
    """The log drivers the running daemon offers (built-in and plugins), or None when unknown."""
    rc, out, err = run([docker, "info", "--format", "{{json .Plugins.Log}}"])
    if rc != 0:
        return None
    try:
        names = json.loads(out or "")
    except ValueError:
        return None
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        return None
    return names


class DaemonConfigRun:
    """One task of the module, as named steps (the shape of community.docker's run_module).

    ``run`` calls them in order: ``check_params`` -> ``read_current`` -> ``plan`` ->
    ``validate`` -> ``report`` -> ``apply``. Only ``apply`` writes, and only outside
    check mode; every step before it raises DaemonConfigError on bad input.
    """

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.path = module.params["path"]

    def run(self):
        self.check_params()
        current = self.read_current()
        plan = self.plan(current)
        validated_by = self.validate(plan) if plan["write"] else []
        result = self.report(current, plan, validated_by)
        self.apply(current, plan, result)
        return result

    # -- 1. input -------------------------------------------------------------------
    def check_params(self):
        """Everything about the options that can be known without the file."""
        p = self.params
        if not self.path or self.path.endswith(os.sep):
            raise DaemonConfigError("path must name a file, got %r" % (self.path,))
        if p["state"] == "absent":
            given = [name for name in ("config", "remove_keys", "replace", "remove_if_empty") if p[name]]
            if given:
                raise DaemonConfigError("state=absent removes the file; it cannot be combined with %s (mutually exclusive)"
                                        % ", ".join(given))
        parse_mode(p["mode"])

    # -- 2. the live file ---------------------------------------------------------------
    def read_current(self):
        """The live file: exists, text (for the diff) and data (None when replace/absent may ignore a bad file)."""
        path = self.path
        current = {"exists": os.path.isfile(path), "text": None, "data": {}}
        if os.path.exists(path) and not current["exists"]:
            raise DaemonConfigError("%s exists and is not a regular file" % path)
        parent = os.path.dirname(path)
        if parent and os.path.exists(parent) and not os.path.isdir(parent):
            raise DaemonConfigError("cannot write %s: %s is not a directory" % (path, parent))
        if not current["exists"]:
            return current
        try:
            with open(path, "rb") as fh:
                raw = fh.read(MAX_BYTES + 1)
        except (IOError, OSError) as exc:
            raise DaemonConfigError("cannot read %s: %s" % (path, exc.strerror or exc))
        if len(raw) > MAX_BYTES:
            raise DaemonConfigError("%s is larger than %d bytes: not a daemon.json this module will read" % (path, MAX_BYTES))
        # replace and absent do not need the old content: a broken file is what they repair
        lenient = self.params["replace"] or self.params["state"] == "absent"
        try:
            current["text"] = decode(raw, path)
            current["data"] = load_text(current["text"], path)
        except DaemonConfigError:
            if not lenient:
                raise
            current["text"] = raw.decode("utf-8", "replace")
            current["data"] = None
        return current

    # -- 3. the candidate -----------------------------------------------------------------
    def plan(self, current):
        p = self.params
        before = current["data"]
        after = {} if p["state"] == "absent" else compute(before, p["config"], p["remove_keys"], p["replace"])
        empty_removed = p["remove_if_empty"] and not after
        plan = {
            "before": before,
            "after": after,
            "delete": current["exists"] and (p["state"] == "absent" or empty_removed),
            "write": p["state"] == "present" and not empty_removed and (not current["exists"] or before != after),
            "content": render(after),
        }
        size = len(plan["content"].encode("utf-8"))
        if plan["write"] and size > MAX_BYTES:
            raise DaemonConfigError("the new %s would be %d bytes, more than the %d allowed" % (self.path, size, MAX_BYTES))
        plan["changes"] = changes(before or {}, after)
        plan["how"] = classify(plan["changes"])
        return plan

    # -- 4. validation ------------------------------------------------------------------
    def validate(self, plan):
        """Run the configured checks on the candidate; the names of those it passed."""
        mode, after = self.params["validate"], plan["after"]
        plan["log_driver_checked"] = False
        if mode == "none":
            return []
        errors = builtin_errors(after)
        if errors:
            raise DaemonConfigError("invalid daemon configuration: %s" % "; ".join(errors), errors=errors)
        done = ["builtin"]
        if mode == "builtin":
            return done
        method = self._dockerd(after, mode)
        if method:
            done.append(method)
        if self._log_driver(after):
            plan["log_driver_checked"] = True
            done.append("docker info log drivers")
        return done

    def _run(self, argv):
        return self.module.run_command(argv, environ_update={"LANG": "C", "LC_ALL": "C"})

    def _dockerd(self, after, mode):
        given = self.params["dockerd_path"]
        dockerd = given or self.module.get_bin_path("dockerd", opt_dirs=["/usr/sbin", "/usr/bin"])
        if not dockerd or not (os.path.isfile(dockerd) and os.access(dockerd, os.X_OK)):
            if mode == "dockerd":
                raise DaemonConfigError("validate=dockerd but the dockerd binary was not found%s"
                                        % (" (%s is not an executable file)" % given if given else ""))
            self.module.warn("dockerd not found: daemon.json candidate checked by built-in rules only")
            return None
        validator = DockerdValidator(run=self._run, dockerd=dockerd, setpriv=self.module.get_bin_path("setpriv"),
                                     timeout_bin=self.module.get_bin_path("timeout"))
        method, error = validator.validate(after)
        if method is None:
            if mode == "dockerd":
                raise DaemonConfigError("validate=dockerd but dockerd cannot validate this configuration here")
            self.module.warn("dockerd cannot validate this candidate here: checked by built-in rules only")
            return None
        if error:
            raise DaemonConfigError("dockerd rejected the daemon configuration: %s" % error,
                                    validated_by=["builtin", method])
        return method

    def _log_driver(self, after):
        """Check log-driver against the running daemon's drivers; False when they cannot be known."""
        driver = after.get("log-driver")
        docker = self.module.get_bin_path("docker", opt_dirs=["/usr/bin", "/usr/local/bin"])
        if not isinstance(driver, str) or not docker:
            return False
        timeout_bin = self.module.get_bin_path("timeout")
        known = discover_log_drivers(lambda argv: self._run(([timeout_bin, "10"] if timeout_bin else []) + argv), docker)
        if known is None:
            return False
        if driver not in known:
            raise DaemonConfigError("log-driver %r is not one of the log drivers the running Docker daemon offers: %s"
                                    % (driver, ", ".join(sorted(known))))
        return True

    # -- 5. the result --------------------------------------------------------------------
    def report(self, current, plan, validated_by):
        changed = bool(plan["delete"] or plan["write"])
        how = plan["how"]
        unchecked = [] if not plan["write"] else sorted(
            key for key in START_ONLY_KEYS
            if key in plan["after"] and not (key == "log-driver" and plan.get("log_driver_checked")))
        result = dict(
            changed=changed,
            config=plan["after"],
            changes=plan["changes"],
            action=how["action"] if changed else "none",
            restart_required=changed and how["action"] == "restart",
            reload_keys=how["reload_keys"] if changed else [],
            restart_keys=how["restart_keys"] if changed else [],
            validated_by=validated_by,
            not_validated=unchecked,
        )
        if self.module._diff:
            before = current["text"] if plan["before"] is None else (render(plan["before"]) if current["exists"] else "")
            result["diff"] = dict(before_header=self.path, after_header=self.path, before=before,
                                  after="" if plan["delete"] else plan["content"])
        return result

    # -- 6. the only writes ---------------------------------------------------------------
    def apply(self, current, plan, result):
        if result["changed"] and not self.module.check_mode:
            if plan["delete"]:
                self._backup(current, result)
                try:
                    os.remove(self.path)
                except OSError as exc:
                    raise DaemonConfigError("cannot remove %s: %s" % (self.path, exc.strerror or exc))
            else:
                self._write(current, plan["content"], result)
        if not plan["delete"] and os.path.exists(self.path):
            file_args = self.module.load_file_common_arguments(dict(path=self.path, mode=self.params["mode"]))
            result["changed"] = self.module.set_fs_attributes_if_different(file_args, result["changed"])

    def _backup(self, current, result):
        if not (self.params["backup"] and current["exists"]):
            return
        try:
            result["backup_file"] = self.module.backup_local(self.path)
        except Exception as exc:  # backup_local raises a bare Exception
            raise DaemonConfigError("cannot back up %s: %s" % (self.path, to_native(exc.__cause__ or exc)))

    def _write(self, current, content, result):
        """Temporary file next to the target, then the backup, then one atomic rename."""
        directory = os.path.dirname(self.path) or "."
        tmp = None
        try:
            try:
                if not os.path.isdir(directory):
                    os.makedirs(directory, 0o755)
                fd, tmp = tempfile.mkstemp(prefix=".%s." % os.path.basename(self.path), suffix=".tmp", dir=directory)
                with os.fdopen(fd, "wb") as fh:
                    fh.write(content.encode("utf-8"))
            except (IOError, OSError) as exc:
                raise DaemonConfigError("cannot write %s: %s" % (self.path, exc.strerror or exc))
            self._backup(current, result)
            self.module.atomic_move(tmp, self.path)
        finally:
            if tmp and os.path.exists(tmp):
                os.remove(tmp)


def run_module(module):
    """Entry point of seed.fleet.docker_daemon_config: run the steps, exit or fail the module."""
    try:
        result = DaemonConfigRun(module).run()
    except DaemonConfigError as exc:
        module.fail_json(msg=to_native(exc), **exc.details)
    module.exit_json(**result)


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
