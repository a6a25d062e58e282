#!/usr/bin/env bash
# Debian packages that the lab and test tooling need on this machine (root on a
# Debian-family host). Quiet when everything is already there.
# haproxy: the binary for the real-HAProxy unit tests
# (tests/unit/plugins/modules/test_haproxy_server_real.py), which start their own
# on 127.0.0.1 in a temp dir; the packaged service must not run on this host.
set -euo pipefail
PKGS=(debootstrap git make python3-venv shellcheck haproxy hey wrk)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0
if [[ $(id -u) -ne 0 || ! -f /etc/debian_version ]]; then
  echo "[deps] missing: ${missing[*]} — install them (Debian package names) and retry" >&2
  exit 1
fi
echo "[deps] installing Debian packages: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# Maintainer scripts start the services they install (haproxy through /etc/init.d
# where PID 1 is not systemd, binding its default admin socket). Deny that for this
# install unless a policy already decides.
if [[ ! -e /usr/sbin/policy-rc.d ]]; then
  printf '#!/bin/sh\n# seed.fleet host-deps: no service starts during this install\nexit 101\n' >/usr/sbin/policy-rc.d
  chmod 0755 /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get update -qq
apt-get install -y -qq "${missing[@]}" >/dev/null
if [[ " ${missing[*]} " == *" haproxy "* ]] && command -v systemctl >/dev/null && [[ -d /run/systemd/system ]]; then
  # On a systemd host the unit may have been enabled: the tests start their own HAProxy.
  systemctl disable --now haproxy >/dev/null 2>&1 || true
fi
