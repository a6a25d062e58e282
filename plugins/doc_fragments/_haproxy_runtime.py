# -*- coding: utf-8 -*-
# Copyright (c) seed.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # Connection options of every module that talks to HAProxy's runtime API
    # (argument spec: plugins/module_utils/_haproxy_runtime.py RUNTIME_ARGSPEC).
    DOCUMENTATION = r"""
options:
  socket:
    description:
      - The HAProxy runtime API to talk to.
      - An absolute path of a unix socket (C(stats socket /run/haproxy/admin.sock level admin) in HAProxy's
        C(global) section), or C(tcp://HOST:PORT) for a TCP listener (C(stats socket ipv4@127.0.0.1:9999 level admin)).
      - The socket must be at C(level admin); the default socket of seed.fleet.load_balancer is mode 0600 root,
        so tasks need privilege escalation (C(become=true)).
    type: str
    default: /run/haproxy/admin.sock
  timeout:
    description:
      - Seconds to wait for HAProxy to accept a connection and to answer one command.
    type: float
    default: 5
"""
