#!/usr/bin/env bash
# `xmem stats --pid` on a program under `xmem run`, read from outside: its two large blocks are
# listed with what they asked for (the preload's published records) and its mappings with their
# page sizes; the same in JSON and in Prometheus text that promtool and our own lint accept.
# Usage: stats_from_outside.sh XMEM PRELOAD_TESTS
set -euo pipefail
xmem=$1 tests=$2
work=$(mktemp -d)
trap 'touch "$work/done"; wait 2>/dev/null; rm -rf "$work"' EXIT
XMEM_TEST_HOLD_FILE=$work/done "$xmem" run -- "$tests" --gtest_filter=Preload.HoldsLargeBlocksForAMonitor >"$work/out" 2>&1 &
for _ in $(seq 100); do grep -q holding "$work/out" 2>/dev/null && break; sleep 0.1; done
grep -q holding "$work/out" || { echo "the program under xmem run never held its blocks:"; cat "$work/out"; exit 1; }
pid=$(pgrep -n -f "gtest_filter=Preload.HoldsLargeBlocksForAMonitor" | head -1)
# `xmem run` execs the program in a child: take the newest process of that command line that is the test itself.
for candidate in $(pgrep -f "gtest_filter=Preload.HoldsLargeBlocksForAMonitor"); do
  [[ $(readlink "/proc/$candidate/exe") == *xmem_preload_tests ]] && pid=$candidate
done

text=$("$xmem" stats --pid "$pid")
echo "$text"
grep -Eq "under xmem's preload library: [0-9]+ large allocations" <<<"$text" || { echo "FAIL: no preload records"; exit 1; }
grep -Eq "asked +300 MiB" <<<"$text" || { echo "FAIL: the 300 MiB block is not listed as asked"; exit 1; }
grep -Eq "asked +6 MiB" <<<"$text" || { echo "FAIL: the 6 MiB block is not listed as asked"; exit 1; }

"$xmem" stats --pid "$pid" --json >"$work/stats.json"
python3 - "$pid" "$work/stats.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[2]))
assert doc["schema_version"] >= 1, doc.get("schema_version")
process = [p for p in doc["processes"] if p["pid"] == int(sys.argv[1])][0]
assert process["under_preload"], "not seen as under the preload"
asked = sorted(r["requested_bytes"] for r in process["preload"])
assert 300 << 20 in asked and 6 << 20 in asked, asked
# The 300 MiB block may be several mappings (hugetlb pages where free, THP for the rest).
block = [r for r in process["preload"] if r["requested_bytes"] == 300 << 20][0]
start = int(block["address"], 16) if isinstance(block["address"], str) else block["address"]
end = start + block["mapped_bytes"]
def begins(m):
    return int(m["start"], 16) if isinstance(m["start"], str) else m["start"]
inside = [m for m in process["mappings"] if start <= begins(m) < end]
assert inside, ("no mapping listed inside the 300 MiB block", block)
resident = sum(p["bytes"] for m in inside for p in m["parts"])
assert resident >= 300 << 20, ("the 300 MiB block is touched: all of it resident", inside)
print("ok: JSON lists both blocks and the 300 MiB mapping by page size")
PY

metrics=$("$xmem" stats --pid "$pid" --prometheus)
grep -q "^xmem_process_" <<<"$metrics" || { echo "FAIL: no xmem_process_ metrics"; exit 1; }
if command -v promtool >/dev/null; then
  promtool check metrics <<<"$metrics" || { echo "FAIL: promtool check metrics"; exit 1; }
else
  echo "FAIL: promtool is not installed (scripts/install-deps.sh installs it)"; exit 1
fi
echo "ok: xmem stats --pid read a program under xmem run from outside"
