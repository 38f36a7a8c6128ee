#!/usr/bin/env bash
# Creates the Python environment NAB's scorer needs, or reuses it: a venv with the pinned
# requirements.txt at ${NAB_VENV:-~/.cache/benglema/nab-venv}, made from ${PYTHON:-python3}
# (CPython 3.11 or newer; pandas 2.2.3 has wheels up to 3.13). Rebuilt only when
# requirements.txt or the interpreter changes. Progress goes to stderr; the last line on
# stdout is the venv's python:
#     BENGLEMA_NAB_PYTHON="$(data/real/nab/setup.sh)"
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
venv="${NAB_VENV:-$HOME/.cache/benglema/nab-venv}"
base="${PYTHON:-python3}"
req="$here/requirements.txt"

command -v "$base" >/dev/null || { echo "nab/setup.sh: $base not found; install CPython 3.11+ (or set PYTHON)" >&2; exit 1; }
want="$("$base" -c '
import hashlib, platform, sys
print(hashlib.sha256(open(sys.argv[1], "rb").read()).hexdigest(), sys.executable, platform.python_version())
' "$req")"
stamp="$venv/.benglema-requirements"

if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  echo "nab: reusing $venv" >&2
else
  if [ -e "$venv" ] && [ ! -f "$venv/pyvenv.cfg" ] && [ -n "$(ls -A "$venv" 2>/dev/null)" ]; then
    echo "nab/setup.sh: $venv exists and is not a venv; not touching it (set NAB_VENV)" >&2
    exit 1
  fi
  echo "nab: creating $venv from $base" >&2
  rm -rf "$venv"
  "$base" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$req" >&2
  echo "$want" >"$stamp"
fi
echo "$venv/bin/python"
