#!/usr/bin/env bash
# Creates the notebooks' Python environment, or reuses it: a venv with the pinned
# notebooks/requirements.txt, at ${BENGLEMA_VENV:-~/.cache/benglema/venv}, made from
# ${PYTHON:-python3} (CPython 3.11 or newer). The venv is rebuilt only when requirements.txt
# or the interpreter changes (a stamp file inside it records both). Progress goes to stderr;
# the last line on stdout is the venv's python, so that
#     BENGLEMA_PYTHON="$(notebooks/setup.sh)"
# is all a script needs. BENGLEMA_REQUIREMENTS and BENGLEMA_VENV_NAME make it build another
# pinned venv the same way (data/real/nab/setup.sh does, for NAB's scorer).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
venv="${BENGLEMA_VENV:-$HOME/.cache/benglema/venv}"
base="${PYTHON:-python3}"
req="${BENGLEMA_REQUIREMENTS:-$here/requirements.txt}"
name="${BENGLEMA_VENV_NAME:-notebooks}"

command -v "$base" >/dev/null || { echo "$name/setup.sh: $base not found; install CPython 3.11+ (or set PYTHON)" >&2; exit 1; }
"$base" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
  echo "$name/setup.sh: $base is Python $("$base" -c 'import platform; print(platform.python_version())'); the pinned packages need 3.11 or newer (set PYTHON)" >&2
  exit 1
}

# What the venv must have been built from: this requirements file and this interpreter.
want="$("$base" -c '
import hashlib, platform, sys
print(hashlib.sha256(open(sys.argv[1], "rb").read()).hexdigest(), sys.executable, platform.python_version())
' "$req")"
stamp="$venv/.benglema-requirements"

if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  echo "$name: reusing $venv" >&2
else
  if [ -e "$venv" ] && [ ! -f "$venv/pyvenv.cfg" ] && [ -n "$(ls -A "$venv" 2>/dev/null)" ]; then
    echo "$name/setup.sh: $venv exists and is not a venv; not touching it (set BENGLEMA_VENV)" >&2
    exit 1
  fi
  echo "$name: creating $venv from $base (requirements.txt changed or no venv yet)" >&2
  started=$SECONDS
  rm -rf "$venv"
  "$base" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$req" >&2
  # Only a complete install is stamped: an interrupted one is rebuilt next time.
  echo "$want" >"$stamp"
  echo "$name: installed in $((SECONDS - started)) s" >&2
fi
echo "$venv/bin/python"
