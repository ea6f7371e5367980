#!/bin/sh
# The xmem command on a real multi-node kernel, run inside the guests of run_guest.sh (busybox sh).
# Everything is compared with what the kernel itself says in /sys and /proc.
#
#   cli_checks.sh [--alloc-profile PROFILE]
#
# With --alloc-profile, `xmem alloc` allocates PROFILE with one thread per node and every page
# of each node's dataset and cache must be on that node (from /proc/PID/numa_maps).
set -u
alloc_profile=
[ "${1:-}" = --alloc-profile ] && alloc_profile=$2

failures=0
pass() { echo "ok: $1"; }
fail() { echo "FAILED: $1"; failures=$((failures + 1)); }
expect() {  # expect DESCRIPTION TEXT PATTERN: TEXT has a line matching the extended regex
  if printf '%s\n' "$2" | grep -qE "$3"; then pass "$1"; else fail "$1 (no line matches '$3')"; fi
}

sysnode=/sys/devices/system/node
nodes=$(ls -d $sysnode/node[0-9]* | wc -l)
last=$((nodes - 1))
squeeze() { tr -s ' ' | sed 's/^ //; s/ $//'; }
nearest() {  # the node nearest to $1 other than itself, by the kernel's distances
  awk -v self="$1" '{ for (i = 1; i <= NF; i++) if (i - 1 != self && (best == "" || $i < min)) { min = $i; best = i - 1 } }
                    END { print best " " min }' "$sysnode/node$1/distance"
}

echo "--- xmem info"
info=$(xmem info) || fail "xmem info exits 0"
echo "$info"
expect "info shows the kernel's $nodes nodes" "$info" "^NUMA nodes +$nodes\$"
node=0
while [ $node -lt $nodes ]; do
  cpus=$(cat $sysnode/node$node/cpulist)
  expect "info: node $node has cpus $cpus" "$info" "^  node $node +cpus $cpus "
  distances=$(squeeze < $sysnode/node$node/distance)
  row=$(printf '%s\n' "$info" | sed -n '/^Distances/,$p' | grep -E "^  node $node " | sed "s/^  node $node//" | squeeze)
  if [ "$row" = "$distances" ]; then pass "info: distances from node $node are $distances"
  else fail "info: distances from node $node are '$row', the kernel says '$distances'"; fi
  node=$((node + 1))
done

echo "--- xmem plan"
plan=$(xmem plan --profile rx/0 --threads $nodes) || fail "xmem plan exits 0"
echo "$plan"
expect "plan spreads $nodes threads on $nodes nodes" "$plan" "$nodes worker thread\(s\) on $nodes node\(s\)"
node=0
while [ $node -lt $nodes ]; do
  expect "plan: node $node runs 1 thread on cpus $(cat $sysnode/node$node/cpulist)" "$plan" \
    "^node $node: 1 thread\(s\) on cpus $(cat $sysnode/node$node/cpulist)\$"
  set -- $(nearest $node)
  line=$(printf '%s\n' "$plan" | sed -n "/^node $node:/,/^\$/p" | grep -E '^  when full')
  case "$line" in
    *"when full    node $1 (distance $2)"*) pass "plan: node $node falls back to its nearest, node $1 (distance $2)" ;;
    *) fail "plan: node $node falls back to '$line', the nearest is node $1 (distance $2)" ;;
  esac
  node=$((node + 1))
done

echo "--- xmem reserve / release on node $last"
counts() { for f in $sysnode/node*/hugepages/hugepages-2048kB/nr_hugepages; do printf '%s ' "$(cat $f)"; done; }
before=$(counts)
xmem reserve --node $last --page-size 2M --count 8 || fail "xmem reserve exits 0"
after=$(counts)
expected=$(echo "$before" | awk -v n=$last '{ $(n + 1) += 8; print }')
if [ "$(echo $after)" = "$(echo $expected)" ]; then pass "reserve changed only node $last: $before-> $after"
else fail "reserve on node $last: counts $before-> $after, expected $expected"; fi
xmem release || fail "xmem release exits 0"
restored=$(counts)
if [ "$restored" = "$before" ]; then pass "release restored $before"; else fail "release left $restored, expected $before"; fi

if [ -n "$alloc_profile" ]; then
  echo "--- xmem alloc --profile $alloc_profile --threads $nodes"
  gigantic_free=$(cat $sysnode/node*/hugepages/hugepages-1048576kB/free_hugepages | tr '\n' ' ')
  xmem alloc --profile "$alloc_profile" --threads $nodes --hold 600 > /tmp/alloc.out 2>&1 &
  pid=$!
  waited=0
  until grep -q '^Holding' /tmp/alloc.out || ! kill -0 $pid 2>/dev/null || [ $waited -ge 300 ]; do
    sleep 1; waited=$((waited + 1))
  done
  grep -v '% faulted in' /tmp/alloc.out
  if grep -q '^Holding' /tmp/alloc.out; then
    # Bound huge page mappings: every page on the bound node; pages per node and page size.
    placement=$(awk '/ bind:[0-9]+ / && / huge / {
        node = ""; size = ""; stray = 0; here = 0
        for (i = 1; i <= NF; i++) {
          if ($i ~ /^bind:/) node = substr($i, 6)
          else if ($i ~ /^kernelpagesize_kB=/) size = substr($i, 19)
          else if ($i ~ /^N[0-9]+=/) { split(substr($i, 2), kv, "="); if (kv[1] == node) here += kv[2]; else stray += kv[2] }
        }
        pages[node " " size] += here
        if (stray) print "stray " node " " stray
      }
      END { for (k in pages) print "on " k " " pages[k] }' /proc/$pid/numa_maps | sort)
    echo "$placement"
    expect "numa_maps lists bound huge page mappings" "$placement" "^on "
    if printf '%s\n' "$placement" | grep -q '^stray'; then fail "pages off their node: $placement"; fi
    node=0
    while [ $node -lt $nodes ]; do
      expect "alloc reports node $node's dataset and cache" "$(cat /tmp/alloc.out)" "^  node $node: 2336 MiB \(2080\+256\) huge 100%"
      # Two per dataset, if the boot put two on this node (it can put them elsewhere).
      set -- $gigantic_free
      shift $node
      want=$(( $1 < 2 ? $1 : 2 ))
      [ $want -eq 2 ] || echo "note: the boot left node $node only $1 free 1 GiB page(s)"
      if [ $want -eq 0 ]; then pass "node $node has no 1 GiB page to use"
      else expect "node $node's 1 GiB pages ($want) are on node $node" "$placement" "^on $node 1048576 $want\$"; fi
      twomb=$(printf '%s\n' "$placement" | awk -v n=$node '$2 == n && $3 == 2048 { print $4 }')
      if [ "${twomb:-0}" -ge 144 ]; then pass "node $node's 2 MiB pages ($twomb, 144 for dataset and cache) are on node $node"
      else fail "node $node has ${twomb:-0} bound 2 MiB pages, expected at least 144"; fi
      node=$((node + 1))
    done
  else
    fail "xmem alloc did not get to hold its memory"
  fi
  kill $pid 2>/dev/null
  wait $pid 2>/dev/null
fi

echo "--- $failures failure(s)"
[ $failures -eq 0 ]
