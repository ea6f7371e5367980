#!/usr/bin/env bash
# Builds the libFuzzer targets (the fuzz preset: clang, ASan + UBSan) and runs each for SECONDS
# (default 60) on a copy of its seed corpus (tests/fuzz/corpus/<target> -> build/fuzz/corpus/<target>,
# so what a run finds stays in the build tree). Prints each target's executions and corpus size,
# and appends them to build/fuzz/fuzz-figures.tsv. A crash, a leak, a timeout (10 s an input) or
# more than 2 GiB of memory stops the script: the input is kept in build/fuzz/findings/<target>/,
# to run again with `build/fuzz/tests/fuzz/xmem_fuzz_<target> FILE`.
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]   (targets: build/fuzz/fuzz-targets.txt)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift $(($# > 0 ? 1 : 0))
if ! [[ $seconds =~ ^[1-9][0-9]*$ ]]; then
  echo "fuzz.sh: '$seconds' is not a number of seconds (expected a whole number above 0)" >&2
  exit 2
fi

cmake --preset fuzz >/dev/null
cmake --build --preset fuzz
build=build/fuzz
if (($# > 0)); then
  targets=("$@")
else
  IFS=";" read -r -a targets <"$build/fuzz-targets.txt" || true  # one line, no newline
fi

printf '%-18s %12s %10s %8s\n' target executions per_second corpus
for target in "${targets[@]}"; do
  binary=$build/tests/fuzz/xmem_fuzz_$target
  if [[ ! -x $binary ]]; then
    echo "fuzz.sh: no fuzz target '$target' (expected one of: $(tr ';' ' ' <"$build/fuzz-targets.txt"))" >&2
    exit 2
  fi
  corpus=$build/corpus/$target findings=$build/findings/$target log=$build/logs/$target.log
  mkdir -p "$corpus" "$findings" "$build/logs"
  cp -n tests/fuzz/corpus/"$target"/* "$corpus"/ 2>/dev/null || true
  status=0
  # ASan's leak check runs after each input; UBSan's findings abort (-fno-sanitize-recover).
  ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
    "$binary" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$findings/" "$corpus" >"$log" 2>&1 || status=$?
  executions=$(awk '/stat::number_of_executed_units/ {print $2}' "$log")
  rate=$(awk '/stat::average_exec_per_sec/ {print $2}' "$log")
  inputs=$(find "$corpus" -type f | wc -l)
  printf '%-18s %12s %10s %8s\n' "$target" "${executions:-?}" "${rate:-?}" "$inputs"
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$target" "$seconds" "${executions:-0}" "$inputs" "$status" \
    >>"$build/fuzz-figures.tsv"
  if ((status != 0)); then
    echo "fuzz.sh: $target failed (exit $status); the end of its log ($log):" >&2
    tail -n 60 "$log" >&2
    echo "fuzz.sh: the input is in $findings/" >&2
    exit 1
  fi
done
