#!/usr/bin/env bash
# Print the Python that runs the NEWEST ansible-core (.venv): ansible-core 2.21 needs
# Python >= 3.12 on the controller. Order: $NEWEST_PYTHON, pyenv's 3.13.x / 3.12.x (on
# these machines /root/.pyenv/versions/3.13.0), then python3.13 / python3.12 / python3 on
# PATH. Each candidate must really run (pyenv shims for a version that is not selected
# exist on PATH but fail). Messages go to stderr; exit 1 when there is none.
set -uo pipefail
want_ok() { "$1" -c 'import sys, venv, ensurepip; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1; }
cands=()
if [[ -n ${NEWEST_PYTHON:-} ]]; then
  want_ok "$NEWEST_PYTHON" || echo "[venv] note: NEWEST_PYTHON=$NEWEST_PYTHON is not a working Python >= 3.12; looking further" >&2
  cands+=("$NEWEST_PYTHON")
fi
root=$(pyenv root 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}")
while IFS= read -r d; do
  cands+=("$d/bin/python3")
done < <(find "$root/versions" -mindepth 1 -maxdepth 1 \( -name '3.13.*' -o -name '3.12.*' \) 2>/dev/null | sort -rV)
for n in python3.13 python3.12 python3; do
  p=$(command -v "$n" 2>/dev/null) && cands+=("$p")
done
for c in "${cands[@]}"; do
  if [[ -x $c ]] && want_ok "$c"; then
    [[ $c == */3.13.* ]] || echo "[venv] note: no pyenv Python 3.13; using $c ($("$c" -V 2>&1)) for the newest ansible-core" >&2
    echo "$c"
    exit 0
  fi
done
cat >&2 <<MSG
[venv] ERROR: no Python >= 3.12 found, and the pinned ansible-core (requirements/controller.txt)
[venv] needs one. Tried: ${cands[*]:-nothing}.
[venv] Install one (e.g. 'pyenv install 3.13.0', or Debian trixie's python3.13) or point
[venv] NEWEST_PYTHON=/path/to/python3.12+ at it; see docs/ansible-cores.md.
MSG
exit 1
