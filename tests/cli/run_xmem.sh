#!/usr/bin/env bash
# Runs the xmem binary and checks its exit code and output.
# Usage: run_xmem.sh XMEM EXPECTED_EXIT REGEX [ARGS...]: REGEX must match stdout+stderr.
# XMEM_RUNNER, when set, runs it (wine, for the Windows build).
set -u
xmem=$1 expected=$2 pattern=$3
shift 3
output=$(${XMEM_RUNNER:+"$XMEM_RUNNER"} "$xmem" "$@" 2>&1)
code=$?
if [ "$code" != "$expected" ]; then
  printf 'xmem %s exited %s, expected %s\n%s\n' "$*" "$code" "$expected" "$output"
  exit 1
fi
if ! grep -Eq -- "$pattern" <<<"$output"; then
  printf 'xmem %s printed no match for /%s/:\n%s\n' "$*" "$pattern" "$output"
  exit 1
fi
echo "ok: xmem $* (exit $code)"
