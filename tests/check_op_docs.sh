#!/usr/bin/env bash
# check_op_docs.sh TEVO SRC_DIR: docs/OPS.md must equal what the registry generates.
set -euo pipefail
if ! diff -u "$2/docs/OPS.md" <("$1" ops --markdown); then
  echo "docs/OPS.md is out of date: run scripts/gen-op-docs"
  exit 1
fi
echo "docs/OPS.md matches the op registry"
