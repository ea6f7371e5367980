#!/usr/bin/env bash
# Installs the built tree into a scratch prefix, then builds a consumer two ways: CMake's
# find_package(xmem) and pkg-config. Usage: check_install.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1
source=$2
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

cmake --install "$build" --prefix "$scratch/prefix" >/dev/null

cmake -S "$source/tests/install" -B "$scratch/cmake" -G Ninja -DCMAKE_PREFIX_PATH="$scratch/prefix" >/dev/null
cmake --build "$scratch/cmake" >/dev/null
"$scratch/cmake/consumer"
"$scratch/cmake/serving_consumer"

libdir=$(find "$scratch/prefix" -name xmem.pc -printf '%h\n' | head -n1)
flags=$(PKG_CONFIG_PATH="$libdir" pkg-config --cflags --libs xmem)
# shellcheck disable=SC2086
g++ "$source/tests/install/consumer.cpp" -o "$scratch/pkgconfig-consumer" $flags
"$scratch/pkgconfig-consumer"
echo "find_package and pkg-config consumers both built and ran"
