// MemoryPool: size classes carved from backing mappings, free lists sharded by CPU, reclaiming of
// free blocks across classes, growth and trimming. How it stays consistent without one lock, and
// fast without shared cache lines on the hot path:
// - Free lists and counters are per shard; a thread uses the shard of the CPU it runs on, behind
//   that shard's spin lock. Counters change only under their shard's lock, so with every lock
//   held their sums are exact.
// - Each mapping keeps, per 2 MiB block, one cache line with a bit per 64 KiB granule marking
//   where live chunks start, and per granule the class of the chunk starting there; release()
//   checks both, so foreign pointers, double releases and wrong sizes are refused. A bit changes
//   only under the lock of the list the chunk enters or leaves (or the carve lock when it is
//   cut), so under all locks every carved chunk is either live or listed.
// - Carving (cutting chunks from a mapping), reclaiming, growth, reset and trim take
//   `carveMutex_`; reclaiming, reset and trim also take every shard lock (always carve first).
// - A release looks its chunk's mapping up and reads its bits under its shard's lock. Trim
//   unpublishes a mapping (base null, then unmapped) only with every shard lock held, and a slot
//   is filled again only behind a null base, published last: so a release never reads a mapping
//   that is going or half made, and a pointer into one that is gone is simply refused.
// - Free lists never merge by themselves and nothing is reset when the last chunk comes back
//   (that would cost every get+release pair of a lone worker a full reset): when a request finds
//   no room, every 2 MiB block without a live chunk is taken back from the lists ("reclaimed")
//   and carved again for any class. Only chunks given up with the spec's release(node), whose
//   addresses are unknown, need a reset when the last reference goes.
#include <xmem/memory_pool.h>

#include "machine/live_list.h"
#include "os/os.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <new>
#include <thread>
#include <utility>
#include <vector>

namespace xmem {
namespace {

constexpr std::size_t kBlock = 2 * MiB;  // chunks below this are cut from whole blocks
constexpr std::size_t kGranule = kPoolMinChunk;
constexpr std::size_t kGranulesPerBlock = kBlock / kGranule;
constexpr std::size_t kClassCount = kPoolSizeClasses.size();
constexpr std::size_t kMaxArenas = 64;
constexpr std::size_t kMaxShards = 256;
constexpr std::uint8_t kNoClass = 0xFF;
constexpr std::uint8_t kContinuation = 0xFE;  // first granule of a later block of a multi-block chunk
static_assert(kGranulesPerBlock <= 32, "one 32-bit word of live bits per block");

int classIndex(std::size_t size) noexcept {
  if (size == 0 || size > kPoolMaxChunk) return -1;
  if (size <= kPoolMinChunk) return 0;
  return static_cast<int>(std::bit_width(size - 1)) - std::countr_zero(kPoolMinChunk);
}

// Busy-waits briefly, then yields: critical sections here are a few vector operations.
class SpinLock {
 public:
  void lock() noexcept {
    for (unsigned spins = 0; flag_.test_and_set(std::memory_order_acquire); ++spins)
      if (spins > 64) std::this_thread::yield();
  }
  bool try_lock() noexcept { return !flag_.test_and_set(std::memory_order_acquire); }
  void unlock() noexcept { flag_.clear(std::memory_order_release); }

 private:
  std::atomic_flag flag_ = ATOMIC_FLAG_INIT;
};

// Changed only under the owning shard's lock (plain load + store, no locked instruction); atomic
// so that statistics can read them at any time.
template <typename T>
void bump(std::atomic<T>& counter, T delta) noexcept {
  counter.store(counter.load(std::memory_order_relaxed) + delta, std::memory_order_relaxed);
}

struct alignas(64) Shard {
  SpinLock lock;
  std::array<std::vector<std::uint8_t*>, kClassCount> free;
  std::atomic<std::uint32_t> listed{0};  // bit per class with a non-empty list, for others to peek at
  std::atomic<std::uint64_t> allocations{0};
  std::atomic<std::uint64_t> releases{0};  // including release(node)
  std::atomic<std::int64_t> requested{0};  // bytes asked for, minus those given back
  std::atomic<std::int64_t> granules{0};   // granules in live chunks, minus those given back
};

struct alignas(64) BlockBits {
  std::atomic<std::uint32_t> live{0};  // bit per granule: a live chunk starts here
};

struct Arena {
  std::atomic<std::uint8_t*> base{nullptr};
  std::atomic<std::size_t> length{0};  // 0: slot unused
  // Guarded by carveMutex_:
  std::optional<VirtualMemory> memory;
  std::size_t carved = 0;               // bytes cut from the start (the bump)
  std::vector<bool> reclaimed;          // per block below `carved`: free again for any class
  std::vector<bool> freeNow;            // per block: scratch of reclaimFreeBlocks, which must not allocate
  std::size_t reclaimedBlocks = 0;
  // Read on release without the carve lock (see the file comment for who writes them when).
  std::unique_ptr<BlockBits[]> blocks;
  std::unique_ptr<std::atomic<std::uint8_t>[]> classOf;
  std::size_t granules = 0;

  // Whether `address` is inside, and its offset from the base (one load of it: trim may null it).
  bool contains(const void* address, std::size_t& offset) const noexcept {
    auto* start = base.load(std::memory_order_acquire);
    auto* byte = static_cast<const std::uint8_t*>(address);
    if (start == nullptr || byte < start || byte >= start + length.load(std::memory_order_acquire)) return false;
    offset = static_cast<std::size_t>(byte - start);
    return true;
  }
  bool contains(const void* address) const noexcept {
    std::size_t offset = 0;
    return contains(address, offset);
  }
  std::size_t granuleOf(const void* chunk) const noexcept {
    return static_cast<std::size_t>(static_cast<const std::uint8_t*>(chunk) - base.load(std::memory_order_relaxed)) /
           kGranule;
  }
  std::size_t blockCount() const noexcept { return granules / kGranulesPerBlock; }
  void setLive(std::size_t granule) noexcept {
    blocks[granule / kGranulesPerBlock].live.fetch_or(1U << (granule % kGranulesPerBlock), std::memory_order_relaxed);
  }
  bool clearLive(std::size_t granule) noexcept {
    const std::uint32_t bit = 1U << (granule % kGranulesPerBlock);
    return (blocks[granule / kGranulesPerBlock].live.fetch_and(~bit, std::memory_order_relaxed) & bit) != 0;
  }
  // Whether a live chunk covers any part of `block`: one starting in it, or a multi-block chunk
  // starting in an earlier block.
  bool blockLive(std::size_t block) const noexcept {
    std::size_t start = block;
    while (start > 0 && classOf[start * kGranulesPerBlock].load(std::memory_order_relaxed) == kContinuation) --start;
    const std::uint32_t bits = blocks[start].live.load(std::memory_order_relaxed);
    return start == block ? bits != 0 : (bits & 1U) != 0;
  }
  bool anyLive() const noexcept {
    for (std::size_t block = 0; block < blockCount(); ++block)
      if (blocks[block].live.load(std::memory_order_relaxed) != 0) return true;
    return false;
  }
  void setClass(std::size_t granule, std::uint8_t index) noexcept {
    classOf[granule].store(index, std::memory_order_relaxed);
  }
  void clearChunks() noexcept {
    for (std::size_t block = 0; block < blockCount(); ++block) blocks[block].live.store(0, std::memory_order_relaxed);
    for (std::size_t granule = 0; granule < granules; ++granule) setClass(granule, kNoClass);
    carved = 0;
    std::fill(reclaimed.begin(), reclaimed.end(), false);  // sized when made: no allocation
    reclaimedBlocks = 0;
  }
};

bool fullyHuge(const AllocationReport& report) noexcept {
  return report.mappedSize != 0 &&
         (report.hugeTlbBytes() == report.mappedSize || report.thpVerifiedBytes >= report.mappedSize);
}

double hugeTlbShare(const AllocationReport& report) noexcept {
  return report.mappedSize == 0 ? 0.0
                                : static_cast<double>(report.hugeTlbBytes()) / static_cast<double>(report.mappedSize);
}

}  // namespace

double PoolStats::fragmentation() const noexcept {
  const std::size_t uncarved = capacity > carved ? capacity - carved : 0;
  const std::size_t free = freeListed + uncarved;
  return free == 0 ? 0.0 : static_cast<double>(freeListed) / static_cast<double>(free);
}

// Every pool alive, for livePoolStats() and trimLivePools().
using PoolList = LiveList<MemoryPool*>;

// A pool's name cut to fit, so listing copies no string under the list's lock.
using ListedName = std::array<char, 64>;
ListedName listedName(const std::string& name) noexcept {
  ListedName out{};
  std::memcpy(out.data(), name.data(), std::min(name.size(), out.size() - 1));
  return out;
}

class MemoryPool::Impl {
 public:
  PoolList::Node listed;  // the pool in the process's list of pools (MemoryPool links it)

  explicit Impl(const MemoryPoolOptions& options)
      : options_(options), os_(os::current()) {
    if (options_.capacity == 0)
      throw Error(ErrorCode::InvalidArgument, "pool capacity 0: expected at least one 2 MiB block");
    if (!isPowerOfTwo(options_.alignment) || options_.alignment < kBlock)
      throw Error(ErrorCode::InvalidArgument, "pool alignment " + std::to_string(options_.alignment) +
                                                  ": expected a power of two of at least 2 MiB");
    shardCount_ = std::min<std::size_t>(std::bit_ceil(std::max<std::size_t>(os_.cpuCount(), 1)), kMaxShards);
    shards_ = std::make_unique<Shard[]>(shardCount_);
    std::string why;
    if (!addArena(alignUp(options_.capacity, kBlock), why))
      throw Error(ErrorCode::OutOfMemory, why, {.size = options_.capacity, .node = options_.node});
    firstReport_ = arenas_[0].memory->report();
    if (options_.trimAfterQuiet.count() > 0) trimmer_ = std::thread([this] { trimWhenQuiet(); });
  }

  ~Impl() {
    if (trimmer_.joinable()) {
      {
        std::lock_guard lock(trimMutex_);
        stopping_ = true;
      }
      trimWake_.notify_all();
      trimmer_.join();
    }
  }

  // Non-throwing: an error is a Result, and one that cannot be made for lack of memory is the
  // prepared Error::outOfMemory.
  Result<std::uint8_t*> allocate(std::size_t size) noexcept {
    try {
      return allocateOrThrowBadAlloc(size);
    } catch (const std::bad_alloc&) {
      countFailure(PoolFailure::NoMemory);
      return Error::outOfMemory({.size = size, .node = options_.node});
    }
  }

  Result<std::uint8_t*> allocateOrThrowBadAlloc(std::size_t size) {
    const int index = classIndex(size);
    if (index < 0) {
      countFailure(PoolFailure::BadSize);
      return Error(ErrorCode::InvalidArgument,
                   size == 0 ? std::string("size 0: expected 1 byte to ") + formatBytes(kPoolMaxChunk)
                             : "size " + formatBytes(size) + " is above the largest pool chunk (" +
                                   formatBytes(kPoolMaxChunk) + "): allocate it as its own VirtualMemory",
                   {.size = size, .node = options_.node});
    }
    const auto cls = static_cast<std::size_t>(index);
    Shard& here = shardHere();
    std::uint8_t* chunk = nullptr;
    {
      std::lock_guard lock(here.lock);
      chunk = takeListed(here, cls, size);
    }
    // Fresh space before another CPU's free chunks (sharing a block between CPUs shares its
    // cache line of live bits), and those before reclaiming or growing.
    std::string why;
    if (chunk == nullptr) chunk = carve(cls, size, here, why, /*reclaimOrGrow=*/false);
    if (chunk == nullptr) chunk = steal(cls, size);
    if (chunk == nullptr) chunk = carve(cls, size, here, why, /*reclaimOrGrow=*/true);
    if (chunk == nullptr) {
      countFailure(static_cast<PoolFailure>(lastGrowFailure_.load(std::memory_order_relaxed)));
      return Error(ErrorCode::OutOfMemory, why, {.size = size, .node = options_.node});
    }
    return chunk;
  }

  bool deallocate(void* pointer, std::size_t size) noexcept {
    const int index = classIndex(size);
    auto* chunk = static_cast<std::uint8_t*>(pointer);
    if (index < 0 || chunk == nullptr) return refuse();
    const auto cls = static_cast<std::size_t>(index);
    const std::size_t classBytes = kPoolSizeClasses[cls];
    Shard& here = shardHere();
    {
      // Under the shard lock: trim cannot take the mapping away while its bits are read.
      std::lock_guard lock(here.lock);
      std::size_t offset = 0;
      Arena* arena = find(chunk, offset);
      if (arena == nullptr || offset % std::min(classBytes, kBlock) != 0) return refuse();
      const std::size_t granule = offset / kGranule;
      if (arena->classOf[granule].load(std::memory_order_relaxed) != index || !arena->clearLive(granule)) return refuse();
      try {
        here.free[cls].push_back(chunk);
      } catch (...) {
        // No room to list it: it stays unlisted until its block is reclaimed.
      }
      updateListed(here);
      bump(here.releases, std::uint64_t{1});
      bump(here.requested, -static_cast<std::int64_t>(size));
      bump(here.granules, -static_cast<std::int64_t>(classBytes / kGranule));
    }
    resetIfOnlyForgottenLeft();
    return true;
  }

  // The spec's release(node): one live chunk is given up without naming it; it is reclaimed by
  // the reset when no reference is left.
  void forgetOne() noexcept {
    {
      // With every shard lock held the count of live chunks is exact: a snapshot taken while
      // other CPUs get and release can read 0 with chunks out, and refuse a rightful release.
      AllShardsLocked locked(*this);
      if (liveChunks() <= 0) {
        refuse();
        return;
      }
      bump(shardHere().releases, std::uint64_t{1});
    }
    forgotten_.fetch_add(1, std::memory_order_acq_rel);
    resetIfOnlyForgottenLeft();
  }

  bool owns(const void* address) const noexcept {
    std::size_t offset = 0;
    return find(address, offset) != nullptr;
  }

  std::size_t trim() {
    EverythingLocked locked(*this);
    std::size_t given = 0;
    const std::size_t count = arenaCount_.load(std::memory_order_relaxed);
    for (std::size_t slot = 1; slot < count; ++slot) {
      Arena& arena = arenas_[slot];
      if (!arena.memory || arena.anyLive()) continue;
      unlistIf([&](std::uint8_t* chunk) { return arena.contains(chunk); });
      given += arena.length.load(std::memory_order_relaxed);
      arena.length.store(0, std::memory_order_release);
      arena.base.store(nullptr, std::memory_order_release);
      arena.memory.reset();
    }
    // The first mapping stays; while nothing is live its pages can go back (not hugetlb ones:
    // a private hugetlb page given back may be gone when touched again, which is SIGBUS).
    if (liveChunks() == 0) given += arenas_[0].memory->discard();
    if (given != 0) trims_.fetch_add(1, std::memory_order_relaxed);
    return given;
  }

  PoolStats stats() const {
    PoolStats out;
    std::int64_t requested = 0;
    std::int64_t granules = 0;
    for (std::size_t shard = 0; shard < shardCount_; ++shard) {
      Shard& s = shards_[shard];
      std::lock_guard lock(s.lock);
      out.allocations += s.allocations.load(std::memory_order_relaxed);
      out.releases += s.releases.load(std::memory_order_relaxed);
      requested += s.requested.load(std::memory_order_relaxed);
      granules += s.granules.load(std::memory_order_relaxed);
      for (std::size_t index = 0; index < kClassCount; ++index) {
        out.freeListed += s.free[index].size() * kPoolSizeClasses[index];
        if (!s.free[index].empty()) out.largestFreeBlock = std::max(out.largestFreeBlock, kPoolSizeClasses[index]);
      }
    }
    out.liveChunks = out.allocations > out.releases ? static_cast<std::size_t>(out.allocations - out.releases) : 0;
    out.requested = static_cast<std::size_t>(std::max<std::int64_t>(0, requested - requestedBase_.load(std::memory_order_relaxed)));
    const auto inUseGranules = std::max<std::int64_t>(0, granules - granulesBase_.load(std::memory_order_relaxed));
    out.inUse = static_cast<std::size_t>(inUseGranules) * kGranule;
    raiseHighWater(static_cast<std::uint64_t>(inUseGranules));
    out.highWater = static_cast<std::size_t>(highWater_.load(std::memory_order_relaxed)) * kGranule;
    out.failedAllocations = failed_.load(std::memory_order_relaxed);
    for (std::size_t kind = 0; kind < kPoolFailureKinds; ++kind) out.failures[kind] = failures_[kind].load(std::memory_order_relaxed);
    out.fallbacksOut = fallbacksOut_.load(std::memory_order_relaxed);
    out.fallbacksIn = fallbacksIn_.load(std::memory_order_relaxed);
    out.invalidReleases = invalid_.load(std::memory_order_relaxed);
    out.resets = resets_.load(std::memory_order_relaxed);
    out.growths = growths_.load(std::memory_order_relaxed);
    out.trims = trims_.load(std::memory_order_relaxed);
    out.reclaims = reclaims_.load(std::memory_order_relaxed);
    {
      std::lock_guard lock(carveMutex_);
      for (std::size_t slot = 0; slot < arenaCount_.load(std::memory_order_relaxed); ++slot) {
        const Arena& arena = arenas_[slot];
        if (!arena.memory) continue;
        ++out.arenas;
        out.capacity += arena.length.load(std::memory_order_relaxed);
        out.carved += arena.carved - arena.reclaimedBlocks * kBlock;
        out.largestFreeBlock = std::max(out.largestFreeBlock, longestFreeRun(arena));
        const auto& report = arena.memory->report();
        out.hugeBytes += report.hugeTlbBytes() + std::min(report.thpVerifiedBytes, report.thpEligibleBytes());
      }
    }
    out.huge = fullyHuge(firstReport_);
    for (const auto& segment : firstReport_.segments) out.pageSize = std::max(out.pageSize, segment.pageSize);
    return out;
  }

  const MemoryPoolOptions& options() const noexcept { return options_; }

  void countFallback(bool servedElsewhere) noexcept {
    (servedElsewhere ? fallbacksOut_ : fallbacksIn_).fetch_add(1, std::memory_order_relaxed);
  }
  const AllocationReport& firstReport() const noexcept { return firstReport_; }
  std::string lastGrowth() const {
    std::lock_guard lock(carveMutex_);
    return lastGrowth_;
  }

 private:
  // Every shard lock, in shard order, for as long as it lives. Allocates nothing: releases and
  // resets take it, and they must work when memory is short.
  class AllShardsLocked {
   public:
    explicit AllShardsLocked(const Impl& pool) noexcept : pool_(pool) {
      for (std::size_t shard = 0; shard < pool_.shardCount_; ++shard) pool_.shards_[shard].lock.lock();
    }
    ~AllShardsLocked() {
      for (std::size_t shard = pool_.shardCount_; shard-- > 0;) pool_.shards_[shard].lock.unlock();
    }
    AllShardsLocked(const AllShardsLocked&) = delete;
    AllShardsLocked& operator=(const AllShardsLocked&) = delete;

   private:
    const Impl& pool_;
  };
  // The carve lock first, then every shard lock.
  struct EverythingLocked {
    explicit EverythingLocked(const Impl& pool) noexcept : carve(pool.carveMutex_), shards(pool) {}
    std::lock_guard<std::mutex> carve;
    AllShardsLocked shards;
  };

  Shard& shardHere() const noexcept { return shards_[os_.currentCpu() & (shardCount_ - 1)]; }

  // Exact with every shard lock held; a snapshot otherwise.
  std::int64_t liveChunks() const noexcept {
    std::int64_t live = 0;
    for (std::size_t shard = 0; shard < shardCount_; ++shard)
      live += static_cast<std::int64_t>(shards_[shard].allocations.load(std::memory_order_relaxed)) -
              static_cast<std::int64_t>(shards_[shard].releases.load(std::memory_order_relaxed));
    return live;
  }

  std::int64_t granulesInUse() const noexcept {
    std::int64_t granules = 0;
    for (std::size_t shard = 0; shard < shardCount_; ++shard) granules += shards_[shard].granules.load(std::memory_order_relaxed);
    return granules - granulesBase_.load(std::memory_order_relaxed);
  }

  bool refuse() noexcept {
    invalid_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }

  void raiseHighWater(std::uint64_t granules) const noexcept {
    std::uint64_t seen = highWater_.load(std::memory_order_relaxed);
    while (granules > seen && !highWater_.compare_exchange_weak(seen, granules, std::memory_order_relaxed)) {
    }
  }

  // The mapping that holds `address` and the offset there, from one reading of its base.
  Arena* find(const void* address, std::size_t& offset) const noexcept {
    const std::size_t count = arenaCount_.load(std::memory_order_acquire);
    for (std::size_t slot = 0; slot < count; ++slot)
      if (arenas_[slot].contains(address, offset)) return const_cast<Arena*>(&arenas_[slot]);
    return nullptr;
  }

  // Called with shard.lock held, after its lists changed.
  static void updateListed(Shard& shard) noexcept {
    std::uint32_t mask = 0;
    for (std::size_t cls = 0; cls < kClassCount; ++cls)
      if (!shard.free[cls].empty()) mask |= 1U << cls;
    shard.listed.store(mask, std::memory_order_relaxed);
  }

  // Drops listed chunks for which `gone` is true from every shard. All shard locks held.
  template <typename Predicate>
  void unlistIf(Predicate gone) noexcept {
    for (std::size_t shard = 0; shard < shardCount_; ++shard) {
      for (auto& list : shards_[shard].free) std::erase_if(list, gone);
      updateListed(shards_[shard]);
    }
  }

  // A chunk becomes live: its bit and its shard's counters. Called with `shard`'s lock held.
  void countGet(Shard& shard, std::uint8_t* chunk, std::size_t cls, std::size_t size) const noexcept {
    std::size_t offset = 0;
    find(chunk, offset)->setLive(offset / kGranule);
    bump(shard.allocations, std::uint64_t{1});
    bump(shard.requested, static_cast<std::int64_t>(size));
    bump(shard.granules, static_cast<std::int64_t>(kPoolSizeClasses[cls] / kGranule));
  }

  // Called with shard.lock held.
  std::uint8_t* takeListed(Shard& shard, std::size_t cls, std::size_t size) const noexcept {
    auto& list = shard.free[cls];
    if (list.empty()) return nullptr;
    std::uint8_t* chunk = list.back();
    list.pop_back();
    if (list.empty()) updateListed(shard);
    countGet(shard, chunk, cls, size);
    return chunk;
  }

  std::uint8_t* steal(std::size_t cls, std::size_t size) noexcept {
    for (std::size_t shard = 0; shard < shardCount_; ++shard) {
      Shard& other = shards_[shard];
      if ((other.listed.load(std::memory_order_relaxed) & (1U << cls)) == 0 || !other.lock.try_lock()) continue;
      std::uint8_t* chunk = takeListed(other, cls, size);
      other.lock.unlock();
      if (chunk != nullptr) return chunk;
    }
    return nullptr;
  }

  // Cuts a new chunk from free space: the uncarved end of a mapping, then (when allowed) blocks
  // reclaimed from the free lists, then a new mapping.
  // Throws std::bad_alloc only (from growing); the carve lock is released on the way out.
  std::uint8_t* carve(std::size_t cls, std::size_t size, Shard& here, std::string& why, bool reclaimOrGrow) {
    const std::size_t classBytes = kPoolSizeClasses[cls];
    const std::size_t need = std::max(classBytes, kBlock);
    std::lock_guard lock(carveMutex_);
    std::uint8_t* start = nullptr;
    Arena* arena = nullptr;
    bool reclaimedOnce = false;
    while (!findRoom(need, arena, start)) {
      if (!reclaimOrGrow) return nullptr;
      if (!reclaimedOnce) {
        reclaimedOnce = true;
        if (reclaimFreeBlocks() != 0) continue;
      }
      if (!grow(need, why)) return nullptr;  // on success the new mapping has room: look again
    }
    const std::size_t first = arena->granuleOf(start);
    const std::size_t pieces = need / classBytes;
    for (std::size_t piece = 0; piece < pieces; ++piece) arena->setClass(first + piece * (classBytes / kGranule), static_cast<std::uint8_t>(cls));
    for (std::size_t block = 1; block < need / kBlock; ++block) arena->setClass(first + block * kGranulesPerBlock, kContinuation);
    {
      // Still under the carve lock, so a reclaim or reset never sees the chunk neither live nor listed.
      std::lock_guard shardLock(here.lock);
      countGet(here, start, cls, size);
      try {
        for (std::size_t piece = pieces - 1; piece > 0; --piece) here.free[cls].push_back(start + piece * classBytes);
      } catch (...) {
        // Pieces not listed stay unlisted until their block is reclaimed.
      }
      updateListed(here);
    }
    raiseHighWater(static_cast<std::uint64_t>(std::max<std::int64_t>(0, granulesInUse())));
    return start;
  }

  // Room for `need` bytes: a run of reclaimed blocks, or the end of a mapping. Carve lock held.
  bool findRoom(std::size_t need, Arena*& found, std::uint8_t*& start) noexcept {
    const std::size_t blocks = need / kBlock;
    const std::size_t count = arenaCount_.load(std::memory_order_relaxed);
    for (std::size_t slot = 0; slot < count; ++slot) {
      Arena& arena = arenas_[slot];
      if (!arena.memory) continue;
      if (arena.reclaimedBlocks >= blocks) {
        for (std::size_t first = 0, run = 0; first + run < arena.carved / kBlock;) {
          if (!arena.reclaimed[first + run]) {
            first += run + 1;
            run = 0;
            continue;
          }
          if (++run < blocks) continue;
          for (std::size_t block = first; block < first + blocks; ++block) arena.reclaimed[block] = false;
          arena.reclaimedBlocks -= blocks;
          found = &arena;
          start = arena.base.load(std::memory_order_relaxed) + first * kBlock;
          return true;
        }
      }
      if (arena.carved + need <= arena.length.load(std::memory_order_relaxed)) {
        found = &arena;
        start = arena.base.load(std::memory_order_relaxed) + arena.carved;
        arena.carved += need;
        return true;
      }
    }
    return false;
  }

  // Takes back every carved 2 MiB block without a live chunk: its chunks leave the free lists and
  // the block can be carved again for any class. Carve lock held. Returns the blocks reclaimed.
  std::size_t reclaimFreeBlocks() noexcept {
    AllShardsLocked shards(*this);
    std::size_t total = 0;
    const std::size_t count = arenaCount_.load(std::memory_order_relaxed);
    for (std::size_t slot = 0; slot < count; ++slot) {
      Arena& arena = arenas_[slot];
      if (!arena.memory) continue;
      auto& free = arena.freeNow;  // sized when the mapping was made: no allocation here
      const std::size_t carvedBlocks = arena.carved / kBlock;
      for (std::size_t block = 0; block < carvedBlocks; ++block) free[block] = !arena.reclaimed[block] && !arena.blockLive(block);
      std::size_t found = 0;
      for (std::size_t block = 0; block < carvedBlocks; ++block) {
        if (!free[block]) continue;
        arena.reclaimed[block] = true;
        for (std::size_t granule = 0; granule < kGranulesPerBlock; ++granule)
          arena.setClass(block * kGranulesPerBlock + granule, kNoClass);
        ++found;
      }
      if (found == 0) continue;
      const auto* base = arena.base.load(std::memory_order_relaxed);
      unlistIf([&](std::uint8_t* chunk) {
        return arena.contains(chunk) && arena.reclaimed[static_cast<std::size_t>(chunk - base) / kBlock];
      });
      arena.reclaimedBlocks += found;
      total += found;
      // Free blocks at the end of the carved part join the uncarved rest: one piece again.
      while (arena.carved != 0 && arena.reclaimed[arena.carved / kBlock - 1]) {
        arena.reclaimed[arena.carved / kBlock - 1] = false;
        --arena.reclaimedBlocks;
        arena.carved -= kBlock;
      }
    }
    if (total != 0) reclaims_.fetch_add(1, std::memory_order_relaxed);
    return total;
  }

  void countFailure(PoolFailure kind) noexcept {
    failed_.fetch_add(1, std::memory_order_relaxed);
    failures_[static_cast<std::size_t>(kind)].fetch_add(1, std::memory_order_relaxed);
  }

  // The longest free stretch of an arena, as a request without growing would find it: blocks
  // given back or holding no live chunk (a reclaim takes those back) run into the uncarved end.
  // Carve lock held.
  static std::size_t longestFreeRun(const Arena& arena) noexcept {
    std::size_t longest = 0;
    std::size_t run = 0;
    for (std::size_t block = 0; block < arena.carved / kBlock; ++block) {
      const bool free = (block < arena.reclaimed.size() && arena.reclaimed[block]) || !arena.blockLive(block);
      run = free ? run + kBlock : 0;
      longest = std::max(longest, run);
    }
    return std::max(longest, run + (arena.length.load(std::memory_order_relaxed) - arena.carved));
  }

  // Adds a backing mapping of at least `need` bytes. Called with carveMutex_ held.
  bool grow(std::size_t need, std::string& why) {
    std::size_t capacity = 0;
    for (std::size_t slot = 0; slot < arenaCount_.load(std::memory_order_relaxed); ++slot)
      capacity += arenas_[slot].length.load(std::memory_order_relaxed);
    lastGrowFailure_.store(static_cast<std::uint8_t>(PoolFailure::Full), std::memory_order_relaxed);
    if (!options_.grow) {
      why = "the pool is full (" + formatBytes(capacity) + ") and growth is off";
      lastGrowth_ = "refused: " + why;
      return false;
    }
    const std::size_t size = alignUp(std::max(need, options_.growthSize != 0 ? options_.growthSize : options_.capacity), kBlock);
    if (options_.maxCapacity != 0 && capacity + size > options_.maxCapacity) {
      why = "the pool is full (" + formatBytes(capacity) + ") and growing by " + formatBytes(size) +
            " would pass its maximum of " + formatBytes(options_.maxCapacity);
      lastGrowth_ = "refused: " + why;
      return false;
    }
    if (!addArena(size, why)) {
      if (arenaCount_.load(std::memory_order_relaxed) < kMaxArenas)
        lastGrowFailure_.store(static_cast<std::uint8_t>(PoolFailure::NoMemory), std::memory_order_relaxed);
      lastGrowth_ = "failed: " + why;
      return false;
    }
    growths_.fetch_add(1, std::memory_order_relaxed);
    return true;
  }

  bool addArena(std::size_t size, std::string& why) {
    std::size_t slot = 0;
    const std::size_t count = arenaCount_.load(std::memory_order_relaxed);
    while (slot < count && arenas_[slot].memory) ++slot;
    if (slot == kMaxArenas) {
      why = "the pool already has " + std::to_string(kMaxArenas) + " backing mappings; make it larger at the start";
      return false;
    }
    VirtualMemoryOptions mapping;
    mapping.size = size;
    mapping.hugePages = options_.hugePages;
    mapping.oneGbPages = options_.oneGbPages;
    mapping.transparentHugePages = options_.transparentHugePages;
    mapping.alignment = options_.alignment;
    mapping.node = options_.node;
    mapping.numaPolicy = options_.numaPolicy;
    mapping.lock = options_.lock;
    mapping.prefaultThreads = options_.prefaultThreads;
    mapping.listed = false;  // shown as the pool it backs, not as an allocation of its own
    mapping.name = options_.name;
    auto memory = VirtualMemory::tryAllocate(mapping);
    if (!memory.ok()) {
      why = "the pool needs " + formatBytes(size) + " more: " + memory.error().what();
      return false;
    }
    if (slot != 0 && !options_.growthMayDegrade && hugeTlbShare(memory.value().report()) < hugeTlbShare(firstReport_)) {
      why = "the pool is full; growing it by " + formatBytes(size) + " would give " +
            memory.value().report().summary() + ", smaller pages than its first mapping (growthMayDegrade is off)";
      return false;
    }
    // Everything that allocates first, so that a std::bad_alloc leaves the slot as it was.
    std::string got = memory.value().report().summary();
    for (const auto& decision : memory.value().report().decisions) got += "; " + decision;
    const std::size_t granules = size / kGranule;
    auto blocks = std::make_unique<BlockBits[]>(granules / kGranulesPerBlock);
    auto classOf = std::make_unique<std::atomic<std::uint8_t>[]>(granules);
    std::vector<bool> reclaimed(granules / kGranulesPerBlock);
    std::vector<bool> freeNow(granules / kGranulesPerBlock);
    Arena& arena = arenas_[slot];
    arena.granules = granules;
    arena.blocks = std::move(blocks);
    arena.classOf = std::move(classOf);
    arena.reclaimed = std::move(reclaimed);
    arena.freeNow = std::move(freeNow);
    arena.memory.emplace(std::move(memory).value());
    if (slot != 0) lastGrowth_.swap(got);  // the pool's growth; the first mapping's report is report()
    arena.clearChunks();
    arena.length.store(size, std::memory_order_release);
    arena.base.store(arena.memory->data(), std::memory_order_release);
    if (slot == count) arenaCount_.store(count + 1, std::memory_order_release);
    return true;
  }

  void resetIfOnlyForgottenLeft() noexcept {
    if (forgotten_.load(std::memory_order_acquire) != 0 && liveChunks() == 0) reset();
  }

  // Nothing is live but chunks given up by release(node): everything is free again.
  void reset() noexcept {
    EverythingLocked locked(*this);
    if (liveChunks() != 0 || forgotten_.load(std::memory_order_relaxed) == 0) return;  // changed meanwhile
    std::int64_t requested = 0;
    std::int64_t granules = 0;
    unlistIf([](std::uint8_t*) { return true; });
    for (std::size_t shard = 0; shard < shardCount_; ++shard) {
      requested += shards_[shard].requested.load(std::memory_order_relaxed);
      granules += shards_[shard].granules.load(std::memory_order_relaxed);
    }
    for (std::size_t slot = 0; slot < arenaCount_.load(std::memory_order_relaxed); ++slot)
      if (arenas_[slot].memory) arenas_[slot].clearChunks();
    // What the counters still hold belongs to the forgotten chunks.
    requestedBase_.store(requested, std::memory_order_relaxed);
    granulesBase_.store(granules, std::memory_order_relaxed);
    forgotten_.store(0, std::memory_order_relaxed);
    resets_.fetch_add(1, std::memory_order_relaxed);
  }

  void trimWhenQuiet() {
    std::uint64_t lastActivity = ~std::uint64_t{0};
    std::unique_lock lock(trimMutex_);
    while (!trimWake_.wait_for(lock, options_.trimAfterQuiet, [this] { return stopping_; })) {
      std::uint64_t activity = 0;
      for (std::size_t shard = 0; shard < shardCount_; ++shard)
        activity += shards_[shard].allocations.load(std::memory_order_relaxed) +
                    shards_[shard].releases.load(std::memory_order_relaxed);
      if (activity == lastActivity) {
        lock.unlock();
        try {
          trim();
        } catch (...) {
        }
        lock.lock();
      }
      lastActivity = activity;
    }
  }

  MemoryPoolOptions options_;
  os::Platform& os_;
  AllocationReport firstReport_;
  std::string lastGrowth_;  // the last grow()'s outcome, for people; under carveMutex_
  std::array<Arena, kMaxArenas> arenas_;
  std::atomic<std::size_t> arenaCount_{0};
  mutable std::mutex carveMutex_;
  std::unique_ptr<Shard[]> shards_;
  std::size_t shardCount_ = 0;
  mutable std::atomic<std::uint64_t> highWater_{0};
  std::atomic<std::int64_t> requestedBase_{0};
  std::atomic<std::int64_t> granulesBase_{0};
  std::atomic<std::uint64_t> forgotten_{0};  // chunks given up by release(node) since the last reset
  std::atomic<std::uint64_t> failed_{0};
  std::atomic<std::uint64_t> invalid_{0};
  std::atomic<std::uint64_t> resets_{0};
  std::array<std::atomic<std::uint64_t>, kPoolFailureKinds> failures_{};
  std::atomic<std::uint8_t> lastGrowFailure_{static_cast<std::uint8_t>(PoolFailure::Full)};  // why the last grow() failed
  std::atomic<std::uint64_t> fallbacksOut_{0};
  std::atomic<std::uint64_t> fallbacksIn_{0};
  std::atomic<std::uint64_t> growths_{0};
  std::atomic<std::uint64_t> trims_{0};
  std::atomic<std::uint64_t> reclaims_{0};
  std::thread trimmer_;
  std::mutex trimMutex_;
  std::condition_variable trimWake_;
  bool stopping_ = false;
};

// ---- MemoryPool

MemoryPool::MemoryPool(const MemoryPoolOptions& options) : impl_(std::make_unique<Impl>(options)) {
  impl_->listed.value = this;
  PoolList::instance().link(&impl_->listed);
}

MemoryPool::MemoryPool(std::size_t size, bool hugePages, std::uint32_t node)
    : MemoryPool([&] {
        MemoryPoolOptions options;
        options.capacity = size;
        options.hugePages = hugePages;
        options.transparentHugePages = hugePages;
        options.node = node;
        options.numaPolicy = NumaPolicy::Preferred;
        return options;
      }()) {}

MemoryPool::~MemoryPool() { PoolList::instance().unlink(&impl_->listed); }

Result<std::uint8_t*> MemoryPool::tryAllocate(std::size_t size) noexcept { return impl_->allocate(size); }
std::uint8_t* MemoryPool::allocate(std::size_t size) { return impl_->allocate(size).value(); }
bool MemoryPool::deallocate(void* chunk, std::size_t size) noexcept { return impl_->deallocate(chunk, size); }
bool MemoryPool::owns(const void* address) const noexcept { return impl_->owns(address); }
std::size_t MemoryPool::trim() { return impl_->trim(); }
void MemoryPool::countFallback(bool servedElsewhere) noexcept { impl_->countFallback(servedElsewhere); }
const std::string& MemoryPool::name() const noexcept { return impl_->options().name; }

std::string_view toString(PoolFailure failure) noexcept {
  switch (failure) {
    case PoolFailure::BadSize: return "bad_size";
    case PoolFailure::Full: return "full";
    case PoolFailure::NoMemory: return "no_memory";
  }
  return "no_memory";
}

double PoolStats::freeSpaceFragmentation() const noexcept {
  const std::size_t free = capacity > inUse ? capacity - inUse : 0;
  if (free == 0) return 0.0;
  return 1.0 - static_cast<double>(std::min(largestFreeBlock, free)) / static_cast<double>(free);
}

std::size_t trimLivePools() {
  std::size_t given = 0;
  PoolList::instance().forEach([&](MemoryPool* pool) { given += pool->trim(); });
  return given;
}

std::vector<ListedPoolStats> livePoolStats() {
  struct Copied {
    ListedName name;
    std::optional<std::uint32_t> node;
    PoolStats stats;
  };
  // Names as fixed arrays: no string is copied under the list's lock.
  const auto copied = PoolList::instance().copyOut<Copied>([](MemoryPool* pool) {
    return Copied{listedName(pool->name()), pool->node(), pool->stats()};
  });
  std::vector<ListedPoolStats> out;
  out.reserve(copied.size());
  for (const auto& pool : copied) out.push_back({pool.name.data(), pool.node, pool.stats});
  return out;
}
PoolStats MemoryPool::stats() const { return impl_->stats(); }
std::optional<std::uint32_t> MemoryPool::node() const noexcept { return impl_->options().node; }
const AllocationReport& MemoryPool::report() const noexcept { return impl_->firstReport(); }
std::string MemoryPool::lastGrowth() const { return impl_->lastGrowth(); }

std::size_t MemoryPool::classSize(std::size_t size) noexcept {
  const int index = classIndex(size);
  return index < 0 ? 0 : kPoolSizeClasses[static_cast<std::size_t>(index)];
}

bool MemoryPool::isHugePages(std::uint32_t) const { return fullyHuge(impl_->firstReport()); }

std::uint8_t* MemoryPool::get(std::size_t size, std::uint32_t) {
  auto chunk = impl_->allocate(size);
  return chunk.ok() ? chunk.value() : nullptr;
}

void MemoryPool::release(std::uint32_t) { impl_->forgetOne(); }

bool MemoryPool::release(void* chunk, std::size_t size, std::uint32_t) noexcept { return impl_->deallocate(chunk, size); }

std::optional<ChunkSource::Chunk> IMemoryPool::takeChunk(std::size_t size, std::uint32_t node) {
  std::uint8_t* address = get(size, node);
  if (address == nullptr) return std::nullopt;
  return Chunk{address, MemoryPool::classSize(size), node, isHugePages(node)};
}

std::optional<PoolLease> PoolLease::take(std::shared_ptr<IMemoryPool> pool, std::size_t size, std::uint32_t node) {
  std::uint8_t* address = pool->get(size, node);
  if (address == nullptr) return std::nullopt;
  return PoolLease(std::move(pool), address, size, node);
}

PoolLease& PoolLease::operator=(PoolLease&& other) noexcept {
  if (this == &other) return *this;
  reset();
  pool_ = std::move(other.pool_);
  address_ = std::exchange(other.address_, nullptr);
  size_ = other.size_;
  node_ = other.node_;
  return *this;
}

void PoolLease::reset() noexcept {
  if (address_ != nullptr) pool_->release(address_, size_, node_);
  address_ = nullptr;
  pool_.reset();
}

}  // namespace xmem
