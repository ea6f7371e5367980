#!/bin/sh
# Runs Debian's `promtool check metrics` on a file of metrics: exit 0 only when it finds nothing
# (3: lint problems, 1: a parse error). A missing promtool is a failure, not a skip:
# scripts/install-deps.sh installs it (package prometheus).
# Usage: promtool_check.sh FILE [EXPECTED_STATUS]: the status promtool must exit with (default 0;
# 3 shows that it finds the lint problems planted in a file).
set -u
file=$1
expected=${2:-0}
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
if [ "$status" -ne "$expected" ]; then
  echo "promtool check metrics exited $status on $file, expected $expected"
  exit 1
fi
echo "ok: promtool check metrics exited $status on $file, as expected"
