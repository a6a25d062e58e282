# -*- coding: utf-8 -*-
# Copyright (c) seed.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""seed-fleet-haproxy-save-state (run with python3): keep HAProxy's runtime server state across reloads and restarts.

  save       write the runtime state (show servers state) to the state file when the file would
             restore something else; ports come from the configuration. When HAProxy does not
             answer (crash, OOM kill) the file is kept as it is and the exit status is 1.
  fix-ports  rewrite the ports of the existing state file from the configuration, without the
             runtime API (before a start: after a crash the configuration may have changed).

The load_balancer unit runs "save" before every reload and stop and "fix-ports" before every
start. The logic is seed.fleet's plugins/module_utils/_haproxy_runtime.py, installed by the role
at --lib: seed.fleet.haproxy_server writes the same file with the same code.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import argparse
import sys

LIB = "/usr/local/lib/seed-fleet/haproxy_runtime.py"


def load(path):
    """The collection's _haproxy_runtime module from a file path."""
    import importlib.util  # pylint: disable=import-outside-toplevel

    spec = importlib.util.spec_from_file_location("seed_fleet_haproxy_runtime", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(argv=None):
    parser = argparse.ArgumentParser(prog="seed-fleet-haproxy-save-state",
                                     description="Save HAProxy's runtime server state to its server-state-file.")
    parser.add_argument("command", choices=["save", "fix-ports"])
    parser.add_argument("--socket", help="runtime API: unix socket path or tcp://HOST:PORT")
    parser.add_argument("--state-file", help="HAProxy's server-state-file")
    parser.add_argument("--config", help="haproxy.cfg whose server lines give the ports")
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds to wait for HAProxy")
    parser.add_argument("--lib", default=LIB, help="path of seed.fleet's _haproxy_runtime.py")
    args = parser.parse_args(argv)
    try:
        rt = load(args.lib)
    except (IOError, OSError, ImportError) as exc:
        print("seed-fleet-haproxy-save-state: cannot load %s: %s" % (args.lib, exc), file=sys.stderr)
        return 2
    state_file = args.state_file or rt.DEFAULT_STATE_FILE
    config = args.config or rt.DEFAULT_CONFIG
    try:
        if args.command == "save":
            written = rt.save_state(rt.RuntimeClient(args.socket or rt.DEFAULT_SOCKET, args.timeout),
                                    state_file, config)
        else:
            written = rt.fix_state_file_ports(state_file, config)
    except (rt.RuntimeAPIError, rt.PlanError, IOError, OSError) as exc:
        print("seed-fleet-haproxy-save-state: %s; %s kept as it was" % (exc, state_file), file=sys.stderr)
        return 1
    print("%s %s" % (state_file, "written" if written else "already current"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
