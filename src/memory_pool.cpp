// MemoryPool: size classes carved from backing mappings, sharded free lists, reset on the last
// release, growth and trimming. How the pieces stay consistent without one lock:
// - `packed_` counts live chunks and 64 KiB granules in use in one word, so get and release each
//   make one atomic read-modify-write on shared state; its live part reaching 0 triggers reset().
// - Free lists are per shard (threads map to shards), each behind a small spin lock.
// - Carving (cutting new chunks from a mapping), growth, reset and trim take `carveMutex_`; reset
//   and trim also take every shard lock, so no get can be half-way through a free list or a carve.
// - Each mapping has a bit per granule marking where live chunks start and the class of every
//   carved chunk, so release() can refuse foreign pointers, double releases and wrong sizes.
//   The bit changes only under a shard lock, together with the free list, so under all locks
//   every carved chunk is either live or listed.
// - Free lists never merge by themselves; when a request finds no room, 2 MiB blocks with no
//   live chunk are taken back from the lists ("reclaimed") and carved again for any class.
#include <xmem/memory_pool.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace xmem {
namespace {

constexpr std::size_t kBlock = 2 * MiB;  // chunks below this are cut from whole blocks
constexpr std::size_t kGranule = kPoolMinChunk;
constexpr std::size_t kClassCount = kPoolSizeClasses.size();
constexpr std::size_t kMaxArenas = 64;
constexpr std::uint8_t kNoClass = 0xFF;
constexpr std::uint8_t kContinuation = 0xFE;  // first granule of a later block of a multi-block chunk
constexpr std::size_t kGranulesPerBlock = kBlock / kGranule;
constexpr unsigned kLiveShift = 40;
constexpr std::uint64_t kGranuleMask = (std::uint64_t{1} << kLiveShift) - 1;
constexpr std::uint64_t kOneLive = std::uint64_t{1} << kLiveShift;

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

struct alignas(64) Shard {
  SpinLock lock;
  std::array<std::vector<std::uint8_t*>, kClassCount> free;  // guarded by lock
  std::atomic<std::uint64_t> allocations{0};
  std::atomic<std::uint64_t> releases{0};
  std::atomic<std::int64_t> requested{0};  // bytes asked for, minus those given back
};

struct Arena {
  std::atomic<std::uint8_t*> base{nullptr};
  std::atomic<std::size_t> length{0};  // 0: slot unused
  // Guarded by carveMutex_:
  std::optional<VirtualMemory> memory;
  std::size_t carved = 0;               // bytes cut from the start (the bump)
  std::vector<bool> reclaimed;          // per block below `carved`: free again for any class
  std::size_t reclaimedBlocks = 0;
  // Read on release without the lock; written while no chunk of the arena is live.
  std::unique_ptr<std::atomic<std::uint64_t>[]> live;   // bit per granule: a live chunk starts here
  std::unique_ptr<std::atomic<std::uint8_t>[]> classOf;  // class of the chunk starting at a granule
  std::size_t granules = 0;

  bool contains(const void* address) const noexcept {
    auto* start = base.load(std::memory_order_acquire);
    auto* byte = static_cast<const std::uint8_t*>(address);
    return start != nullptr && byte >= start && byte < start + length.load(std::memory_order_acquire);
  }
  bool anyLive() const noexcept {
    for (std::size_t word = 0; word < (granules + 63) / 64; ++word)
      if (live[word].load(std::memory_order_relaxed) != 0) return true;
    return false;
  }
  bool liveAt(std::size_t granule) const noexcept {
    return ((live[granule / 64].load(std::memory_order_relaxed) >> (granule % 64)) & 1U) != 0;
  }
  // Whether a live chunk covers any part of `block`: one starting in it, or a multi-block chunk
  // starting in an earlier block.
  bool blockLive(std::size_t block) const noexcept {
    std::size_t start = block;
    while (start > 0 && classOf[start * kGranulesPerBlock].load(std::memory_order_relaxed) == kContinuation) --start;
    if (start != block) return liveAt(start * kGranulesPerBlock);
    for (std::size_t granule = block * kGranulesPerBlock; granule < (block + 1) * kGranulesPerBlock; ++granule)
      if (liveAt(granule)) return true;
    return false;
  }
  void setClass(std::size_t firstGranule, std::size_t count, std::uint8_t index) noexcept {
    for (std::size_t granule = firstGranule; granule < firstGranule + count; ++granule)
      classOf[granule].store(index, std::memory_order_relaxed);
  }
  void clearChunks() noexcept {
    for (std::size_t word = 0; word < (granules + 63) / 64; ++word) live[word].store(0, std::memory_order_relaxed);
    setClass(0, granules, kNoClass);
    carved = 0;
    reclaimed.assign(granules * kGranule / kBlock, false);
    reclaimedBlocks = 0;
  }
};

std::atomic<std::size_t> nextThreadIndex{0};

std::size_t threadIndex() noexcept {
  thread_local const std::size_t index = nextThreadIndex.fetch_add(1, std::memory_order_relaxed);
  return index;
}

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

class MemoryPool::Impl {
 public:
  explicit Impl(const MemoryPoolOptions& options) : options_(options) {
    if (options_.capacity == 0)
      throw Error(ErrorCode::InvalidArgument, "pool capacity 0: expected at least one 2 MiB block");
    if (!isPowerOfTwo(options_.alignment) || options_.alignment < kBlock)
      throw Error(ErrorCode::InvalidArgument, "pool alignment " + std::to_string(options_.alignment) +
                                                  ": expected a power of two of at least 2 MiB");
    const unsigned cores = std::max(2U, std::thread::hardware_concurrency());
    shardCount_ = std::min<std::size_t>(std::bit_ceil(cores), 64);
    shards_ = std::make_unique<Shard[]>(shardCount_);
    std::string why;
    if (!addArena(alignUp(options_.capacity, kBlock), why)) throw Error(ErrorCode::OutOfMemory, why, {.size = options_.capacity, .node = options_.node});
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

  Result<std::uint8_t*> allocate(std::size_t size) noexcept {
    const int index = classIndex(size);
    if (index < 0) {
      failed_.fetch_add(1, std::memory_order_relaxed);
      return Error(ErrorCode::InvalidArgument,
                   size == 0 ? std::string("size 0: expected 1 byte to ") + formatBytes(kPoolMaxChunk)
                             : "size " + formatBytes(size) + " is above the largest pool chunk (" +
                                   formatBytes(kPoolMaxChunk) + "): allocate it as its own VirtualMemory",
                   {.size = size, .node = options_.node});
    }
    const auto classBytes = kPoolSizeClasses[static_cast<std::size_t>(index)];
    const std::uint64_t delta = kOneLive + classBytes / kGranule;
    const std::uint64_t now = packed_.fetch_add(delta, std::memory_order_acq_rel) + delta;
    raiseHighWater(now & kGranuleMask);

    Shard& mine = shards_[threadIndex() & (shardCount_ - 1)];
    std::uint8_t* chunk = pop(mine, static_cast<std::size_t>(index));
    if (chunk == nullptr) chunk = steal(static_cast<std::size_t>(index));
    std::string why;
    if (chunk == nullptr) chunk = carve(static_cast<std::size_t>(index), mine, why);
    if (chunk == nullptr) {
      failed_.fetch_add(1, std::memory_order_relaxed);
      dropLive(delta);
      return Error(ErrorCode::OutOfMemory, why, {.size = size, .node = options_.node});
    }
    mine.allocations.fetch_add(1, std::memory_order_relaxed);
    mine.requested.fetch_add(static_cast<std::int64_t>(size), std::memory_order_relaxed);
    return chunk;
  }

  bool deallocate(void* pointer, std::size_t size) noexcept {
    const int index = classIndex(size);
    auto* chunk = static_cast<std::uint8_t*>(pointer);
    Arena* arena = index < 0 || chunk == nullptr ? nullptr : find(chunk);
    if (arena == nullptr) return refuse();
    const auto classBytes = kPoolSizeClasses[static_cast<std::size_t>(index)];
    const auto offset = static_cast<std::size_t>(chunk - arena->base.load(std::memory_order_relaxed));
    if (offset % std::min(classBytes, kBlock) != 0) return refuse();
    const std::size_t granule = offset / kGranule;
    if (arena->classOf[granule].load(std::memory_order_relaxed) != index) return refuse();
    const std::uint64_t bit = std::uint64_t{1} << (granule % 64);

    Shard& mine = shards_[threadIndex() & (shardCount_ - 1)];
    {
      std::lock_guard lock(mine.lock);
      if ((arena->live[granule / 64].fetch_and(~bit, std::memory_order_acq_rel) & bit) == 0) return refuse();
      try {
        mine.free[static_cast<std::size_t>(index)].push_back(chunk);
      } catch (...) {
        // No room to list it: the chunk stays unlisted until its block is reclaimed or the reset.
      }
    }
    mine.releases.fetch_add(1, std::memory_order_relaxed);
    mine.requested.fetch_sub(static_cast<std::int64_t>(size), std::memory_order_relaxed);
    dropLive(kOneLive + classBytes / kGranule);
    return true;
  }

  // The spec's release(node): one live chunk is forgotten; it is reclaimed at the reset.
  void forgetOne() noexcept {
    std::uint64_t value = packed_.load(std::memory_order_relaxed);
    do {
      if ((value >> kLiveShift) == 0) {
        refuse();
        return;
      }
    } while (!packed_.compare_exchange_weak(value, value - kOneLive, std::memory_order_acq_rel));
    Shard& mine = shards_[threadIndex() & (shardCount_ - 1)];
    mine.releases.fetch_add(1, std::memory_order_relaxed);
    if (((value - kOneLive) >> kLiveShift) == 0) reset();
  }

  bool owns(const void* address) const noexcept { return find(address) != nullptr; }

  std::size_t trim() {
    auto locks = lockEverything();
    std::size_t given = 0;
    const std::size_t count = arenaCount_.load(std::memory_order_relaxed);
    for (std::size_t slot = 1; slot < count; ++slot) {
      Arena& arena = arenas_[slot];
      if (arena.length.load(std::memory_order_relaxed) == 0 || arena.anyLive()) continue;
      for (std::size_t shard = 0; shard < shardCount_; ++shard)
        for (auto& list : shards_[shard].free)
          std::erase_if(list, [&](std::uint8_t* chunk) { return arena.contains(chunk); });
      given += arena.length.load(std::memory_order_relaxed);
      arena.length.store(0, std::memory_order_release);
      arena.base.store(nullptr, std::memory_order_release);
      arena.memory.reset();
      arena.live.reset();
      arena.classOf.reset();
      arena.granules = 0;
      arena.carved = 0;
    }
    // The first mapping stays; while nothing is live its pages can go back (not hugetlb ones:
    // a private hugetlb page given back may be gone when touched again, which is SIGBUS).
    if ((packed_.load(std::memory_order_acquire) >> kLiveShift) == 0) given += arenas_[0].memory->discard();
    if (given != 0) trims_.fetch_add(1, std::memory_order_relaxed);
    return given;
  }

  PoolStats stats() const {
    PoolStats out;
    std::int64_t requested = 0;
    for (std::size_t shard = 0; shard < shardCount_; ++shard) {
      Shard& s = shards_[shard];
      out.allocations += s.allocations.load(std::memory_order_relaxed);
      out.releases += s.releases.load(std::memory_order_relaxed);
      requested += s.requested.load(std::memory_order_relaxed);
      std::lock_guard lock(s.lock);
      for (std::size_t index = 0; index < kClassCount; ++index) out.freeListed += s.free[index].size() * kPoolSizeClasses[index];
    }
    out.requested = static_cast<std::size_t>(std::max<std::int64_t>(0, requested - requestedBase_.load(std::memory_order_relaxed)));
    const std::uint64_t packed = packed_.load(std::memory_order_relaxed);
    out.liveChunks = static_cast<std::size_t>(packed >> kLiveShift);
    out.inUse = static_cast<std::size_t>(packed & kGranuleMask) * kGranule;
    out.highWater = static_cast<std::size_t>(highWater_.load(std::memory_order_relaxed)) * kGranule;
    out.failedAllocations = failed_.load(std::memory_order_relaxed);
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
        const auto& report = arena.memory->report();
        out.hugeBytes += report.hugeTlbBytes() + std::min(report.thpVerifiedBytes, report.thpEligibleBytes());
      }
    }
    out.huge = fullyHuge(firstReport_);
    for (const auto& segment : firstReport_.segments) out.pageSize = std::max(out.pageSize, segment.pageSize);
    return out;
  }

  const MemoryPoolOptions& options() const noexcept { return options_; }
  const AllocationReport& firstReport() const noexcept { return firstReport_; }

 private:
  using ShardLocks = std::vector<std::unique_lock<SpinLock>>;

  struct EverythingLocked {
    std::unique_lock<std::mutex> carve;
    ShardLocks shards;
  };

  ShardLocks lockShards() const {
    ShardLocks locks;
    locks.reserve(shardCount_);
    for (std::size_t shard = 0; shard < shardCount_; ++shard) locks.emplace_back(shards_[shard].lock);
    return locks;
  }

  EverythingLocked lockEverything() const {
    EverythingLocked locks{std::unique_lock(carveMutex_), {}};
    locks.shards = lockShards();
    return locks;
  }

  bool refuse() noexcept {
    invalid_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }

  void raiseHighWater(std::uint64_t granules) noexcept {
    std::uint64_t seen = highWater_.load(std::memory_order_relaxed);
    while (granules > seen && !highWater_.compare_exchange_weak(seen, granules, std::memory_order_relaxed)) {
    }
  }

  void dropLive(std::uint64_t delta) noexcept {
    const std::uint64_t before = packed_.fetch_sub(delta, std::memory_order_acq_rel);
    if (((before - delta) >> kLiveShift) == 0) reset();
  }

  Arena* find(const void* address) const noexcept {
    const std::size_t count = arenaCount_.load(std::memory_order_acquire);
    for (std::size_t slot = 0; slot < count; ++slot)
      if (arenas_[slot].contains(address)) return const_cast<Arena*>(&arenas_[slot]);
    return nullptr;
  }

  // Marks a chunk live. Called under the lock of the list it came from (or the carve lock).
  void markLive(std::uint8_t* chunk) const noexcept {
    Arena* arena = find(chunk);
    const auto granule = static_cast<std::size_t>(chunk - arena->base.load(std::memory_order_relaxed)) / kGranule;
    arena->live[granule / 64].fetch_or(std::uint64_t{1} << (granule % 64), std::memory_order_acq_rel);
  }

  // Called with shard.lock held.
  std::uint8_t* takeListed(Shard& shard, std::size_t index) const noexcept {
    auto& list = shard.free[index];
    if (list.empty()) return nullptr;
    std::uint8_t* chunk = list.back();
    list.pop_back();
    markLive(chunk);
    return chunk;
  }

  std::uint8_t* pop(Shard& shard, std::size_t index) const noexcept {
    std::lock_guard lock(shard.lock);
    return takeListed(shard, index);
  }

  std::uint8_t* steal(std::size_t index) noexcept {
    for (std::size_t shard = 0; shard < shardCount_; ++shard) {
      Shard& other = shards_[shard];
      if (!other.lock.try_lock()) continue;
      std::uint8_t* chunk = takeListed(other, index);
      other.lock.unlock();
      if (chunk != nullptr) return chunk;
    }
    return nullptr;
  }

  // Cuts a new chunk of class `index` from free space: the uncarved end of a mapping, then blocks
  // reclaimed from the free lists, then a new mapping.
  std::uint8_t* carve(std::size_t index, Shard& mine, std::string& why) noexcept {
    const std::size_t classBytes = kPoolSizeClasses[index];
    const std::size_t need = std::max(classBytes, kBlock);
    std::lock_guard lock(carveMutex_);
    std::uint8_t* start = nullptr;
    Arena* arena = nullptr;
    bool reclaimedOnce = false;
    while (start == nullptr) {
      if (findRoom(need, arena, start)) break;
      if (!reclaimedOnce) {
        reclaimedOnce = true;
        if (reclaimFreeBlocks() != 0) continue;
      }
      try {
        if (!grow(need, why)) return nullptr;  // on success the new mapping has room: look again
      } catch (...) {
        why = "out of memory while growing the pool";
        return nullptr;
      }
    }
    const auto base = arena->base.load(std::memory_order_relaxed);
    const std::size_t pieces = need / classBytes;
    const auto firstGranule = static_cast<std::size_t>(start - base) / kGranule;
    for (std::size_t piece = 0; piece < pieces; ++piece)
      arena->setClass(firstGranule + piece * (classBytes / kGranule), 1, static_cast<std::uint8_t>(index));
    for (std::size_t block = 1; block < need / kBlock; ++block)
      arena->setClass(firstGranule + block * kGranulesPerBlock, 1, kContinuation);
    markLive(start);
    if (pieces > 1) {
      std::lock_guard shardLock(mine.lock);
      try {
        for (std::size_t piece = pieces - 1; piece > 0; --piece) mine.free[index].push_back(start + piece * classBytes);
      } catch (...) {
        // Pieces not listed stay unlisted until their block is reclaimed or the pool resets.
      }
    }
    return start;
  }

  // Room for `need` bytes: at the end of a mapping, or a run of reclaimed blocks. Carve lock held.
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
    ShardLocks shards = lockShards();
    std::size_t total = 0;
    const std::size_t perBlock = kBlock / kGranule;
    const std::size_t count = arenaCount_.load(std::memory_order_relaxed);
    for (std::size_t slot = 0; slot < count; ++slot) {
      Arena& arena = arenas_[slot];
      if (!arena.memory) continue;
      std::size_t found = 0;
      std::vector<bool> free(arena.carved / kBlock);
      for (std::size_t block = 0; block < free.size(); ++block)
        free[block] = !arena.reclaimed[block] && !arena.blockLive(block);
      for (std::size_t block = 0; block < free.size(); ++block) {
        if (!free[block]) continue;
        arena.reclaimed[block] = true;
        arena.setClass(block * perBlock, perBlock, kNoClass);
        ++found;
      }
      if (found == 0) continue;
      const auto* base = arena.base.load(std::memory_order_relaxed);
      for (std::size_t shard = 0; shard < shardCount_; ++shard)
        for (auto& list : shards_[shard].free)
          std::erase_if(list, [&](std::uint8_t* chunk) {
            return arena.contains(chunk) && arena.reclaimed[static_cast<std::size_t>(chunk - base) / kBlock];
          });
      arena.reclaimedBlocks += found;
      total += found;
    }
    if (total != 0) reclaims_.fetch_add(1, std::memory_order_relaxed);
    return total;
  }

  // Adds a backing mapping of at least `need` bytes. Called with carveMutex_ held.
  bool grow(std::size_t need, std::string& why) {
    const std::size_t capacity = currentCapacity();
    if (!options_.grow) {
      why = "the pool is full (" + formatBytes(capacity) + ") and growth is off";
      return false;
    }
    const std::size_t size = alignUp(std::max(need, options_.growthSize != 0 ? options_.growthSize : options_.capacity), kBlock);
    if (options_.maxCapacity != 0 && capacity + size > options_.maxCapacity) {
      why = "the pool is full (" + formatBytes(capacity) + ") and growing by " + formatBytes(size) +
            " would pass its maximum of " + formatBytes(options_.maxCapacity);
      return false;
    }
    if (!addArena(size, why)) return false;
    growths_.fetch_add(1, std::memory_order_relaxed);
    return true;
  }

  std::size_t currentCapacity() const noexcept {
    std::size_t capacity = 0;
    for (std::size_t slot = 0; slot < arenaCount_.load(std::memory_order_relaxed); ++slot)
      capacity += arenas_[slot].length.load(std::memory_order_relaxed);
    return capacity;
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
    Arena& arena = arenas_[slot];
    arena.granules = size / kGranule;
    arena.live = std::make_unique<std::atomic<std::uint64_t>[]>((arena.granules + 63) / 64);
    arena.classOf = std::make_unique<std::atomic<std::uint8_t>[]>(arena.granules);
    arena.memory.emplace(std::move(memory).value());
    arena.clearChunks();
    arena.length.store(size, std::memory_order_release);
    arena.base.store(arena.memory->data(), std::memory_order_release);
    if (slot == count) arenaCount_.store(count + 1, std::memory_order_release);
    return true;
  }

  // Everything is free: forget the free lists and carve from the start again.
  void reset() noexcept {
    auto locks = lockEverything();
    const std::uint64_t packed = packed_.load(std::memory_order_acquire);
    if ((packed >> kLiveShift) != 0) return;  // a get came in first
    std::int64_t requested = 0;
    for (std::size_t shard = 0; shard < shardCount_; ++shard) {
      for (auto& list : shards_[shard].free) list.clear();
      requested += shards_[shard].requested.load(std::memory_order_relaxed);
    }
    for (std::size_t slot = 0; slot < arenaCount_.load(std::memory_order_relaxed); ++slot)
      if (arenas_[slot].memory) arenas_[slot].clearChunks();
    // Granules still counted belong to chunks given up with release(node); a get arriving now
    // adds its own on top, so subtract rather than store.
    packed_.fetch_sub(packed & kGranuleMask, std::memory_order_acq_rel);
    requestedBase_.store(requested, std::memory_order_relaxed);
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
  AllocationReport firstReport_;
  std::array<Arena, kMaxArenas> arenas_;
  std::atomic<std::size_t> arenaCount_{0};
  mutable std::mutex carveMutex_;
  std::unique_ptr<Shard[]> shards_;
  std::size_t shardCount_ = 0;
  std::atomic<std::uint64_t> packed_{0};
  std::atomic<std::uint64_t> highWater_{0};
  std::atomic<std::int64_t> requestedBase_{0};
  std::atomic<std::uint64_t> failed_{0};
  std::atomic<std::uint64_t> invalid_{0};
  std::atomic<std::uint64_t> resets_{0};
  std::atomic<std::uint64_t> growths_{0};
  std::atomic<std::uint64_t> trims_{0};
  std::atomic<std::uint64_t> reclaims_{0};
  std::thread trimmer_;
  std::mutex trimMutex_;
  std::condition_variable trimWake_;
  bool stopping_ = false;
};

// ---- MemoryPool

MemoryPool::MemoryPool(const MemoryPoolOptions& options) : impl_(std::make_unique<Impl>(options)) {}

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

MemoryPool::~MemoryPool() = default;

Result<std::uint8_t*> MemoryPool::tryAllocate(std::size_t size) noexcept { return impl_->allocate(size); }
std::uint8_t* MemoryPool::allocate(std::size_t size) { return impl_->allocate(size).value(); }
bool MemoryPool::deallocate(void* chunk, std::size_t size) noexcept { return impl_->deallocate(chunk, size); }
bool MemoryPool::owns(const void* address) const noexcept { return impl_->owns(address); }
std::size_t MemoryPool::trim() { return impl_->trim(); }
PoolStats MemoryPool::stats() const { return impl_->stats(); }
std::optional<std::uint32_t> MemoryPool::node() const noexcept { return impl_->options().node; }
const AllocationReport& MemoryPool::report() const noexcept { return impl_->firstReport(); }

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

}  // namespace xmem
