#!/usr/bin/env bash
# Creates the Python environment NAB's scorer needs, or reuses it: a venv with the pinned
# requirements.txt at ${NAB_VENV:-~/.cache/benglema/nab-venv}, made from ${PYTHON:-python3}
# (CPython 3.11 or newer; pandas 2.2.3 has wheels up to 3.13), by the notebooks' setup
# script. Rebuilt only when requirements.txt or the interpreter changes. Progress goes to
# stderr; the last line on stdout is the venv's python:
#     BENGLEMA_NAB_PYTHON="$(data/real/nab/setup.sh)"
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
BENGLEMA_VENV="${NAB_VENV:-$HOME/.cache/benglema/nab-venv}" \
  BENGLEMA_REQUIREMENTS="$here/requirements.txt" BENGLEMA_VENV_NAME=nab \
  exec "$here/../../../notebooks/setup.sh"
