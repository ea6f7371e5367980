// What the kernel reports about memory, as plain values: huge page counts, the THP mode, the
// memlock limit, the NUMA nodes, and what backs a range. The OS layer fills them in; the public
// API hands them out as they are (SystemInfo is MachineFacts with a cache around it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace xmem {

/// Counts of one huge page size, system-wide or on one node. The kernel keeps no per-node
/// "reserved" count, so `reserved` is 0 in per-node counts.
struct HugePageCounts {
  std::uint64_t total = 0;     ///< pages in the pool (nr_hugepages)
  std::uint64_t free = 0;      ///< pages not yet faulted in (includes reserved ones)
  std::uint64_t reserved = 0;  ///< promised to existing mappings, not yet faulted
  std::uint64_t surplus = 0;   ///< overcommitted beyond nr_hugepages
  std::uint64_t overcommit = 0;  ///< nr_overcommit_hugepages: surplus the kernel may add on demand (system-wide only)

  /// Pages a new mapping can count on now.
  std::uint64_t available() const noexcept { return free > reserved ? free - reserved : 0; }
  /// Pages a new mapping may get: the available ones plus the surplus the kernel may still add
  /// (that needs free contiguous memory, so mapping them can still fail).
  std::uint64_t obtainable() const noexcept { return available() + (overcommit > surplus ? overcommit - surplus : 0); }
};

struct HugePageSizeInfo {
  std::size_t pageSize = 0;
  HugePageCounts counts;                          ///< system-wide
  std::map<std::uint32_t, HugePageCounts> nodes;  ///< per NUMA node
};

enum class ThpMode : std::uint8_t { Unsupported, Always, Madvise, Never };
std::string_view toString(ThpMode mode) noexcept;

struct ThpInfo {
  ThpMode mode = ThpMode::Unsupported;
  std::string defrag;         ///< e.g. "madvise"; empty when unsupported
  std::size_t pmdSize = 0;    ///< the THP page size (2 MiB on x86-64)
  bool usable() const noexcept { return mode == ThpMode::Always || mode == ThpMode::Madvise; }
};

struct MemlockLimit {
  static constexpr std::uint64_t kUnlimited = ~std::uint64_t{0};
  std::uint64_t soft = 0;       ///< bytes, or kUnlimited
  std::uint64_t hard = 0;       ///< bytes, or kUnlimited
  bool privileged = false;      ///< CAP_IPC_LOCK (or equivalent): the limit does not apply
  /// Whether `bytes` more can be locked (ignoring what this process has locked already).
  bool allows(std::uint64_t bytes) const noexcept { return privileged || soft == kUnlimited || bytes <= soft; }
};

/// The right an OS asks of a process before it maps large pages: Windows' "Lock pages in memory"
/// (SeLockMemoryPrivilege). Linux asks none: its huge pages come from the pools root reserves.
struct LargePageRight {
  enum class State : std::uint8_t {
    NotNeeded,       ///< this OS asks no right
    Enabled,         ///< enabled in this process's token
    Disabled,        ///< in the token, not enabled: xmem enables it before its first large page
    NeedsElevation,  ///< only the elevated token has it: run as administrator
    NeedsSignOut,    ///< assigned to the account after this logon session began: sign out and in
    NotAssigned,     ///< not assigned to the account
    Unknown,         ///< the token could not be read
  };
  State state = State::NotNeeded;
  std::string account;   ///< "DOMAIN\user" the state is of ("" when not needed or unknown)
  std::string guidance;  ///< what to do about it, for people ("" when nothing is to be done)

  /// Large pages can be asked for (the OS may still have none to give).
  bool usable() const noexcept { return state == State::NotNeeded || state == State::Enabled || state == State::Disabled; }
};
std::string_view toString(LargePageRight::State state) noexcept;

struct NumaNodeInfo {
  std::uint32_t id = 0;
  std::vector<std::uint32_t> cpus;
  std::uint64_t memoryTotal = 0;  ///< bytes
  std::uint64_t memoryFree = 0;   ///< bytes
  std::vector<std::uint32_t> distances;  ///< to each node of SystemInfo::nodes, in order (10: local)
};

struct MachineFacts {
  std::string platform;              ///< "linux"
  std::string kernel;                ///< kernel release, e.g. "6.1.0-18-amd64"
  std::size_t basePageSize = 4096;
  std::uint64_t memoryTotal = 0;      ///< bytes of RAM the kernel manages (MemTotal)
  std::uint64_t memoryAvailable = 0;  ///< bytes it could hand out now (MemAvailable)
  std::size_t defaultHugePageSize = 0;  ///< 0 when the kernel has no hugetlb support
  std::vector<HugePageSizeInfo> hugePageSizes;  ///< ascending page size
  bool cpuHasOneGbPages = false;     ///< x86 pdpe1gb (or the kernel offers 1 GiB pages elsewhere)
  /// Huge pages come from a pool the kernel counts and root reserves (Linux); false: from free
  /// memory at map time, nothing to count or reserve beforehand (Windows).
  bool hugePagePool = true;
  /// One mapping can hold several page sizes (Linux); false: one size per allocation (Windows).
  bool mixedPageSizes = true;
  ThpInfo thp;
  MemlockLimit memlock;
  std::vector<NumaNodeInfo> nodes;   ///< online nodes; one node 0 on machines without NUMA
  bool populateReportsErrors = false;  ///< MADV_POPULATE_WRITE: a missing huge page is an error, not SIGBUS
  bool namedMappings = false;          ///< mappings can be named (PR_SET_VMA_ANON_NAME)
  LargePageRight largePageRight;       ///< Windows: "Lock pages in memory"
  std::size_t lastLevelCacheBytes = 0; ///< the largest data cache of CPU 0 (0 when unknown)

  const HugePageSizeInfo* hugePages(std::size_t pageSize) const noexcept;
  const NumaNodeInfo* node(std::uint32_t id) const noexcept;
  bool hasNode(std::uint32_t id) const noexcept { return node(id) != nullptr; }
};

/// The kernel's view of a range at the time it was asked (from /proc/self/smaps and numa_maps).
struct RangeUsage {
  std::size_t length = 0;         ///< bytes asked about
  std::size_t residentBytes = 0;  ///< faulted in, any page size
  std::size_t hugeTlbBytes = 0;   ///< mapped on explicit huge pages (guaranteed by reservation)
  std::size_t thpBytes = 0;       ///< backed by transparent huge pages now (AnonHugePages)
  std::size_t lockedBytes = 0;    ///< mlocked (hugetlb pages are never swapped and count as 0)
  std::map<std::size_t, std::size_t> bytesByPageSize;   ///< kernel page size -> mapped bytes
  std::map<std::uint32_t, std::size_t> bytesByNode;     ///< node -> resident bytes
};

/// One mapping of a process as the kernel reports it (Linux: /proc/PID/smaps and numa_maps).
struct MappingUsage {
  std::uintptr_t start = 0;
  std::uintptr_t end = 0;
  std::string permissions;          ///< "rw-p"
  std::string name;                 ///< path, [heap], [stack], [anon:NAME], or ""
  std::size_t kernelPageSize = 0;   ///< the mapping's page size (a hugetlb size for hugetlb mappings)
  std::size_t residentBytes = 0;    ///< Rss, or the hugetlb bytes for hugetlb mappings
  std::size_t anonHugePages = 0;    ///< bytes on transparent huge pages
  std::size_t hugeTlbBytes = 0;     ///< Private_Hugetlb + Shared_Hugetlb
  std::size_t lockedBytes = 0;
  bool thpEligible = false;         ///< THPeligible: the kernel would back it with THP
  bool thpAdvised = false;          ///< VmFlags hg: MADV_HUGEPAGE
  bool thpRefused = false;          ///< VmFlags nh: MADV_NOHUGEPAGE
  std::map<std::uint32_t, std::size_t> bytesByNode;  ///< resident bytes per node (numa_maps)
  std::size_t size() const noexcept { return end - start; }
};

/// A process's memory: its status figures and its mappings (those of at least the size asked).
struct ProcessUsage {
  std::int64_t pid = 0;
  std::string command;              ///< Name: in status
  std::uint64_t residentBytes = 0;  ///< VmRSS
  std::uint64_t peakResidentBytes = 0;  ///< VmHWM
  std::uint64_t lockedBytes = 0;    ///< VmLck
  std::uint64_t hugeTlbBytes = 0;   ///< HugetlbPages
  std::vector<MappingUsage> mappings;
};

/// Free blocks of one node and zone by order (/proc/buddyinfo).
struct BuddyZone {
  std::uint32_t node = 0;
  std::string zone;
  std::vector<std::uint64_t> freeBlocksByOrder;  ///< index: order (blocks of 2^order base pages)
};

/// The kernel's memory-management counters xmem reads: THP and compaction events
/// (/proc/vmstat's thp_*, compact_*, htlb_*) and free memory by buddy order.
struct KernelCounters {
  std::map<std::string, std::uint64_t> events;
  std::vector<BuddyZone> buddy;
};

}  // namespace xmem
