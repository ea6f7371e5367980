#!/usr/bin/env bash
# Builds and runs every test three times: optimised, under AddressSanitizer + UndefinedBehaviorSanitizer,
# and under ThreadSanitizer (each time also on the generic POSIX platform: ctest -L posix); then
# the unit suite cross-built for arm64 Linux, under qemu-user.
# The kernel tests reserve huge pages through sysfs (root) and restore the counts they found.
set -euo pipefail
cd "$(dirname "$0")/.."

# The layer rule first: a wrong include is named in a second, before any build.
scripts/check-layers.sh

for preset in release asan tsan; do
  echo "=== $preset: configure, build, test"
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset"
  ctest --preset "$preset"
done

scripts/test-arm64.sh
scripts/test-windows.sh
