#!/usr/bin/env bash
# Installs a systemd unit that reserves, at every boot, the huge pages an algorithm profile needs
# on this machine (node by node, 1 GiB pages first), so a miner started afterwards finds them.
#
#   scripts/reserve-at-boot.sh PROFILE THREADS [--dry-run]     e.g. scripts/reserve-at-boot.sh rx/0 16
#
# --dry-run prints the unit instead of installing it. Remove with:
#   systemctl disable --now xmem-hugepages.service && rm /etc/systemd/system/xmem-hugepages.service
set -euo pipefail

if [ $# -lt 2 ]; then
  echo "usage: $0 PROFILE THREADS [--dry-run]" >&2
  exit 2
fi
profile=$1
threads=$2
dry_run=${3:-}
xmem=$(command -v xmem || true)
[ -n "$xmem" ] || xmem=$(cd "$(dirname "$0")/.." && pwd)/build/release/tools/xmem/xmem
if [ ! -x "$xmem" ]; then
  echo "$0: no xmem binary found (install it, or build it with the README's first command)" >&2
  exit 1
fi
# Fail now, not at boot, on a profile or thread count xmem does not accept.
"$xmem" plan --profile "$profile" --threads "$threads" >/dev/null

unit="[Unit]
Description=Reserve huge pages for $profile with $threads threads (xmem)
DefaultDependencies=no
After=local-fs.target
Before=multi-user.target

[Service]
Type=oneshot
RemainAfterExit=yes
Environment=XMEM_STATE_DIR=/run/xmem
ExecStart=$xmem reserve --profile $profile --threads $threads
ExecStop=$xmem release

[Install]
WantedBy=multi-user.target"

if [ "$dry_run" = "--dry-run" ]; then
  echo "Would write /etc/systemd/system/xmem-hugepages.service:"
  echo "$unit"
  exit 0
fi
echo "$unit" > /etc/systemd/system/xmem-hugepages.service
systemctl daemon-reload
systemctl enable xmem-hugepages.service
echo "Installed xmem-hugepages.service: it reserves at boot; start it now with: systemctl start xmem-hugepages"
