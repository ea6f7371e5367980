#!/usr/bin/env bash
# Names every include in the tree that breaks the layer rule of src/layers.txt:
#   tools, bench, preload and server -> monitor -> options -> workload -> pool -> mapping -> machine -> os
# An include may point only down: to its own layer, a lower one, or a public header (include/xmem)
# that a lower or its own layer owns. Also: inside the library (src/ but src/preload), only
# src/os/<os>/ includes the OS's headers, reads errno, or spells an OS path (/proc, /sys, /run, /etc, /dev).
# Usage: scripts/check-layers.sh [source tree]   Exit status 1 when anything breaks the rule.
set -euo pipefail
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$root"

declare -A rank header_rank
n=0
while read -r layer headers; do
  [[ -z $layer || $layer == \#* ]] && continue
  n=$((n + 1))
  rank[$layer]=$n
  for header in $headers; do header_rank[$header]=$n; done
done < src/layers.txt
top=$((n + 1))
header_rank[xmem.h]=$top
header_rank[version.h]=$top
header_rank[server.h]=$top  # xmem::server, built above libxmem (src/server)

layer_of() {  # the rank of a file by its place in the tree
  case $1 in
    src/preload/* | src/server/* | tools/* | bench/*) echo $top ;;
    src/*/*) local layer=${1#src/}; layer=${layer%%/*}; echo "${rank[$layer]:-}" ;;
    include/xmem/*) echo "${header_rank[${1#include/xmem/}]:-}" ;;
  esac
}
name_of() {  # a rank's layer name, for messages
  local r=$1
  [[ $r == "$top" ]] && { echo "top (tools, bench, preload, server)"; return; }
  for layer in "${!rank[@]}"; do [[ ${rank[$layer]} == "$r" ]] && echo "$layer"; done
}

failures=0
fail() { echo "$1"; failures=$((failures + 1)); }

while IFS= read -r file; do
  own=$(layer_of "$file")
  if [[ -z $own ]]; then
    fail "$file: not in a layer (add its folder or public header to src/layers.txt)"
    continue
  fi
  while IFS=: read -r line text; do
    [[ $text =~ ^[[:space:]]*#[[:space:]]*include[[:space:]]*[\<\"]([^\>\"]+)[\>\"] ]] || continue
    path=${BASH_REMATCH[1]}
    target=""
    if [[ $path == ../* || $path == */../* || $path == ./* ]]; then
      fail "$file:$line: ${text} is relative: include from a layer root (\"layer/file.h\" or <xmem/file.h>)"
      continue
    elif [[ $path == xmem/* ]]; then
      target=${header_rank[${path#xmem/}]:-}
      [[ -z $target ]] && { fail "$file:$line: <$path> is not listed in src/layers.txt"; continue; }
    elif [[ $path =~ ^([a-z_]+)/ ]]; then
      dir=${BASH_REMATCH[1]}
      [[ $dir == preload || $dir == server ]] && target=$top || target=${rank[$dir]:-}
      if [[ $path =~ ^os/[a-z]+/ && $file != src/os/* ]]; then
        fail "$file:$line: ${text} is one OS's own header: above src/os, use os/os.h"
        continue
      fi
    fi
    if [[ -n $target && $target -gt $own ]]; then
      fail "$file:$line: ${text} points up, from $(name_of "$own") to $(name_of "$target")"
    fi
  done < <(grep -nE '^[[:space:]]*#[[:space:]]*include' "$file" || true)
done < <(git ls-files 'src/**.h' 'src/**.hpp' 'src/**.inc' 'src/**.cpp' 'include/xmem/*' 'tools/**.h' 'tools/**.hpp' \
                      'tools/**.cpp' 'bench/**.h' 'bench/**.hpp' 'bench/**.cpp' | grep -v '\.in$')

# OS knowledge stays in src/os/<os>/ (the preload library is POSIX interposition by nature).
os_pattern='#[[:space:]]*include[[:space:]]*<(sys/|linux/|unistd\.h|fcntl\.h|dlfcn\.h|pthread\.h|sched\.h|signal\.h|csignal|dirent\.h|numaif?\.h|cerrno|errno\.h|windows\.h)|\berrno\b|[ "(]/(proc|sys|run|etc|dev)(/|")'
while IFS= read -r hit; do
  fail "$hit: OS knowledge outside src/os/<os>/"
done < <(git ls-files 'src/**.h' 'src/**.hpp' 'src/**.inc' 'src/**.cpp' ':!src/os/*/**' ':!src/preload/**' |
         xargs awk '{ line = $0; sub(/\/\/.*/, "", line); print FILENAME ":" FNR ": " line }' |
         grep -E "^[^:]+:[0-9]+: .*($os_pattern)" || true)

if ((failures > 0)); then
  echo "check-layers: $failures finding(s) against the rule in src/layers.txt"
  exit 1
fi
echo "check-layers: every include points down ($(git ls-files 'src/**' 'include/**' 'tools/**' 'bench/**' | wc -l) files)"
