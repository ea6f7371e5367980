// What the real kernel says, read independently of the library (so a bug in xmem's own parsers
// cannot make a kernel test pass), and huge page reservations that always restore the counts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace xmem::testing {

bool isRoot();

/// The /proc/self/smaps fields of the area that contains `address` (bytes).
struct SmapsFields {
  bool found = false;
  std::uintptr_t start = 0;
  std::uintptr_t end = 0;
  std::size_t kernelPageSize = 0;
  std::size_t rss = 0;
  std::size_t anonHugePages = 0;
  std::size_t locked = 0;
  std::size_t privateHugetlb = 0;
  std::string name;  ///< the path column, e.g. "[anon:xmem:test]"
};
/// `pid` 0: this process; another process's smaps needs permission to read it (same user or root).
SmapsFields smapsAt(const void* address, long pid = 0);

/// Bytes of [address, address + length) on transparent huge pages now, counted 4 KiB page by
/// page from /proc/self/pagemap and /proc/kpageflags (KPF_THP): root only, else nullopt. Unlike
/// smaps' AnonHugePages, it also sees THPs that NUMA balancing has marked for a hinting fault.
std::optional<std::size_t> thpBytesFromPageFlags(const void* address, std::size_t length);
/// The truest THP figure this process can read: the page flags as root, else smaps' AnonHugePages
/// of the area at `address` (which a multi-node kernel may understate).
std::size_t kernelThpBytes(const void* address, std::size_t length);

/// 2 MiB blocks free now in the buddy allocator, all zones and nodes (/proc/buddyinfo, order 9 up).
std::uint64_t freeTwoMegabyteBlocks();

/// Bytes of [address, address + length) that are in memory now (mincore, page by page).
std::size_t residentBytes(const void* address, std::size_t length);

/// The node the page at `address` is on now (get_mempolicy), or nullopt if not faulted in.
std::optional<int> nodeOfPage(const void* address);

/// How many pages of [address, address + length), taken every `step` bytes, are on each node now
/// (move_pages without moving). Pages not faulted in count under -ENOENT, other failures under
/// their negative errno.
std::map<int, std::size_t> pagesByNode(const void* address, std::size_t length, std::size_t step = 4096);

/// The kernel's node distances: row i is /sys/devices/system/node/node<i>/distance.
std::vector<std::vector<int>> kernelDistances();
/// Free pages of `pageSize` on `node` now, from sysfs (0 when the size is not offered).
std::uint64_t freeHugePagesOn(std::uint32_t node, std::size_t pageSize);

/// Makes exactly `count` pages of `pageSize` free (on `node`, or system-wide) for its lifetime,
/// whatever was reserved before (0 frees them all), and puts the count back afterwards. The kernel
/// may give fewer (fragmentation): obtained() is the number free.
class HugePageReservation {
 public:
  HugePageReservation(std::size_t pageSize, std::uint64_t count, std::optional<std::uint32_t> node = std::nullopt);
  ~HugePageReservation();
  HugePageReservation(const HugePageReservation&) = delete;
  HugePageReservation& operator=(const HugePageReservation&) = delete;

  std::uint64_t obtained() const { return obtained_; }

 private:
  std::string path_;
  std::uint64_t before_ = 0;
  std::uint64_t obtained_ = 0;
};

/// Sets a sysfs count for its lifetime and puts the old value back afterwards.
class ScopedCount {
 public:
  ScopedCount(std::string path, std::uint64_t value);
  ~ScopedCount();
  ScopedCount(const ScopedCount&) = delete;
  ScopedCount& operator=(const ScopedCount&) = delete;

 private:
  std::string path_;
  std::uint64_t before_;
};

std::uint64_t readCount(const std::string& path);
void writeCount(const std::string& path, std::uint64_t value);
/// Every count a test may change: nr_hugepages and nr_overcommit_hugepages of each page size.
std::vector<std::string> hugePageCountFiles();

}  // namespace xmem::testing
