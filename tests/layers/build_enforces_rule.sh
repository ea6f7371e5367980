#!/usr/bin/env bash
# The build holds the layer rule by itself: with a layer's include roots (build/layers/<layer>),
# an include of its own layer or a lower one compiles, and one of a higher layer does not.
# Usage: build_enforces_rule.sh CXX LAYERS_DIR
set -euo pipefail
cxx=$1
layers=$2
compiles() {  # layer, the line to include
  printf '%s\n' "$2" | "$cxx" -std=c++20 -fsyntax-only -I"$layers/$1" -I"$layers/os" -x c++ - 2>&1
}
# machine sees itself and os (the build hands it os's root through its link).
compiles machine '#include "machine/machine_locks.h"' >/dev/null
compiles machine '#include "os/os.h"' >/dev/null
compiles machine '#include <xmem/system_info.h>' >/dev/null
for upward in '#include "mapping/backoff_table.h"' '#include <xmem/virtual_memory.h>' '#include "pool/nothing.h"'; do
  if output=$(compiles machine "$upward"); then
    echo "FAIL: machine compiled $upward"
    exit 1
  fi
  grep -q 'No such file' <<<"$output" || { echo "FAIL: $upward failed for another reason: $output"; exit 1; }
done
echo "the machine layer's include roots hold its own and the os layer's headers, none above"
