#!/usr/bin/env bash
# ansible-test sanity on the collection, offline, with the Python of a venv.
#
#   SANITY_VENV=.venv (default)            the newest core (Python 3.13 here)
#   SANITY_VENV=.cache/venv-oldest         the oldest supported core (Python 3.11)
#   SANITY_PYTHON=3.x                      defaults to the venv's own Python version
#
# No ignore files (tests/sanity/ignore-*.txt): a finding is fixed, not ignored.
#
# ansible-test wants the tree at .../ansible_collections/seed/fleet, so the tracked
# files are copied into a temporary tree. Its per-test virtualenvs bootstrap pip
# with a script it normally downloads; when that script is not cached we write a
# stand-in that bootstraps pip from the Python's own ensurepip instead (harmless
# where the download works: ansible-test then simply uses the cache).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
VENV=${SANITY_VENV:-$REPO/.venv}
[[ $VENV = /* ]] || VENV=$REPO/$VENV
if [[ ! -x $VENV/bin/ansible-test ]]; then
  echo "[sanity] $VENV/bin/ansible-test missing: run 'make venv venv-oldest'" >&2
  exit 2
fi
PY_VERSION=${SANITY_PYTHON:-$("$VENV/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')}
ANSIBLE_TEST=${ANSIBLE_TEST:-$VENV/bin/ansible-test}
# ansible-test looks for pythonX.Y on PATH: the venv's own, not a pyenv shim that fails.
export PATH="$VENV/bin:$PATH"
if ls "$REPO"/tests/sanity/ignore-*.txt >/dev/null 2>&1; then
  echo "[sanity] ignore files are not used here: fix the finding instead" >&2
  exit 1
fi

PIP_VERSION=$("$VENV/bin/python" - <<'PY'
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
echo "[sanity] ansible-core $("$VENV/bin/python" -c 'from ansible.release import __version__ as v; print(v)') on Python $PY_VERSION ($VENV)"
echo "[sanity] ansible-test sanity --python $PY_VERSION in $DEST"
"$ANSIBLE_TEST" sanity --python "$PY_VERSION" --requirements --color no "$@"
