#!/usr/bin/env bash
# Builds and runs the tests three times: optimised, under AddressSanitizer + UndefinedBehaviorSanitizer,
# and under ThreadSanitizer (all but the command's, which ASan covers), each time also on the generic
# POSIX platform (ctest -L posix); then the unit suite cross-built for arm64 Linux, under qemu-user,
# and the Windows build (library, tests, xmem.exe) under Wine.
# The kernel tests reserve huge pages through sysfs (root) and restore the counts they found.
set -euo pipefail
cd "$(dirname "$0")/.."

# The layer rule first: a wrong include is named in a second, before any build.
scripts/check-layers.sh

# Each stage's time, so CI's log shows where its minutes go.
stage() {
  local started=$SECONDS
  "$@"
  echo "=== $* took $((SECONDS - started)) s (at $((SECONDS / 60)) min $((SECONDS % 60)) s)"
}
preset() {
  echo "=== $1: configure, build, test"
  cmake --preset "$1" >/dev/null
  stage cmake --build --preset "$1"
  stage ctest --preset "$1"
}

for name in release asan tsan; do
  preset "$name"
done

stage scripts/test-arm64.sh
stage scripts/test-windows.sh
