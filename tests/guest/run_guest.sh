#!/usr/bin/env bash
# Boots a small Linux guest with several NUMA nodes under QEMU, runs one command in it and exits
# with that command's exit code, so CTest sees guest results as its own.
#
#   run_guest.sh TOPOLOGY WORK_DIR FILE... -- COMMAND [ARG...]
#
# TOPOLOGY is 2node or 4node (see below). Each FILE (programs, scripts) is copied into the
# guest's /xmem with the shared libraries it needs; COMMAND runs there as root with /xmem first
# on PATH. The guest is built only from this machine's files: Debian's kernel in /boot and
# busybox-static; no network, no disk image. Exit 77 (a CTest skip) when one of them is missing.
#
# Environment: XMEM_GUEST_KERNEL (default: the newest /boot/vmlinuz-*), XMEM_GUEST_TIMEOUT
# (seconds, default 600), XMEM_GUEST_KEEP=1 keeps WORK_DIR/root for a look, XMEM_GUEST_APPEND adds
# to the kernel command line (numa_balancing=disable, say, to tell its effects apart).
set -euo pipefail

skip() { echo "SKIPPED: $*"; exit 77; }
fail() { echo "FAILED: $*" >&2; exit 1; }

(($# >= 4)) || fail "usage: run_guest.sh 2node|4node WORK_DIR FILE... -- COMMAND [ARG...]"
topology=$1 work=$2
shift 2
files=()
while (($#)) && [[ $1 != -- ]]; do files+=("$1"); shift; done
[[ ${1:-} == -- ]] || fail "no '--' before the guest command"
shift
(($#)) || fail "no guest command after '--'"

# Each node has its own CPU and memory. Four nodes get distances that do not follow the node
# numbers: nearest to 0 is 2, to 1 is 3, to 2 is 1 and to 3 is 1 (never node 0, never the next
# number), so a fallback that picks "node 0" or "the next node" shows up as wrong.
case $topology in
  2node)
    node_memory_mib=(4096 4096)
    distances=("0 1 20")
    # 1 GiB pages need room: two per node (a dataset each), plus 2 MiB pages for the rest.
    cmdline_pages="hugepagesz=1G hugepages=0:2,1:2 hugepagesz=2M hugepages=0:160,1:160"
    ;;
  4node)
    node_memory_mib=(1024 1024 1024 1024)
    distances=("0 1 40" "0 2 20" "0 3 35" "1 2 17" "1 3 15" "2 3 30")
    cmdline_pages="hugepagesz=2M hugepages=0:32,1:32,2:32,3:32"
    ;;
  *) fail "topology '$topology': expected 2node or 4node" ;;
esac

qemu=$(command -v qemu-system-x86_64 || true)
[[ -n $qemu ]] || skip "qemu-system-x86_64 is not installed (Debian package qemu-system-x86)"
busybox=/bin/busybox
[[ -x $busybox ]] && ! ldd "$busybox" >/dev/null 2>&1 || skip "no static busybox at $busybox (Debian package busybox-static)"
command -v cpio >/dev/null || skip "cpio is not installed (Debian package cpio)"
kernel=${XMEM_GUEST_KERNEL:-$(ls -1 /boot/vmlinuz-* 2>/dev/null | sort -V | tail -n 1)}
[[ -n $kernel && -r $kernel ]] || skip "no readable guest kernel in /boot (Debian package linux-image-amd64)"

# The guest's root file system: busybox, /init, the files and their shared libraries.
mkdir -p "$work"
root=$work/root
rm -rf "$root"
mkdir -p "$root"/{bin,dev,proc,sys,run,tmp,xmem}
cp "$busybox" "$root/bin/busybox"
copy_with_libraries() {
  local file=$1
  cp -L "$file" "$root/xmem/"
  # Scripts have no libraries; programs get every library ldd resolves, at the same path.
  { ldd "$file" 2>/dev/null || true; } | { grep -oE '/[^ ]+' || true; } | while read -r library; do
    mkdir -p "$root$(dirname "$library")"
    cp -L "$library" "$root$library"
  done
}
for file in "${files[@]}"; do
  [[ -r $file ]] || fail "'$file' does not exist"
  copy_with_libraries "$file"
done
# The tests learn how many nodes to expect, so a guest that came up with fewer fails instead of skipping.
{ echo "export XMEM_GUEST_NODES=${#node_memory_mib[@]}"; printf '%q ' "$@"; echo; } > "$root/xmem/command"

# /init: mount what the tests read, run the command with its output on the second serial port,
# then report the exit code there and power off.
cat > "$root/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
stty -F /dev/ttyS1 raw -echo 2>/dev/null
echo "XMEM-GUEST-START" > /dev/ttyS1
cd /xmem
(export PATH=/xmem:/bin HOME=/tmp; sh /xmem/command) > /dev/ttyS1 2>&1
echo "XMEM-GUEST-EXIT $?" > /dev/ttyS1
sync
poweroff -f
EOF
chmod +x "$root/init"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) > "$work/initrd.gz"
[[ ${XMEM_GUEST_KEEP:-0} == 1 ]] || rm -rf "$root"

# One memory backend, CPU and node per entry; the guest's total memory is their sum.
# Only 1 GiB of RAM below 4 GiB keeps the PCI hole and the initramfs out of node 0's
# 1 GiB-aligned ranges, so the boot-time 1 GiB pages find room there.
args=(-machine pc,max-ram-below-4g=1G -accel tcg -cpu max -smp "${#node_memory_mib[@]}" -nographic -no-reboot -nic none)
total=0
for node in "${!node_memory_mib[@]}"; do
  size=${node_memory_mib[$node]}
  total=$((total + size))
  args+=(-object "memory-backend-ram,id=mem$node,size=${size}M"
         -numa "node,nodeid=$node,cpus=$node,memdev=mem$node")
done
for entry in "${distances[@]}"; do
  read -r src dst val <<<"$entry"
  args+=(-numa "dist,src=$src,dst=$dst,val=$val")
done
args+=(-m "${total}M" -kernel "$kernel" -initrd "$work/initrd.gz"
       -serial "file:$work/console.log" -serial "file:$work/output.log"
       -append "console=ttyS0 panic=-1 loglevel=4 nokaslr init_on_alloc=0 transparent_hugepage=madvise $cmdline_pages ${XMEM_GUEST_APPEND:-}")

# nokaslr: a kernel placed at random can split one of node 0's 1 GiB ranges, and the boot-time
# 1 GiB page then lands on the other node. init_on_alloc=0: Debian's kernel zeroes every page it
# hands out, and a test that sets a pool's count zeroes hundreds of MiB at ~100 MB/s under TCG
# (6 s a test) before the fault zeroes them again; the pages read zero either way.
# TCG, not KVM: nested virtualisation on this machine kind hangs the guest kernel at boot.
echo "Booting a $topology guest: $kernel, ${total} MiB, $cmdline_pages"
started=$SECONDS
set +e
timeout --foreground "${XMEM_GUEST_TIMEOUT:-600}" "$qemu" "${args[@]}" </dev/null >"$work/qemu.log" 2>&1
qemu_status=$?
set -e

tr -d '\r' < "$work/output.log" 2>/dev/null | sed '/^XMEM-GUEST-/d' || true
echo "Guest ran for $((SECONDS - started)) s"
exit_line=$(tr -d '\r' < "$work/output.log" 2>/dev/null | grep -E '^XMEM-GUEST-EXIT [0-9]+$' | tail -n 1 || true)
if [[ -z $exit_line ]]; then
  echo "--- QEMU (exit $qemu_status):"; cat "$work/qemu.log"
  echo "--- guest console:"; tail -n 60 "$work/console.log" 2>/dev/null || true
  if ! grep -q 'XMEM-GUEST-START' "$work/output.log" 2>/dev/null && grep -qiE 'could not|failed to|not supported' "$work/qemu.log"; then
    skip "QEMU could not start the guest here (see its messages above)"
  fi
  fail "the guest did not report an exit code (QEMU exit $qemu_status; 124 is the timeout)"
fi
exit "${exit_line##* }"
