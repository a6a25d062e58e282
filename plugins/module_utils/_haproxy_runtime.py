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
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import csv
import errno
import ipaddress
import os
import re
import socket
import tempfile
import time

DEFAULT_SOCKET = "/run/haproxy/admin.sock"
DEFAULT_STATE_FILE = "/var/lib/haproxy/server-state"

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
        if self.timeout <= 0:
            raise PlanError("timeout must be > 0, got %s" % timeout)
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
        try:
            sock = self._connect()
        except (OSError, socket.error) as exc:
            raise RuntimeAPIError(self._describe_oserror(exc))
        chunks = []
        try:
            sock.sendall(command.encode("utf-8") + b"\n")
            deadline = time.monotonic() + self.timeout
            while True:
                if time.monotonic() > deadline:
                    raise socket.timeout()
                data = sock.recv(65536)
                if not data:
                    break
                chunks.append(data)
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
            servers[name] = {
                "state": admin_state_name(_int(row.get("srv_admin_state"))),
                "weight": _int(row.get("srv_uweight")),
                "address": row.get("srv_addr"),
                "port": _int(row.get("srv_port")),
                "sessions": _int(stat.get("scur")),
                "health": stat.get("status") or None,
            }
        return servers

    def dump_state(self):
        """``show servers state`` of every backend (the server-state-file format)."""
        reply = self.execute("show servers state")
        parse_servers_state(reply)  # refuse to persist anything that is not a state dump
        return reply

    # -- writes ------------------------------------------------------------

    def set_state(self, backend, server, state):
        if state not in STATES:
            raise PlanError("state must be one of %s, got %r" % (", ".join(STATES), state))
        return self.command("set server %s/%s state %s" % (backend, server, state))

    def set_weight(self, backend, server, weight):
        return self.command("set server %s/%s weight %d" % (backend, server, weight))

    def set_addr(self, backend, server, address, port=None):
        cmd = "set server %s/%s addr %s" % (backend, server, address)
        if port:
            cmd += " port %d" % port
        return self.command(cmd, ok_prefixes=_ADDR_OK)


def check_name(kind, value):
    if not value or not _NAME_RE.match(value):
        raise PlanError("%s must be a HAProxy name (letters, digits, '_.:-'), got %r" % (kind, value))


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


def _normalize_address(address):
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        raise PlanError("address must be an IPv4 or IPv6 address (the runtime API cannot resolve names), got %r"
                        % (address,))


class Plan:
    """The commands that take a backend from its current state to the wanted one.

    ``actions`` is a list of (server, field, old, new); ``predicted`` the state
    of every server once they ran. Built from what HAProxy reported, so an
    empty plan means nothing differs.
    """

    def __init__(self, backend, servers):
        self.backend = backend
        self.before = servers
        self.actions = []
        self.targets = []  # servers this call is about (for diff and wait_drained)
        self.quiet = []  # servers that should end drained/in maint
        self.done = 0  # commands that HAProxy accepted

    @property
    def predicted(self):
        after = dict((name, dict(info)) for name, info in self.before.items())
        for server, field, _old, new in self.actions:
            after[server][field] = new
        return after

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
                plan.actions.append((server, "port", current["port"], port))
        if weight is not None and weight != current["weight"]:
            plan.actions.append((server, "weight", current["weight"], weight))
        if state is not None and state != current["state"]:
            plan.actions.append((server, "state", current["state"], state))
        if state in ("drain", "maint"):
            plan.quiet = [server]
        return plan

    @classmethod
    def for_switch(cls, backend, servers, colour, others_state="drain", exclude=None):
        if not colour or not re.match(r"^[A-Za-z0-9]+$", colour):
            raise PlanError("switch_to must be a colour name (letters and digits), got %r" % (colour,))
        if others_state not in ("drain", "maint"):
            raise PlanError("switch_others_state must be drain or maint, got %r" % (others_state,))
        suffix = "_" + colour
        exclude = set(exclude or [])
        unknown = sorted(exclude - set(servers))
        if unknown:
            raise NotFoundError("switch %s to %s" % (backend, colour),
                                "switch_exclude names no server of backend '%s': %s (servers: %s)."
                                % (backend, ", ".join(unknown), ", ".join(sorted(servers)) or "none"))
        coloured = sorted(name for name in servers if name.endswith(suffix))
        targets = [name for name in coloured if name not in exclude]
        # Excluded servers of the target colour go to maint: they must not take traffic.
        excluded = [name for name in coloured if name in exclude]
        others = sorted(name for name in servers if not name.endswith(suffix))
        if not coloured:
            raise NotFoundError("switch %s to %s" % (backend, colour),
                                "No server named '*%s' in backend '%s' (servers: %s)."
                                % (suffix, backend, ", ".join(sorted(servers)) or "none"))
        if not targets:
            raise PlanError("switch_exclude leaves no server of colour %s in backend %s to switch to"
                            % (colour, backend))
        plan = cls(backend, servers)
        plan.targets = targets + excluded + others
        plan.quiet = excluded + others
        # Target colour first: the backend never has fewer ready servers than before.
        for name in targets:
            if servers[name]["state"] != "ready":
                plan.actions.append((name, "state", servers[name]["state"], "ready"))
        for name, want in [(n, "maint") for n in excluded] + [(n, others_state) for n in others]:
            current = servers[name]["state"]
            # A server in maint already takes no traffic: drain asks for less than that.
            if _QUIET.get(current, 0) < _QUIET[want]:
                plan.actions.append((name, "state", current, want))
        return plan

    def commands(self):
        """The runtime API commands of the plan, in order: [(command, ok_prefixes)].

        An address and a port change of one server go out as one ``set server ... addr``.
        """
        pending = {}
        for server, field, _old, new in self.actions:
            if field in ("address", "port"):
                pending.setdefault(server, {})[field] = new
        out, sent_addr = [], set()
        for server, field, _old, new in self.actions:
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
        """Run the plan's commands in order; ``self.done`` counts those that succeeded."""
        self.done = 0
        for cmd, ok_prefixes in self.commands():
            client.command(cmd, ok_prefixes=ok_prefixes)
            self.done += 1
        return self.done


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


def control(params, check_mode, client=None, clock=None, sleep=None):
    """What seed.fleet.haproxy_server does, without AnsibleModule.

    Returns (ok, result). On errors before any command was sent nothing changed;
    a failure after some commands ran reports changed=True and still persists
    the state file so it matches the runtime.
    """
    backend = params["backend"]
    result = {"changed": False, "backend": backend, "before": {}, "after": {}}
    try:
        check_name("backend", backend)
        if params.get("drain_timeout") is not None and params["drain_timeout"] < 0:
            raise PlanError("drain_timeout must be >= 0, got %s" % params["drain_timeout"])
        state_file = params.get("state_file") or None
        if state_file:
            if not os.path.isabs(state_file):
                raise PlanError("state_file must be an absolute path, got %r" % state_file)
            if not os.path.isdir(os.path.dirname(state_file)):
                raise PlanError("state_file directory %s does not exist" % os.path.dirname(state_file))
        if client is None:
            client = RuntimeClient(params["socket"], params["timeout"])
        servers = client.servers(backend)
        if params.get("switch_to"):
            plan = Plan.for_switch(backend, servers, params["switch_to"], params.get("switch_others_state") or "drain",
                                   exclude=params.get("switch_exclude"))
        else:
            plan = Plan.for_server(backend, servers, params["server"], state=params.get("state"),
                                   weight=params.get("weight"), address=params.get("address"),
                                   port=params.get("port"))
    except (RuntimeAPIError, PlanError) as exc:
        result["msg"] = str(exc)
        return False, result

    result["before"] = servers
    result["changed"] = bool(plan.actions)
    result["commands"] = ["%s/%s %s %s -> %s" % (backend, s, f, o, n) for s, f, o, n in plan.actions]
    result["runtime_commands"] = [cmd for cmd, _ok in plan.commands()]
    result["diff"] = {
        "before_header": "backend %s" % backend,
        "after_header": "backend %s" % backend,
        "before": dict((n, _diffable(servers[n])) for n in plan.targets),
        "after": dict((n, _diffable(plan.predicted[n])) for n in plan.targets),
    }
    if check_mode or not plan.actions:
        result["after"] = plan.predicted
        if not check_mode and params.get("wait_drained") and plan.quiet:
            try:
                result["after"] = wait_drained(client, backend, plan.quiet, params.get("drain_timeout", 60),
                                               clock=clock, sleep=sleep)
            except (RuntimeAPIError, PlanError) as exc:
                result["msg"] = str(exc)
                return False, result
        return True, result

    error = None
    try:
        plan.apply(client)
    except (RuntimeAPIError, PlanError) as exc:
        error = str(exc)
    # Persist whatever the runtime now holds, even after a partial failure, so a
    # reload or restart does not bring back the old colour.
    if state_file and plan.done:
        try:
            write_state_file(state_file, client.dump_state())
            result["state_file"] = state_file
        except (RuntimeAPIError, OSError, IOError) as exc:
            error = error or "changed the runtime state but could not write %s: %s" % (state_file, exc)
    try:
        after = client.servers(backend)
        if error is None and params.get("wait_drained") and plan.quiet:
            after = wait_drained(client, backend, plan.quiet, params.get("drain_timeout", 60),
                                 clock=clock, sleep=sleep)
    except (RuntimeAPIError, PlanError) as exc:
        after = plan.predicted
        error = error or str(exc)
    result["after"] = after
    result["diff"]["after"] = dict((n, _diffable(after[n])) for n in plan.targets if n in after)
    result["changed"] = bool(plan.done) or _differs(servers, after, plan.targets)
    warnings = []
    for server, field, _old, new in plan.actions:
        got = after.get(server, {}).get(field)
        if field == "address":
            try:
                got = str(ipaddress.ip_address(got))
            except (TypeError, ValueError):
                pass
        if error is None and got != new:
            warnings.append("%s/%s: asked for %s=%s, HAProxy reports %s" % (backend, server, field, new, got))
    if warnings:
        result["warnings"] = warnings
    if error:
        result["msg"] = error
        return False, result
    return True, result


def _diffable(info):
    return dict((k, info.get(k)) for k in ("state", "weight", "address", "port"))


def _differs(before, after, names):
    return any(_diffable(before.get(n, {})) != _diffable(after.get(n, {})) for n in names)
