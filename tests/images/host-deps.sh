#!/usr/bin/env bash
# Debian packages that the lab and test tooling need on this machine (root on a
# Debian-family host). Quiet when everything is already there.
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
apt-get update -qq
apt-get install -y -qq "${missing[@]}" >/dev/null
