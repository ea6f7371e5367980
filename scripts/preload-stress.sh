#!/usr/bin/env bash
# Real programs under the preload library, each compared with the same program without it: a
# parallel build (make -j2 compiling xmem's own sources with g++), Python with threads and
# multiprocessing (fork and spawn), sort --parallel over a file larger than the threshold, and two
# C programs (tests/preload/stress): the edge cases of the allocation calls, and threads allocating
# while signals arrive. Each case runs once without the preload (the reference), then RUNS times
# under it, each run with the next policy of the list below; a run must end with the reference's
# exit code, output and files. Under the report-signal policy the report signal is sent from
# outside while the program runs.
#
#   scripts/preload-stress.sh [RUNS] [CASE[=RUNS]...]   cases: edges threads python sort make faults
#
# faults: the memory system calls the preload makes, failed in turn (tests/preload/stress/fail_nth.c);
# its RUNS is the number of points tried in each program and policy, 0 for every call.
#
# XMEM_BUILD names the build tree (default build/release); XMEM_PRELOAD_LIBRARY the library (by
# default its libxmem-preload.so). As root, 2 MiB pages are made available for the runs and the
# count put back at exit. Figures are printed and appended to $XMEM_BUILD/stress/stress-figures.tsv;
# exit 1 on any difference.
set -euo pipefail
cd "$(dirname "$0")/.."
source_dir=$PWD
runs=${1:-10}
shift || true
cases=("$@")
((${#cases[@]})) || cases=(edges threads python sort make faults)
build=${XMEM_BUILD:-build/release}
preload=${XMEM_PRELOAD_LIBRARY:-$build/src/libxmem-preload.so}
[[ -f $preload ]] || { echo "preload stress: $preload is not built (cmake --build --preset release)" >&2; exit 2; }
preload=$(realpath "$preload")
work=$(mktemp -d /tmp/xmem-stress.XXXXXX)
mkdir -p "$build/stress"
figures=$(realpath "$build/stress")/stress-figures.tsv

sysfs=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
# Every 2 MiB count as found (per node, then system-wide), put back at exit.
declare -A saved
cleanup() {
  for file in /sys/devices/system/node/node*/hugepages/hugepages-2048kB/nr_hugepages "$sysfs"; do
    [[ -n ${saved[$file]:-} ]] && { echo "${saved[$file]}" >"$file"; } 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT
if [[ $EUID -eq 0 && -w $sysfs ]]; then
  for file in /sys/devices/system/node/node*/hugepages/hugepages-2048kB/nr_hugepages "$sysfs"; do
    [[ -e $file ]] && saved[$file]=$(<"$file")
  done
  saved_count=${saved[$sysfs]}
  echo $((saved_count + 256)) >"$sysfs"  # 512 MiB of 2 MiB pages for the preload to take
  pages="$(( $(<"$sysfs") - saved_count )) x 2 MiB pages reserved for the runs"
else
  pages="no huge pages reserved (not root): THP and base pages only"
fi

# The policies the runs cycle through: every switch of XMEM_PRELOAD_* that changes a path.
policies=(
  ""
  "XMEM_PRELOAD_POOL=off"
  "XMEM_PRELOAD_PAGES=thp"
  "XMEM_PRELOAD_PAGES=none XMEM_PRELOAD_THRESHOLD=1M"
  "XMEM_PRELOAD_NODE=interleave XMEM_PRELOAD_PREFAULT_ABOVE=4M"
  "XMEM_PRELOAD_LOCK=1 XMEM_PRELOAD_REPORT=exit XMEM_PRELOAD_REPORT_FILE=$work/report"
  "XMEM_PRELOAD_NODE=0 XMEM_PRELOAD_POOL=2M XMEM_PRELOAD_THRESHOLD=4M"
  "XMEM_PRELOAD_REPORT=signal XMEM_PRELOAD_REPORT_FILE=$work/report"
)

cc -O2 -pthread -o "$work/alloc_edges" tests/preload/stress/alloc_edges.c -Wno-alloc-size-larger-than
cc -O2 -pthread -o "$work/threads_signals" tests/preload/stress/threads_signals.c
cc -O2 -shared -fPIC -o "$work/fail_nth.so" tests/preload/stress/fail_nth.c
python3 - "$work/lines" <<'EOF'
import random, sys
random.seed(16)
with open(sys.argv[1], "w") as out:  # about 60 MiB: sort's buffers are far past the threshold
    for _ in range(1_500_000):
        out.write("%08x %s\n" % (random.getrandbits(32), "".join(random.choice("abcdefghij") for _ in range(30))))
EOF
make_sources=(src/os/types.cpp src/options/config.cpp src/options/environment.cpp src/options/preload_policy.cpp
  src/workload/profiles.cpp src/workload/planner.cpp src/machine/error.cpp src/machine/topology.cpp)
{
  printf 'objects :='
  for source in "${make_sources[@]}"; do printf ' %s.o' "$(basename "$source" .cpp)"; done
  printf '\nall: $(objects)\n'
  for source in "${make_sources[@]}"; do
    printf '%s.o: %s\n\tg++ -std=c++20 -O1 -I%s/include -I%s/src -c $< -o $@\n' "$(basename "$source" .cpp)" \
      "$source_dir/$source" "$source_dir" "$source_dir"
  done
} >"$work/Makefile"

# The command of a case, run in $work/run (empty at each start); what it leaves there is compared.
command_of() {
  case $1 in
    edges) echo "$work/alloc_edges" ;;
    threads) echo "$work/threads_signals" ;;
    python) echo "python3 $source_dir/tests/preload/stress/python_threads_processes.py" ;;
    sort) echo "sort --parallel=2 -S 128M -o sorted $work/lines" ;;
    make) echo "make -s -j2 -f $work/Makefile" ;;
    *) return 1 ;;
  esac
}

# Words of the environment a case runs with under the preload, before the policy's (which win).
environment_of() {
  # g++ asks malloc for 64 KiB to 2 MiB at most (its own collector maps the rest): served from 64K on.
  [[ $1 == make && $2 == *LD_PRELOAD* ]] && echo "XMEM_PRELOAD_THRESHOLD=64K"
  return 0
}

# Runs case $1 with the environment words $2 (LD_PRELOAD and the policy, or none): its exit code,
# output and files, in one text to compare.
outcome_of() {
  local name=$1 environment=$2 signal=${3:-}
  rm -rf "$work/run" && mkdir "$work/run"
  local status=0
  (
    cd "$work/run"
    # shellcheck disable=SC2086 # words on purpose
    exec env $(environment_of "$name" "$environment") $environment $(command_of "$name") >"$work/stdout" 2>"$work/stderr"
  ) &
  local pid=$!
  local sent=0 caught
  if [[ -n $signal ]]; then
    # The report signal (SIGUSR2, bit 11 of SigCgt) from outside, once the preload has its handler:
    # before that it would end the program.
    while kill -0 "$pid" 2>/dev/null; do
      caught=$(awk '/^SigCgt:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || true)
      if [[ -n $caught ]] && (((16#$caught >> 11) & 1)); then
        kill -USR2 "$pid" 2>/dev/null && sent=$((sent + 1))
      fi
      sleep 0.02
    done
  fi
  echo "$sent" >"$work/signals"
  wait "$pid" || status=$?
  echo "exit $status"
  cat "$work/stdout"
  (cd "$work/run" && find . -type f | sort | xargs -r sha256sum)
}

# Every fault, injected into a real process: fail_nth.so fails the n-th memory system call the
# preload makes, under three policies, in alloc_edges (single-threaded: the same call each time),
# then in threads_signals: every n when $1 is 0 (200 points spread over the calls in
# threads_signals), else $1 points spread over the calls (a quarter of that in threads_signals). Each run must print what the run without the preload printed, and exit 0.
faults_of() {
  local program=$1 environment=$2 points=${3:-0}
  local reference calls step got
  reference=$("$work/$program" 2>/dev/null) || true
  rm -f "$work/count"
  env $environment LD_PRELOAD="$work/fail_nth.so:$preload" XMEM_FAIL_COUNT_FILE="$work/count" "$work/$program" >/dev/null 2>&1 || true
  calls=$(cut -d' ' -f1 "$work/count" 2>/dev/null || echo 0)
  if ! ((calls > 0)); then
    failures=$((failures + 1))
    echo "preload stress: FAILED: $program under '${environment:-the defaults}' made no call fail_nth.so saw (or did not end)" >&2
    return 0
  fi
  step=1
  ((points > 0 && calls > points)) && step=$((calls / points))
  for ((at = 1; at <= calls; at += step)); do
    injected=$((injected + 1))
    status=0
    rm -f "$work/count"
    got=$(env $environment LD_PRELOAD="$work/fail_nth.so:$preload" XMEM_FAIL_AT=$at XMEM_FAIL_COUNT_FILE="$work/count" \
      "$work/$program" 2>"$work/stderr") || status=$?
    if ((status != 0)) || [[ $got != "$reference" ]]; then
      failures=$((failures + 1))
      echo "preload stress: FAILED: $program with system call $at of $calls failing under '${environment:-the defaults}':" \
        "exit status $status$( ((status > 128)) && echo " (signal $(kill -l $((status - 128))))")," \
        "$(cut -d' ' -f2 "$work/count" 2>/dev/null || echo '?') call(s) failed" >&2
      diff <(echo "$reference") <(echo "$got") | head -10 >&2 || true
      head -c 1000 "$work/stderr" >&2
      # Whether it repeats: the same point three times more.
      for again in 1 2 3; do
        env $environment LD_PRELOAD="$work/fail_nth.so:$preload" XMEM_FAIL_AT=$at "$work/$program" >/dev/null 2>&1 &&
          echo "  again $again: worked" >&2 || echo "  again $again: exit status $?" >&2
      done
    fi
  done
}

run_faults() {
  local points=$1
  failures=0 injected=0
  local started=$SECONDS
  for environment in "" "XMEM_PRELOAD_POOL=off XMEM_PRELOAD_PREFAULT_ABOVE=4M XMEM_PRELOAD_LOCK=1" \
      "XMEM_PRELOAD_NODE=0 XMEM_PRELOAD_PAGES=2m,thp XMEM_PRELOAD_THRESHOLD=1M"; do
    faults_of alloc_edges "$environment" "$points"
  done
  # A run of it takes half a second or more, not milliseconds, and it makes about 2000 calls with
  # huge pages reserved: a quarter of the points, or 200 for "every call".
  faults_of threads_signals "" $((points == 0 ? 200 : (points + 3) / 4))
  echo "preload stress: faults: $injected faults injected into the preload's system calls, $failures changed what the program did" \
    "($((SECONDS - started)) s)"
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" faults "$injected" "$failures" 0 "$pages" >>"$figures"
  total_runs=$((total_runs + injected))
  total_failures=$((total_failures + failures))
}

total_runs=0 total_failures=0
for entry in "${cases[@]}"; do
  name=${entry%%=*}
  case_runs=$runs
  [[ $entry == *=* ]] && case_runs=${entry#*=}
  if [[ $name == faults ]]; then
    run_faults "$case_runs"
    continue
  fi
  command_of "$name" >/dev/null || { echo "preload stress: unknown case '$name': expected edges, threads, python, sort, make or faults" >&2; exit 2; }
  started=$SECONDS
  reference=$(outcome_of "$name" "")
  failures=0 reported=0
  for ((run = 0; run < case_runs; ++run)); do
    policy=${policies[run % ${#policies[@]}]}
    signal=""
    [[ $policy == *REPORT=signal* ]] && signal=USR2
    rm -f "$work/report"
    got=$(outcome_of "$name" "LD_PRELOAD=$preload $policy" "$signal")
    # The reports prove the preload was in the program: at exit each process says what it served
    # (the program's large requests: some); on the signal, the process signalled says it was.
    served=$( (grep -ho '[0-9]* large allocation(s) served' "$work/report" 2>/dev/null || true) | awk '{ s += $1 } END { print s + 0 }')
    reported=$((reported + served))
    if [[ $policy == *REPORT=exit* ]] && ((served == 0)); then
      failures=$((failures + 1))
      echo "preload stress: FAILED: $name: the preload served nothing under '$policy'" >&2
    elif [[ $policy == *REPORT=signal* ]] && (($(<"$work/signals") > 0)) && ! grep -q "large allocation(s) served" "$work/report" 2>/dev/null; then
      failures=$((failures + 1))
      echo "preload stress: FAILED: $name: $(<"$work/signals") report signals sent, no report written" >&2
    fi
    if [[ $got != "$reference" ]]; then
      failures=$((failures + 1))
      echo "preload stress: FAILED: $name, run $((run + 1)) with '${policy:-the defaults}' differs from the run without the preload:" >&2
      diff <(echo "$reference") <(echo "$got") | head -20 >&2 || true
      head -c 2000 "$work/stderr" >&2 || true
    fi
  done
  echo "preload stress: $name: $case_runs runs under the preload, $failures differed from the run without it;" \
    "$reported large allocations served in the runs with a report ($((SECONDS - started)) s)"
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$name" "$case_runs" "$failures" "$reported" "$pages" >>"$figures"
  total_runs=$((total_runs + case_runs))
  total_failures=$((total_failures + failures))
done
echo "preload stress: $total_runs runs, $total_failures failures; $pages"
((total_failures == 0))
