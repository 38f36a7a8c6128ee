#!/usr/bin/env bash
# Scores `benglema detect-series` on the NAB realTweets files here with NAB's own scorer.
#   data/real/nab/score.sh [BENGLEMA_BINARY] [nab_realtweets.py options, e.g. --per-file]
# Runs detect-series on each file with its default settings, takes its `score` column as NAB's
# anomaly_score, and prints NAB's normalised scores per profile (null detector 0, perfect 100).
# The scorer's Python is $BENGLEMA_NAB_PYTHON, else what setup.sh prints (creating the venv once).
set -euo pipefail
export PYTHONDONTWRITEBYTECODE=1
here="$(cd "$(dirname "$0")" && pwd)"
bin="${1:-target/release/benglema}"; shift || true
[ -x "$bin" ] || { echo "no benglema binary at $bin (cargo build --release first)" >&2; exit 2; }
py="${BENGLEMA_NAB_PYTHON:-$("$here/setup.sh")}"
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/out"
for f in "$here"/tree/data/realTweets/*.csv; do
  "$bin" detect-series --input "$f" --out "$tmp/raw.csv"
  # timestamp,value,expected,score,alarm -> timestamp,anomaly_score
  awk -F, 'NR == 1 { print "timestamp,anomaly_score"; next } { print $1 "," $4 }' \
    "$tmp/raw.csv" >"$tmp/out/$(basename "$f")"
done
"$py" "$here/nab_realtweets.py" "$here/tree" "$tmp/out" --name benglema --workdir "$tmp/ws" "$@"
