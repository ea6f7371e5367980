#!/usr/bin/env python3
"""Writes the seed corpora of tests/fuzz/corpus/<target>/ (committed; rerun to refresh them).

Seeds are real text where there is some: the kernel's files as tests/unit/data/proc captured them
and as this machine has them now, the node lists and distances of the 2- and 4-node QEMU guests
(tests/guest), the CLI tests' config files. Structured targets (FuzzedDataProvider) get their
bytes laid out as the target reads them: strings from the front, each ended by a backslash and
another character; small integers from the back, one byte each.

The guests' files come from their logs:
  tests/guest/run_guest.sh 4node /tmp/g4 tests/fuzz/guest_files.sh -- guest_files.sh >/tmp/guest4.log
  (and 2node), then: tests/fuzz/make_corpus.py --guest guest2=/tmp/guest2.log --guest guest4=/tmp/guest4.log
"""
import os
import pathlib
import struct
import sys

import argparse

root = pathlib.Path(__file__).resolve().parents[2]
arguments = argparse.ArgumentParser(description=__doc__.splitlines()[0])
arguments.add_argument("--guest", action="append", default=[], metavar="NAME=LOG",
                       help="a guest's output of tests/fuzz/guest_files.sh, its files become seeds named NAME-...")
options = arguments.parse_args()
out = root / "tests/fuzz/corpus"
proc_data = root / "tests/unit/data/proc"


def fdp_string(text):
    """A string as FuzzedDataProvider::ConsumeRandomLengthString reads it, ended."""
    return text.replace(b"\\", b"\\\\") + b"\\ "


def live(path, limit=64 * 1024):
    try:
        return pathlib.Path(path).read_bytes()[:limit]
    except OSError:
        return None


def write(target, name, data):
    if data is None:
        return
    directory = out / target
    directory.mkdir(parents=True, exist_ok=True)
    (directory / name).write_bytes(data)


# --- config: xmem's own keys and XMRig's config.json shapes.
for config in sorted((root / "tests/cli/configs").glob("*.json")):
    write("config", config.name, config.read_bytes())
write("config", "xmrig-threads.json",
      b'{"cpu": {"huge-pages": true, "huge-pages-jit": false, "memory-pool": 4, "rx": [0, 1, [2, 3], -1],'
      b' "rx/wow": "rx", "cn": {"intensity": 2, "threads": 2, "affinity": -1}, "*": false},'
      b' "randomx": {"mode": "light", "1gb-pages": true, "numa": true, "scratchpad_prefetch_mode": 2}}')
write("config", "flat-all.json",
      b'{"huge-pages": 2048, "huge-pages-jit": true, "1gb-pages": false, "memory-pool": true, "numa": [0, 1],'
      b' "thp": true, "lock": false, "prefault": 2, "profile": "rx/0", "threads": 8, "randomx-mode": "fast",'
      b' "scratchpad-prefetch-mode": 3}')

# --- option_text: a value, then the key's index (the last byte).
values = [b"2M", b"1g", b"64KiB", b"4096", b"1.5G", b"true", b"false", b"off", b"0", b"1", b"0,1", b"0-3", b"8",
          b"4096", b"rx/0", b"light", b"fast", b"auto", b"2048", b"99999999999999999999", b" 2M", b"-1"]
for index, value in enumerate(values):
    write("option_text", f"value-{index:02d}", value + bytes([index % 13]))

# --- preload_policy: the values of the variables set, then one byte per variable (last byte first).
variables = ["XMEM_PRELOAD_THRESHOLD", "XMEM_PRELOAD_PAGES", "XMEM_PRELOAD_1GB_ABOVE", "XMEM_PRELOAD_NODE",
             "XMEM_PRELOAD_LOCK", "XMEM_PRELOAD_PREFAULT_ABOVE", "XMEM_PRELOAD_POOL", "XMEM_PRELOAD_REPORT",
             "XMEM_PRELOAD_REPORT_SIGNAL", "XMEM_PRELOAD_REPORT_FILE"]
policies = {
    "defaults": {},
    "all": {0: b"2M", 1: b"1g,2m,thp", 2: b"1G", 3: b"local", 4: b"1", 5: b"64M", 6: b"8M", 7: b"exit,signal",
            8: b"USR2", 9: b"/tmp/report"},
    "interleave": {3: b"interleave", 1: b"none", 6: b"off", 5: b"never", 8: b"12"},
    "bad": {0: b"2X", 1: b"huge", 3: b"-1", 4: b"yes", 7: b"sometimes", 8: b"65"},
}
for name, chosen in policies.items():
    front = b"".join(fdp_string(chosen[i]) for i in range(len(variables)) if i in chosen)
    flags = bytes(1 if i in chosen else 0 for i in range(len(variables)))
    write("preload_policy", name, front + flags[::-1])

# --- smaps: numa_maps, ended, then smaps, then the base page size's index (last byte).
captured_numa = (proc_data / "hugetlb-thp-numa_maps.txt").read_bytes()
captured_smaps = (proc_data / "hugetlb-thp-smaps.txt").read_bytes()
write("smaps", "hugetlb-thp", fdp_string(captured_numa[:4000]) + captured_smaps + b"\x00")
self_numa, self_smaps = live("/proc/self/numa_maps"), live("/proc/self/smaps")
if self_numa is not None and self_smaps is not None:
    write("smaps", "live-python", fdp_string(self_numa[:4000]) + self_smaps + b"\x00")
write("smaps", "arm64-64k", fdp_string(captured_numa[:4000]) + captured_smaps[:8000] + b"\x04")

# --- kernel_counters: a file, then a capability number (last byte; 21 is CAP_SYS_ADMIN).
for name in ["hugetlb-thp-status.txt", "vmstat.txt", "buddyinfo.txt"]:
    write("kernel_counters", name, (proc_data / name).read_bytes() + bytes([21]))
for name, path in [("meminfo", "/proc/meminfo"), ("node0-meminfo", "/sys/devices/system/node/node0/meminfo"),
                   ("live-status", "/proc/self/status"), ("live-buddyinfo", "/proc/buddyinfo")]:
    data = live(path)
    if data is not None:
        write("kernel_counters", name, data + bytes([21]))
cpuinfo = live("/proc/cpuinfo")
if cpuinfo is not None:
    write("kernel_counters", "cpuinfo-first-cpu", cpuinfo.split(b"\n\n")[0] + b"\n" + bytes([0]))

# --- sysfs_values: one-value files, this machine's and the guests'.
for name, text in [("online-one", b"0\n"), ("cpulist-two", b"0-1\n"), ("cpulist-mixed", b"0-3,8,10-11\n"),
                   ("nr-hugepages", b"0\n"),
                   ("free-hugepages", b"512\n"), ("thp-madvise", b"always [madvise] never\n"),
                   ("thp-defrag", b"always defer defer+madvise [madvise] never\n"), ("memory-only-node", b"\n")]:
    write("sysfs_values", name, text)
for name, path in [("live-online", "/sys/devices/system/node/online"),
                   ("live-distance", "/sys/devices/system/node/node0/distance"),
                   ("live-thp", "/sys/kernel/mm/transparent_hugepage/enabled")]:
    write("sysfs_values", name, live(path))


# The guests' files (2 and 4 nodes, asymmetric distances), as guest_files.sh printed them.
for guest in options.guest:
    name, _, log = guest.partition("=")
    files, current = {}, None
    for line in pathlib.Path(log).read_bytes().splitlines(keepends=True):
        text = line.strip().replace(b"\r", b"")
        if text.startswith(b"=== "):
            current = text[4:].decode()
            files[current] = b""
        elif current is not None and current != "end":
            files[current] += line.replace(b"\r\n", b"\n")
    for path, data in files.items():
        if path == "end":
            continue
        label = name + "-" + path.strip("/").replace("/sys/devices/system/node/", "").replace("/", "-")
        label = label.replace("sys-devices-system-node-", "")
        if path.endswith(("meminfo", "buddyinfo")):
            write("kernel_counters", label, data + bytes([21]))
        elif path.endswith("numa_maps"):
            write("smaps", label, fdp_string(data[:4000]) + captured_smaps[:4000] + b"\x00")
        else:
            write("sysfs_values", label, data)

# --- windows_records: GetLogicalProcessorInformationEx records, then per-group CPU counts and the
# group count (last byte: 1 + value % 4).
def numa_record(relationship, node, masks):
    body = struct.pack("<I18sH", node, b"\0" * 18, len(masks))
    for group, mask in masks:
        body += struct.pack("<QH6s", mask, group, b"\0" * 6)
    return struct.pack("<II", relationship, 8 + len(body)) + body


def cache_record(level, size, kind):
    body = struct.pack("<BBHII", level, 8, 64, size, kind) + b"\0" * 20
    return struct.pack("<II", 2, 8 + len(body)) + body


write("windows_records", "one-node", numa_record(1, 0, [(0, 0xFF)]) + bytes([7, 0]))
write("windows_records", "two-groups",
      numa_record(6, 0, [(0, 0xFFFF), (1, 0xF)]) + numa_record(6, 1, [(1, 0xF0)]) + bytes([7, 15, 1]))
write("windows_records", "memory-only-node", numa_record(1, 0, [(0, 0x3)]) + numa_record(1, 1, [(0, 0)]) + bytes([1, 0]))
write("windows_records", "caches", cache_record(1, 32768, 2) + cache_record(3, 32 << 20, 0) + bytes([0]))

# --- command_line: words, each ended.
command_lines = [
    ["info"], ["info", "--json"], ["plan", "--profile", "rx/0", "--threads", "8"],
    ["plan", "--json", "--no-1gb-pages", "--numa", "0,1", "--memory-pool", "4"],
    ["--config", "tests/cli/configs/xmrig.json", "plan"], ["plan", "--profile", "rx/wow", "--randomx-mode", "light"],
    ["reserve", "--profile", "rx/0", "--dry-run"], ["reserve", "--size", "2M", "--count", "512", "--node", "0"],
    ["release", "--dry-run", "--json"], ["alloc", "--profile", "cn/0", "--hold", "1", "--lock"],
    ["run", "--threshold", "2M", "--pages", "1g,2m", "--", "true"], ["bench", "--buffer", "512M", "--json"],
    ["stats", "--pid", "1", "--min-mapping", "4M"], ["serve", "--port", "0", "--listen", "127.0.0.1"],
    ["--version"], ["plan", "--help"],
]
for index, words in enumerate(command_lines):
    write("command_line", f"line-{index:02d}", b"".join(fdp_string(word.encode()) for word in words))


# --- http_request: what a browser, Prometheus, curl and a hostile client send.
def request(method, path, headers=(), body=b""):
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:9100\r\n".encode()
    for header in headers:
        head += header.encode() + b"\r\n"
    if body:
        head += f"Content-Length: {len(body)}\r\n".encode()
    return head + b"\r\n" + body


for index, data in enumerate([
    request("GET", "/"), request("GET", "/api/v1"), request("GET", "/api/v1/snapshot"), request("GET", "/metrics"),
    request("GET", "/api/v1/history"), request("GET", "/api/v1/bandwidth"), request("HEAD", "/metrics"),
    request("OPTIONS", "/api/v1/snapshot", ["Origin: http://evil.example", "Access-Control-Request-Method: POST"]),
    request("POST", "/api/v1/actions/trim", ["Authorization: Bearer wrong", "Content-Type: application/json"], b"{}"),
    request("POST", "/api/v1/actions/reserve", ["Authorization: Bearer wrong", "Content-Type: application/json"],
            b'{"size": "2M", "count": 4, "node": 0}'),
    request("GET", "/api/v1/snapshot?pid=1", ["Connection: keep-alive"]) + request("GET", "/metrics"),
    b"GET /%ff%fe HTTP/1.0\r\n\r\n", b"GET / HTTP/1.1\r\nHost: evil.example\r\n\r\n",
    request("POST", "/api/v1/actions/release", ["Transfer-Encoding: chunked"]) + b"5\r\nhello\r\n0\r\n\r\n",
]):
    write("http_request", f"request-{index:02d}", data)

# --- action_body: the first byte picks the action (trim, bandwidth, reserve, release, promote,
# migrate), the rest is its body; "@" stands for the address of the fuzzer's listed allocation.
for index, (action, body) in enumerate([
    (0, b""), (1, b"{}"), (2, b'{"page_size": "2M", "count": 4, "node": 1}'), (2, b'{"page_size": "1G", "count": 1}'),
    (2, b'{"page_size": "3M", "count": 0}'), (2, b'{"page_size": 2097152, "count": -1, "node": 99}'), (3, b"{}"),
    (3, b'{"extra": true}'), (4, b'{"address": "@"}'), (4, b'{"address": "0x1000"}'), (5, b'{"address": "@", "node": 1}'),
    (5, b'{"address": "@", "node": 4294967296}'), (5, b'{"address": "@", "node": "1"}'), (2, b"[1, 2]"), (4, b"{\"address\": "),
]):
    write("action_body", f"body-{index:02d}", bytes([action]) + body)

# --- serve_options: the --listen value, a newline, the token file.
for index, data in enumerate([
    b"127.0.0.1:9464\n0123456789abcdef0123456789abcdef\n", b"[::1]:0\nshort\n", b":9100\n  padded-token-of-enough-length  \n",
    b"0.0.0.0\n\n", b"[fe80::1%eth0]:99999\n" + b"x" * 5000, b"host:port:extra\ntoken\ttab\r\n", b"localhost:-1",
]):
    write("serve_options", f"options-{index:02d}", data)

print(f"wrote {sum(1 for _ in out.rglob('*') if _.is_file())} seeds under {out.relative_to(root)}", file=sys.stderr)
