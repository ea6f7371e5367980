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
)

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
