// What memory really is, right now, as plain versioned data: the one snapshot type `xmem stats`,
// `xmem serve` and the in-process server turn into JSON, Prometheus text and the live page.
//
// A snapshot holds the machine's huge page pools per node and page size (and what xmem itself
// reserved there), the kernel's fragmentation and THP counters, each allocation xmem made in this
// process with the pages it really got, each pool per node, the last bandwidth measurement, and
// any watched process read from outside (its mappings by page size and node). Everything is a
// value: a snapshot can be kept, compared and served after the things it describes are gone.
#pragma once

#include <xmem/memory_facts.h>
#include <xmem/memory_pool.h>
#include <xmem/types.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace xmem {

/// Bumped when a field changes meaning or goes away (adding one does not bump it).
inline constexpr int kSnapshotSchemaVersion = 1;

/// One huge page size on one node (or system-wide when `node` is empty).
struct PagePoolStats {
  std::size_t pageSize = 0;
  std::optional<std::uint32_t> node;
  HugePageCounts counts;             ///< configured (total), free, surplus; reserved is system-wide only
  std::uint64_t addedByXmem = 0;     ///< pages xmem's reservations added (now - what it found), per its records
  bool restoredOnRelease = false;    ///< `xmem release` (or the ScopedFreeHugePages that made it) puts the count back
  std::uint64_t countBeforeXmem = 0; ///< what xmem found before its first change (when it changed it)
};

/// How a share of an allocation or mapping is backed.
enum class Backing : std::uint8_t {
  HugeTlb,      ///< explicit huge pages of `pageSize`
  Transparent,  ///< measured transparent huge pages (AnonHugePages)
  Base,         ///< base pages (4 KiB on x86-64), or THP-eligible memory the kernel has not made huge
};
std::string_view toString(Backing backing) noexcept;  ///< "hugetlb", "thp", "base"

struct BackedBytes {
  Backing backing = Backing::Base;
  std::size_t pageSize = 0;
  std::size_t bytes = 0;
  bool operator==(const BackedBytes&) const = default;
};

/// Green: all on huge pages (and on the node asked). Yellow: partly. Red: none, or a policy that
/// could not be applied. The reason says why anything is not huge.
enum class Health : std::uint8_t { Green, Yellow, Red };
std::string_view toString(Health health) noexcept;  ///< "green", "yellow", "red"

/// One allocation xmem made in this process (a VirtualMemory), as it is now.
struct AllocationStats {
  std::string name;                      ///< VirtualMemoryOptions::name, or "" when unnamed
  std::uintptr_t address = 0;
  std::size_t requestedBytes = 0;
  std::size_t mappedBytes = 0;
  std::vector<BackedBytes> parts;        ///< sum == mappedBytes; THP measured now
  std::optional<std::uint32_t> nodeAsked;
  NumaPolicy policy = NumaPolicy::None;
  bool bound = false;                    ///< the policy was applied
  std::map<std::uint32_t, std::size_t> residentBytesByNode;  ///< where its faulted pages are now
  bool locked = false;
  bool prefaulted = false;
  bool fromPool = false;                 ///< a chunk of a pool (its pages are the pool's)
  Health health = Health::Green;
  std::string reason;                    ///< why not all huge or not on the node asked ("" when green)
};

/// One pool on one node.
struct PoolNodeStats {
  std::string pool;                      ///< the pool's name (MemoryPoolOptions::name)
  std::uint32_t node = 0;                ///< the node it is bound to (0 without NUMA)
  std::size_t capacityBytes = 0;
  std::size_t inUseBytes = 0;
  std::size_t highWaterBytes = 0;
  std::size_t freeBytes = 0;             ///< capacity - in use
  std::size_t largestFreeBlockBytes = 0; ///< the longest free run (uncarved or given back) or listed chunk
  double fragmentation = 0;              ///< 1 - largest free / free (0 when nothing is free)
  std::size_t hugeBytes = 0;             ///< of the capacity, on huge pages
  std::size_t pageSize = 0;              ///< page size of its first backing mapping's largest part
  std::uint64_t allocations = 0;
  std::uint64_t releases = 0;
  std::array<std::uint64_t, kPoolFailureKinds> failures{};  ///< by PoolFailure
  std::uint64_t fallbacksOut = 0;        ///< requests for this node another node served
  std::uint64_t fallbacksIn = 0;         ///< requests for other nodes served here
};

/// Free memory of one node and zone by buddy order (/proc/buddyinfo on Linux).
struct NodeFragmentation {
  std::uint32_t node = 0;
  std::string zone;                      ///< "Normal", "DMA32", ...
  std::vector<std::uint64_t> freeBlocksByOrder;  ///< blocks of 2^order base pages
  std::uint64_t hugePageBlocks = 0;      ///< 2 MiB pages obtainable now without compaction
  double unusableFreeIndex = 0;          ///< at the 2 MiB order: 0 none of the free memory is unusable, 1 all
};

/// The kernel's side: THP, fragmentation, compaction, locking.
struct KernelMemoryStats {
  ThpInfo thp;
  std::map<std::string, std::uint64_t> counters;  ///< thp_fault_alloc, thp_fault_fallback, compact_fail, ...
  std::vector<NodeFragmentation> fragmentation;
  /// 1 GiB availability cannot be read: buddy orders stop at 4 MiB. Only an attempt tells.
  std::string oneGbAvailability;
  MemlockLimit memlock;
};

/// One mapping of a watched process.
struct ProcessMappingStats {
  std::uintptr_t start = 0;
  std::uintptr_t end = 0;
  std::string name;                      ///< path, [heap], [anon:NAME], or ""
  std::size_t sizeBytes = 0;
  std::size_t residentBytes = 0;
  std::vector<BackedBytes> parts;        ///< resident bytes by backing and page size
  std::map<std::uint32_t, std::size_t> bytesByNode;
  std::size_t lockedBytes = 0;
  Health health = Health::Green;
  std::string reason;                    ///< why not all huge ("" when green)
};

/// What one of xmem's preload library's large allocations asked for and got, read from outside.
struct PreloadAllocationStats {
  std::uintptr_t address = 0;
  std::size_t requestedBytes = 0;
  std::size_t mappedBytes = 0;
  std::size_t hugeTlbBytes = 0;          ///< on explicit huge pages when served
  std::size_t pageSize = 0;              ///< the largest page size of it
  std::optional<std::uint32_t> nodeAsked;
  bool locked = false;
  std::string source;                    ///< "mapping" (a mapping of its own) or "pool" (a chunk of the preload's pool)
  // What it got, measured now from the process's mappings over its range (shares of an area that
  // reaches past it are scaled to the part inside).
  std::vector<BackedBytes> parts = {};
  std::map<std::uint32_t, std::size_t> bytesByNode = {};
};

/// A watched process, read from outside (Linux: /proc/PID/smaps, numa_maps, status).
struct ProcessStats {
  std::int64_t pid = 0;
  std::string command;
  std::uint64_t residentBytes = 0;
  std::uint64_t peakResidentBytes = 0;
  std::uint64_t lockedBytes = 0;
  std::uint64_t hugeTlbBytes = 0;
  std::vector<BackedBytes> parts;        ///< over its large mappings
  std::vector<ProcessMappingStats> mappings;  ///< those at least the watch's minimum size
  bool underPreload = false;             ///< xmem's preload library serves it
  std::vector<PreloadAllocationStats> preload;
  Health health = Health::Green;
  std::string reason;
  std::string error;                     ///< why it could not be read (gone, no permission)
};

/// One kernel of the bandwidth measurement: threads on `cpuNode`, memory on `memoryNode`.
struct BandwidthFigure {
  std::uint32_t cpuNode = 0;
  std::uint32_t memoryNode = 0;
  std::string kernel;                    ///< "read", "copy", "triad"
  double bestBytesPerSecond = 0;
  double medianBytesPerSecond = 0;
  std::size_t bufferBytes = 0;
  unsigned threads = 0;
  unsigned repetitions = 0;
};

struct BandwidthMatrix {
  std::chrono::system_clock::time_point measuredAt{};
  std::chrono::nanoseconds took{0};
  std::vector<BandwidthFigure> figures;
};

/// The bandwidth a RandomX miner draws from its dataset: one 64-byte read per program iteration,
/// 2048 iterations x 8 programs per hash, so 1 MiB per hash.
struct RandomxBandwidthEstimate {
  double hashesPerSecond = 0;
  double bytesPerSecond = 0;
};

struct Snapshot {
  int schemaVersion = kSnapshotSchemaVersion;
  std::string xmemVersion;
  std::chrono::system_clock::time_point takenAt{};
  std::chrono::nanoseconds took{0};      ///< how long taking it took
  std::string hostname;
  MachineFacts machine;                  ///< nodes, memory, page sizes (as SystemInfo has them)
  std::vector<PagePoolStats> pagePools;  ///< system-wide and per node, each page size
  KernelMemoryStats kernel;
  ProcessStats self;                     ///< this process, as any watched one (its own mappings)
  std::vector<AllocationStats> allocations;
  std::vector<PoolNodeStats> pools;
  std::optional<BandwidthMatrix> bandwidth;
  std::optional<RandomxBandwidthEstimate> randomx;
  std::vector<ProcessStats> processes;   ///< watched processes
};

}  // namespace xmem
