# -*- coding: utf-8 -*-
# Copyright (c) seed.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""HAProxy runtime API client and server-state planner (private module_utils).

The runtime API ("stats socket") is a line protocol: connect (unix socket or
TCP), send one command terminated by a newline, read the reply until HAProxy
closes the connection. A successful ``set server`` answers an empty line;
anything else is an error text such as ``No such backend.``. We send exactly one
command per connection so every reply belongs to one command.

Server state is read from ``show servers state <backend>`` (admin flags,
weights, address, port) plus ``show stat <backend> 4 -1`` (current sessions and
health status), and written with ``set server <backend>/<server> ...``.

The state file part (``save_state``, ``fix_state_file_ports``) is also what the
load_balancer role's ``seed-fleet-haproxy-save-state`` runs before every reload
and stop: this file is installed next to that script and must keep to the
standard library.

``control()`` is the module's flow, in named steps: validate the request, read
the backend, plan (refusing anything that would leave fewer servers able to
serve), apply in stages with a read-back between them, persist, read back.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import csv
import errno
import ipaddress
import math
import os
import re
import socket
import stat
import tempfile
import time

DEFAULT_SOCKET = "/run/haproxy/admin.sock"
DEFAULT_STATE_FILE = "/var/lib/haproxy/server-state"
DEFAULT_CONFIG = "/etc/haproxy/haproxy.cfg"
MAX_TIMEOUT = 3600

# The shared connection options (see doc_fragments/_haproxy_runtime.py).
RUNTIME_ARGSPEC = dict(
    socket=dict(type="str", default=DEFAULT_SOCKET),
    timeout=dict(type="float", default=5.0),
)

# srv_admin_state bits (HAProxy include/haproxy/server-t.h).
ADMF_FMAINT = 0x01  # forced maintenance (CLI/stats page)
ADMF_IMAINT = 0x02  # inherited maintenance (tracked server)
ADMF_CMAINT = 0x04  # "disabled" in the configuration (a marker: FMAINT does the work)
ADMF_FDRAIN = 0x08  # forced drain
ADMF_IDRAIN = 0x10  # inherited drain
ADMF_RMAINT = 0x20  # maintenance because DNS resolution failed
ADMF_HMAINT = 0x40  # maintenance because of a hostname change
MAINT_MASK = ADMF_FMAINT | ADMF_IMAINT | ADMF_RMAINT | ADMF_HMAINT
DRAIN_MASK = ADMF_FDRAIN | ADMF_IDRAIN
# What "set server ... state ready" cannot clear: the server stays out of rotation.
BLOCKING = (
    (ADMF_IMAINT, "IMAINT", "in maintenance inherited from the server it tracks"),
    (ADMF_IDRAIN, "IDRAIN", "drained by the server it tracks"),
    (ADMF_RMAINT, "RMAINT", "in maintenance because its address did not resolve"),
    (ADMF_HMAINT, "HMAINT", "in maintenance because of a hostname change"),
)

STATES = ("ready", "drain", "maint")
# How "settled" a state is: a server already in maint is drained enough for a
# switch that asks for drain.
_QUIET = {"ready": 0, "drain": 1, "maint": 2}

_NAME_RE = re.compile(r"^[A-Za-z0-9_.:-]+$")
# Replies of "set server ... addr" that mean success.
_ADDR_OK = ("IP changed", "no need to change", "port changed")


class RuntimeAPIError(Exception):
    """The runtime API could not be reached or did not answer."""


class CommandError(RuntimeAPIError):
    """HAProxy answered a command with an error text."""

    def __init__(self, command, reply):
        self.command = command
        self.reply = reply.strip()
        hint = ""
        if self.reply.startswith("Permission denied"):
            hint = " (the socket is not at 'level admin')"
        super(CommandError, self).__init__("HAProxy refused '%s': %s%s" % (command, self.reply, hint))


class NotFoundError(CommandError):
    """Unknown backend or server."""


class PlanError(ValueError):
    """The requested change cannot be planned (bad input): nothing was sent."""


def admin_state_name(admin_flags):
    """ready | drain | maint from srv_admin_state."""
    if admin_flags & MAINT_MASK:
        return "maint"
    if admin_flags & DRAIN_MASK:
        return "drain"
    return "ready"


def parse_servers_state(text):
    """Rows of ``show servers state`` as dicts keyed by the header's field names."""
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines or lines[0].strip() != "1":
        raise RuntimeAPIError("unexpected 'show servers state' reply: %r" % text[:200])
    fields = None
    rows = []
    for line in lines[1:]:
        if line.startswith("#"):
            fields = line.lstrip("#").split()
            continue
        if fields is None:
            raise RuntimeAPIError("'show servers state' reply without a header: %r" % text[:200])
        values = line.split()
        rows.append(dict(zip(fields, values)))
    return rows


def blocking_reasons(info):
    """Why 'state ready' cannot put this server into rotation ([] when it can)."""
    flags = info.get("admin_flags", 0)
    out = []
    for bit, name, text in BLOCKING:
        if flags & bit:
            if bit in (ADMF_IMAINT, ADMF_IDRAIN) and info.get("tracks"):
                text += " (%s)" % info["tracks"]
            out.append("%s: %s" % (name, text))
    return out


def has_address(info):
    try:
        ipaddress.ip_address(info.get("address") or "")
    except ValueError:
        return False
    return True


def parse_stat(text):
    """Rows of ``show stat`` (CSV with a '# ' header) as dicts."""
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines or not lines[0].startswith("# pxname"):
        raise RuntimeAPIError("unexpected 'show stat' reply: %r" % text[:200])
    header = lines[0][2:]
    return list(csv.DictReader([header] + lines[1:]))


def _int(value, default=0):
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


class RuntimeClient:
    """One HAProxy runtime API endpoint: a unix socket path or ``tcp://HOST:PORT``."""

    def __init__(self, address=DEFAULT_SOCKET, timeout=5.0):
        if not address:
            raise PlanError("socket must be a unix socket path or tcp://HOST:PORT")
        try:
            self.timeout = float(timeout)
        except (TypeError, ValueError):
            raise PlanError("timeout must be a number of seconds, got %r" % (timeout,))
        if not math.isfinite(self.timeout) or not 0 < self.timeout <= MAX_TIMEOUT:
            raise PlanError("timeout must be > 0 and at most %d seconds, got %s" % (MAX_TIMEOUT, timeout))
        self.address = address
        if address.startswith("tcp://"):
            hostport = address[len("tcp://"):]
            host, sep, port = hostport.rpartition(":")
            host = host.strip("[]")
            if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
                raise PlanError("socket %r is not tcp://HOST:PORT" % address)
            self.family = None
            self.target = (host, int(port))
        else:
            if address.startswith("unix://"):
                address = address[len("unix://"):]
            if not os.path.isabs(address):
                raise PlanError("socket %r must be an absolute unix socket path or tcp://HOST:PORT" % self.address)
            self.family = socket.AF_UNIX
            self.target = address

    def _connect(self):
        if self.family == socket.AF_UNIX:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(self.timeout)
            try:
                sock.connect(self.target)
            except BaseException:
                sock.close()
                raise
            return sock
        return socket.create_connection(self.target, timeout=self.timeout)

    def _describe_oserror(self, exc):
        where = self.address
        if isinstance(exc, socket.timeout):
            return "no answer from HAProxy runtime API %s within %ss" % (where, self.timeout)
        code = getattr(exc, "errno", None)
        if code == errno.ENOENT:
            return ("HAProxy runtime socket %s does not exist: is HAProxy running with "
                    "'stats socket %s level admin'?" % (where, where))
        if code in (errno.EACCES, errno.EPERM):
            return "permission denied on HAProxy runtime socket %s (run the task as root: become: true)" % where
        if code == errno.ECONNREFUSED:
            if self.family == socket.AF_UNIX and os.path.exists(self.target) and \
                    not stat.S_ISSOCK(os.stat(self.target).st_mode):
                return "%s is not a unix socket (HAProxy's 'stats socket' path?)" % where
            if self.family == socket.AF_UNIX:
                return "nothing listens on HAProxy runtime socket %s (stale socket: is HAProxy running?)" % where
            return "connection refused by HAProxy runtime API %s" % where
        if code == errno.ENOTSOCK:
            return "%s is not a unix socket" % where
        return "cannot talk to HAProxy runtime API %s: %s" % (where, exc)

    def execute(self, command):
        """Send one command, return HAProxy's whole reply as text."""
        if "\n" in command or "\r" in command or ";" in command:
            raise PlanError("refusing to send a command with a newline or ';': %r" % command)
        return self.execute_raw(command.encode("utf-8"))

    def execute_payload(self, command, payload):
        """Send one command with a multi-line payload (HAProxy's ``<command> <<`` form: the payload's
        lines follow, an empty line ends them); return the reply as text."""
        lines = payload.replace("\r\n", "\n").strip("\n").split("\n")
        if any(not line.strip() or "\r" in line for line in lines):
            raise PlanError("refusing to send a payload with an empty line or CR (an empty line ends it)")
        if "\n" in command or "\r" in command or ";" in command:
            raise PlanError("refusing to send a command with a newline or ';': %r" % command)
        return self.execute_raw(("%s <<\n%s\n" % (command, "\n".join(lines))).encode("utf-8"))

    def execute_raw(self, data):
        """Send bytes as they are (one command, already framed) and return the reply as text."""
        try:
            sock = self._connect()
        except (OSError, socket.error) as exc:
            raise RuntimeAPIError(self._describe_oserror(exc))
        chunks = []
        try:
            sock.sendall(data + b"\n")
            deadline = time.monotonic() + self.timeout
            while True:
                if time.monotonic() > deadline:
                    raise socket.timeout()
                chunk = sock.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
        except (OSError, socket.error) as exc:
            raise RuntimeAPIError(self._describe_oserror(exc))
        finally:
            sock.close()
        return b"".join(chunks).decode("utf-8", "replace")

    def command(self, command, ok_prefixes=()):
        """Run a command whose successful reply is empty (or starts with ok_prefixes)."""
        reply = self.execute(command)
        text = reply.strip()
        if not text or any(text.startswith(p) for p in ok_prefixes):
            return text
        if text.startswith(("No such backend", "No such server", "Can't find backend", "No such proxy")):
            raise NotFoundError(command, text)
        raise CommandError(command, text)

    # -- reads -------------------------------------------------------------

    def servers(self, backend):
        """Servers of a backend: name -> {state, weight, address, port, sessions, health}."""
        check_name("backend", backend)
        command = "show servers state %s" % backend
        reply = self.execute(command)
        text = reply.strip()
        if text.startswith(("Can't find backend", "No such backend")):
            raise NotFoundError(command, "No such backend '%s'." % backend)
        if text and text != "1" and not text.startswith("1\n"):
            raise CommandError(command, text)
        rows = parse_servers_state(reply)
        stats = {}
        command = "show stat %s 4 -1" % backend
        reply = self.execute(command)
        if reply.strip() and not reply.startswith("# pxname"):
            raise CommandError(command, reply)
        if reply.strip():
            for row in parse_stat(reply):
                if row.get("pxname") == backend:
                    stats[row.get("svname")] = row
        servers = {}
        for row in rows:
            if row.get("be_name") != backend:
                continue
            name = row.get("srv_name")
            stat = stats.get(name, {})
            flags = _int(row.get("srv_admin_state"))
            servers[name] = {
                "state": admin_state_name(flags),
                "weight": _int(row.get("srv_uweight")),
                "initial_weight": _int(row.get("srv_iweight")),
                "address": row.get("srv_addr"),
                "port": _int(row.get("srv_port")),
                "sessions": _int(stat.get("scur")),
                "health": stat.get("status") or None,
                "admin_flags": flags,
                "tracks": stat.get("tracked") or None,
            }
        return servers

    def level(self):
        """The CLI level of this connection (admin, operator, user); None when HAProxy cannot say."""
        text = self.execute("show cli level").strip()
        return text if text in ("admin", "operator", "user") else None

    def dump_state(self):
        """``show servers state`` of every backend (the server-state-file format)."""
        reply = self.execute("show servers state")
        parse_servers_state(reply)  # refuse to persist anything that is not a state dump
        return reply


def check_name(kind, value):
    if not value or not _NAME_RE.match(value):
        raise PlanError("%s must be a HAProxy name (letters, digits, '_.:-'), got %r" % (kind, value))


def check_state_file(path):
    """Refuse a state_file that cannot be written, before anything is sent."""
    if not os.path.isabs(path):
        raise PlanError("state_file must be an absolute path, got %r" % path)
    if os.path.isdir(path):
        raise PlanError("state_file %s is a directory; give the path of the file to write" % path)
    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        raise PlanError("state_file directory %s does not exist" % directory)
    if not os.access(directory, os.W_OK):
        raise PlanError("state_file directory %s is not writable (become: true?)" % directory)


# -- the server-state-file --------------------------------------------------------------
# HAProxy restores admin state, weight, address and port from the file. Ports are taken
# from the configuration being loaded, so a port changed in haproxy.cfg is not undone by
# an older runtime port. Two writers, one implementation: the module after a change and
# the load_balancer unit before every reload and stop.

_SECTIONS = frozenset(("global", "defaults", "frontend", "backend", "listen", "userlist", "peers", "resolvers",
                       "mailers", "program", "http-errors", "ring", "cache"))
# The fields that decide what HAProxy restores (a file that matches these needs no rewrite).
_STATE_KEYS = ("be_name", "srv_name", "srv_addr", "srv_admin_state", "srv_uweight", "srv_port")


def configured_ports(text):
    """(backend, server) -> port of every 'server' line of a backend or listen section."""
    ports, section = {}, None
    for line in text.splitlines():
        words = line.split("#", 1)[0].split()
        if not words:
            continue
        if words[0] in _SECTIONS:
            section = words[1] if words[0] in ("backend", "listen") and len(words) > 1 else None
        elif section and words[0] == "server" and len(words) > 2:
            port = words[2].rpartition(":")[2]
            if port.isdigit():
                ports[(section, words[1])] = port
    return ports


def read_config_ports(path):
    """configured_ports() of a configuration file; {} when there is none."""
    if not path or not os.path.isfile(path):
        return {}
    with open(path) as handle:
        return configured_ports(handle.read())


def rewrite_ports(dump, ports):
    """A ``show servers state`` dump with each server's port replaced by its configured one."""
    lines = dump.splitlines()
    if len(lines) < 2 or not lines[1].startswith("#"):
        return dump
    fields = lines[1].lstrip("#").split()
    out = lines[:2]
    for line in lines[2:]:
        values = line.split()
        if len(values) == len(fields):
            row = dict(zip(fields, values))
            port = ports.get((row.get("be_name"), row.get("srv_name")))
            if port:
                values[fields.index("srv_port")] = port
                line = " ".join(values)
        out.append(line)
    return "\n".join(out) + "\n"


def state_rows(text):
    """The rows of a state dump that HAProxy restores from, comparable; None if it is not a dump."""
    try:
        rows = parse_servers_state(text)
    except RuntimeAPIError:
        return None
    return sorted(tuple(row.get(k) for k in _STATE_KEYS) for row in rows)


def state_file_matches(path, dump):
    """Whether the file at path restores exactly what the dump holds."""
    try:
        with open(path) as handle:
            current = handle.read()
    except (IOError, OSError):
        return False
    rows = state_rows(current)
    return rows is not None and rows == state_rows(dump)


def write_state_file(path, content):
    """Write the state dump next to the target and rename it into place (atomic)."""
    directory = os.path.dirname(path) or "."
    fd, tmp = tempfile.mkstemp(prefix=".server-state.", dir=directory)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(content)
        mode = 0o644
        if os.path.exists(path):
            mode = os.stat(path).st_mode & 0o7777
        os.chmod(tmp, mode)
        os.rename(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def live_state(client, config=None):
    """What the state file should hold now: the runtime dump, ports from the configuration."""
    return rewrite_ports(client.dump_state(), read_config_ports(config))


def save_state(client, path, config=None, force=False):
    """Persist the runtime state when the file would restore something else; True if written."""
    dump = live_state(client, config)
    if not force and state_file_matches(path, dump):
        return False
    write_state_file(path, dump)
    return True


def fix_state_file_ports(path, config):
    """Rewrite the ports of an existing state file from the configuration (no runtime API needed).

    For a start after a crash: the file was written when the runtime was last seen, the
    configuration may have changed since. True if the file was rewritten.
    """
    try:
        with open(path) as handle:
            current = handle.read()
    except (IOError, OSError):
        return False
    if state_rows(current) is None:
        return False
    fixed = rewrite_ports(current, read_config_ports(config))
    if fixed == current:
        return False
    write_state_file(path, fixed)
    return True


def _normalize_address(address):
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        raise PlanError("address must be an IPv4 or IPv6 address (the runtime API cannot resolve names), got %r"
                        % (address,))


def _predict(info, field, new):
    """One server's info after field=new, as far as it can be known without HAProxy."""
    info[field] = new
    if field == "state" and "admin_flags" in info:
        flags = info["admin_flags"] & ~(ADMF_FMAINT | ADMF_FDRAIN)
        flags |= {"ready": 0, "drain": ADMF_FDRAIN, "maint": ADMF_FMAINT}[new]
        info["admin_flags"] = flags
        info["state"] = admin_state_name(flags)


class Plan:
    """The commands that take a backend from its current state to the wanted one.

    ``actions`` is a list of (server, field, old, new); ``predicted`` the state
    of every server once they ran (without sessions and health, which HAProxy
    decides). ``stages`` splits the actions where a read-back must confirm the
    first part before the second is sent. Built from what HAProxy reported, so
    an empty plan means nothing differs.
    """

    def __init__(self, backend, servers):
        self.backend = backend
        self.before = servers
        self.actions = []
        self.targets = []  # servers this call is about (for diff and wait_drained)
        self.quiet = []  # servers that should end drained/in maint
        self.rising = []  # switch: the new color's servers, confirmed ready before anything is drained
        self.done = 0  # commands that HAProxy accepted

    @property
    def predicted(self):
        after = {}
        for name, info in self.before.items():
            after[name] = dict((k, v) for k, v in info.items() if k not in ("sessions", "health"))
        for server, field, _old, new in self.actions:
            _predict(after[server], field, new)
        return after

    @property
    def stages(self):
        first = [a for a in self.actions if a[0] in self.rising]
        rest = [a for a in self.actions if a[0] not in self.rising]
        return [stage for stage in (first, rest) if stage]

    @classmethod
    def for_server(cls, backend, servers, server, state=None, weight=None, address=None, port=None):
        check_name("server", server)
        if state is not None and state not in STATES:
            raise PlanError("state must be one of %s, got %r" % (", ".join(STATES), state))
        if weight is not None and not 0 <= weight <= 256:
            raise PlanError("weight must be between 0 and 256, got %s" % weight)
        if port is not None and not 0 < port < 65536:
            raise PlanError("port must be between 1 and 65535, got %s" % port)
        if address is not None:
            address = _normalize_address(address)
        if server not in servers:
            raise NotFoundError("set server %s/%s" % (backend, server),
                                "No such server '%s' in backend '%s' (servers: %s)."
                                % (server, backend, ", ".join(sorted(servers)) or "none"))
        plan = cls(backend, servers)
        plan.targets = [server]
        current = servers[server]
        if address is not None or port is not None:
            cur_addr = current["address"]
            try:
                cur_addr = str(ipaddress.ip_address(cur_addr))
            except ValueError:
                pass
            if address is not None and address != cur_addr:
                plan.actions.append((server, "address", current["address"], address))
            if port is not None and port != current["port"]:
                if address is None and not has_address(current):
                    # "addr - port N" is refused by HAProxy, which clears RMAINT on the way.
                    raise PlanError("server %s/%s has no address (%s): a port change needs the address too "
                                    "(set address with port)" % (backend, server, current["address"]))
                plan.actions.append((server, "port", current["port"], port))
        if weight is not None and weight != current["weight"]:
            plan.actions.append((server, "weight", current["weight"], weight))
        if state is not None and state != current["state"]:
            if state == "ready":
                _refuse_blocked(backend, [server], servers, "")
            plan.actions.append((server, "state", current["state"], state))
        if state in ("drain", "maint"):
            plan.quiet = [server]
        return plan

    @classmethod
    def for_switch(cls, backend, servers, color, others_state="drain", exclude=None):
        if not color or not re.match(r"^[A-Za-z0-9]+$", color):
            raise PlanError("switch_to must be a color name (letters and digits), got %r" % (color,))
        if others_state not in ("drain", "maint"):
            raise PlanError("switch_others_state must be drain or maint, got %r" % (others_state,))
        suffix = "_" + color
        exclude = set(exclude or [])
        unknown = sorted(exclude - set(servers))
        if unknown:
            raise NotFoundError("switch %s to %s" % (backend, color),
                                "switch_exclude names no server of backend '%s': %s (servers: %s)."
                                % (backend, ", ".join(unknown), ", ".join(sorted(servers)) or "none"))
        colored = sorted(name for name in servers if name.endswith(suffix))
        targets = [name for name in colored if name not in exclude]
        # Excluded servers of the target color go to maint: they must not take traffic.
        excluded = [name for name in colored if name in exclude]
        others = sorted(name for name in servers if not name.endswith(suffix))
        if not colored:
            raise NotFoundError("switch %s to %s" % (backend, color),
                                "No server named '*%s' in backend '%s' (servers: %s)."
                                % (suffix, backend, ", ".join(sorted(servers)) or "none"))
        if not targets:
            raise PlanError("switch_exclude leaves no server of color %s in backend %s to switch to"
                            % (color, backend))
        # The new color must be able to serve before the old one is drained: refuse up front.
        _refuse_blocked(backend, targets, servers, "; nothing was changed: fix it or leave it out with switch_exclude")
        plan = cls(backend, servers)
        plan.targets = targets + excluded + others
        plan.quiet = excluded + others
        plan.rising = targets
        # Target color first: the backend never has fewer ready servers than before.
        for name in targets:
            if servers[name]["state"] != "ready":
                plan.actions.append((name, "state", servers[name]["state"], "ready"))
        for name, want in [(n, "maint") for n in excluded] + [(n, others_state) for n in others]:
            current = servers[name]["state"]
            # A server in maint already takes no traffic: drain asks for less than that.
            if _QUIET.get(current, 0) < _QUIET[want]:
                plan.actions.append((name, "state", current, want))
        return plan

    @classmethod
    def for_weights(cls, backend, servers, weights, ready=None):
        """Several servers' weights in one call, then ``ready`` servers into rotation (a canary step).

        ``weights``: server -> 0..256, or "initial" for the weight of the configuration.
        """
        weights = dict(weights or {})
        ready = list(ready or [])
        if not weights:
            raise PlanError("weights must name at least one server")
        names = list(weights) + [name for name in ready if name not in weights]
        for name in names:
            check_name("server", name)
        unknown = sorted(set(names) - set(servers))
        if unknown:
            raise NotFoundError("set weights in %s" % backend,
                                "No such server in backend '%s': %s (servers: %s)."
                                % (backend, ", ".join(unknown), ", ".join(sorted(servers)) or "none"))
        wanted = {}
        for name, value in weights.items():
            if value == "initial":
                wanted[name] = servers[name]["initial_weight"]
                continue
            try:
                number = int(str(value).strip()) if not isinstance(value, bool) else None
            except ValueError:
                number = None
            if number is None or not 0 <= number <= 256:
                raise PlanError("the weight of %s must be 0..256 or 'initial', got %r" % (name, value))
            wanted[name] = number
        rising = [name for name in ready if servers[name]["state"] != "ready"]
        _refuse_blocked(backend, rising, servers, "; nothing was changed")
        plan = cls(backend, servers)
        plan.targets = names
        for name, number in wanted.items():
            if number != servers[name]["weight"]:
                plan.actions.append((name, "weight", servers[name]["weight"], number))
        # The weights first: a server joins the rotation with its share already set.
        for name in rising:
            plan.actions.append((name, "state", servers[name]["state"], "ready"))
        return plan

    def commands(self, actions=None):
        """The runtime API commands of the plan, in order: [(command, ok_prefixes)].

        An address and a port change of one server go out as one ``set server ... addr``.
        """
        actions = self.actions if actions is None else actions
        pending = {}
        for server, field, _old, new in actions:
            if field in ("address", "port"):
                pending.setdefault(server, {})[field] = new
        out, sent_addr = [], set()
        for server, field, _old, new in actions:
            name = "%s/%s" % (self.backend, server)
            if field in ("address", "port"):
                if server in sent_addr:
                    continue
                sent_addr.add(server)
                want = pending[server]
                cmd = "set server %s addr %s" % (name, want.get("address", self.before[server]["address"]))
                if want.get("port"):
                    cmd += " port %d" % want["port"]
                out.append((cmd, _ADDR_OK))
            elif field == "weight":
                out.append(("set server %s weight %d" % (name, new), ()))
            elif field == "state":
                out.append(("set server %s state %s" % (name, new), ()))
        return out

    def apply(self, client):
        """Run the plan stage by stage; between stages read back that the first one took.

        ``self.done`` counts the commands HAProxy accepted. Returns the last read-back
        (None when nothing was read).
        """
        self.done = 0
        stages = self.stages
        for index, stage in enumerate(stages):
            for cmd, ok_prefixes in self.commands(stage):
                client.command(cmd, ok_prefixes=ok_prefixes)
                self.done += 1
            if index + 1 < len(stages):
                missing = mismatches(stage, client.servers(self.backend))
                if missing:
                    raise RuntimeAPIError("%s; the other servers were not drained, the backend still serves as "
                                          "before" % "; ".join(missing))
        return self.done


def require_admin(client):
    """Refuse before the first 'set server' when the runtime API is not at level admin."""
    level = client.level()
    if level not in (None, "admin"):
        raise PlanError("the HAProxy runtime API %s is at level %s: changes need 'level admin' on its "
                        "'stats socket' line; nothing was sent" % (client.address, level))


def _refuse_blocked(backend, names, servers, hint):
    blocked = ["%s/%s is %s" % (backend, n, ", ".join(blocking_reasons(servers[n])))
               for n in names if blocking_reasons(servers[n])]
    if blocked:
        raise PlanError("'state ready' cannot put into rotation: %s%s" % ("; ".join(blocked), hint))


def mismatches(actions, servers):
    """The planned changes that HAProxy does not report (texts; [] when all took)."""
    out = []
    for server, field, _old, new in actions:
        info = servers.get(server, {})
        got = info.get(field)
        if field == "address":
            try:
                got = str(ipaddress.ip_address(got))
            except (TypeError, ValueError):
                pass
        if got != new:
            why = blocking_reasons(info)
            out.append("HAProxy accepted %s=%s for %s but reports %s%s"
                       % (field, new, server, got, (" (%s)" % ", ".join(why)) if why else ""))
    return out


# Health statuses (show stat) that mean HAProxy's own checks see a server up: UP (also "UP 1/3", checks
# starting to fail), DRAIN (up, no new traffic) and "no check". Not DOWN (nor "DOWN 1/2"), MAINT, NOLB.
_UP_RE = re.compile(r"^(UP|DRAIN|no check)")


def is_up(health):
    """Whether a ``show stat`` status means HAProxy's checks see the server up."""
    return bool(_UP_RE.match(health or ""))


def not_up(servers, names):
    """name -> its status for the named servers HAProxy does not see up ("absent": not in the backend)."""
    out = {}
    for name in names:
        if name not in servers:
            out[name] = "absent"
        elif not is_up(servers[name].get("health")):
            out[name] = servers[name].get("health") or "unknown"
    return out


def wait_up(client, backend, names, seconds, interval=0.5, clock=None, sleep=None):
    """Read the backend until HAProxy sees every named server up, or ``seconds`` have passed.

    Returns (servers at the last read, the named servers not up then, seconds waited); never raises
    for a server that stays down: the caller decides what a server not up means.
    """
    clock = clock or time.monotonic
    sleep = sleep or time.sleep
    start = clock()
    while True:
        servers = client.servers(backend)
        waiting = not_up(servers, names)
        waited = clock() - start
        if not waiting or waited >= seconds:
            return servers, waiting, round(waited, 3)
        sleep(min(interval, seconds - waited))


def wait_drained(client, backend, names, timeout, interval=0.5, clock=None, sleep=None):
    """Poll until every named server has 0 current sessions; returns the last read.

    Raises RuntimeAPIError naming the servers and their session counts on timeout.
    """
    clock = clock or time.monotonic
    sleep = sleep or time.sleep
    deadline = clock() + timeout
    while True:
        servers = client.servers(backend)
        busy = dict((n, servers[n]["sessions"]) for n in names if n in servers and servers[n]["sessions"] > 0)
        if not busy:
            return servers
        if clock() >= deadline:
            raise RuntimeAPIError(
                "servers of backend %s still have sessions after %ss: %s"
                % (backend, timeout, ", ".join("%s (%d sessions)" % (n, c) for n, c in sorted(busy.items()))))
        sleep(interval)


# -- the module's flow --------------------------------------------------------------------

_WRITES = ("state", "weight", "address", "port")


def validate(params, check_mode):
    """Step 1: the request, checked without talking to HAProxy. Returns a dict."""
    request = dict(params)
    check_name("backend", request.get("backend"))
    if sum(bool(request.get(k)) for k in ("server", "switch_to", "weights")) != 1:
        raise PlanError("give exactly one of server, switch_to or weights")
    if request.get("weights_ready") and not request.get("weights"):
        raise PlanError("weights_ready only applies with weights (the servers to put ready once their weights are set)")
    if request.get("switch_exclude") and not request.get("switch_to"):
        raise PlanError("switch_exclude only applies with switch_to (it names servers to leave out of a switch)")
    drain_timeout = request.get("drain_timeout")
    request["drain_timeout"] = 60 if drain_timeout is None else drain_timeout
    if request["drain_timeout"] < 0:
        raise PlanError("drain_timeout must be >= 0, got %s" % drain_timeout)
    # A pure read (server without anything to set) changes nothing and persists nothing.
    request["writes"] = (bool(request.get("switch_to")) or bool(request.get("weights"))
                         or any(request.get(k) is not None for k in _WRITES))
    request["state_file"] = request.get("state_file") or None
    config = request.get("config_file") or None
    if config and not os.path.isabs(config):
        raise PlanError("config_file must be an absolute path, got %r" % config)
    request["config_file"] = config
    if request["state_file"] and request["writes"] and not check_mode:
        check_state_file(request["state_file"])
    return request


def plan_for(request, servers):
    """Step 3: the plan (Step 2 is reading ``servers``); raises PlanError when it must not go ahead."""
    if request.get("weights"):
        return Plan.for_weights(request["backend"], servers, request["weights"], request.get("weights_ready"))
    if request.get("switch_to"):
        return Plan.for_switch(request["backend"], servers, request["switch_to"],
                               request.get("switch_others_state") or "drain", exclude=request.get("switch_exclude"))
    return Plan.for_server(request["backend"], servers, request["server"], state=request.get("state"),
                           weight=request.get("weight"), address=request.get("address"), port=request.get("port"))


def describe(result, plan):
    """What the plan is about: commands, runtime commands and the diff."""
    backend = plan.backend
    result["before"] = plan.before
    result["changed"] = bool(plan.actions)
    result["commands"] = ["%s/%s %s %s -> %s" % (backend, s, f, o, n) for s, f, o, n in plan.actions]
    result["runtime_commands"] = [cmd for cmd, _ok in plan.commands()]
    predicted = plan.predicted
    result["diff"] = {
        "before_header": "backend %s" % backend,
        "after_header": "backend %s" % backend,
        "before": dict((n, _diffable(plan.before[n])) for n in plan.targets),
        "after": dict((n, _diffable(predicted[n])) for n in plan.targets),
    }


def predict(result, plan, request, client):
    """Check mode: the predicted servers; changed also when the state file would be rewritten."""
    result["after"] = plan.predicted
    if not plan.actions and request["writes"] and request["state_file"]:
        result["changed"] = not state_file_matches(request["state_file"], live_state(client, request["config_file"]))
    return True, result


def persist(result, plan, request, client):
    """Write the state file when it no longer restores what the runtime holds. Returns an error text or None."""
    if not (request["writes"] and request["state_file"]):
        return None
    try:
        if save_state(client, request["state_file"], request["config_file"]):
            result["state_file"] = request["state_file"]
    except (RuntimeAPIError, OSError, IOError) as exc:
        if plan.done:
            return "changed the runtime state but could not write %s: %s" % (request["state_file"], exc)
        return "could not write %s: %s" % (request["state_file"], exc)
    return None


def read_back(plan, request, client, clock=None, sleep=None):
    """The servers as HAProxy reports them now (after waiting for drains if asked)."""
    if request.get("wait_drained") and plan.quiet:
        return wait_drained(client, plan.backend, plan.quiet, request["drain_timeout"], clock=clock, sleep=sleep)
    if not plan.done:
        return plan.before
    return client.servers(plan.backend)


def enact(result, plan, request, client, clock=None, sleep=None):
    """Steps 4-6 outside check mode: apply in stages, persist, read back and verify."""
    error = None
    try:
        plan.apply(client)
    except (RuntimeAPIError, PlanError) as exc:
        error = str(exc)
    # Persist whatever the runtime now holds, even after a partial failure, so a reload or
    # restart does not bring back another color; nothing was sent after a refusal at the
    # first command, so the file is left alone then.
    if error is None or plan.done:
        error = persist(result, plan, request, client) or error
    try:
        after = read_back(plan, request, client, clock=clock, sleep=sleep) if error is None else \
            client.servers(plan.backend)
    except (RuntimeAPIError, PlanError) as exc:
        after = plan.predicted
        error = error or str(exc)
    result["after"] = after
    result["diff"]["after"] = dict((n, _diffable(after[n])) for n in plan.targets if n in after)
    if error is None:
        missing = mismatches(plan.actions, after)
        if missing:
            error = "; ".join(missing)
    result["changed"] = bool(plan.done) or _differs(plan.before, after, plan.targets) or "state_file" in result
    if error:
        result["msg"] = error
        return False, result
    return True, result


def control(params, check_mode, client=None, clock=None, sleep=None):
    """What seed.fleet.haproxy_server does, without AnsibleModule.

    Returns (ok, result). On errors before any command was sent nothing changed;
    a failure after some commands ran reports changed=True and still persists
    the state file so it matches the runtime.
    """
    result = {"changed": False, "backend": params.get("backend"), "before": {}, "after": {}}
    try:
        request = validate(params, check_mode)
        if client is None:
            client = RuntimeClient(request["socket"], request["timeout"])
        servers = client.servers(request["backend"])
        plan = plan_for(request, servers)
        if plan.actions:
            require_admin(client)
    except (RuntimeAPIError, PlanError) as exc:
        result["msg"] = str(exc)
        return False, result
    describe(result, plan)
    try:
        if check_mode:
            return predict(result, plan, request, client)
        return enact(result, plan, request, client, clock=clock, sleep=sleep)
    except (RuntimeAPIError, PlanError) as exc:
        result["msg"] = str(exc)
        return False, result


def _diffable(info):
    return dict((k, info.get(k)) for k in ("state", "weight", "address", "port"))


def _differs(before, after, names):
    return any(_diffable(before.get(n, {})) != _diffable(after.get(n, {})) for n in names)
