// VirtualMemory: RAII owner of one mapping, obtained through the cascade
//   pool -> 1 GiB hugetlb -> 2 MiB hugetlb -> transparent huge pages -> base pages
// and reporting what it actually got, part by part.
#pragma once

#include <xmem/error.h>
#include <xmem/memory_facts.h>
#include <xmem/types.h>

#include <bitset>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace xmem {

namespace os {
class Platform;
}

/// Where VirtualMemory's usePool path takes its memory: the mapping layer's view of a pool, so
/// that mappings know nothing of the pools built from them. MemoryPool and NumaMemoryPool are
/// chunk sources; setGlobalPool() (memory_pool.h) installs the one usePool asks.
struct AllocationRegistryEntry;

class ChunkSource {
 public:
  struct Chunk {
    std::uint8_t* address = nullptr;
    std::size_t size = 0;       ///< bytes the chunk spans (its size class)
    std::uint32_t node = 0;     ///< the node that served it (a nearer one when the asked node is full)
    bool hugePages = false;     ///< on huge pages
  };
  virtual ~ChunkSource() = default;
  /// A chunk of at least `size` bytes for `node`; nullopt when the source cannot serve it.
  virtual std::optional<Chunk> takeChunk(std::size_t size, std::uint32_t node) = 0;
  /// Give back a chunk from takeChunk(), with the size and node it was asked for.
  virtual bool giveBackChunk(void* address, std::size_t size, std::uint32_t node) noexcept = 0;
};

/// The source VirtualMemory(usePool = true) asks; empty when none is installed.
std::shared_ptr<ChunkSource> usePoolSource();
/// Install the source usePool asks (the pool layer's setGlobalPool() does); returns the previous one.
std::shared_ptr<ChunkSource> setUsePoolSource(std::shared_ptr<ChunkSource> source);

/// What to do when mlock cannot lock the whole mapping.
enum class LockPolicy : std::uint8_t {
  None,        ///< do not lock
  BestEffort,  ///< lock; on failure keep the memory and report why in AllocationReport::lockError
  Required,    ///< lock or fail the allocation with PermissionDenied / OutOfMemory
};

/// Everything a VirtualMemory can be asked for. Defaults give the best pages available without
/// privileges: explicit huge pages when reserved, otherwise transparent huge pages.
struct VirtualMemoryOptions {
  std::size_t size = 0;              ///< bytes; rounded up to the page size of each part
  bool hugePages = true;             ///< explicit 2 MiB pages (hugetlb)
  bool oneGbPages = false;           ///< explicit 1 GiB pages, tried before 2 MiB ones
  bool transparentHugePages = true;  ///< madvise(MADV_HUGEPAGE) what explicit pages do not cover
  bool partialHugePages = true;      ///< use the free explicit pages even if they cover only part
  bool usePool = false;              ///< ask the use-pool source first (the global pool: setGlobalPool())
  std::optional<std::uint32_t> node; ///< NUMA node to place the memory on; none: no policy
  NumaPolicy numaPolicy = NumaPolicy::Preferred;  ///< how `node` is enforced (see NumaPolicy)
  NodeSet interleaveNodes;           ///< for NumaPolicy::Interleave; empty: all online nodes
  std::size_t alignment = 64;        ///< power of two; the base address is a multiple of it
  LockPolicy lock = LockPolicy::None;
  bool executable = false;           ///< JIT code: mapped read-write, made executable by protectRX()
  bool allowWriteExecute = false;    ///< permit protectRWX() (W^X is the default)
  unsigned prefaultThreads = 0;      ///< fault every page in now with this many threads; 0: on first touch
  /// Told (done, total) bytes while pre-faulting: from the faulting threads, one call at a time.
  std::function<void(std::size_t done, std::size_t total)> prefaultProgress;
  std::string name;                  ///< shown in /proc/PID/maps as [anon:NAME] where the kernel allows
  /// In the process's list of live allocations that monitoring shows. Pools list their backing
  /// mappings as pools, and the preload library keeps its own records, so both turn it off.
  bool listed = true;
};

/// One contiguous part of a mapping and the pages behind it.
struct Segment {
  std::size_t offset = 0;
  std::size_t length = 0;
  PageKind kind = PageKind::Base;
  std::size_t pageSize = 0;  ///< hugetlb page size; THP size for Transparent; base page size for Base
};

/// The kernel's truth for any range (partial VMAs are clamped to the range). Throws Error.
RangeUsage queryUsage(const void* address, std::size_t length);

/// Pages of one size.
struct PageCount {
  std::size_t pageSize = 0;
  std::uint64_t pages = 0;
};
/// For people: "2 x 1 GiB + 16 x 2 MiB" ("" for none).
std::string describePages(const std::vector<PageCount>& pages);

/// What an allocation obtained and why. Nothing is assumed: hugetlb parts are confirmed from the
/// kernel's page size of the mapping, THP bytes are measured (0 until the pages are touched).
struct AllocationReport {
  std::size_t requestedSize = 0;
  std::size_t mappedSize = 0;
  std::vector<Segment> segments;
  std::size_t thpVerifiedBytes = 0;   ///< AnonHugePages at report time
  bool verified = false;              ///< the figures above were read back from the kernel
  std::optional<std::uint32_t> node;
  NumaPolicy numaPolicy = NumaPolicy::None;
  bool bound = false;                 ///< the NUMA policy was applied
  std::string bindError;              ///< why it was not (policies that tolerate it)
  bool locked = false;
  std::string lockError;
  bool named = false;
  unsigned prefaultThreads = 0;
  std::chrono::nanoseconds prefaultTime{0};
  std::map<std::uint32_t, std::size_t> residentBytesByNode;
  std::vector<std::string> decisions;  ///< each cascade step taken or skipped, with its reason

  std::size_t bytesOf(PageKind kind, std::size_t pageSize = 0) const noexcept;  ///< pageSize 0: any
  std::size_t hugeTlbBytes() const noexcept { return bytesOf(PageKind::HugeTlb); }
  std::size_t thpEligibleBytes() const noexcept { return bytesOf(PageKind::Transparent); }
  /// Share of the mapping on huge pages of any kind (hugetlb + measured THP + huge pool chunks).
  double hugeFraction() const noexcept;
  /// One line for people, e.g. "2080 MiB: 2 GiB on 1 GiB pages + 32 MiB on 2 MiB pages (huge 100%), node 0 preferred".
  std::string summary() const;
};

class VirtualMemory {
 public:
  /// The spec's flags.
  enum Flag : std::uint8_t { FLAG_HUGEPAGES, FLAG_1GB_PAGES, FLAG_LOCK, FLAG_EXTERNAL, FLAG_MAX };
  using Flags = std::bitset<FLAG_MAX>;
  using Options = VirtualMemoryOptions;
  static constexpr unsigned kAllCores = ~0U;

  /// The spec's form. `node` is applied with NumaPolicy::Preferred when the machine has that node
  /// (so the spec's default node 0 never turns into an error on a machine without NUMA).
  VirtualMemory(std::size_t size, bool hugePages, bool oneGbPages, bool usePool,
                std::uint32_t node = 0, std::size_t alignSize = 64);
  /// The named-options form. Throws Error.
  explicit VirtualMemory(const Options& options);
  /// Non-throwing form.
  static Result<VirtualMemory> tryAllocate(const Options& options) noexcept;
  /// Memory for JIT code: read-write now, protectRX() once written. Huge pages when asked.
  static VirtualMemory allocateExecutableMemory(std::size_t size, bool hugePages);

  /// The explicit huge pages a mapping with `options` takes on a machine with `facts` when every
  /// size is free: the cascade's own layout, from the sizes the kernel lists (largest first, the
  /// smallest rounding up), so that a plan counts exactly what the mappings will take.
  static std::vector<PageCount> hugePagesFor(const Options& options, const MachineFacts& facts);

  VirtualMemory(VirtualMemory&& other) noexcept;
  VirtualMemory& operator=(VirtualMemory&& other) noexcept;
  VirtualMemory(const VirtualMemory&) = delete;
  VirtualMemory& operator=(const VirtualMemory&) = delete;
  ~VirtualMemory();

  std::uint8_t* data() const noexcept { return data_; }
  std::uint8_t* scratchpad() const noexcept { return data_; }  ///< spec name
  std::size_t size() const noexcept { return report_.requestedSize; }
  std::size_t mappedSize() const noexcept { return report_.mappedSize; }
  const AllocationReport& report() const noexcept { return report_; }

  Flags flags() const noexcept { return flags_; }
  bool isHugePages() const noexcept { return flags_.test(FLAG_HUGEPAGES); }
  bool isOneGbPages() const noexcept { return flags_.test(FLAG_1GB_PAGES); }
  bool isLocked() const noexcept { return flags_.test(FLAG_LOCK); }
  bool isExternal() const noexcept { return flags_.test(FLAG_EXTERNAL); }
  /// XMRig's pair, in 2 MiB units: (units on huge pages, units in the mapping).
  std::pair<std::size_t, std::size_t> hugePages() const noexcept;

  /// The kernel's view of this mapping now (THP bytes grow as pages are touched).
  RangeUsage usage() const;

  /// Give the physical pages back to the system; the memory stays mapped and reads as zero.
  /// Explicit huge pages are kept (a private hugetlb page given back may be gone when touched
  /// again: SIGBUS), and so is pool memory. Returns the bytes given back.
  std::size_t discard();

  /// Hand the mapping over to the caller, who frees it with unmapDetached(data, mappedSize()):
  /// for bookkeeping of its own, such as the preload library's. Pool chunks stay owned (nullptr).
  std::uint8_t* detach() noexcept;
  /// Unmap what detach() handed over. Needs no other part of xmem, so it works during exit.
  static void unmapDetached(void* data, std::size_t mappedSize) noexcept;

  /// Protection changes of this mapping. protectRWX() needs Options::allowWriteExecute.
  void protectRW();
  void protectRX();
  void protectRWX();

  /// The spec's static forms, for ranges the caller owns. Throw Error on failure.
  static void protectRW(void* address, std::size_t size);
  static void protectRX(void* address, std::size_t size);
  static void protectRWX(void* address, std::size_t size);

  /// The spec's bindToNUMANode(affinity): bind the calling thread's memory to the node of CPU
  /// `affinity` (and pin it there when `pin`). A negative affinity does nothing. False (and no
  /// exception) when the binding failed or the CPU is on no node.
  static bool bindToNUMANode(std::int64_t affinity, bool pin = false);

  static bool isHugepagesAvailable();
  static bool isOneGbPagesAvailable();
  static constexpr std::size_t align(std::size_t pos, std::size_t alignment = 64) noexcept {
    return alignUp(pos, alignment);
  }
  static std::size_t alignToHugePageSize(std::size_t pos);

  /// The spec's global pool: see initGlobalPool() / destroyGlobalPool() in memory_pool.h.
  static void init(std::size_t poolSize, std::size_t hugePageSize);
  static void destroy();

  /// After explicit huge pages of a size fail on a node, later allocations skip that size there
  /// for this long (default 30 s). The free-page check before each attempt is not a failure.
  static void setHugePageRetryDelay(std::chrono::milliseconds delay) noexcept;

 private:
  VirtualMemory() = default;
  void release() noexcept;
  void protect(Protection protection);
  friend class Allocation;

  std::uint8_t* data_ = nullptr;
  os::Platform* platform_ = nullptr;  ///< the platform that mapped it, which unmaps it
  std::shared_ptr<ChunkSource> pool_;       ///< set when the memory is a pool chunk (keeps the pool alive)
  std::uint32_t poolNode_ = 0;
  AllocationRegistryEntry* listed_ = nullptr;  ///< this mapping in the process's list of live allocations
  AllocationReport report_;
  Flags flags_;
  bool allowWriteExecute_ = false;
  Protection protection_ = Protection::ReadWrite;  ///< as last set: discard() may have to set it again
};

}  // namespace xmem
