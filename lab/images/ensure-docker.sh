#!/usr/bin/env bash
# Make sure a Docker engine answers. On a Debian-family host where we are root and
# no engine runs, install Debian's docker.io and start dockerd (this machine has no
# systemd as PID 1, so the daemon is started directly). Anywhere else, say exactly
# what is missing and stop.
set -euo pipefail

log() { printf '[ensure-docker] %s\n' "$*" >&2; }

engine_answers() { docker info >/dev/null 2>&1; }

if command -v docker >/dev/null 2>&1 && engine_answers; then
  log "engine answers: $(docker version --format '{{.Server.Version}}' 2>/dev/null)"
  exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
  log "no Docker engine answers and we are not root: start Docker yourself (or run as root on Debian) and retry"
  exit 1
fi
if [[ ! -f /etc/debian_version ]]; then
  log "no Docker engine answers and this is not a Debian-family host: install and start Docker, then retry"
  exit 1
fi

if ! command -v dockerd >/dev/null 2>&1; then
  log "installing Debian's docker.io (no engine found)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq docker.io >/dev/null
fi

if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null 2>&1; then
  log "starting docker.service with systemd"
  systemctl start docker || true
fi

if ! engine_answers; then
  log "starting dockerd directly (log: /var/log/dockerd.log)"
  nohup dockerd >/var/log/dockerd.log 2>&1 &
fi

for _ in $(seq 1 60); do
  if engine_answers; then
    log "engine answers: $(docker version --format '{{.Server.Version}}' 2>/dev/null)"
    exit 0
  fi
  sleep 1
done
log "dockerd did not answer within 60 s; last lines of /var/log/dockerd.log:"
tail -n 20 /var/log/dockerd.log >&2 || true
exit 1
