#!/usr/bin/env bash
# ansible-test sanity on the collection, offline, with the local Python.
#
# ansible-test wants the tree at .../ansible_collections/seed/fleet, so the tracked
# files are copied into a temporary tree. Its per-test virtualenvs bootstrap pip
# with a script it normally downloads; when that script is not cached we write a
# stand-in that bootstraps pip from the Python's own ensurepip instead (harmless
# where the download works: ansible-test then simply uses the cache).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
PY_VERSION=${SANITY_PYTHON:-3.11}
ANSIBLE_TEST=${ANSIBLE_TEST:-$REPO/.venv/bin/ansible-test}

PIP_VERSION=$("$REPO/.venv/bin/python" - <<'PY'
import re, pathlib, ansible_test
src = pathlib.Path(ansible_test.__file__).parent / "_internal" / "python_requirements.py"
print(re.search(r"pip='([0-9.]+)'", src.read_text()).group(1))
PY
)
CACHE="$HOME/.ansible/test/cache/get_pip_${PIP_VERSION//./_}.py"
if [[ ! -f $CACHE ]]; then
  mkdir -p "$(dirname "$CACHE")"
  cat >"$CACHE" <<'PY'
# seed.fleet stand-in for ansible-test's pip bootstrap script (offline machines):
# bootstrap pip with ensurepip, then install the requested pip version from the
# package index pip is configured for.
import ensurepip
import subprocess
import sys

ensurepip.bootstrap()
args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
cmd = [sys.executable, "-m", "pip", "install"]
cert = "/etc/ssl/certs/ca-certificates.crt"
import os
if os.path.exists(cert):
    cmd += ["--cert", cert]
sys.exit(subprocess.call(cmd + args))
PY
  echo "[sanity] wrote an offline pip bootstrap stand-in at $CACHE"
fi

WORK=$(mktemp -d /tmp/seed-fleet-sanity.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
DEST="$WORK/ansible_collections/seed/fleet"
mkdir -p "$DEST"
# Tracked and new (not ignored) files only: no venv, caches or lab state.
git -C "$REPO" ls-files -co --exclude-standard -z \
  | tar -C "$REPO" --null --ignore-failed-read -T - -cf - 2>/dev/null \
  | tar -C "$DEST" -xf -
cd "$DEST"
echo "[sanity] ansible-test sanity --python $PY_VERSION in $DEST"
"$ANSIBLE_TEST" sanity --python "$PY_VERSION" --requirements --color no "$@"
