// Memory pools: the spec's IMemoryPool interface, MemoryPool (one node), and the process-wide pool
// that VirtualMemory's usePool path asks first.
//
// A MemoryPool hands out chunks of fixed size classes (64 KiB .. 64 MiB, powers of two) from one
// or more backing VirtualMemory mappings ("arenas"). Chunks below 2 MiB are cut from whole 2 MiB
// blocks, so every chunk is aligned to its size (up to 2 MiB) and a 2 MiB scratchpad is exactly
// one huge page. Released chunks go to free lists of their class, sharded by CPU, and are
// reused; when a request finds no room, every 2 MiB block without a live chunk is taken back
// from the lists, so a pool whose chunks all came back is one piece again. Chunks given up with
// the spec's release(node) are reclaimed by a reset when the last reference goes. It is safe to
// use from many threads: the hot path takes only the shard lock of the CPU it runs on and
// touches no cache line that another CPU's get or release writes.
#pragma once

#include <xmem/error.h>
#include <xmem/types.h>
#include <xmem/virtual_memory.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace xmem {

class IMemoryPool : public ChunkSource {
 public:
  ~IMemoryPool() override = default;

  /// Whether the pool's memory for `node` is on huge pages.
  virtual bool isHugePages(std::uint32_t node) const = 0;
  /// A chunk of at least `size` bytes on `node`, or nullptr when the pool cannot serve it.
  virtual std::uint8_t* get(std::size_t size, std::uint32_t node) = 0;
  /// The spec's reference-counted release: drop one reference without naming the chunk. Chunks
  /// given up this way are reclaimed when the pool resets (its last reference goes).
  virtual void release(std::uint32_t node) = 0;
  /// Give back one chunk from get() with the size it was asked with. False (and counted in the
  /// statistics) when it is not a live chunk of this pool of that size: nothing is changed then.
  virtual bool release(void* chunk, std::size_t size, std::uint32_t node) noexcept = 0;

  // ChunkSource, for VirtualMemory's usePool path: get() and release() of a chunk.
  std::optional<Chunk> takeChunk(std::size_t size, std::uint32_t node) override;
  bool giveBackChunk(void* address, std::size_t size, std::uint32_t node) noexcept override {
    return release(address, size, node);
  }
};

/// The size classes: every request is rounded up to one of these.
inline constexpr std::array<std::size_t, 11> kPoolSizeClasses = {
    64 * KiB, 128 * KiB, 256 * KiB, 512 * KiB, 1 * MiB, 2 * MiB, 4 * MiB, 8 * MiB, 16 * MiB, 32 * MiB, 64 * MiB};
inline constexpr std::size_t kPoolMinChunk = kPoolSizeClasses.front();
inline constexpr std::size_t kPoolMaxChunk = kPoolSizeClasses.back();

struct MemoryPoolOptions {
  std::size_t capacity = 0;           ///< bytes of the first backing mapping (rounded up to 2 MiB)
  bool hugePages = true;              ///< back it with 2 MiB pages when free ...
  bool oneGbPages = false;            ///< ... or 1 GiB pages ...
  bool transparentHugePages = true;   ///< ... or transparent huge pages
  std::size_t alignment = 16 * MiB;   ///< base alignment of each backing mapping (XMRig uses 16 MiB)
  std::optional<std::uint32_t> node;  ///< node the memory lives on
  NumaPolicy numaPolicy = NumaPolicy::Bind;
  bool grow = true;                   ///< add backing mappings when full
  std::size_t growthSize = 0;         ///< bytes per added mapping; 0: as large as the first
  std::size_t maxCapacity = 0;        ///< cap on all backing mappings together; 0: none
  bool growthMayDegrade = false;      ///< accept added mappings on smaller pages than the first
  std::chrono::milliseconds trimAfterQuiet{0};  ///< trim() by itself after this long without use; 0: never
  LockPolicy lock = LockPolicy::None;
  unsigned prefaultThreads = 0;       ///< fault backing mappings in when they are made
  std::string name = "xmem:pool";
};

/// Why a pool could not serve a request.
enum class PoolFailure : std::uint8_t {
  BadSize,   ///< 0 bytes, or above the largest chunk
  Full,      ///< full and not allowed to grow (or at its cap)
  NoMemory,  ///< growing failed: the system had no memory for another backing mapping
};
inline constexpr std::size_t kPoolFailureKinds = 3;
std::string_view toString(PoolFailure failure) noexcept;  ///< "bad_size", "full", "no_memory"

/// Plain numbers for tools to print and serve.
struct PoolStats {
  std::size_t capacity = 0;        ///< bytes of backing mappings
  std::size_t hugeBytes = 0;       ///< of which on explicit huge pages (or measured THP)
  std::size_t arenas = 0;          ///< backing mappings
  std::size_t inUse = 0;           ///< bytes in live chunks (class sizes)
  std::size_t requested = 0;       ///< bytes callers asked for in live chunks (<= inUse)
  std::size_t highWater = 0;       ///< most bytes in use at once, sampled when the pool carves or reports
  std::size_t carved = 0;          ///< bytes in chunks, live or listed (the rest is free for any class)
  std::size_t freeListed = 0;      ///< bytes in free lists, reusable only by their own class
  std::size_t liveChunks = 0;
  std::uint64_t allocations = 0;
  std::uint64_t releases = 0;      ///< including release(node)
  std::uint64_t failedAllocations = 0;
  std::array<std::uint64_t, kPoolFailureKinds> failures{};  ///< failedAllocations by PoolFailure
  std::size_t largestFreeBlock = 0; ///< the longest free run (uncarved, or blocks given back) or listed chunk
  std::uint64_t fallbacksOut = 0;  ///< requests for this pool's node that another node's pool served
  std::uint64_t fallbacksIn = 0;   ///< requests for another node that this pool served
  std::uint64_t invalidReleases = 0;  ///< release() of something that is not a live chunk
  std::uint64_t resets = 0;        ///< resets after release(node) gave up the last reference
  std::uint64_t growths = 0;
  std::uint64_t trims = 0;
  std::uint64_t reclaims = 0;      ///< times free blocks were taken back from the size-class lists
  bool huge = false;               ///< the first mapping is on huge pages
  std::size_t pageSize = 0;        ///< page size of the first mapping's largest part
  /// Share of the free memory that only one size class can use (free lists vs. uncarved space).
  double fragmentation() const noexcept;
  /// 1 - largest free block / free bytes: 0 when the free memory is one piece (or none is free).
  double freeSpaceFragmentation() const noexcept;
};

class MemoryPool final : public IMemoryPool {
 public:
  /// Maps the first backing mapping now. Throws Error (capacity 0, or no memory at all).
  explicit MemoryPool(const MemoryPoolOptions& options);
  /// The spec's form: `size` bytes, on huge pages when `hugePages`, on `node`.
  MemoryPool(std::size_t size, bool hugePages, std::uint32_t node = 0);
  ~MemoryPool() override;
  MemoryPool(const MemoryPool&) = delete;
  MemoryPool& operator=(const MemoryPool&) = delete;

  /// A chunk of `size` bytes (rounded up to its class), or an Error saying why not: size 0, above
  /// the largest class, or the pool is full and may not (or cannot) grow.
  Result<std::uint8_t*> tryAllocate(std::size_t size) noexcept;
  /// As tryAllocate, throwing the Error.
  std::uint8_t* allocate(std::size_t size);
  /// Give back a chunk; false when it is not a live chunk of this pool of that size.
  bool deallocate(void* chunk, std::size_t size) noexcept;
  /// Whether `address` lies in one of this pool's backing mappings.
  bool owns(const void* address) const noexcept;

  /// Unmap backing mappings that hold no live chunk (all but the first), and give the first one's
  /// pages back to the system when the pool is idle. Returns the bytes given back.
  std::size_t trim();
  PoolStats stats() const;
  std::optional<std::uint32_t> node() const noexcept;
  /// The report of the first backing mapping (what its pages really are).
  const AllocationReport& report() const noexcept;
  /// What the last growth got ("64 MiB: 64 MiB on 2 MiB pages, ...; 2 MiB pages: 32 x 2 MiB"),
  /// "failed: " or "refused: " and why; "" before the first. Growth mappings are not listed of their own.
  std::string lastGrowth() const;

  /// The size class for `size` (0 when above the largest).
  static std::size_t classSize(std::size_t size) noexcept;
  /// NumaMemoryPool tells a node's pool when a request moved between nodes, for its statistics.
  void countFallback(bool servedElsewhere) noexcept;
  const std::string& name() const noexcept;

  // IMemoryPool
  bool isHugePages(std::uint32_t node) const override;
  std::uint8_t* get(std::size_t size, std::uint32_t node) override;
  void release(std::uint32_t node) override;
  bool release(void* chunk, std::size_t size, std::uint32_t node) noexcept override;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

/// Every MemoryPool alive in this process (NumaMemoryPool's node pools included) with its name
/// and node, for monitoring. The list's lock is held only while each pool's stats() are copied
/// into room reserved before it.
struct ListedPoolStats {
  std::string name;
  std::optional<std::uint32_t> node;
  PoolStats stats;
};
std::vector<ListedPoolStats> livePoolStats();
/// trim() every MemoryPool alive in this process; returns the bytes given back.
std::size_t trimLivePools();

/// One chunk of a pool, given back when the lease goes (or reset()): the pool layer's own way to
/// hold a chunk. It keeps its pool alive. VirtualMemory(usePool = true) is the spec's form of it.
class PoolLease {
 public:
  PoolLease() = default;
  /// Adopt `address`, a chunk `pool` handed out for `size` bytes asked on `node`.
  PoolLease(std::shared_ptr<IMemoryPool> pool, std::uint8_t* address, std::size_t size, std::uint32_t node) noexcept
      : pool_(std::move(pool)), address_(address), size_(size), node_(node) {}
  /// A chunk of `size` bytes for `node` from the pool, or nullopt when it cannot serve it.
  static std::optional<PoolLease> take(std::shared_ptr<IMemoryPool> pool, std::size_t size, std::uint32_t node);
  ~PoolLease() { reset(); }
  PoolLease(PoolLease&& other) noexcept { *this = std::move(other); }
  PoolLease& operator=(PoolLease&& other) noexcept;
  PoolLease(const PoolLease&) = delete;
  PoolLease& operator=(const PoolLease&) = delete;

  std::uint8_t* data() const noexcept { return address_; }
  std::size_t size() const noexcept { return size_; }  ///< as asked (the chunk may be larger: its class)
  explicit operator bool() const noexcept { return address_ != nullptr; }
  /// Give the chunk back now.
  void reset() noexcept;

 private:
  std::shared_ptr<IMemoryPool> pool_;
  std::uint8_t* address_ = nullptr;
  std::size_t size_ = 0;
  std::uint32_t node_ = 0;
};

/// The pool VirtualMemory(usePool = true) allocates from (its use-pool source, when that is a
/// pool); empty when none is installed. Shared:
/// a pool stays alive while VirtualMemory objects hold chunks of it, even after it is replaced.
std::shared_ptr<IMemoryPool> globalPool();
/// Install `pool` as the global pool (empty removes it); returns the previous one (empty when the
/// use-pool source before was not a pool).
std::shared_ptr<IMemoryPool> setGlobalPool(std::shared_ptr<IMemoryPool> pool);
/// The spec's VirtualMemory::init: a NumaMemoryPool on machines with more than one node, a
/// MemoryPool otherwise, of `poolSize` bytes in all, on huge pages when hugePageSize > 0.
/// Replaces (and so destroys, once its chunks are back) any pool installed before.
void initGlobalPool(std::size_t poolSize, std::size_t hugePageSize);
/// The spec's VirtualMemory::destroy.
void destroyGlobalPool();

}  // namespace xmem
