#!/usr/bin/env bash
# roundtrip_all.sh TEVO SRC_DIR: for every .tir file in the repository, reprinting the
# printed text is byte-identical (`tevo print X | tevo print -` == `tevo print X`).
# Files that are meant to be invalid (expected-error cases, fuzz crash reproducers,
# lit inputs that check errors) are skipped only when they fail to parse.
set -u
tevo=$1
src=$2
fail=0
n=0
skipped=0
while IFS= read -r f; do
  if ! first=$("$tevo" print --split-input-file "$f" 2>/dev/null); then
    case "$f" in
      */tests/fuzz/corpus/*|*/tests/lit/*) skipped=$((skipped + 1)); continue ;;
    esac
    echo "FAIL: $f does not parse:"; "$tevo" print --split-input-file "$f" 2>&1 | head -3
    fail=1; continue
  fi
  second=$(printf '%s\n' "$first" | "$tevo" print --split-input-file - 2>&1) || true
  if [ "$first" != "$second" ]; then
    echo "FAIL: $f reprints differently"; diff <(printf '%s\n' "$first") <(printf '%s\n' "$second") | head -10
    fail=1
  fi
  n=$((n + 1))
done < <(cd "$src" && find . -name '*.tir' -not -path './build*' -not -path './.git/*' | sort | sed "s|^\.|$src|")
echo "roundtrip: $n files reprint identically ($skipped invalid-by-design files skipped)"
exit $fail
