#include <xmem/numa_memory_pool.h>

#include "os/os.h"

#include <algorithm>
#include <new>

namespace xmem {

NumaMemoryPool::NumaMemoryPool(const MemoryPoolOptions& perNode, Topology topology)
    : nodeOptions_(perNode), topology_(std::move(topology)) {
  if (perNode.capacity == 0) throw Error(ErrorCode::InvalidArgument, "pool capacity 0: expected at least one 2 MiB block");
  // Each node gets an equal share, at least one 2 MiB block.
  nodeOptions_.capacity = alignUp(std::max<std::size_t>(perNode.capacity / topology_.size(), 1), 2 * MiB);
  nodeOptions_.numaPolicy = os::nodeLocalPolicy();
  for (const auto& node : topology_.nodes()) ids_.push_back(node.id);
  slots_ = std::make_unique<Slot[]>(ids_.size());
  handedOut_ = std::make_unique<std::atomic<std::uint64_t>[]>(ids_.size() * ids_.size());
}

NumaMemoryPool::NumaMemoryPool(std::size_t size, bool hugePages)
    : NumaMemoryPool(
          [&] {
            MemoryPoolOptions options;
            options.capacity = size;
            options.hugePages = hugePages;
            options.transparentHugePages = hugePages;
            return options;
          }(),
          *Topology::get()) {}

NumaMemoryPool::~NumaMemoryPool() = default;

NumaMemoryPool::Slot* NumaMemoryPool::slotOf(std::uint32_t node) const noexcept {
  for (std::size_t i = 0; i < ids_.size(); ++i)
    if (ids_[i] == node) return &slots_[i];
  return nullptr;
}

MemoryPool* NumaMemoryPool::getOrCreate(std::uint32_t node, std::string& why) {
  Slot* slot = slotOf(node);
  if (MemoryPool* pool = slot->pool.load(std::memory_order_acquire)) return pool;
  std::lock_guard lock(createMutex_);
  if (MemoryPool* pool = slot->pool.load(std::memory_order_acquire)) return pool;
  if (!slot->creationError.empty()) {
    // Making it failed before (no memory on the node): do not map and fail again on every call.
    why = slot->creationError;
    return nullptr;
  }
  try {
    MemoryPoolOptions options = nodeOptions_;
    options.node = node;
    owned_.push_back(std::make_unique<MemoryPool>(options));
    slot->pool.store(owned_.back().get(), std::memory_order_release);
    return owned_.back().get();
  } catch (const std::bad_alloc&) {
    throw;  // short of memory now, not for good: do not remember it as this node's failure
  } catch (const std::exception& error) {
    slot->creationError = "node " + std::to_string(node) + "'s pool could not be made: " + error.what();
    why = slot->creationError;
    return nullptr;
  }
}

Result<NodeChunk> NumaMemoryPool::tryAllocate(std::size_t size, std::uint32_t node) noexcept {
  try {
    return allocateOrThrowBadAlloc(size, node);
  } catch (const std::bad_alloc&) {
    return Error::outOfMemory({.size = size, .node = node});
  }
}

Result<NodeChunk> NumaMemoryPool::allocateOrThrowBadAlloc(std::size_t size, std::uint32_t node) {
  Slot* home = slotOf(node);
  if (home == nullptr) {
    std::string known;
    for (auto id : ids_) known += (known.empty() ? "" : ", ") + std::to_string(id);
    return Error(ErrorCode::InvalidArgument, "node " + std::to_string(node) + " does not exist: the nodes are " + known,
                 {.size = size, .node = node});
  }
  std::string why;
  if (MemoryPool* pool = getOrCreate(node, why)) {
    auto chunk = pool->tryAllocate(size);
    if (chunk.ok()) return NodeChunk{chunk.value(), node};
    if (chunk.error().code() == ErrorCode::InvalidArgument) return chunk.error();
    why = chunk.error().what();
  }
  for (auto other : topology_.nearestNodes(node)) {
    std::string otherWhy;
    MemoryPool* pool = getOrCreate(other, otherWhy);
    if (pool == nullptr) continue;
    auto chunk = pool->tryAllocate(size);
    if (!chunk.ok()) continue;
    home->fallbacksOut.fetch_add(1, std::memory_order_relaxed);
    slotOf(other)->fallbacksIn.fetch_add(1, std::memory_order_relaxed);
    // The node pools count it too, so that every pool's own statistics (livePoolStats) show it.
    if (MemoryPool* homePool = home->pool.load(std::memory_order_acquire)) homePool->countFallback(true);
    pool->countFallback(false);
    return NodeChunk{chunk.value(), other};
  }
  return Error(ErrorCode::OutOfMemory, "no node can serve " + formatBytes(size) + " (node " + std::to_string(node) +
                                           ": " + why + ")",
               {.size = size, .node = node});
}

std::size_t NumaMemoryPool::ownerOf(const void* chunk) const noexcept {
  for (std::size_t i = 0; i < ids_.size(); ++i) {
    MemoryPool* pool = slots_[i].pool.load(std::memory_order_acquire);
    if (pool != nullptr && pool->owns(chunk)) return i;
  }
  return static_cast<std::size_t>(-1);
}

bool NumaMemoryPool::deallocate(void* chunk, std::size_t size) noexcept {
  if (const std::size_t owner = ownerOf(chunk); owner < ids_.size())
    return slots_[owner].pool.load(std::memory_order_acquire)->deallocate(chunk, size);
  // Not ours: count it against the first pool that exists, for the statistics.
  for (std::size_t i = 0; i < ids_.size(); ++i)
    if (MemoryPool* pool = slots_[i].pool.load(std::memory_order_acquire)) return pool->deallocate(chunk, size);
  return false;
}

MemoryPool* NumaMemoryPool::poolOf(std::uint32_t node) const noexcept {
  Slot* slot = slotOf(node);
  return slot == nullptr ? nullptr : slot->pool.load(std::memory_order_acquire);
}

std::vector<NodePoolStats> NumaMemoryPool::stats() const {
  std::vector<NodePoolStats> out;
  for (std::size_t i = 0; i < ids_.size(); ++i) {
    NodePoolStats node;
    node.node = ids_[i];
    node.fallbacksOut = slots_[i].fallbacksOut.load(std::memory_order_relaxed);
    node.fallbacksIn = slots_[i].fallbacksIn.load(std::memory_order_relaxed);
    if (MemoryPool* pool = slots_[i].pool.load(std::memory_order_acquire)) {
      node.created = true;
      node.pool = pool->stats();
    }
    out.push_back(node);
  }
  return out;
}

std::size_t NumaMemoryPool::trim() {
  std::size_t given = 0;
  for (std::size_t i = 0; i < ids_.size(); ++i)
    if (MemoryPool* pool = slots_[i].pool.load(std::memory_order_acquire)) given += pool->trim();
  return given;
}

bool NumaMemoryPool::isHugePages(std::uint32_t node) const {
  MemoryPool* pool = poolOf(node);
  return pool != nullptr && pool->isHugePages(node);
}

namespace {
// One less, unless it is 0 already.
bool takeOne(std::atomic<std::uint64_t>& count) noexcept {
  std::uint64_t seen = count.load(std::memory_order_relaxed);
  while (seen != 0 && !count.compare_exchange_weak(seen, seen - 1, std::memory_order_relaxed)) {
  }
  return seen != 0;
}
}  // namespace

std::uint8_t* NumaMemoryPool::get(std::size_t size, std::uint32_t node) {
  auto chunk = tryAllocate(size, node);
  if (!chunk.ok()) return nullptr;
  const auto requested = static_cast<std::size_t>(slotOf(node) - slots_.get());
  const auto served = static_cast<std::size_t>(slotOf(chunk.value().node) - slots_.get());
  handedOut(requested, served).fetch_add(1, std::memory_order_relaxed);
  return chunk.value().address;
}

void NumaMemoryPool::release(std::uint32_t node) {
  Slot* home = slotOf(node);
  if (home == nullptr) return;
  const auto requested = static_cast<std::size_t>(home - slots_.get());
  // The node's own pool first, then the fallbacks in the order they serve: one of the chunks
  // get() handed out for this node.
  auto giveUpOn = [&](std::uint32_t served) {
    const auto index = static_cast<std::size_t>(slotOf(served) - slots_.get());
    if (!takeOne(handedOut(requested, index))) return false;
    slots_[index].pool.load(std::memory_order_acquire)->release(served);
    return true;
  };
  if (giveUpOn(node)) return;
  for (auto other : topology_.nearestNodes(node))
    if (giveUpOn(other)) return;
  // None recorded (the chunk came from tryAllocate): the node's own pool, which refuses when it
  // has nothing live.
  if (MemoryPool* pool = poolOf(node)) pool->release(node);
}

bool NumaMemoryPool::release(void* chunk, std::size_t size, std::uint32_t node) noexcept {
  const std::size_t owner = ownerOf(chunk);
  if (!deallocate(chunk, size)) return false;
  if (Slot* home = slotOf(node); home != nullptr && owner < ids_.size())
    takeOne(handedOut(static_cast<std::size_t>(home - slots_.get()), owner));
  return true;
}

std::optional<ChunkSource::Chunk> NumaMemoryPool::takeChunk(std::size_t size, std::uint32_t node) {
  auto served = tryAllocate(size, node);
  if (!served.ok()) return std::nullopt;
  return Chunk{served.value().address, MemoryPool::classSize(size), served.value().node, isHugePages(served.value().node)};
}

bool NumaMemoryPool::giveBackChunk(void* address, std::size_t size, std::uint32_t) noexcept {
  return deallocate(address, size);
}

}  // namespace xmem
