// What this machine offers for memory, probed from the kernel into plain data.
//
// SystemInfo::get() probes once and caches (page sizes, THP mode and memlock limits do not change
// under a running process in practice); SystemInfo::probe() reads everything again. Free huge page
// counts do change, so the availability functions below always read them live.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
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

struct NumaNodeInfo {
  std::uint32_t id = 0;
  std::vector<std::uint32_t> cpus;
  std::uint64_t memoryTotal = 0;  ///< bytes
  std::uint64_t memoryFree = 0;   ///< bytes
  std::vector<std::uint32_t> distances;  ///< to each node of SystemInfo::nodes, in order (10: local)
};

/// Why a huge page size can or cannot be used now, for people.
struct Availability {
  bool available = false;
  std::uint64_t freePages = 0;
  std::string reason;
};

struct SystemInfo {
  std::string platform;              ///< "linux"
  std::string kernel;                ///< kernel release, e.g. "6.1.0-18-amd64"
  std::size_t basePageSize = 4096;
  std::uint64_t memoryTotal = 0;      ///< bytes of RAM the kernel manages (MemTotal)
  std::uint64_t memoryAvailable = 0;  ///< bytes it could hand out now (MemAvailable)
  std::size_t defaultHugePageSize = 0;  ///< 0 when the kernel has no hugetlb support
  std::vector<HugePageSizeInfo> hugePageSizes;  ///< ascending page size
  bool cpuHasOneGbPages = false;     ///< x86 pdpe1gb (or the kernel offers 1 GiB pages elsewhere)
  ThpInfo thp;
  MemlockLimit memlock;
  std::vector<NumaNodeInfo> nodes;   ///< online nodes; one node 0 on machines without NUMA
  bool populateReportsErrors = false;  ///< MADV_POPULATE_WRITE: a missing huge page is an error, not SIGBUS
  bool namedMappings = false;          ///< mappings can be named (PR_SET_VMA_ANON_NAME)

  const HugePageSizeInfo* hugePages(std::size_t pageSize) const noexcept;
  const NumaNodeInfo* node(std::uint32_t id) const noexcept;
  bool hasNode(std::uint32_t id) const noexcept { return node(id) != nullptr; }

  /// The cached snapshot, probed on first use. Shared, so a refresh() never invalidates it.
  static std::shared_ptr<const SystemInfo> get();
  /// A fresh snapshot, which also replaces the cached one.
  static std::shared_ptr<const SystemInfo> refresh();
};

/// Can a mapping get pages of `pageSize` now (on `node`, or anywhere)? Reads free counts live.
Availability hugePageAvailability(std::size_t pageSize, std::optional<std::uint32_t> node = std::nullopt);

/// Spec API: explicit 2 MiB pages are free now.
bool isHugePagesAvailable();
/// Spec API: the CPU and kernel support 1 GiB pages and some are free now.
bool isOneGbPagesAvailable();

/// Round to a multiple of the default huge page size (2 MiB when there is none).
std::size_t alignToHugePageSize(std::size_t size);

}  // namespace xmem
