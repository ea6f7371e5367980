#!/usr/bin/env bash
# Debian's librandomx under `xmem run`, with 1 GiB and 2 MiB pages reserved for it: xmem-randomx checks
# the RandomX test vectors and, from its own smaps, that dataset, cache and scratchpads are huge.
#   randomx_on_huge_pages.sh XMEM XMEM_RANDOMX
set -euo pipefail
xmem=$1 runner=$2
trap '"$xmem" release >/dev/null' EXIT
# 2 x 1 GiB + 16 x 2 MiB for the 2080 MiB dataset, 128 x 2 MiB for the cache, 2 scratchpads, spare.
"$xmem" reserve --page-size 1G --count 2 || echo "(1 GiB pages could not all be reserved: the dataset takes 2 MiB pages)"
"$xmem" reserve --page-size 2M --count 150
"$xmem" run --report exit -- "$runner" --threads 2 --expect-huge
