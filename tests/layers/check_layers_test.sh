#!/usr/bin/env bash
# scripts/check-layers.sh on a small tree of its own: it names an include that points up and OS
# knowledge outside src/os/<os>/, and passes the same tree once they are gone.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
tree=$(mktemp -d)
trap 'rm -rf "$tree"' EXIT
mkdir -p "$tree/scripts" "$tree/src/os/linux" "$tree/src/machine" "$tree/src/mapping" "$tree/include/xmem"
cp "$repo/scripts/check-layers.sh" "$tree/scripts/"
cp "$repo/src/layers.txt" "$tree/src/"
printf '#include <xmem/types.h>\n#include "os/os.h"\n' > "$tree/src/machine/good.cpp"
printf '#include "machine/topology.h"\n' > "$tree/src/os/upward.cpp"
printf '#include <xmem/virtual_memory.h>\n' > "$tree/src/machine/public_upward.cpp"
printf 'int f() { return errno; }  // errno here is fine in a comment\n' > "$tree/src/mapping/reads_errno.cpp"
printf '  #  include "../pool/memory_pool.h"\n' > "$tree/src/mapping/relative.cpp"
printf '#include "xmem/memory_pool.h"\n#include <pool/x.h>\n' > "$tree/src/mapping/other_spellings.hpp"
printf '#include "os/linux/linux_platform.h"\n' > "$tree/src/machine/linux_header.cpp"
printf '#include <cerrno>\nint g() { return errno; }\n' > "$tree/src/os/linux/allowed.cpp"
git -C "$tree" init -q && git -C "$tree" add -A

status=0
output=$("$tree/scripts/check-layers.sh" "$tree") || status=$?
echo "$output"
expect() { grep -q -- "$1" <<<"$output" || { echo "FAIL: expected a finding: $1"; exit 1; }; }
[[ $status -eq 1 ]] || { echo "FAIL: exit status $status, expected 1"; exit 1; }
expect 'src/os/upward.cpp:1: #include "machine/topology.h" points up, from os to machine'
expect 'src/machine/public_upward.cpp:1: #include <xmem/virtual_memory.h> points up, from machine to mapping'
expect 'src/mapping/reads_errno.cpp:1: .*OS knowledge outside'
expect 'src/mapping/relative.cpp:1: .* is relative'
expect 'src/mapping/other_spellings.hpp:1: #include "xmem/memory_pool.h" points up, from mapping to pool'
expect 'src/mapping/other_spellings.hpp:2: #include <pool/x.h> points up, from mapping to pool'
expect 'src/machine/linux_header.cpp:1: .* is one OS.s own header'
expect '7 finding(s)'
if grep -q 'good.cpp\|allowed.cpp' <<<"$output"; then echo "FAIL: a good include was named"; exit 1; fi

git -C "$tree" rm -qf src/os/upward.cpp src/machine/public_upward.cpp src/mapping/reads_errno.cpp src/mapping/relative.cpp \
  src/mapping/other_spellings.hpp src/machine/linux_header.cpp
"$tree/scripts/check-layers.sh" "$tree"
echo "check-layers names what breaks the rule and passes a clean tree"
