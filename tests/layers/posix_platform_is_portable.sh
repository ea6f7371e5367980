#!/usr/bin/env bash
# The generic POSIX platform keeps Linux-only calls out by construction: posix_platform.cpp poisons
# them, so the same file with one such call added does not compile, and says why.
# Usage: posix_platform_is_portable.sh CXX SOURCE_DIR LAYERS_DIR
set -euo pipefail
cxx=$1
tree=$2
source=$tree/src/os/posix/posix_platform.cpp
layers=$3
compiles() {  # the line to add at the end of the file
  { cat "$source"; printf '%s\n' "$1"; } |
    "$cxx" -std=c++20 -fsyntax-only -I"$layers/os" -I"$tree/include" -x c++ - 2>&1
}
compiles '' >/dev/null || { echo "FAIL: posix_platform.cpp does not compile as it is"; exit 1; }
for linux_only in 'int a = madvise(nullptr, 0, 0);' 'int b = MAP_HUGETLB;' 'long c = syscall(0);' \
                  'int d = sched_getcpu();' 'const char* e = strerrorname_np(0);'; do
  if output=$(compiles "$linux_only"); then
    echo "FAIL: the POSIX platform compiled Linux-only code: $linux_only"
    exit 1
  fi
  grep -q 'poisoned' <<<"$output" || { echo "FAIL: '$linux_only' failed for another reason: $output"; exit 1; }
done
echo "posix_platform.cpp compiles, and refuses madvise, MAP_HUGETLB, syscall, sched_getcpu, strerrorname_np"
