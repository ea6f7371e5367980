#!/bin/sh
# Run inside a guest (tests/guest/run_guest.sh 2node|4node DIR tests/fuzz/guest_files.sh -- guest_files.sh):
# prints the kernel files the fuzz seeds take from a multi-node machine, each after a "=== PATH"
# line, for make_corpus.py --guest NAME=LOG.
for path in /sys/devices/system/node/online /sys/devices/system/node/possible /sys/devices/system/node/has_cpu \
  /sys/devices/system/node/node*/cpulist /sys/devices/system/node/node*/distance /sys/devices/system/node/node*/meminfo \
  /sys/devices/system/node/node*/hugepages/hugepages-*/nr_hugepages /proc/buddyinfo /proc/self/numa_maps /proc/meminfo; do
  [ -r "$path" ] || continue
  echo "=== $path"
  cat "$path"
done
echo "=== end"
