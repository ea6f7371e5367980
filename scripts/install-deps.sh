#!/usr/bin/env bash
# Installs what xmem needs to build and test, from Debian's packages. Run as root.
set -euo pipefail

packages=(
  cmake ninja-build g++ pkg-config
  libhwloc-dev libcli11-dev nlohmann-json3-dev libfmt-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  # The monitoring server (xmem::server) speaks HTTP through it.
  libcpp-httplib-dev
  # The real workload, unmodified, and the peer allocators `xmem bench` compares with.
  librandomx-dev libmimalloc2.0 libjemalloc2
  # xmem_bench_preload counts system calls per request with it.
  strace
  # promtool (`promtool check metrics`) lints the metrics of tests/monitor/golden/snapshot.prom.
  prometheus
  # The multi-node guests of tests/guest: QEMU, a kernel to boot, a static shell for /init.
  qemu-system-x86 linux-image-amd64 busybox-static cpio
  # The live page's browser test (ctest -L browser) loads it in headless Chromium; its test server
  # serves it with cpp-httplib.
  chromium libcpp-httplib-dev
  # arm64 Linux: Debian's cross compiler, qemu-user to run what it builds, and the arm64 builds of
  # the libraries the unit suite links (multiarch, after `dpkg --add-architecture arm64` below).
  g++-aarch64-linux-gnu qemu-user libhwloc-dev:arm64 libgtest-dev:arm64 libgmock-dev:arm64 libstdc++6:arm64
  # tests/fuzz: clang 14 and its libFuzzer runtime and FuzzedDataProvider.h (libclang-rt).
  clang-14 libclang-rt-14-dev
  # Windows: Debian's mingw-w64 (its posix-threads g++, for std::thread) cross-builds the library,
  # the xmem command and GoogleTest (from libgtest-dev's sources); Wine runs them.
  g++-mingw-w64-x86-64-posix wine wine64
)

# The arm64 packages come from Debian's arm64 archive: the architecture must be known to dpkg first.
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  dpkg --add-architecture arm64
fi

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
echo "xmem dependencies are installed"
