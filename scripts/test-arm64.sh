#!/usr/bin/env bash
# arm64 Linux: cross-builds the library and the unit suite with Debian's aarch64 toolchain and runs
# the suite under qemu-user (the `arm64` presets). The page-size arithmetic of arm64's layouts
# (4, 16 and 64 KiB base pages) is in the unit suite itself, through the fake platform.
# FaultInjection is left out: ~900 runs, each reserving gigabytes of address space, exceed what
# qemu-user gives a guest, and the logic it tests is the same on every architecture.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "=== arm64: configure, cross-build, test under qemu-user"
cmake --preset arm64 >/dev/null
cmake --build --preset arm64
ctest --preset arm64
