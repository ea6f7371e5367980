#!/usr/bin/env bash
# Builds and runs the tests three times: optimised (the multi-node guests beside the later stages),
# under AddressSanitizer + UndefinedBehaviorSanitizer,
# and under ThreadSanitizer (all but the command's, which ASan covers), each time also on the generic
# POSIX platform (ctest -L posix); then the unit suite cross-built for arm64 Linux, under qemu-user,
# the Windows build (library, tests, xmem.exe) under Wine, the libFuzzer targets for ten seconds each,
# and real programs under the preload library built with UBSan.
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

# The multi-node guests (ctest -L guest) run one at a time, each on about one core, for minutes:
# they run beside the later stages instead of leaving the other core idle, and their result is
# checked at the end.
guests_log=build/release/guest-tests.log
guests() {
  local started=$SECONDS status=0
  ctest --preset release -L guest >"$guests_log" 2>&1 || status=$?
  echo "=== ctest --preset release -L guest took $((SECONDS - started)) s (beside the other stages)" >>"$guests_log"
  return "$status"
}

echo "=== release: configure, build, test"
cmake --preset release >/dev/null
stage cmake --build --preset release
stage ctest --preset release -LE guest
# In a process group of its own (job control on), so that a failing stage stops its QEMU too.
set -m
guests &
guests_pid=$!
set +m
trap 'kill -- -"$guests_pid" 2>/dev/null || true' EXIT

for name in asan tsan; do
  preset "$name"
done

stage scripts/test-arm64.sh
stage scripts/test-windows.sh
# Every fuzz target, ten seconds each from its seeds (scripts/fuzz.sh SECONDS for longer runs).
stage scripts/fuzz.sh 10
# The preload library under UBSan in real programs, each against its run without the preload.
# ASan and TSan cannot run with it: they replace malloc in the program, ahead of any preload.
preload_ubsan() {
  cmake --preset preload-ubsan >/dev/null
  cmake --build --preset preload-ubsan
  XMEM_BUILD=build/release XMEM_PRELOAD_LIBRARY=build/preload-ubsan/src/libxmem-preload.so \
    scripts/preload-stress.sh 8 edges threads python sort make=6 faults=24
}
stage preload_ubsan

guests_status=0
wait "$guests_pid" || guests_status=$?
cat "$guests_log"
exit "$guests_status"
