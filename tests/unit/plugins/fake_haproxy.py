# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A fake HAProxy runtime API (2.6) on a real unix socket and a real TCP port.

It speaks the CLI protocol in non-interactive mode: read one line, run each
';'-separated command, write each reply followed by an empty line, close. The
replies (formats and error texts) were taken from Debian's HAProxy 2.6.12:

    show servers state [<backend>]   -> "1", a '# be_id ...' header, one row per server
                                        / "Can't find backend."
    show cli level                   -> "admin" / "operator" / "user"
    show stat [<proxy> <type> <sid>] -> CSV with a '# pxname,...' header / "No such proxy."
    set server <b>/<s> state|weight|addr ...
        -> "" on success, "No such backend." / "No such server." /
           "'set server <srv> state' expects 'ready', 'drain' and 'maint'." /
           "Absolute weight can only be between 0 and 256 inclusive." /
           "IP changed from ..." / "Invalid addr ..." / "Permission denied"
    anything else                    -> "Unknown command, but maybe ..."

Every command received is recorded in ``commands`` so tests can assert that
nothing was written (``writes``). Knobs: ``level`` (admin|operator|user),
``delay`` (seconds before answering), ``drain_step`` (sessions that end on
every ``show stat``, to simulate draining), ``replies`` (command prefix ->
forced reply, to inject errors).

Servers that ``set server ... state ready`` cannot bring back are modelled as in
2.6.12: ``track(backend, server, "be/srv")`` makes a server inherit the tracked
server's maintenance (IMAINT 0x02, status "MAINT (via be/srv)"), and
``unresolve(backend, server)`` gives it no address (``-``, RMAINT 0x20, status
"MAINT (resolution)"), as ``init-addr libc,none`` does for a name that does not
resolve. ``set server ... addr - ...`` is refused with "Invalid addr '-'" but, as
in the real 2.6, clears RMAINT on the way.
"""
from __future__ import annotations

import os
import socketserver
import threading
import time

FMAINT, IMAINT, CMAINT, FDRAIN, IDRAIN, RMAINT = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20

STATE_HEADER = (
    "# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight "
    "srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state "
    "srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl "
    "srv_check_port srv_check_addr srv_agent_addr srv_agent_port"
)
STAT_FIELDS = (
    "pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,"
    "weight,act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,lbtot,tracked,type,rate,"
    "rate_lim,rate_max,check_status,check_code,check_duration,hrsp_1xx,hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,"
    "hrsp_other,hanafail,req_rate,req_rate_max,req_tot,cli_abrt,srv_abrt,comp_in,comp_out,comp_byp,comp_rsp,"
    "lastsess,last_chk,last_agt,qtime,ctime,rtime,ttime,agent_status,agent_code,agent_duration,check_desc,"
    "agent_desc,check_rise,check_fall,check_health,agent_rise,agent_fall,agent_health,addr,cookie,mode,algo,"
    "conn_rate,conn_rate_max,conn_tot,intercepted,dcon,dses,wrew,connect,reuse,cache_lookups,cache_hits,"
    "srv_icur,src_ilim,qtime_max,ctime_max,rtime_max,ttime_max,eint,idle_conn_cur,safe_conn_cur,used_conn_cur,"
    "need_conn_est,uweight,agg_server_status,agg_server_check_status,agg_check_status"
).split(",")
UNKNOWN = (
    "Unknown command, but maybe one of the following ones is a better match:\n"
    "  help [<command>]                        : list matching or all commands\n"
    "  prompt                                  : toggle interactive mode with prompt\n"
    "  quit                                    : disconnect\n"
)
SET_SERVER_USAGE = (
    "usage: set server <backend>/<server> addr | agent | agent-addr | agent-port | agent-send | "
    "check-addr | check-port | fqdn | health | ssl | state | weight\n"
)


class Server:
    def __init__(self, sid, name, addr, port, disabled=False, weight=1, sessions=0, up=True):
        self.sid, self.name, self.addr, self.port = sid, name, addr, port
        self.admin = (FMAINT | CMAINT) if disabled else 0
        self.uweight = self.iweight = weight
        self.sessions = sessions
        self.up = up
        self.hrsp_5xx = 0  # 5xx answers served (show stat), for the post-switch watch
        self.stot = 0  # sessions served (show stat), for a canary's min_requests
        self.tracked = None  # the Server this one tracks (IMAINT/IDRAIN come from it)
        self.track_name = ""

    @property
    def admin(self):
        flags = self.own_admin
        if self.tracked is not None:
            theirs = self.tracked.admin
            if theirs & (FMAINT | IMAINT | RMAINT):
                flags |= IMAINT
            if theirs & (FDRAIN | IDRAIN):
                flags |= IDRAIN
        return flags

    @admin.setter
    def admin(self, value):
        self.own_admin = value & ~(IMAINT | IDRAIN)

    @property
    def status(self):
        if self.admin & RMAINT:
            return "MAINT (resolution)"
        if self.admin & IMAINT:
            return "MAINT (via %s)" % self.track_name
        if self.admin & FMAINT:
            return "MAINT"
        if not self.up:
            return "DOWN"
        return "DRAIN" if self.admin & FDRAIN else "UP"


class FakeHAProxy:
    """backends: {name: [(server, addr, port[, disabled]), ...]}."""

    def __init__(self, backends, level="admin"):
        self.backends = {}
        for bid, (bname, servers) in enumerate(backends.items(), start=3):
            self.backends[bname] = (bid, [Server(sid, *spec) for sid, spec in enumerate(servers, start=1)])
        self.level = level
        self.delay = 0.0
        self.drain_step = 0
        self.replies = {}
        self.commands = []
        self.lock = threading.Lock()
        self._servers = []
        self.unix_path = None
        self.tcp_address = None

    # -- observation -------------------------------------------------------

    @property
    def writes(self):
        return [c for c in self.commands if c.startswith("set ")]

    def server(self, backend, name):
        return next(s for s in self.backends[backend][1] if s.name == name)

    def track(self, backend, server, tracked):
        """Make backend/server track tracked ("be/srv"), as 'server ... track be/srv' does."""
        tb, _sep, ts = tracked.partition("/")
        srv = self.server(backend, server)
        srv.tracked, srv.track_name = self.server(tb, ts), tracked

    def unresolve(self, backend, server):
        """The server's name did not resolve at start-up ('init-addr libc,none'): no address, RMAINT."""
        srv = self.server(backend, server)
        srv.addr = "-"
        srv.admin |= RMAINT

    def state(self, backend):
        return dict((s.name, {"admin": s.admin, "weight": s.uweight, "addr": s.addr, "port": s.port})
                    for s in self.backends[backend][1])

    # -- the CLI -----------------------------------------------------------

    def handle_line(self, line):
        out = []
        for command in line.split(";"):
            command = command.strip()
            with self.lock:
                self.commands.append(command)
                forced = next((r for p, r in self.replies.items() if command.startswith(p)), None)
                out.append((forced if forced is not None else self.run(command)) + "\n")
        return "".join(out)

    def run(self, command):
        words = command.split()
        if words[:3] == ["show", "servers", "state"]:
            return self.show_servers_state(words[3] if len(words) > 3 else None)
        if words[:3] == ["show", "cli", "level"]:
            return self.level + "\n"
        if words[:2] == ["show", "stat"]:
            return self.show_stat(words[2] if len(words) > 2 else None)
        if words[:2] == ["set", "server"]:
            if self.level != "admin":
                return "Permission denied\n"
            return self.set_server(words[2:])
        return UNKNOWN

    def show_servers_state(self, backend):
        if backend is not None and backend not in self.backends:
            return "Can't find backend.\n"
        lines = ["1", STATE_HEADER]
        for bname, (bid, servers) in self.backends.items():
            if backend is not None and bname != backend:
                continue
            for s in servers:
                lines.append("%d %s %d %s %s %d %d %d %d 12 %d 2 0 6 0 0 0 - %d - 0 0 - - 0" % (
                    bid, bname, s.sid, s.name, s.addr, 2 if s.up else 0, s.admin, s.uweight, s.iweight,
                    6 if s.up else 8, s.port))
        return "\n".join(lines) + "\n"

    def show_stat(self, proxy):
        if proxy is not None and proxy not in self.backends:
            return "No such proxy.\n"
        rows = ["# " + ",".join(STAT_FIELDS) + ","]
        for bname, (bid, servers) in self.backends.items():
            if proxy is not None and bname != proxy:
                continue
            for s in servers:
                if self.drain_step and s.admin & (FMAINT | FDRAIN):
                    s.sessions = max(0, s.sessions - self.drain_step)
                row = dict.fromkeys(STAT_FIELDS, "")
                row.update(pxname=bname, svname=s.name, scur=str(s.sessions), status=s.status,
                           weight=str(s.uweight), uweight=str(s.uweight), iid=str(bid), sid=str(s.sid),
                           addr="%s:%d" % (s.addr, s.port), mode="http", tracked=s.track_name,
                           hrsp_5xx=str(s.hrsp_5xx), stot=str(s.stot), eresp="0", econ="0", chkfail="0")
                rows.append(",".join(row[f] for f in STAT_FIELDS) + ",")
        return "\n".join(rows) + "\n"

    def set_server(self, args):
        if not args:
            return "Require 'backend/server'.\n"
        bname, sep, sname = args[0].partition("/")
        if not sep or not sname:
            return "Require 'backend/server'.\n"
        if bname not in self.backends:
            return "No such backend.\n"
        srv = next((s for s in self.backends[bname][1] if s.name == sname), None)
        if srv is None:
            return "No such server.\n"
        if len(args) < 2:
            return SET_SERVER_USAGE
        what, rest = args[1], args[2:]
        if what == "state":
            value = rest[0] if rest else ""
            if value == "ready":
                srv.admin &= ~(FMAINT | FDRAIN)
            elif value == "drain":
                srv.admin = (srv.admin & ~FMAINT) | FDRAIN
            elif value == "maint":
                srv.admin = (srv.admin & ~FDRAIN) | FMAINT
            else:
                return "'set server <srv> state' expects 'ready', 'drain' and 'maint'.\n"
            return ""
        if what == "weight":
            value = rest[0] if rest else ""
            if not value.isdigit():
                return "Empty weight string empty or preceded by garbage\n"
            if int(value) > 256:
                return "Absolute weight can only be between 0 and 256 inclusive.\n"
            srv.uweight = int(value)
            return ""
        if what == "addr":
            if rest and rest[0] == "-":
                # HAProxy 2.6 refuses the address, but has already cleared RMAINT.
                srv.admin &= ~RMAINT
                return "Invalid addr '-' by 'stats socket command'\n"
            if not rest or not (rest[0].replace(".", "").isdigit() or ":" in rest[0]):
                return "Invalid addr '%s' by 'stats socket command'\n" % (rest[0] if rest else "")
            msgs = []
            srv.admin &= ~RMAINT  # a valid address ends the resolution maintenance
            if rest[0] == srv.addr:
                msgs.append("no need to change the addr")
            else:
                msgs.append("IP changed from '%s' to '%s'" % (srv.addr, rest[0]))
                srv.addr = rest[0]
            if len(rest) >= 3 and rest[1] == "port":
                port = int(rest[2])
                if port == srv.port:
                    msgs.append("no need to change the port")
                else:
                    msgs.append("port changed from '%d' to '%d'" % (srv.port, port))
                    srv.port = port
            return ", ".join(msgs) + " by 'stats socket command'\n"
        return SET_SERVER_USAGE

    # -- sockets -----------------------------------------------------------

    def start(self, unix_path=None, tcp=True):
        fake = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                line = self.rfile.readline().decode("utf-8", "replace").rstrip("\r\n")
                reply = fake.handle_line(line)
                if fake.delay:
                    time.sleep(fake.delay)
                try:
                    self.wfile.write(reply.encode("utf-8"))
                except OSError:
                    pass

        if unix_path:
            if os.path.exists(unix_path):
                os.unlink(unix_path)
            srv = socketserver.ThreadingUnixStreamServer(unix_path, Handler)
            os.chmod(unix_path, 0o600)
            self.unix_path = unix_path
            self._serve(srv)
        if tcp:
            srv = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
            self.tcp_address = "tcp://127.0.0.1:%d" % srv.server_address[1]
            self._serve(srv)
        return self

    def _serve(self, srv):
        srv.daemon_threads = True
        thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        thread.start()
        self._servers.append(srv)

    def stop(self):
        for srv in self._servers:
            srv.shutdown()
            srv.server_close()
        if self.unix_path and os.path.exists(self.unix_path):
            os.unlink(self.unix_path)


class Clock:
    """Time that moves only when the code under test sleeps; `events` run when it reaches their time."""

    def __init__(self, events=()):
        self.now, self.events, self.slept = 0.0, sorted(events, key=lambda e: e[0]), []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds
        while self.events and self.events[0][0] <= self.now:
            self.events.pop(0)[1]()
