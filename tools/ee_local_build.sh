#!/usr/bin/env bash
# Build the seed.fleet execution environment here, without a registry or Galaxy:
# the same definition as execution-environment.yml, but FROM our debootstrapped
# seed-fleet/debian:bookworm image (apt behind a dnf-style shim for ansible-builder's scripts),
# and the collections from local sources (our built tarball, the dependencies from the
# venv's pinned `ansible` package) installed with --offline.
#
#   bash tools/ee_local_build.sh [TAG]     (default seed-fleet/ee:local)
#
# Needs: docker, the seed-fleet/debian:bookworm image (make images), Debian mirror and PyPI
# reachable from containers. Not part of make test (a few minutes of CPU).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
TAG=${1:-seed-fleet/ee:local}
BIN="$REPO/.venv/bin"
# bookworm's python3 is 3.11: the newest ansible-core (2.21, Python >= 3.12) does not run
# there, so this local image carries the oldest supported core (requirements/oldest.txt);
# execution-environment.yml (Fedora 41, Python 3.13) carries the newest.
CORE=$(sed -n 's/^ansible-core==//p' "$REPO/requirements/oldest.txt")
SITE=$("$BIN/python" -c 'import ansible_collections, os; print(os.path.dirname(ansible_collections.__path__[0]))')
W=$(mktemp -d /tmp/seed-fleet-ee.XXXXXX)
trap 'rm -rf "$W"' EXIT
mkdir -p "$W/files/collections"

# seed.fleet from the tracked (and new, not ignored) files, like the Galaxy build check.
mkdir -p "$W/src"
git -C "$REPO" ls-files -co --exclude-standard -z | tar -C "$REPO" --null -T - -cf - 2>/dev/null | tar -C "$W/src" -xf -
"$BIN/ansible-galaxy" collection build --force --output-path "$W/files" "$W/src" >/dev/null
tarball=$(basename "$W"/files/seed-fleet-*.tar.gz)
# Dependencies as installed collection directories (MANIFEST.json), from the venv.
deps=(ansible/posix community/docker community/general community/library_inventory_filtering_v1)
for c in "${deps[@]}"; do
  mkdir -p "$W/files/collections/${c%/*}"
  cp -a "$SITE/ansible_collections/$c" "$W/files/collections/$c"
done
cp "$REPO/meta/ee-requirements.txt" "$REPO/meta/ee-bindep.txt" "$W/"
# pip in the build trusts what pip on this machine trusts (e.g. a proxy's CA).
CA=$("$BIN/python" -m pip config get global.cert 2>/dev/null || true)
CA=${PIP_CERT:-${CA:-/etc/ssl/certs/ca-certificates.crt}}
cp "$CA" "$W/files/pip-ca.crt"

cat >"$W/execution-environment.yml" <<YAML
---
version: 3
images:
  base_image:
    name: seed-fleet/debian:bookworm
dependencies:
  python_interpreter:
    package_system: python3 python3-pip python3-venv
    # Debian disables ensurepip for the system python (pip comes from python3-pip);
    # ansible-builder's pip_install always calls it: a thin wrapper skips that call.
    python_path: /usr/local/bin/ee-python3
  ansible_core:
    package_pip: ansible-core==${CORE}
  ansible_runner:
    package_pip: ansible-runner==2.4.3
  galaxy:
    collections:
$(for c in "${deps[@]}"; do printf '      - name: files/collections/%s\n        type: dir\n' "$c"; done)
      - name: files/$tarball
        type: file
  python: ee-requirements.txt
  system: ee-bindep.txt
options:
  package_manager_path: /usr/local/bin/dnf-on-apt
build_arg_defaults:
  ANSIBLE_GALAXY_CLI_COLLECTION_OPTS: --offline
additional_build_files:
  - src: files
    dest: files
additional_build_steps:
  prepend_base:
    - ENV DEBIAN_FRONTEND=noninteractive
    - COPY _build/files/pip-ca.crt /etc/ssl/certs/pip-ca.crt
    - ENV PIP_CERT=/etc/ssl/certs/pip-ca.crt
    - >-
      RUN printf '%s\n' '#!/bin/sh' 'cmd=\$1; shift' 'pkgs=\$(printf "%s\n" "\$@" | grep -v "^-" | tr "\n" " ")'
      'case \$cmd in install) apt-get update -qq && apt-get install -y -qq --no-install-recommends \$pkgs ;;'
      ' clean) apt-get clean; rm -rf /var/lib/apt/lists/* ;; *) exit 0 ;; esac'
      > /usr/local/bin/dnf-on-apt && chmod 0755 /usr/local/bin/dnf-on-apt
    - >-
      RUN printf '%s\n' '#!/bin/sh' '[ "\$1 \$2" = "-m ensurepip" ] && exit 0' 'exec /usr/bin/python3 "\$@"'
      > /usr/local/bin/ee-python3 && chmod 0755 /usr/local/bin/ee-python3
  append_final:
    - LABEL org.opencontainers.image.description="seed.fleet execution environment (local build)"
YAML

cd "$W"
"$BIN/ansible-builder" build -f execution-environment.yml -c context -t "$TAG" --container-runtime docker -v 2
# The image answers like an EE: collections, module docs, runner, our Python deps.
docker run --rm "$TAG" ansible-galaxy collection list
docker run --rm "$TAG" ansible-doc -t module seed.fleet.haproxy_server >/dev/null
docker run --rm "$TAG" ansible-runner --version
docker run --rm "$TAG" python3 -c 'import docker, passlib, requests; print("python deps ok")'
docker run --rm "$TAG" ansible localhost -m ansible.builtin.ping
echo "built $TAG"
