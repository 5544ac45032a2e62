#!/usr/bin/env bash
# check_sizes.sh [SRC_DIR]: fails when a C++ source or header passes the hard limit of
# 1,000 lines (STYLE: one concept per file; soft limit 500). Prints the files above the
# soft limit and the total, so growth shows in every CI log.
set -euo pipefail
cd "${1:-$(dirname "$0")/..}"
hard=1000
soft=500
status=0
total=0
while IFS= read -r f; do
  n=$(wc -l < "$f")
  total=$((total + n))
  if [ "$n" -gt "$hard" ]; then
    echo "FAIL: $f has $n lines (hard limit $hard): split it"
    status=1
  elif [ "$n" -gt "$soft" ]; then
    echo "note: $f has $n lines (soft limit $soft)"
  fi
done < <(find ir passes frontend backends runtime tools tests examples bench \
           -path bench/.venv -prune -o \( -name '*.cpp' -o -name '*.h' \) -print | sort)
echo "check_sizes: $total lines of C++ in total"
exit $status
