#!/bin/sh
# Runs Debian's `promtool check metrics` on a file of metrics: exit 0 only when it finds nothing
# (3: lint problems, 1: a parse error). A missing promtool is a failure, not a skip:
# scripts/install-deps.sh installs it (package prometheus).
# Usage: promtool_check.sh FILE
set -u
file=$1
if ! command -v promtool >/dev/null 2>&1; then
  echo "promtool is not installed: run scripts/install-deps.sh (Debian package prometheus)"
  exit 1
fi
if [ ! -s "$file" ]; then
  echo "$file is missing or empty"
  exit 1
fi
promtool check metrics < "$file"
status=$?
[ "$status" -eq 0 ] || echo "promtool check metrics exited $status on $file"
exit "$status"
