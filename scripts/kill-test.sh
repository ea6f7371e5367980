#!/usr/bin/env bash
# Killed at any moment: `xmem reserve`, `xmem bench` (as root it makes huge pages free and puts the
# counts back), `xmem alloc --hold` and a program under `xmem run`, each SIGKILLed at a random
# point, ROUNDS times; then three xmem processes reserving and releasing at once. After every kill:
# the next xmem start works, it says a dead process left pages reserved exactly when one did, no
# huge page stays held by the dead process, and `xmem release` puts every count back.
#
#   scripts/kill-test.sh [ROUNDS] [SCENARIO[=ROUNDS]...]   scenarios: reserve bench alloc run concurrent
#
# Needs root and the kernel's 2 MiB pages (it changes their count, and restores every count it
# found at exit, whatever happens). XMEM_BUILD names the build tree (default build/release).
# Figures are printed and appended to $XMEM_BUILD/kill/kill-figures.tsv; exit 1 on any loss.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-20}
shift || true
scenarios=("$@")
((${#scenarios[@]})) || scenarios=(reserve bench alloc run concurrent)
build=${XMEM_BUILD:-build/release}
xmem=$build/tools/xmem/xmem
sysfs=/sys/kernel/mm/hugepages/hugepages-2048kB
if [[ $EUID -ne 0 || ! -w $sysfs/nr_hugepages ]]; then
  echo "kill test: SKIPPED: needs root and $sysfs (it reserves huge pages)"
  exit 0
fi
[[ -x $xmem ]] || { echo "kill test: $xmem is not built (cmake --build --preset release)" >&2; exit 2; }

seed=${XMEM_KILL_SEED:-$((RANDOM * 32768 + RANDOM))}
RANDOM=$seed
work=$(mktemp -d /tmp/xmem-kill.XXXXXX)
export XMEM_STATE_DIR=$work/state  # the records of this test only, not the machine's /run/xmem
mkdir -p "$build/kill"
figures=$build/kill/kill-figures.tsv

# Every count as found, put back at exit (per node first, then the system-wide ones).
declare -A saved
count_files=(/sys/devices/system/node/node*/hugepages/hugepages-*/nr_hugepages /sys/kernel/mm/hugepages/hugepages-*/nr_hugepages)
for file in "${count_files[@]}"; do [[ -e $file ]] && saved[$file]=$(<"$file"); done
restore() {
  pkill -KILL -f "$work/" 2>/dev/null || true
  for file in "${count_files[@]}"; do [[ -n ${saved[$file]:-} ]] && { echo "${saved[$file]}" >"$file"; } 2>/dev/null || true; done
  rm -rf "$work"
}
trap restore EXIT

meminfo() { awk -v key="$1:" '$1 == key { print $2 }' /proc/meminfo; }
count() { cat "$sysfs/nr_hugepages"; }
original=$(count)
failures=0
fail() {
  echo "kill test: FAILED: $*" >&2
  failures=$((failures + 1))
}

# The records with an owner that is dead and a count not back at its original: what the next
# xmem start must speak of.
abandoned() {
  local path original owner
  [[ -f $XMEM_STATE_DIR/reservations ]] || return 0
  while read -r path original owner; do
    [[ -n ${owner:-} ]] || continue
    # Alive as xmem reads it: signal 0 reaches it, and it is no zombie ("PID (COMM) STATE ...").
    if kill -0 "$owner" 2>/dev/null && ! sed -E 's/^.*\) ([A-Z]).*$/\1/' "/proc/$owner/stat" 2>/dev/null | grep -q '[ZX]'; then
      continue
    fi
    if [[ $(<"$path") != "$original" ]]; then echo "$path"; fi
  done <"$XMEM_STATE_DIR/reservations"
}

sleep_ms() { sleep "$(awk -v ms="$1" 'BEGIN { print ms / 1000 }')"; }

# Runs "$@" and SIGKILLs it after a random time below $1 milliseconds, timed in Python (forking
# `sleep` costs more than a whole `xmem reserve`). Sets `killed` to 1 when it was running then.
cat >"$work/kill_within.py" <<'EOF'
import random, signal, subprocess, sys, time
most_ms, seed, command = float(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
random.seed(seed)
delay = random.uniform(0, most_ms / 1000)
process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
time.sleep(delay)
alive = process.poll() is None
process.send_signal(signal.SIGKILL)
process.wait()
print(1 if alive else 0)
EOF
kill_within() {
  local most_ms=$1
  shift
  killed=$(python3 "$work/kill_within.py" "$most_ms" "$RANDOM" "$@")
}

# After each kill: pages held by no one, the notice exactly when a dead process left a count
# changed, and the release putting every count back. Adds to the scenario's figures.
check_after_kill() {
  local name=$1 baseline=$2
  local expected notice held
  expected=$(abandoned)
  if ! "$xmem" info >"$work/info" 2>&1; then
    fail "$name: xmem info failed after the kill"
  else
    survived=$((survived + 1))
  fi
  notice=$(grep -c "died before putting back the huge pages" "$work/info" || true)
  if [[ -n $expected ]]; then
    left=$((left + 1))
    ((notice > 0)) && noticed=$((noticed + 1)) || fail "$name: a dead process left $expected changed and xmem said nothing"
  elif ((notice > 0)); then
    fail "$name: xmem spoke of a dead process's pages, and none were left: $(grep died "$work/info")"
  fi
  # Pages the dead process held come back to the pool when it is gone (the kernel's part), and
  # its helpers (the bench's children) die with it: give them up to two seconds.
  for ((wait = 0; wait < 40; ++wait)); do
    (($(meminfo HugePages_Total) == $(meminfo HugePages_Free))) && ! pgrep -f xmem-randomx >/dev/null && break
    sleep_ms 50
  done
  held=$(( $(meminfo HugePages_Total) - $(meminfo HugePages_Free) ))
  if ((held != 0 || $(meminfo HugePages_Rsvd) != 0)); then
    fail "$name: $held huge pages still in use, $(meminfo HugePages_Rsvd) reserved, after the kill"
  fi
  "$xmem" release >/dev/null 2>&1 || true
  if (($(count) != baseline)); then
    leaked=$((leaked + $(count) - baseline))
    fail "$name: after xmem release the count is $(count), not $baseline"
    echo "$baseline" >"$sysfs/nr_hugepages"
  fi
  [[ -z $(abandoned) ]] || fail "$name: records of a dead process left after xmem release"
}

report() {
  local name=$1
  local line="kill test: $name: $kills kills in $rounds rounds, $survived survived, $left left pages reserved ($noticed said so at the next start), $leaked pages leaked"
  echo "$line"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$seed" "$name" "$rounds" "$kills" "$survived" "$left" \
    "$noticed" "$leaked" >>"$figures"
}

scenario() {
  local name=$1 most_ms=$2 baseline=$3
  shift 3
  kills=0 survived=0 left=0 noticed=0 leaked=0
  for ((round = 0; round < rounds; ++round)); do
    kill_within "$most_ms" "$@"
    kills=$((kills + killed))
    check_after_kill "$name" "$baseline"
  done
  report "$name"
}

# A program that allocates through malloc: blocks of 4 to 64 MiB, touched, freed, for ever.
cat >"$work/allocate.py" <<'EOF'
import random
blocks = []
while True:
    size = random.choice([4, 8, 16, 64]) << 20
    block = bytearray(size)
    block[::4096] = b"x" * (size // 4096)
    blocks.append(block)
    if len(blocks) > 4:
        blocks.pop(random.randrange(len(blocks)))
EOF

echo "kill test: seed $seed (XMEM_KILL_SEED=$seed repeats it), $rounds rounds, 2 MiB count $original"
all_rounds=$rounds
for name in "${scenarios[@]}"; do
  rounds=$all_rounds
  if [[ $name == *=* ]]; then
    rounds=${name#*=}
    name=${name%%=*}
    [[ $rounds =~ ^[0-9]+$ ]] || { echo "kill test: '$rounds' rounds for $name: expected a number" >&2; exit 2; }
  fi
  case $name in
    reserve)
      # 2048 pages (4 GiB; 5-10 ms here), or an eighth of the memory available, whichever is less.
      pages=$(( $(meminfo MemAvailable) / 2048 / 8 ))
      ((pages > 2048)) && pages=2048
      scenario reserve 12 "$original" "$xmem" reserve --count "$pages"
      ;;
    bench) scenario bench 30000 "$original" "$xmem" bench --quick ;;  # it changes counts from ~4 s to ~26 s
    alloc | run)
      # Pages to be had: a reservation that lasts for the scenario (not the killed process's), as
      # many as the kernel gives.
      echo $((original + 320)) >"$sysfs/nr_hugepages"
      had=$(count)
      if [[ $name == alloc ]]; then
        scenario alloc 1500 "$had" "$xmem" alloc --profile rx/light --threads 2 --hold 5
      else
        scenario run 1500 "$had" "$xmem" run --pool off -- python3 "$work/allocate.py"
      fi
      echo "$original" >"$sysfs/nr_hugepages"
      ;;
    concurrent)
      # Three processes reserving and releasing at once, one of them killed at random each round.
      kills=0 survived=0 left=0 noticed=0 leaked=0
      for ((round = 0; round < rounds; ++round)); do
        pids=()
        for worker in 1 2 3; do
          (for ((step = 0; step < 20; ++step)); do "$xmem" reserve --count 4 >/dev/null 2>&1; "$xmem" release >/dev/null 2>&1; done) 2>/dev/null &
          pids+=($!)
        done
        sleep_ms $((RANDOM % 400))  # the three take about 600 ms together here
        victim=${pids[RANDOM % 3]}
        # Stopped first, so that it cannot start its next xmem between the two kills.
        kill -STOP "$victim" 2>/dev/null || true
        pkill -KILL -P "$victim" 2>/dev/null && kills=$((kills + 1))
        kill -KILL "$victim" 2>/dev/null || true
        wait "${pids[@]}" 2>/dev/null || true
        check_after_kill concurrent "$original"
      done
      report "three at once"
      ;;
    *) echo "kill test: unknown scenario '$name': expected reserve, bench, alloc, run or concurrent" >&2; exit 2 ;;
  esac
done
((failures == 0)) || { echo "kill test: $failures failure(s)" >&2; exit 1; }
